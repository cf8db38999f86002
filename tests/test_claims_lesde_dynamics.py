"""Claims of LE-SDE Figures 1, 3, 5 and the neural-collapse extra: every claim id passes on a
crafted good case and fails on a crafted bad one; missing or NaN values never pass."""

import math

import numpy as np
import pytest
from claim_cases import assert_all_pass, assert_fails, set_, verdicts

from traindyn.claims import FAIL, NA, PASS
from traindyn.figures.lesde_dynamics import (collapse_claims, collapse_stats, estimates,
                                             fig1_claims, fig1_stats, fig3_claims, fig3_stats,
                                             u1_stats)
from traindyn.figures.lesde_common import NO_CIFAR
from traindyn.figures.lesde_leode import fig5_claims, fig5_stats


# --- Figure 1 ----------------------------------------------------------------------------------

FIG1 = {"GeoMNIST": [10.5, -11.0, 2.5], "CIFAR-10": [-0.3, 3.0, -2.5]}
FIG1_FAILS = [("F1-1[0]", lambda st: st["GeoMNIST"].__setitem__(0, 6.9)),
              ("F1-1[1]", lambda st: st["GeoMNIST"].__setitem__(1, -6.0)),
              ("F1-1[2]", lambda st: st["GeoMNIST"].__setitem__(2, math.nan)),
              ("F1-order[GeoMNIST]", lambda st: st.__setitem__("GeoMNIST", [10.5, 3.0, 2.5])),
              ("F1-order[CIFAR-10]", lambda st: st.__setitem__("CIFAR-10", [-0.3, 3.0, 0.5]))]


def f1(st):
    return fig1_claims(st, scale="paper")


def test_fig1_good_statistics_pass():
    assert_all_pass(f1(FIG1))


@pytest.mark.parametrize("cid, patch", FIG1_FAILS, ids=[c for c, _ in FIG1_FAILS])
def test_fig1_claim_can_fail(cid, patch):
    assert_fails(f1, FIG1, cid, patch)


def test_every_fig1_claim_has_a_failing_case():
    assert set(verdicts(f1(FIG1))) == {c for c, _ in FIG1_FAILS}


def test_fig1_quick_scale_keeps_the_measured_projections():
    got = {c.id: c for c in fig1_claims(FIG1, scale="quick")}
    assert got["F1-1[0]"].verdict == NA and got["F1-1[0]"].measured == 10.5
    assert got["F1-order[GeoMNIST]"].verdict == PASS


def test_fig1_stats_projects_on_the_class_difference():
    means = np.zeros((10, 3, 3))
    means[:, 0] = [4.0, 0.0, 0.0]
    means[:, 1] = [0.0, 4.0, 0.0]
    means[:, 2] = [1.0, 1.0, 3.0]
    ends = fig1_stats(means, "GeoMNIST")  # direction (1, -1, 0) / sqrt(2)
    np.testing.assert_allclose(ends, [4 / np.sqrt(2), -4 / np.sqrt(2), 0.0], atol=1e-12)


# --- Figure 3 ----------------------------------------------------------------------------------

GEO = dict(A=19.5, B=0.3, peak=0.012, peak_t=1000, late=0.001, tail=0.0005, A_L=18.0, B_L=-1.0)
CIFAR = dict(A=13.8, B=0.2, peak=0.0025, peak_t=3500, late=0.0004, tail=0.0002, A_L=None,
             B_L=None)
FIG3 = {"GeoMNIST": GEO, "CIFAR-10": CIFAR}


def geo(key, value):
    def patch(st):
        st["stats"]["GeoMNIST"][key] = value
    return patch


FIG3_FAILS = [("U1", set_("u1", 1e-6)),
              ("F3-8[GeoMNIST]", geo("B", -3.0)),  # A = 19.5 < 5 * 3 + 5
              ("F3-8[CIFAR-10]", lambda st: st["stats"]["CIFAR-10"].__setitem__("A", 6.0)),
              ("F3-alpha-decays", geo("tail", 0.005)),
              ("F3-1", geo("A", 26.0)), ("F3-2", geo("B", 2.5)),
              ("F3-3", geo("peak_t", 3000)), ("F3-4", geo("B_L", -5.0))]


def f3(st, scale="paper"):
    return fig3_claims(st["stats"], st["u1"], scale=scale)


def test_fig3_good_statistics_pass():
    assert_all_pass(f3(dict(stats=FIG3, u1=1e-14)))


@pytest.mark.parametrize("cid, patch", FIG3_FAILS, ids=[c for c, _ in FIG3_FAILS])
def test_fig3_claim_can_fail(cid, patch):
    assert_fails(f3, dict(stats=FIG3, u1=1e-14), cid, patch)


def test_every_fig3_claim_has_a_failing_case():
    assert set(verdicts(f3(dict(stats=FIG3, u1=1e-14)))) == {c for c, _ in FIG3_FAILS}


def test_fig3_short_runs_and_nan():
    short = dict(GEO, late=None)
    got = verdicts(fig3_claims({"GeoMNIST": short}, 0.0, scale="paper"))
    assert got["F3-3"] == NA and got["F3-1"] == PASS
    got = verdicts(fig3_claims({"GeoMNIST": dict(GEO, A=math.nan)}, 0.0, scale="paper"))
    assert got["F3-1"] == FAIL and got["F3-8[GeoMNIST]"] == FAIL
    tiny = verdicts(fig3_claims(FIG3, 0.0, scale="tiny"))
    assert tiny.pop("U1") == PASS and set(tiny.values()) == {NA}


