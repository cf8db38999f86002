"""Claims of SI Figures 1, 3, 4 and Table 2: for every claim id a crafted input that passes and
one that fails; missing data never passes."""

import math

import numpy as np
import pytest
from claim_cases import assert_all_pass, assert_fails, nested, set_, verdicts

from traindyn.claims import FAIL, NA, PASS
from traindyn.pde.figures.heat import H1_INDICES, H1_VALUES, heat_claims, heat_stats
from traindyn.pde.figures.linear import linear_claims, linear_stats, table_claims
from traindyn.pde.figures.nonlinear import (amplification_claims, amplification_stats,
                                               nonlinear_claims, nonlinear_stats)

# --- Figure 1: heat equation -------------------------------------------------------------------

HEAT = dict(h1=dict(zip(H1_INDICES, H1_VALUES)), steps=2500, h2a=2.355, unstable_run=True,
            h2b=911, dirichlet=0.501373, von_neumann=0.5, crossing=0.5012, sweep_step=0.005)
HEAT_FAILS = [(f"H1[n={n}]", nested("h1", n, v + 2e-4)) for n, v in zip(H1_INDICES, H1_VALUES)]
HEAT_FAILS += [("H2a", set_("h2a", 2.357)), ("H2b", set_("h2b", 914)),
               ("H3a", set_("dirichlet", 0.5014)), ("H3b", set_("von_neumann", 0.49)),
               ("H3c", set_("crossing", 0.51))]


def test_heat_good_statistics_pass():
    assert_all_pass(heat_claims(HEAT))


@pytest.mark.parametrize("cid, patch", HEAT_FAILS, ids=[c for c, _ in HEAT_FAILS])
def test_heat_claim_can_fail(cid, patch):
    assert_fails(heat_claims, HEAT, cid, patch)


def test_every_heat_claim_has_a_failing_case():
    assert set(verdicts(heat_claims(HEAT))) == {c for c, _ in HEAT_FAILS}


def test_unstable_run_that_never_blows_up_fails_h2b():
    st = dict(HEAT, h2b=None)
    assert verdicts(heat_claims(st))["H2b"] == FAIL
    assert verdicts(heat_claims(dict(st, steps=500)))["H2b"] == NA  # too short to tell


def test_heat_stats_reads_the_runs():
    dts = np.array([0.4, 0.8])
    max_abs = np.ones((2, 2501))
    max_abs[1, 6] = 2.355
    sweep = np.linspace(0.4, 0.6, 41)
    st = heat_stats(dts, max_abs, np.array([-1, -1]), 0.501373, 0.5, sweep, 1 + (sweep - 0.5))
    assert st["h2a"] == 2.355 and st["h2b"] is None and st["h1"][2000] == 1.0
    assert st["crossing"] == pytest.approx(0.5, abs=0.005)
    assert verdicts(heat_claims(st))["H2b"] == FAIL
    short = heat_stats(dts, max_abs[:, :1001], np.array([-1, 912]), 0.5, 0.5, sweep, sweep)
    assert short["h1"][2000] is None and short["h2b"] == 911


# --- Figure 3: linearized PDE ------------------------------------------------------------------

LINEAR = dict(paper=True, lr=1e-8, iterations=1000, alpha_min=1.296e7, alpha_max=2.0e8,
              fft_bound=1.073741824e9, L4=2e-6, L5=1e-4, L6a=0.0196, L6b=0.0096, L7a=0.1,
              L7b=0.2, L8a=8.31, L8b=4.40, L8c=True)
LINEAR_FAILS = [("L1", set_("alpha_min", 1.31e7)), ("L2", set_("alpha_max", 2.01e8)),
                ("L3", set_("fft_bound", 1.0737e9)), ("L4", set_("L4", 2e-5)),
                ("L5", set_("L5", 2e-3)),
                ("L6a", set_("L6a", 0.0190)),  # 1.0190: 0.06% off as a factor, 3% as a rate
                ("L6b", set_("L6b", -0.0004)),  # decay instead of growth
                ("L7a", set_("L7a", 0.098)), ("L7b", set_("L7b", math.nan)),
                ("L8a", set_("L8a", 8.5)), ("L8b", set_("L8b", 4.3)), ("L8c", set_("L8c", False))]


def test_linear_good_statistics_pass():
    assert_all_pass(linear_claims(LINEAR))


