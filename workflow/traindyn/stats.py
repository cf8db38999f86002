"""Sampling uncertainty of ensemble statistics, and the verdict rules that weigh it.

A statistic of an ensemble (LE-SDE trials, SI seeds) is reported as an :class:`Estimate`: its
value, the standard error of that value, and the spread one run's value has at this ensemble
size. Two sources, both recomputing the statistic end to end:

* :func:`bootstrap` resamples the ensemble's independent units (trials) with replacement;
* :func:`replicate_estimates` takes independent replicate runs (new data seed and
  initializations, same recipe): the reported value is their mean, its standard error
  sd/sqrt(R), and the single-run spread is their sd.

Verdicts (used by :class:`traindyn.claims.ClaimSet`):

* :func:`agree_verdict` -- a number of the paper. The tolerance is derived:
  ``Z * sqrt(reading**2 + spread**2 + se**2)``: the read-off error of the paper's value, the
  spread of the paper's own single run at its ensemble size (its number is one draw too), and
  the standard error of ours. PASS within it, FAIL outside it, INCONCLUSIVE when the tolerance
  is at least twice the claim's resolution (the deviation the claim is about): a value twice as
  far from the paper as the claim can tell apart would still pass.
* :func:`bound_verdict` -- a statement that the value lies in [lo, hi] (qualitative bounds, our
  own reading of "comparable", "near chance"): PASS when the whole interval value +- Z se lies
  inside, FAIL when it lies wholly outside, INCONCLUSIVE when it straddles a bound.
* :func:`real_inversions` -- orderings tolerate differences below Z times their uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Z = 2.0  # two standard errors: about 95% two-sided
N_BOOT = 200  # bootstrap draws: the standard error of an sd estimate is then about 5%


@dataclass(frozen=True)
class Estimate:
    """A statistic with its sampling uncertainty (0 = exact: deterministic or synthetic)."""

    value: float
    se: float = 0.0  # standard error of ``value``
    spread: float = 0.0  # sd of one run's value at this ensemble size
    method: str = "exact"

    def __float__(self) -> float:
        return float(self.value)


def as_estimate(x: Any) -> Estimate:
    """An Estimate as it is, a plain number as exact; None and non-numbers give NaN."""
    if isinstance(x, Estimate):
        return x
    try:
        return Estimate(float(x))
    except (TypeError, ValueError):
        return Estimate(math.nan)


def _finite_sd(values: np.ndarray) -> float:
    """Sample sd (ddof 1) of the finite values; NaN when fewer than half are finite."""
    values = np.asarray(values, dtype=np.float64)
    ok = values[np.isfinite(values)]
    if ok.size < max(2, values.size / 2):
        return math.nan
    return float(ok.std(ddof=1))


def bootstrap_indices(n_units: int, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """(n_boot, n_units): each row a resample of the units with replacement."""
    if n_units < 2:
        raise ValueError(f"a bootstrap needs at least 2 independent units, got {n_units}")
    return np.random.default_rng(seed).integers(0, n_units, size=(n_boot, n_units))


def bootstrap(statistic: Callable[[np.ndarray], Any], n_units: int, n_boot: int = N_BOOT,
              seed: int = 0) -> list[Any]:
    """The statistic recomputed on ``n_boot`` resamples (``statistic(indices)``)."""
    return [statistic(idx) for idx in bootstrap_indices(n_units, n_boot, seed)]


def _zip_map(fn: Callable[[list], Any], trees: Sequence[Any]) -> Any:
    """Apply ``fn`` leaf-wise to parallel nested structures (dicts, lists, tuples, numbers)."""
    first = trees[0]
    if isinstance(first, Mapping):
        return {k: _zip_map(fn, [t[k] for t in trees]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_zip_map(fn, [t[i] for t in trees]) for i in range(len(first)))
    return fn(list(trees))


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)


def tree_estimates(point: Any, draws: Sequence[Any], method: str) -> Any:
    """``point`` with every number replaced by an Estimate whose se (and single-run spread) is
    the sd of the bootstrap draws of that number."""
    def leaf(values: list) -> Any:
        value, rest = values[0], values[1:]
        if value is None or isinstance(value, (str, bool)):
            return value
        sd = _finite_sd(np.array([_number(v) for v in rest]))
        return Estimate(float(value), sd, sd, method)
    return _zip_map(leaf, [point, *draws])


def replicate_estimates(replicates: Sequence[Any], method: str) -> Any:
    """The mean over independent replicate runs, leaf-wise: se = sd / sqrt(R), spread = sd."""
    r = len(replicates)

    def leaf(values: list) -> Any:
        if values[0] is None or isinstance(values[0], (str, bool)):
            return values[0]
        x = np.array([_number(v) for v in values])
        sd = _finite_sd(x) if r > 1 else math.nan
        mean = float(np.mean(x)) if np.isfinite(x).all() else math.nan
        return Estimate(mean, sd / math.sqrt(r), sd, method)
    return _zip_map(leaf, list(replicates))


def side_by_side(replicated: Any, boot: Any) -> Any:
    """Replicate estimates whose method also names the bootstrap sd of one run (two measures of
    the same single-run spread, leaf by leaf)."""
    def leaf(pair: list) -> Any:
        rep, one = pair
        if not isinstance(rep, Estimate):
            return rep
        return Estimate(rep.value, rep.se, rep.spread,
                        f"{rep.method}; one run's sd {rep.spread:.3g} by replicates, "
                        f"{one.se:.3g} by bootstrap")
    return _zip_map(leaf, [replicated, boot])


def values(tree: Any) -> Any:
    """The plain values of a tree of Estimates (for printing and JSON)."""
    return _zip_map(lambda v: float(v[0]) if isinstance(v[0], Estimate) else v[0], [tree])


def errors(tree: Any) -> Any:
    """The standard errors of a tree of Estimates (None where a leaf is not an Estimate)."""
    return _zip_map(lambda v: v[0].se if isinstance(v[0], Estimate) else None, [tree])


# ---------------------------------------------------------------- verdict rules


PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


def agreement_tolerance(est: Estimate, reading: float, paper_spread: bool = True) -> float:
    """Z sqrt(reading^2 + spread^2 + se^2); the spread term only when the expected value is one
    run's number (a paper's measurement) rather than an exact theory value."""
    spread = est.spread if paper_spread else 0.0
    return Z * math.sqrt(reading**2 + spread**2 + est.se**2)


def agree_verdict(est: Estimate, expected: float, reading: float, resolution: float,
                  paper_spread: bool = True) -> tuple[str, float]:
    """(verdict, tolerance) for "the measurement equals the paper's number" (module doc)."""
    tol = agreement_tolerance(est, reading, paper_spread)
    if not (math.isfinite(est.value) and math.isfinite(tol)):
        return FAIL, tol
    if abs(est.value - expected) > tol:
        return FAIL, tol
    return (INCONCLUSIVE if tol >= 2 * resolution else PASS), tol


def bound_verdict(est: Estimate, lo: float = -math.inf, hi: float = math.inf) -> str:
    """"The value lies in [lo, hi]", judged on the interval value +- Z se (module doc)."""
    if not (math.isfinite(est.value) and math.isfinite(est.se)):
        return FAIL
    low, high = est.value - Z * est.se, est.value + Z * est.se
    if low >= lo and high <= hi:
        return PASS
    if high < lo or low > hi:
        return FAIL
    return INCONCLUSIVE


def real_inversions(ests: Sequence[Estimate], allowance: float = 0.0) -> list[float]:
    """Drops (a[i] - a[i+1] > 0 for a sequence meant to rise) larger than ``allowance`` plus Z
    times the uncertainty of the difference: the inversions the data show beyond doubt."""
    out = []
    for a, b in zip(ests, ests[1:]):
        drop = a.value - b.value
        if not math.isfinite(drop) or drop > allowance + Z * math.hypot(a.se, b.se):
            out.append(drop)
    return out
