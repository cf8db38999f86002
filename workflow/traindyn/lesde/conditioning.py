"""How well conditioned the LE-SDE estimators are on a run: the quantities each one divides by or
takes the log of, with the noise of one iteration's value.

Both estimators (:mod:`traindyn.lesde.estimators`) take logs of trial-averaged class-mean
logits. When such a quantity is within its noise (for the L estimator's f-mode at the end of
training, Xf(T), this is the rule at p = 0), log|x| sits at a noise floor that falls as the
noise does (by ½ ln 2 per doubling of trials): the statistic then measures the number of trials
averaged, not the dynamics. :class:`traindyn.claims.Conditioning` turns these numbers into the
verdict ``ill-conditioned``.

The noise of one iteration's value is read from the series itself: the sd of first differences
over a window, divided by √2 (iterations are independent draws of which trials sampled which
class, so a difference holds two draws of the noise; a slow trend barely enters it).
"""

from __future__ import annotations

import numpy as np

from .estimators import l_modes

__all__ = ["iteration_noise", "conditioning_stats"]

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


def conditioning_stats(means: np.ndarray) -> dict[str, float]:
    """The quantities the estimators take logs of, each at T, t = 0 and over EARLY with its
    noise: the L estimator's Xs and Xf (K = 3 only), and for the I estimator the median over
    its K x K log arguments of |value| / noise ('I_snr_T', 'I_snr_0', 'I_snr_early': the
    estimator averages the logs of all of them, so it follows the noise only when most are
    within it)."""
    out: dict[str, float] = {}
    if means.shape[1] == 3:
        xs, xf = l_modes(means)
        out.update(_three("Xs", xs))
        out.update(_three("Xf", xf))
    k = means.shape[1]
    xbar = means.mean(axis=1)  # (T, K)
    diff = means - xbar[:, None, :]  # (T, K, K)
    # the I estimator's log argument per (class, coordinate), up to its t = 0 constants
    arg = xbar[:, None, :] * diff ** (k - 1)
    for where, sl in (("T", slice(-END_NOISE, None)), ("0", slice(0, START_NOISE)),
                      ("early", slice(*EARLY))):
        a = arg[sl].reshape(arg[sl].shape[0], -1)
        value = a[-END:].mean(axis=0) if where == "T" else (
            a[0] if where == "0" else a.mean(axis=0))
        noise = np.array([iteration_noise(a[:, i]) for i in range(a.shape[1])])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"I_snr_{where}"] = float(np.nanmedian(np.abs(value) / noise))
    return out
