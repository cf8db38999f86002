"""Weight divergence between two training copies (SI notes §4), shared by the PDE track (Figure 4
right) and the deep-network track (Figure 2)."""

from __future__ import annotations

import numpy as np


def relative_l1_divergence(a: np.ndarray, b: np.ndarray, axis=None) -> np.ndarray:
    """2 * mean(|a - b| / (|a| + |b|)), in [0, 2]; entries where both are 0 count as 0 (not NaN).

    ``axis`` selects the weight axes averaged over (default: all), so a batch of copies or a time
    series of snapshots is reduced in one call.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.abs(a - b)
    den = np.abs(a) + np.abs(b)
    ratio = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)
    return 2.0 * ratio.mean(axis=axis)


def forward_window_mean(x: np.ndarray, window: int) -> np.ndarray:
    """out[i] = mean(x[i : i + window]) for every full window (len(x) - window + 1 values)."""
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= window <= len(x):
        raise ValueError(f"window {window} must be between 1 and the series length {len(x)}")
    c = np.concatenate([[0.0], np.cumsum(x)])
    return (c[window:] - c[:-window]) / window
