"""Direct (non-FFT) reference implementations of the one-layer operators, for tests and the
benchmark: a sliding-window tensor contraction, and plain loops for tiny inputs."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def forward_sliding(image: np.ndarray, w: np.ndarray) -> np.ndarray:
    """u[x] = sum_m I[x + m] w[m] by contracting every k x k window with the kernel."""
    k = w.shape[-1]
    windows = sliding_window_view(image, (k, k))  # (n, n, k, k) view, no copy
    return np.tensordot(windows, w, axes=([2, 3], [0, 1]))


def adjoint_sliding(image: np.ndarray, v: np.ndarray, k: int) -> np.ndarray:
    """X^T v = sum_x v[x] I[x + m] for every kernel offset m."""
    n = v.shape[-1]
    windows = sliding_window_view(image, (n, n))[:k, :k]  # (k, k, n, n)
    return np.tensordot(windows, v, axes=([2, 3], [0, 1]))


def forward_loops(image: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = w.shape[0]
    n = image.shape[0] - k + 1
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            for a in range(k):
                for b in range(k):
                    out[i, j] += image[i + a, j + b] * w[a, b]
    return out


def adjoint_loops(image: np.ndarray, v: np.ndarray, k: int) -> np.ndarray:
    n = v.shape[0]
    out = np.zeros((k, k))
    for a in range(k):
        for b in range(k):
            for i in range(n):
                for j in range(n):
                    out[a, b] += image[i + a, j + b] * v[i, j]
    return out
