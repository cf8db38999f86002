"""The verdicts 'ill-conditioned' (an estimator's log argument within its noise) and
'fail-authors-code' (a failure the authors' published code shares), and the conditioning
statistics of the LE-SDE estimators on synthetic class-mean trajectories."""

import math

import numpy as np
import pytest

from traindyn.claims import (AUTHORS_CODE, FAIL, ILL_CONDITIONED, MEASURED, PASS, AuthorsCode,
                             ClaimSet, Conditioning, _counts, verdict_summary)
from traindyn.lesde.conditioning import conditioning_stats, iteration_noise, weights
from traindyn.lesde.estimators import estimate_ab_l, i_model_trajectory, l_modes
from traindyn.lesde.figures.dynamics import conditions, estimates, fig3_claims, fig3_stats
from traindyn.stats import Estimate


def agree(value, se=0.3, **kw):
    cs = ClaimSet("LE-SDE", "Figure 3", "test", scale="paper")
    return cs.agree("X", "x", Estimate(value, se, se, "bootstrap (test)"), 10.0, reading=0.5,
                    resolution=3.0, **kw)


def test_conditioning_within_noise_is_ill():
    assert Conditioning("Xf(T)", -0.1, 0.5).ill
    assert not Conditioning("Xf(T)", 3.0, 0.5).ill
    assert Conditioning("Xf(T)", math.nan, 0.5).ill  # no value: never well conditioned
    assert Conditioning.ratio("median", 1.5).ill and not Conditioning.ratio("median", 8).ill
    assert "noise sd 0.5" in Conditioning("Xf(T)", -0.1, 0.5).text()


def test_ill_conditioned_replaces_pass_and_fail_and_names_the_quantity():
    bad = [Conditioning("Xf(T)", -0.1, 0.5), Conditioning("Xs(T)", 30.0, 0.5)]
    for value in (10.0, 2.0):  # would pass, would fail
        c = agree(value, conditions=bad)
        assert c.verdict == ILL_CONDITIONED
        assert "Xf(T) = -0.1" in c.reason and "Xs(T)" in c.reason
        assert ("would be pass" if value == 10.0 else "would be fail") in c.reason
    good = agree(10.0, conditions=bad[1:])
    assert good.verdict == PASS and "well conditioned: Xs(T) = 30" in good.reason


def test_a_failure_the_authors_code_shares_is_labelled_not_passed():
    code = AuthorsCode(7.6, 0.35, "authors' loop, 64 trials")
    shared = agree(7.0, authors_code=code)
    assert shared.verdict == AUTHORS_CODE and "7.6 ± 0.35" in shared.reason
    own = agree(2.0, authors_code=code)  # fails and the authors' code does not explain it
    assert own.verdict == FAIL and "outside" in own.reason
    passed = agree(10.0, authors_code=code)
    assert passed.verdict == PASS and "authors' published code gives 7.6" in passed.reason
    # ill-conditioned wins over both
    assert agree(7.0, authors_code=code,
                 conditions=[Conditioning("Xf(T)", 0.0, 1.0)]).verdict == ILL_CONDITIONED


def test_counts_and_summary_name_both_labels():
    claims = [agree(7.0, authors_code=AuthorsCode(7.6, 0.35, "s")),
              agree(10.0, conditions=[Conditioning("Xf(T)", 0.0, 1.0)]), agree(10.0)]
    text = _counts(claims)
    assert "1 pass, 0 fail, 1 fail as the authors' code does, 1 ill-conditioned" in text
    summary = verdict_summary(claims)
    assert "FAIL (authors' code too) X" in summary and "ill-conditioned (the statistic" in summary


def test_a_study_measurement_can_be_ill_conditioned():
    cs = ClaimSet("LE-SDE", "Study", "test", kind="study")
    ill = cs.measure("impact[A_L]", "A_L", 12.0, conditions=[Conditioning("Xf(T)", 0.1, 0.5)])
    fine = cs.measure("impact[A]", "A", 19.0, conditions=[Conditioning.ratio("I", 9.0)])
    assert ill.verdict == ILL_CONDITIONED and fine.verdict == MEASURED


def test_iteration_noise_reads_the_noise_not_the_trend():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 50, 5000) + rng.normal(0, 0.5, 5000)
    assert iteration_noise(x) == pytest.approx(0.5, rel=0.05)
    assert math.isnan(iteration_noise(x[:2]))