@pytest.mark.parametrize("cid, patch", LINEAR_FAILS, ids=[c for c, _ in LINEAR_FAILS])
def test_linear_claim_can_fail(cid, patch):
    assert_fails(linear_claims, LINEAR, cid, patch)


def test_every_linear_claim_has_a_failing_case():
    assert set(verdicts(linear_claims(LINEAR))) == {c for c, _ in LINEAR_FAILS}


def test_growth_tolerance_is_on_the_rate_not_the_factor():
    # 1% of the factor 1.0096 would accept 0.9995 (decay); 1% of the rate 0.0096 does not
    for rate in (-0.0005, 0.0094, 0.0098):
        assert verdicts(linear_claims(dict(LINEAR, L6b=rate)))["L6b"] == FAIL
    assert verdicts(linear_claims(dict(LINEAR, L6b=0.00959)))["L6b"] == PASS


def test_linear_off_paper_setup_is_not_applicable_and_keeps_values():
    claims = linear_claims(dict(LINEAR, paper=False))
    assert {c.verdict for c in claims} == {NA}
    assert {c.id: c.measured for c in claims}["L6a"] == pytest.approx(0.0196)
    missing = verdicts(linear_claims(dict(LINEAR, L4=None)))
    assert missing["L4"] == NA and missing["L5"] == PASS


def test_linear_stats_measures_growth_rates():
    T = 1000
    t = np.arange(T + 1)
    alphas = np.array([1.1e7, 1.3e7])
    top = np.stack([1.0196 ** t, 0.9996 ** t])
    loss = np.stack([np.full(T, 9.0), np.linspace(9.0, 4.0, T)])
    st = linear_stats(alphas, loss, top, top, lr=1e-8, paper_setup=True, alpha_min=1.296e7,
                      alpha_max=2e8, fft_bound=1.07e9)
    assert st["L6a"] == pytest.approx(0.0196, rel=1e-9)
    assert st["L6b"] is None and st["L8c"] is True and st["L8a"] == pytest.approx(loss[1, 99])


# --- Table 2 -----------------------------------------------------------------------------------

def _table(emp_min=1.296e7, emp_max=(4e8, 2e8)):
    return table_claims(np.array([5e-9, 1e-8]), 1.296e7, np.array([4e8, 2e8]),
                        np.array([emp_min, emp_min]), np.array(emp_max))


def test_table2_claims():
    assert_all_pass(_table(1.30e7, (4.02e8, 1.99e8)))
    got = verdicts(_table(1.32e7, (4.1e8, math.nan)))
    assert got == {"S-alpha_min[lr=5e-09]": FAIL, "S-alpha_min[lr=1e-08]": FAIL,
                   "S-alpha_max[lr=5e-09]": FAIL, "S-alpha_max[lr=1e-08]": FAIL}


# --- Figure 4 left: non-linear PDE -------------------------------------------------------------

NONLINEAR = {"paper": True, "z_star": 3.86525, "lr_orthogonal": 0.1, "lr_restrained": 0.0323,
             "N1[lr=0.01]": 0.291495, "N1[lr=0.03]": 0.291499, "N2[lr=0.05]": [0.29, 1.1],
             "N2[lr=0.07]": [0.3, 2.0], "N2[lr=0.09]": [0.4, 3.0], "N3": [9498.0, 9500.0],
             "N4[lr=0.11]a": 1.44, "N4[lr=0.11]b": 38, "N4[lr=0.13]a": 2.56, "N4[lr=0.13]b": 15}
NONLINEAR_FAILS = [("N1[lr=0.01]", set_("N1[lr=0.01]", 0.2916)),
                   ("N1[lr=0.03]", set_("N1[lr=0.03]", math.inf)),
                   ("N1[z*]", set_("z_star", 3.8654)),
                   ("N2[lr=0.05]", set_("N2[lr=0.05]", [0.29, 0.4])),  # converging
                   ("N2[lr=0.07]", set_("N2[lr=0.07]", [0.3, 12.0])),  # too large
                   ("N2[lr=0.09]", set_("N2[lr=0.09]", [0.4, math.nan])),
                   ("N3", set_("N3", [9480.0, 9500.0])),
                   ("N4[lr=0.11]a", set_("N4[lr=0.11]a", 1.46)),
                   ("N4[lr=0.11]b", set_("N4[lr=0.11]b", -1)),  # never exceeded
                   ("N4[lr=0.13]a", set_("N4[lr=0.13]a", 0.5)),
                   ("N4[lr=0.13]b", set_("N4[lr=0.13]b", 150)),
                   ("N5", set_("lr_orthogonal", 0.1001)), ("N6", set_("lr_restrained", 0.0345))]


