"""Noise put into a data set on purpose, as the paper runs do: label corruption (the LE-SDE
label-noise sweep) and fixed Gaussian pixel noise (the SI runs on GeoMNIST).

Label corruption, as the authors' code corrupts labels: for each class c, int(p * n_c) of its
training samples (chosen at random) get a wrong label: the first half (rounded down) the
lower-indexed other class, the rest the other one (K = 3). For K != 3 the flipped labels are
spread over the other classes in turn. Validation labels stay clean.
"""

from __future__ import annotations

import numpy as np

__all__ = ["corrupt_labels", "pixel_noise"]


def corrupt_labels(y: np.ndarray, p: float, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"label-noise probability must be in [0, 1], got {p}")
    noisy = y.copy()
    for c in range(n_classes):
        idx = np.flatnonzero(y == c)
        n_pert = int(p * len(idx))
        chosen = rng.choice(idx, size=n_pert, replace=False)
        others = [k for k in range(n_classes) if k != c]
        if n_classes == 3:
            noisy[chosen[: n_pert // 2]] = others[0]
            noisy[chosen[n_pert // 2:]] = others[1]
        else:
            noisy[chosen] = np.asarray(others)[np.arange(n_pert) % len(others)]
    return noisy


def pixel_noise(x: np.ndarray, sigma: float, stream: int) -> np.ndarray:
    """``x`` plus Gaussian pixel noise N(0, sigma^2), drawn once per image (a fixed data set, not
    fresh noise each epoch) from a fixed generator per split: the noisy set is a function of the
    data set (itself seeded) and sigma."""
    if sigma == 0:
        return x
    rng = np.random.default_rng(np.random.SeedSequence([0x9015E, stream]))
    return (x + sigma * rng.standard_normal(x.shape)).astype(x.dtype)
