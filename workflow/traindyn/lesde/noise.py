"""Label corruption of the LE-SDE label-noise sweep (as the authors' code corrupts labels).

For each class c, int(p * n_c) of its training samples (chosen at random) get a wrong label: the
first half (rounded down) the lower-indexed other class, the rest the other one (K = 3). For
K != 3 the flipped labels are spread over the other classes in turn. Validation labels stay clean.
"""

from __future__ import annotations

import numpy as np


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


def noise_name(p: float) -> str:
    """Readable, stable name of a noise level: 2/3 -> '0.67', 0.1 -> '0.1', 0 -> '0.0'."""
    name = f"{round(p, 2):g}"
    return name if "." in name else name + ".0"