def test_nonlinear_good_statistics_pass():
    assert_all_pass(nonlinear_claims(NONLINEAR))


@pytest.mark.parametrize("cid, patch", NONLINEAR_FAILS, ids=[c for c, _ in NONLINEAR_FAILS])
def test_nonlinear_claim_can_fail(cid, patch):
    assert_fails(nonlinear_claims, NONLINEAR, cid, patch)


def test_every_nonlinear_claim_has_a_failing_case():
    assert set(verdicts(nonlinear_claims(NONLINEAR))) == {c for c, _ in NONLINEAR_FAILS}


def test_nonlinear_stats_and_missing_lrs():
    T = 1000
    lrs = np.array([0.01, 0.11])
    loss = np.stack([np.full(T, 0.291495), 1.44 ** np.arange(T, dtype=float)])
    st = nonlinear_stats(lrs, loss, paper_setup=True, weight_decay=20.0, z_star=-3.86525,
                         lr_orthogonal=0.1, lr_restrained=0.0323)
    assert st["N4[lr=0.11]a"] == pytest.approx(1.44) and st["N4[lr=0.11]b"] == 38
    assert st["N1[lr=0.03]"] is None and st["z_star"] == 3.86525
    got = verdicts(nonlinear_claims(st))
    assert got["N1[lr=0.01]"] == PASS and got["N1[lr=0.03]"] == NA and got["N3"] == NA


# --- Figure 4 right: error amplification -------------------------------------------------------

AMPLIFICATION = {"paper": True, "M1": 0.75, "R1[lr=0.01]": 0.0, "R1[lr=0.03]": 2e-17,
                 "R2[lr=0.05]a": 0.9, "R2[lr=0.05]b": 120, "R2[lr=0.07]a": 1.38,
                 "R2[lr=0.07]b": 80, "R2[lr=0.09]a": 1.25, "R2[lr=0.09]b": 60}
AMPLIFICATION_FAILS = [("M1", set_("M1", 0.5)), ("R1[lr=0.01]", set_("R1[lr=0.01]", 1e-10)),
                       ("R1[lr=0.03]", set_("R1[lr=0.03]", math.nan)),
                       ("R2[lr=0.05]a", set_("R2[lr=0.05]a", 0.3)),
                       ("R2[lr=0.05]b", set_("R2[lr=0.05]b", -1)),
                       ("R2[lr=0.07]a", set_("R2[lr=0.07]a", 0.49)),
                       ("R2[lr=0.07]b", set_("R2[lr=0.07]b", 500)),
                       ("R2[lr=0.09]a", set_("R2[lr=0.09]a", 0.0)),
                       ("R2[lr=0.09]b", set_("R2[lr=0.09]b", 400))]


def test_amplification_good_statistics_pass():
    assert_all_pass(amplification_claims(AMPLIFICATION))


@pytest.mark.parametrize("cid, patch", AMPLIFICATION_FAILS, ids=[c for c, _ in AMPLIFICATION_FAILS])
def test_amplification_claim_can_fail(cid, patch):
    assert_fails(amplification_claims, AMPLIFICATION, cid, patch)


def test_every_amplification_claim_has_a_failing_case():
    assert set(verdicts(amplification_claims(AMPLIFICATION))) == {c for c, _ in
                                                                   AMPLIFICATION_FAILS}


def test_amplification_stats_and_the_metric_self_check():
    d = np.full((1, 500), 1e-2)
    d[0, :50] = 0.0
    st = amplification_stats(np.array([0.05]), d, np.full((1, 401), 0.8), paper_setup=True,
                             k=[1, 3])
    assert st["M1"] == pytest.approx(0.75) and st["R2[lr=0.05]b"] == 51
    assert st["R1[lr=0.01]"] is None
    claims = {c.id: c for c in amplification_claims(st)}
    assert claims["M1"].kind == "self-check" and claims["R2[lr=0.05]a"].kind == "paper"
    assert claims["R1[lr=0.01]"].verdict == NA
