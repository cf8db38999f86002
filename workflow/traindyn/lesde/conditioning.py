"""How well conditioned the LE-SDE estimators are on a run: the quantities each one takes the
log of ("factors"), with the noise of one iteration's value, and which share of each statistic
they carry.

Both estimators (:mod:`traindyn.lesde.estimators`) take logs of trial-averaged class-mean
quantities. When a factor the statistic reads at T is within its noise (for the L estimator's
f-mode at the end of training, Xf(T), this is the rule at p = 0), log|x| sits at a noise floor
that falls as the noise does (by ½ ln 2 per doubling of trials): the statistic then measures the
number of trials averaged, not the dynamics. It is called ill-conditioned when such factors carry
at least half of its weight (:class:`traindyn.claims.Conditioning`).

The reference point (t = 0 for the normalized estimates, iterations 1-500 for the
normalization-free ones) is within its noise for every factor: at initialization the class means
are trial averages of random outputs. That adds a constant that depends on the trial count (the
t = 0 offset, docs/estimators.md), which is why the paper's numbers are compared at the paper's
trial count only; it is reported, not flagged.

The noise of one iteration's value is read from the series itself: the sd of first differences
over a window, divided by √2 (iterations are independent draws of which trials sampled which
class, so a difference holds two draws of the noise; a slow trend barely enters it).
"""

from __future__ import annotations

import numpy as np

from .estimators import l_modes

__all__ = ["iteration_noise", "conditioning_stats", "weights"]

END = 100  # iterations averaged at T (the claims' 'final')
END_NOISE = 1000  # iterations the noise at T is read from
START_NOISE = 100  # iterations the noise at t = 0 is read from
EARLY = (1, 501)  # the normalization-free claims' early window (dynamics.EARLY)


def iteration_noise(x: np.ndarray) -> float:
    """The sd of one iteration's value of a noisy series (module doc); NaN with < 3 values."""
    d = np.diff(np.asarray(x, dtype=np.float64))
    d = d[np.isfinite(d)]
    return float(d.std(ddof=1) / np.sqrt(2)) if d.size >= 2 else float("nan")


def _three(prefix: str, x: np.ndarray) -> dict[str, float]:
    """A series at T (mean of the last END), at t = 0 and over EARLY, each with its noise."""
    return {f"{prefix}_T": float(np.nanmean(x[-END:])),
            f"{prefix}_T_noise": iteration_noise(x[-END_NOISE:]),
            f"{prefix}_0": float(x[0]),
            f"{prefix}_0_noise": iteration_noise(x[:START_NOISE]),
            f"{prefix}_early": float(np.nanmean(x[EARLY[0]:EARLY[1]])),
            f"{prefix}_early_noise": iteration_noise(x[EARLY[0]:EARLY[1]])}


def _at_t(prefix: str, x: np.ndarray) -> dict[str, float]:
    return {f"{prefix}_T": float(np.nanmean(x[-END:])),
            f"{prefix}_T_noise": iteration_noise(x[-END_NOISE:])}


def i_factors(k: int) -> list[str]:
    """The I estimator's log factors: the class average Xbar_j and the deviations D_cj."""
    return [f"Xbar{j}" for j in range(k)] + [f"D{c}{j}" for c in range(k) for j in range(k)]


def conditioning_stats(means: np.ndarray) -> dict[str, float]:
    """Each log factor at T (mean of the last END iterations) with its noise ('<name>_T',
    '<name>_T_noise'): the L estimator's Xs and Xf (K = 3 only, also at t = 0 and over EARLY)
    and the I estimator's Xbar_j and D_cj; for the I estimator's reference points the median
    over its factors of |value| / noise ('I_snr_0', 'I_snr_early')."""
    out: dict[str, float] = {}
    if means.shape[1] == 3:
        xs, xf = l_modes(means)
        out.update(_three("Xs", xs))
        out.update(_three("Xf", xf))
    k = means.shape[1]
    xbar = means.mean(axis=1)  # (T, K)
    diff = means - xbar[:, None, :]  # (T, K, K)
    series = np.concatenate([xbar, diff.reshape(len(diff), -1)], axis=1)
    for i, name in enumerate(i_factors(k)):
        out.update(_at_t(name, series[:, i]))
    for where, sl in (("0", slice(0, START_NOISE)), ("early", slice(*EARLY))):
        a = series[sl]
        value = a[0] if where == "0" else a.mean(axis=0)
        noise = np.array([iteration_noise(a[:, i]) for i in range(a.shape[1])])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"I_snr_{where}"] = float(np.nanmedian(np.abs(value) / noise))
    return out


def weights(key: str, k: int) -> dict[str, float]:
    """The share of the statistic ``key`` (A, B: I estimator; A_L, B_L: L) each log factor
    carries (|coefficient| / total). A_I = mean_cj [log|Xbar_j| + (K-1) log|D_cj|] and
    B_I = mean_cj [log|Xbar_j| - log|D_cj|], up to constants; A_L = log|Xs| + 2 log|Xf| and
    B_L = 2 (log|Xf| - log|Xs|), up to constants and a factor."""
    if key in ("A_L", "B_L"):
        return {"Xs": 1 / 3, "Xf": 2 / 3} if key == "A_L" else {"Xs": 0.5, "Xf": 0.5}
    xbar, dev = (1.0, k - 1.0) if key == "A" else (1.0, 1.0)
    total = k * k * (xbar + dev)
    return {**{f"Xbar{j}": k * xbar / total for j in range(k)},
            **{f"D{c}{j}": dev / total for c in range(k) for j in range(k)}}
