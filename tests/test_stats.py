"""Sampling uncertainty (traindyn.stats, traindyn.lesde.ensemble) and the verdict rules built on
it: the bootstrap against analytic and Monte-Carlo standard errors, a planted t = 0 offset in
the LE-SDE estimators, replicate means, and every branch of the verdicts."""

import math

import numpy as np
import pytest

from traindyn.lesde.ensemble import bootstrap_estimates, ensemble_estimates, resample
from traindyn.lesde.estimators import estimate_ab_i
from traindyn.stats import (FAIL, INCONCLUSIVE, PASS, Estimate, agree_verdict, bootstrap,
                            bound_verdict, real_inversions, replicate_estimates, side_by_side,
                            tree_estimates, values)


def test_bootstrap_se_of_a_mean_matches_sigma_over_root_n():
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(20):
        x = rng.normal(0.0, 2.0, size=50)
        draws = bootstrap(lambda idx: x[idx].mean(), len(x), n_boot=400, seed=1)
        ratios.append(np.std(draws, ddof=1) / (2.0 / np.sqrt(50)))
    assert 0.85 < np.median(ratios) < 1.1  # the bootstrap sd is (n-1)/n-biased: about 0.99


def test_bootstrap_is_deterministic_and_needs_two_units():
    stat = lambda idx: float(idx.sum())  # noqa: E731
    assert bootstrap(stat, 5, 10, seed=3) == bootstrap(stat, 5, 10, seed=3)
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap(stat, 1)


def _ensemble(rng, t=60, m=60, k=3):
    """Synthetic LE-SDE logs: logits grow along the label direction from a zero-mean start, so
    the estimators' t = 0 class means are pure noise (the planted offset)."""
    labels = rng.integers(0, k, size=(t, m)).astype(np.int8)
    growth = np.linspace(0, 3, t)[:, None, None]
    logits = growth * (np.eye(k) - 1 / k)[labels] + 0.05 * rng.normal(size=(t, m, k))
    base = dict(trial_labels=labels, trial_logits=logits.astype(np.float32),
                val_acc=rng.random((m, 2)), val_loss=rng.random((m, 2)))
    return resample(base, np.arange(m))


def _a_at_t(s):
    return float(estimate_ab_i(s["means_y"])[0][-1])


def test_bootstrap_sees_the_planted_t0_offset_of_the_i_estimator():
    """A-hat(T) of independent ensembles scatters by ~1.2 (log of zero-mean class means at t = 0);
    the bootstrap of a single ensemble must see that spread, not the tiny one at T."""
    rng = np.random.default_rng(1)
    mc = np.std([_a_at_t(_ensemble(rng)) for _ in range(300)])
    boot = [bootstrap_estimates(_a_at_t, _ensemble(rng), "t", n_boot=100).se for _ in range(12)]
    assert mc > 0.8  # the offset is there (without it A-hat(T) would vary by ~0.01)
    assert 0.7 < np.median(boot) / mc < 1.4


def test_resample_of_every_trial_once_is_the_plain_summary_and_repeats_weigh():
    rng = np.random.default_rng(2)
    s = _ensemble(rng, t=20, m=8)
    again = resample(s, np.arange(8))
    np.testing.assert_allclose(again["means_y"], s["means_y"], rtol=0, atol=0)
    doubled = resample(s, np.array([0, 0, 1, 2, 3, 4, 5, 6]))  # trial 0 twice, 7 dropped
    t, c = 5, int(s["trial_labels"][5, 0])
    picked = [0, 0] + [m for m in range(1, 7)]
    rows = [m for m in picked if s["trial_labels"][t, m] == c]
    np.testing.assert_allclose(doubled["means_y"][t, c],
                               s["trial_logits"][t, rows].mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(doubled["val_acc"], s["val_acc"][[0, 0, 1, 2, 3, 4, 5, 6]])


def test_replicates_mean_se_and_spread():
    reps = [dict(a=1.0, b=[2.0, None]), dict(a=3.0, b=[4.0, None]), dict(a=5.0, b=[6.0, None])]
    est = replicate_estimates(reps, "3 replicates")
    assert est["a"].value == 3.0 and est["a"].spread == pytest.approx(2.0)
    assert est["a"].se == pytest.approx(2.0 / math.sqrt(3))
    assert est["b"][1] is None and values(est)["b"][0] == 4.0
    both = side_by_side(est, tree_estimates(reps[0], reps, "boot"))
    assert "by replicates" in both["a"].method and "by bootstrap" in both["a"].method


def test_ensemble_estimates_use_replicates_when_there_are_several():
    rng = np.random.default_rng(3)
    runs = [_ensemble(rng) for _ in range(4)]
    one = ensemble_estimates(_a_at_t, runs[:1], "x", n_boot=50)
    four = ensemble_estimates(_a_at_t, runs, "x", n_boot=50)
    assert "bootstrap" in one.method and one.se == one.spread
    assert four.value == pytest.approx(np.mean([_a_at_t(r) for r in runs]))
    assert four.se == pytest.approx(four.spread / 2)


def test_tree_estimates_keep_none_and_strings_and_fail_on_mostly_nan_draws():
    point = dict(x=1.0, name="a", none=None)
    draws = [dict(x=v, name="a", none=None) for v in (math.nan, math.nan, 2.0)]
    est = tree_estimates(point, draws, "m")
    assert est["name"] == "a" and est["none"] is None and math.isnan(est["x"].se)


@pytest.mark.parametrize("est, verdict", [
    (Estimate(19.0, 1.0, 1.0), PASS),  # tol = 2 sqrt(0.5^2 + 1 + 1) = 3.0
    (Estimate(15.9, 1.0, 1.0), FAIL),
    (Estimate(19.5, 3.0, 3.0), INCONCLUSIVE),  # tol 8.5 >= 2 x resolution 4
    (Estimate(math.nan, 1.0, 1.0), FAIL),
    (Estimate(19.5, math.nan, 1.0), FAIL),
])
def test_agree_verdict(est, verdict):
    assert agree_verdict(est, 19.5, reading=0.5, resolution=4.0)[0] == verdict


def test_agree_verdict_tolerance_is_derived_and_theory_values_have_no_paper_run():
    est = Estimate(1.0, 0.3, 0.4)
    assert agree_verdict(est, 1.0, 0.1, 10)[1] == pytest.approx(2 * math.sqrt(0.01 + 0.16 + 0.09))
    assert agree_verdict(est, 1.0, 0.1, 10, paper_spread=False)[1] == pytest.approx(
        2 * math.sqrt(0.01 + 0.09))


@pytest.mark.parametrize("value, se, verdict", [(0.5, 0.1, PASS), (0.05, 0.1, INCONCLUSIVE),
                                                (-0.5, 0.1, FAIL), (0.95, 0.01, INCONCLUSIVE),
                                                (math.nan, 0.1, FAIL), (0.5, math.nan, FAIL)])
def test_bound_verdict(value, se, verdict):
    assert bound_verdict(Estimate(value, se), 0.0, 0.96) == verdict


def test_real_inversions_tolerate_noise_only():
    rising = [Estimate(0.6, 0.01), Estimate(0.59, 0.01), Estimate(0.9, 0.01)]
    assert real_inversions(rising) == []  # a drop of 0.01 within 2 x 0.014
    assert real_inversions([Estimate(0.6, 0.001), Estimate(0.55, 0.001)]) == [pytest.approx(0.05)]
    assert len(real_inversions([Estimate(0.6), Estimate(math.nan)])) == 1