def _means(xf_end: float, t: int = 3000, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    """Class means whose L f-mode grows from 4 to ``xf_end`` while the d-mode grows from 5 to 30, with
    independent noise per iteration (as trial averages of ~33 trials each)."""
    rng = np.random.default_rng(seed)
    s = np.linspace(5.0, 30.0, t)
    f = np.linspace(4.0, xf_end, t)
    base = np.array([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]], float) / 3
    # Xbar_c = s/2 * d_c + f * e_c with e_c = the (1, 1, 1) direction per class block
    means = s[:, None, None] * base[None] + f[:, None, None] * np.ones((1, 3, 3)) / 3
    return means + rng.normal(0, noise, means.shape)


def test_conditioning_stats_match_the_l_estimator_modes():
    means = _means(6.0)
    xs, xf = l_modes(means)
    st = conditioning_stats(means)
    assert st["Xf_T"] == pytest.approx(xf[-100:].mean()) and st["Xs_0"] == xs[0]
    a, b = estimate_ab_l(means)  # the estimator reads the same modes
    assert np.allclose(a[1:], (3 * np.log(np.abs(xs[1:] / xs[0])) + 6 * np.log(
        np.abs(xf[1:] / xf[0]))) / 3)
    assert st["Xf_T_noise"] > 0 and st["D00_T_noise"] > 0 and st["I_snr_0"] > 0
    xbar = means.mean(axis=1)
    assert st["Xbar1_T"] == pytest.approx(xbar[-100:, 1].mean())


def test_factor_weights_sum_to_one_and_follow_the_estimators():
    for key in ("A", "B", "A_L", "B_L"):
        assert sum(weights(key, 3).values()) == pytest.approx(1.0)
    assert weights("A", 3)["Xbar0"] == pytest.approx(1 / 9)  # log|Xbar| once, log|D| twice
    assert weights("B", 3)["Xbar0"] == pytest.approx(1 / 6)
    assert weights("A_L", 3)["Xf"] == pytest.approx(2 / 3)


def test_a_minority_of_the_weight_within_noise_is_reported_not_flagged():
    parts = [Conditioning("Xbar2(T)", 0.5, 0.5, weight=1 / 9),
             Conditioning("D00(T)", 10.0, 0.5, weight=8 / 9),
             Conditioning.ratio("median at 0:", 0.2, reference=True)]
    c = agree(10.0, conditions=parts)
    assert c.verdict == PASS and "11% of the weight within noise" in c.reason
    assert "reference point" in c.reason and "median at 0: 0.2 sd" in c.reason


def _claims(means):
    st = fig3_stats(estimates(means, 151), means)
    wrapped = {k: (Estimate(v, 0.01, 0.01, "test") if isinstance(v, float) else v)
               for k, v in st.items()}
    return {c.id: c for c in fig3_claims({"GeoMNIST": wrapped}, 0.0, scale="paper")}


def test_fig3_l_claims_ill_conditioned_when_xf_ends_in_its_noise():
    ill, fine = _claims(_means(0.0)), _claims(_means(20.0))
    for cid in ("F3-4a", "F3-4b", "F3-4an", "F3-4bn"):
        assert ill[cid].verdict == ILL_CONDITIONED, (cid, ill[cid].reason)
        assert "Xf(T)" in ill[cid].reason
        assert fine[cid].verdict != ILL_CONDITIONED, (cid, fine[cid].reason)
        assert "well conditioned" in fine[cid].reason and "Xf(T) = " in fine[cid].reason


@pytest.mark.parametrize("noise, ill", [(0.01, False), (30.0, True)])
def test_fig3_i_claims_conditioning_follows_the_noise_of_its_log_arguments(noise, ill):
    rng = np.random.default_rng(1)
    t = np.arange(3000.0)
    a = np.concatenate([[0.0], np.cumsum(0.05 * t[1:] ** -0.5)])
    b = np.concatenate([[0.0], np.cumsum(0.01 * t[1:] ** -0.7)])
    x0 = np.array([[3.0, -1.0, -1.5], [-1.2, 2.5, -1.0], [-1.0, -1.4, 2.8]])
    means = i_model_trajectory(x0, a, b) + rng.normal(0, noise, (len(t), 3, 3))
    got = _claims(means)
    for cid in ("F3-1", "F3-2", "F3-1n", "F3-2n"):
        assert (got[cid].verdict == ILL_CONDITIONED) == ill, (cid, got[cid].reason)
        assert "Xbar0(T)" in got[cid].reason