def test_u1_self_check_and_fig3_stats():
    assert u1_stats() < 1e-8
    t = np.arange(7000.0)
    means = np.stack([np.eye(3) * (1 + 0.1 * np.sqrt(x)) + 0.2 for x in t])
    st = fig3_stats(estimates(means, 151))
    assert st["late"] is not None and st["A_L"] is not None and np.isfinite(st["A"])
    assert st["A"] == pytest.approx(np.mean(estimates(means, 151)["A_I"][-100:]))


# --- neural collapse ---------------------------------------------------------------------------

COLLAPSE = {"GeoMNIST": dict(k=3, final_cos=[-0.5, -0.48, -0.52], final_ratio=1.1),
            "CIFAR-10": dict(k=3, final_cos=[-0.45, -0.5, -0.55], final_ratio=1.3)}
COLLAPSE_FAILS = [("F1-4a[CIFAR-10]", lambda st: st["CIFAR-10"].__setitem__(
                      "final_cos", [-0.9, -0.5, -0.5])),
                  ("F1-4b[CIFAR-10]", lambda st: st["CIFAR-10"].__setitem__("final_ratio", 2.0)),
                  ("F1-4a[GeoMNIST]", lambda st: st["GeoMNIST"].__setitem__(
                      "final_cos", [-0.5, -0.1, -0.5])),
                  ("F1-4b[GeoMNIST]", lambda st: st["GeoMNIST"].__setitem__("final_ratio", 1.7))]


def nc(st):
    return collapse_claims(st, scale="paper")


def test_collapse_claims():
    assert_all_pass(nc(COLLAPSE))
    for cid, patch in COLLAPSE_FAILS:
        assert_fails(nc, COLLAPSE, cid, patch)
    assert set(verdicts(nc(COLLAPSE))) == {c for c, _ in COLLAPSE_FAILS}


def test_collapse_stats_on_a_simplex():
    d = np.eye(3) - 1 / 3
    st = collapse_stats(np.repeat(5 * d[None], 200, axis=0) + 2.0)  # offset is centred away
    np.testing.assert_allclose(st["final_cos"], [-0.5] * 3, atol=1e-12)
    assert st["final_ratio"] == pytest.approx(1.0)


# --- Figure 5 ----------------------------------------------------------------------------------

FIG5 = {("GeoMNIST", "I"): dict(sim_end=[-5.0, -3.2], data_end=[-5.5, -3.0],
                                corr=[0.99, 0.98, 0.95]),
        ("GeoMNIST", "L"): dict(sim_end=[-5.1, -2.9], data_end=[-5.5, -3.0],
                                corr=[0.97, 0.96, 0.95])}
FIG5.update({("CIFAR-10", k): dict(sim_end=[1.0, -2.0], data_end=[1.5, -2.2],
                                    corr=[0.97, 0.95, 0.93]) for k in "IL"})
FIG5_FAILS = [*[(f"F5-1a[CIFAR-10,{k}]", lambda st, k=k: st["CIFAR-10", k].__setitem__(
                  "sim_end", [-1.0, -2.0])) for k in "IL"],
              *[(f"F5-1b[CIFAR-10,{k}]", lambda st, k=k: st["CIFAR-10", k].__setitem__(
                  "corr", [0.97, 0.2, 0.93])) for k in "IL"],
              ("F5-1a[GeoMNIST,I]", lambda st: st["GeoMNIST", "I"].__setitem__(
                  "sim_end", [-5.0, 1.0])),
              ("F5-1b[GeoMNIST,I]", lambda st: st["GeoMNIST", "I"].__setitem__(
                  "corr", [0.99, 0.5, 0.95])),
              ("F5-1a[GeoMNIST,L]", lambda st: st["GeoMNIST", "L"].__setitem__(
                  "sim_end", [math.nan, -2.9])),
              ("F5-1b[GeoMNIST,L]", lambda st: st["GeoMNIST", "L"].__setitem__(
                  "corr", [0.99, math.nan, 0.95]))]


def f5(st):
    return fig5_claims(st, scale="paper")


def test_fig5_claims():
    assert_all_pass(f5(FIG5))
    for cid, patch in FIG5_FAILS:
        assert_fails(f5, FIG5, cid, patch)
    assert set(verdicts(f5(FIG5))) == {c for c, _ in FIG5_FAILS}


def test_fig5_stats():
    t = np.linspace(0, 1, 50)
    means = np.zeros((50, 3, 3))
    means[:, 0] = np.stack([1 + t, -t, -2 * t], axis=1)
    st = fig5_stats(2 * means[:, 0], means, align=0, tail=10)
    np.testing.assert_allclose(st["corr"], 1.0)
    assert st["sim_end"] == pytest.approx([2 * v for v in st["data_end"]])



def test_without_cifar_runs_its_claims_say_so():
    """GeoMNIST-only statistics: every CIFAR-10 claim is n/a naming the missing data set."""
    def only_geomnist(st):
        return {k: v for k, v in st.items() if "CIFAR-10" not in (k if isinstance(k, str)
                                                                   else k[0])}
    built = [f1(only_geomnist(FIG1)), nc(only_geomnist(COLLAPSE)), f5(only_geomnist(FIG5)),
             f3(dict(stats=only_geomnist(FIG3), u1=1e-14))]
    cifar = {c.id: c for claims in built for c in claims if "CIFAR-10" in c.id}
    assert sorted(cifar) == sorted(["F1-order[CIFAR-10]", "F3-8[CIFAR-10]", "F1-4a[CIFAR-10]",
                                    "F1-4b[CIFAR-10]", *[f"F5-1{p}[CIFAR-10,{k}]"
                                                         for p in "ab" for k in "IL"]])
    assert all(c.verdict == NA and c.reason == NO_CIFAR for c in cifar.values())
    assert all(c.verdict == PASS for claims in built for c in claims if c.id not in cifar)
