"""1-D heat equation u_t = D u_xx by explicit Euler (SI Figure 1), ends held fixed.

The paper's case is D = 1 and grid spacing dx = 1 (the defaults). With r = D / dx^2 the update is
u <- (I + dt r L) u, and its stability is governed by the eigenvalues of the stencil matrix L:
von Neumann (infinite/periodic grid) gives dt <= dx^2 / (2 D), the exact bound for the Dirichlet
grid is 2 / (r * largest eigenvalue of -L).
"""

from __future__ import annotations

import numpy as np


def tent(n_points: int = 31, slope: float = 0.1) -> np.ndarray:
    """The authors' initial condition: a tent rising by ``slope`` per point, zero at both ends."""
    i = np.arange(n_points, dtype=np.float64)
    return slope * np.minimum(i, (n_points - 1) - i)


def stencil_eigenvalues(n_points: int) -> np.ndarray:
    """Eigenvalues of -L (L = tridiag(1, -2, 1)) on the n_points-2 free interior points, ascending."""
    n = n_points - 2
    lap = np.diag(np.full(n, 2.0)) - np.diag(np.ones(n - 1), 1) - np.diag(np.ones(n - 1), -1)
    return np.linalg.eigvalsh(lap)


def von_neumann_bound(diffusivity: float = 1.0, dx: float = 1.0) -> float:
    """max over modes xi of 4 sin^2(xi/2) is 4, so |1 - 4 dt r| <= 1 needs dt <= 1/(2r)."""
    xi = np.linspace(0.0, np.pi, 10001)
    return float(2.0 / (_ratio(diffusivity, dx) * np.max(4.0 * np.sin(xi / 2) ** 2)))


def dirichlet_bound(n_points: int, diffusivity: float = 1.0, dx: float = 1.0) -> float:
    """Exact bound for the fixed-end grid: |1 - dt r lambda| <= 1 for every eigenvalue of -L."""
    return float(2.0 / (_ratio(diffusivity, dx) * stencil_eigenvalues(n_points)[-1]))


def spectral_radius(dts: np.ndarray, n_points: int, diffusivity: float = 1.0,
                    dx: float = 1.0) -> np.ndarray:
    """Exact per-step growth factor max_k |1 - dt r lambda_k| of the update, for each dt."""
    lam = stencil_eigenvalues(n_points) * _ratio(diffusivity, dx)
    return np.max(np.abs(1.0 - np.outer(dts, lam)), axis=1)


def _ratio(diffusivity: float, dx: float) -> float:
    if diffusivity <= 0 or dx <= 0:
        raise ValueError(f"diffusivity ({diffusivity}) and dx ({dx}) must be > 0")
    return diffusivity / dx**2


def _step(u: np.ndarray, dts: np.ndarray) -> np.ndarray:
    """One explicit Euler update of every row of ``u`` (one row per dt * D / dx^2), ends fixed."""
    new = u.copy()
    new[:, 1:-1] += dts[:, None] * (u[:, 2:] + u[:, :-2] - 2.0 * u[:, 1:-1])
    return new


def simulate(u0: np.ndarray, dts: np.ndarray, n_steps: int, diffusivity: float = 1.0,
             dx: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Run every dt for ``n_steps`` updates.

    Returns (states, max_abs): states[d, s] is u after s updates, max_abs[d, s] = max|u|. Unstable
    runs overflow to inf/NaN; that is a result, so the floating-point warnings are silenced.
    """
    dts = np.asarray(dts, dtype=np.float64) * _ratio(diffusivity, dx)
    states = np.empty((len(dts), n_steps + 1, len(u0)))
    states[:, 0] = u0
    with np.errstate(over="ignore", invalid="ignore"):
        for s in range(n_steps):
            states[:, s + 1] = _step(states[:, s], dts)
        max_abs = np.max(np.abs(states), axis=2)
    return states, max_abs


def first_nonfinite(max_abs: np.ndarray) -> np.ndarray:
    """Number of updates after which each run is first non-finite; -1 if it stays finite."""
    bad = ~np.isfinite(max_abs)
    return np.where(bad.any(axis=1), bad.argmax(axis=1), -1)


def measured_growth(u0: np.ndarray, dts: np.ndarray, n_steps: int, diffusivity: float = 1.0,
                    dx: float = 1.0) -> np.ndarray:
    """Per-step growth factor of the max-norm, measured by iterating the scheme.

    The update is linear, so the state is rescaled to unit max-norm after each step (no overflow)
    and the growth is the geometric mean of the per-step ratios over the second half of the run,
    when the dominant mode has taken over.
    """
    dts = np.asarray(dts, dtype=np.float64) * _ratio(diffusivity, dx)
    u = np.tile(u0, (len(dts), 1)) / np.max(np.abs(u0))
    log_growth = np.zeros(len(dts))
    for s in range(n_steps):
        u = _step(u, dts)
        norm = np.max(np.abs(u), axis=1)
        u /= norm[:, None]
        if s >= n_steps // 2:
            log_growth += np.log(norm)
    return np.exp(log_growth / (n_steps - n_steps // 2))


def crossing(x: np.ndarray, y: np.ndarray, level: float = 1.0) -> float:
    """First x where y crosses ``level`` from below (linear interpolation); NaN if it never does."""
    above = y > level
    idx = np.flatnonzero(~above[:-1] & above[1:])
    if idx.size == 0:
        return float("nan")
    i = idx[0]
    return float(x[i] + (level - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
