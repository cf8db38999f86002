"""The LE-SDE estimators exactly as the authors coded them, on class-mean logit
trajectories ``means`` of shape (T, K, K): means[t, c, j] = trial-averaged logit j of the examples
with label c sampled at iteration t.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter

__all__ = ["estimate_ab_i", "estimate_ab_l", "tail_index"]


def estimate_ab_i(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """"I" model: Xbar_k(t) = c0 exp((A + (K-1)B)/K) + c_k exp((A - B)/K), inverted algebraically.

    B = mean_{k,j} -log|(c0/c_k) (X_k - Xbar)/Xbar|, A = mean_{k,j} log|Xbar (X_k - Xbar)^(K-1) /
    (c0 c_k^(K-1))| with c0 = Xbar(0), c_k = X_k(0) - c0; inner mean over classes, outer over
    logit coordinates, NaNs ignored (np.nanmean), as the authors do.
    """
    k = means.shape[1]
    xbar = means.mean(axis=1)  # (T, K): mean over classes
    c0 = xbar[0]
    ck = means[0] - c0  # (K classes, K coords)
    diff = means - xbar[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        b = -np.log(np.abs((c0 / ck)[None] * diff / xbar[:, None, :]))
        a = np.log(np.abs(xbar[:, None, :] * diff ** (k - 1) / (c0 * ck ** (k - 1))[None]))
    a[~np.isfinite(a)] = np.nan
    b[~np.isfinite(b)] = np.nan
    return np.nanmean(np.nanmean(a, axis=1), axis=1), np.nanmean(np.nanmean(b, axis=1), axis=1)


def l_modes(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The L estimator's d-mode Xs(t) and f-mode Xf(t) (K = 3 only, the authors' coordinates)."""
    t, k, _ = means.shape
    if k != 3:
        raise ValueError(f"the L estimator is defined for K = 3 classes only, got K = {k}")
    x = means.reshape(t, 9)  # row-major over (class y, logit j)
    xs = 0.5 * ((x[:, 0] + x[:, 4] - x[:, 6] - x[:, 7])
                - (x[:, 1] + x[:, 2] + x[:, 3] + x[:, 5] + x[:, 6] + x[:, 7]))
    d = np.array([2.0, -1.0, -1.0]) / 3.0
    d_flat = np.concatenate([np.roll(d, c) for c in range(3)])  # d_c for each class block
    xf = (x - (xs / 2)[:, None] * d_flat[None]) @ (np.array([2, -1, -1, -1, 2, -1, 0, 0, 0]) / 3)
    return xs, xf


def estimate_ab_l(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """"L" model (K = 3 only, as coded): the d-mode gives A - B, the f-mode A + B/(K-1)."""
    k = means.shape[1]
    xs, xf = l_modes(means)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_minus_b = k * np.log(np.abs(xs / xs[0]))
        a_plus_b = k * np.log(np.abs(xf / xf[0]))
    a = (a_minus_b + (k - 1) * a_plus_b) / k
    b = (a_plus_b - a_minus_b) * (k - 1) / k
    return a, b


def rates(integral: np.ndarray, window: int) -> np.ndarray:
    """alpha-hat / beta-hat: Savitzky-Golay first derivative (polyorder 2) of A-hat / B-hat."""
    window = min(window, len(integral) - (1 - len(integral) % 2))
    filled = np.nan_to_num(integral, nan=0.0)
    return savgol_filter(filled, window, polyorder=2, deriv=1)


def moving_average(x: np.ndarray, window: int = 10) -> np.ndarray:
    """Centred rolling mean with min_periods = 1 (pandas' rolling(center=True)), NaNs skipped."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    pad = lambda v: np.concatenate([[0.0], np.cumsum(v)])  # noqa: E731
    sums, counts = pad(np.where(ok, x, 0.0)), pad(ok.astype(np.float64))
    i = np.arange(len(x))
    lo = np.maximum(0, i - window // 2)
    hi = np.minimum(len(x), i + window - window // 2)
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / n, np.nan)


def tail_index(x: np.ndarray, tail_n: int = 1000) -> float:
    """r-hat = 1 - nanmean(log(x_t) / log(t)) over the last ``tail_n`` entries, t = index + 1;
    x is negated first if more than half of the tail is negative (the authors' rule)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.arange(1, len(x) + 1, dtype=np.float64)[-tail_n:]
    tail = x[-tail_n:]
    if np.mean(tail < 0) > 0.5:
        tail = -tail
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(tail) / np.log(t)
    ratio = ratio[np.isfinite(ratio)]
    return float(1.0 - ratio.mean()) if ratio.size else float("nan")


def loglog_slope(rate: np.ndarray, start: int) -> float:
    """Diagnostic: -slope of log|alpha-hat| vs log t from ``start`` on (alpha ~ t^-r)."""
    t = np.arange(1, len(rate) + 1, dtype=np.float64)[start:]
    y = np.abs(rate[start:])
    ok = np.isfinite(y) & (y > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(-np.polyfit(np.log(t[ok]), np.log(y[ok]), 1)[0])


def i_model_trajectory(x0: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact class means of the I model for integrated impacts A(t), B(t): (T, K, K)."""
    k = x0.shape[0]
    c0 = x0.mean(axis=0)
    ck = x0 - c0
    common = np.exp((a + (k - 1) * b) / k)[:, None, None] * c0[None, None, :]
    return common + np.exp((a - b) / k)[:, None, None] * ck[None]
