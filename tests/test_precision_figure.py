"""The precision-sweep figure (Figure 2 in bf16 / fp32 / fp64): its claims on synthetic runs."""

import json

import numpy as np
import pytest
import torch

from traindyn.instab.figures.precision import build_precision

DTYPES = ["bfloat16", "float32", "float64"]
NS = [1, 4]
CONFIG = dict(precision=dict(dtypes=DTYPES, ns=NS), fig2=dict(layer="layer2.0.conv1", saves=25),
              table1=dict(seeds=[1, 2, 3], epochs=4))


def write_runs(tmp_path, final_over_eps):
    """One npz per (dtype, n): divergence rising from eps/10 to final_over_eps[dtype, n] * eps."""
    paths = []
    for dt in DTYPES:
        eps = float(torch.finfo(getattr(torch, dt)).eps)
        for n in NS:
            div = np.geomspace(eps / 10, final_over_eps[dt, n] * eps, 25)
            path = tmp_path / f"{dt}_n{n}.npz"
            np.savez(path, divergence=div, floor=eps / 10, lr=0.1 / n, n=n, saves=25)
            paths.append(str(path))
    return paths


def verdicts(tmp_path, final_over_eps, config=CONFIG):
    claims = tmp_path / "claims.json"
    build_precision(write_runs(tmp_path, final_over_eps), str(tmp_path / "f.pdf"),
                    str(tmp_path / "f.png"), str(claims), config=config)
    assert (tmp_path / "f.png").stat().st_size > 0
    return {c["id"]: c["verdict"] for c in json.loads(claims.read_text())}


def amplification(bf16=8.0, f32=2000.0, f64=2000.0, small=2.0):
    return {("bfloat16", 1): bf16, ("float32", 1): f32, ("float64", 1): f64,
            **{(dt, 4): small for dt in DTYPES}}


def test_rounding_amplification_passes_and_growth_factors_are_measured(tmp_path):
    assert verdicts(tmp_path, amplification()) == {"XP-1": "pass", "XP-2": "pass",
                                                   "XP-3[float32]": "measured",
                                                   "XP-3[float64]": "measured"}
    rows = json.loads((tmp_path / "claims.json").read_text())
    assert {r["kind"] for r in rows} == {"extra"}
    assert 1000 < {r["id"]: r["measured"] for r in rows}["XP-3[float64]"] <= 2000  # last 3 saves


@pytest.mark.parametrize("case, failing", [
    (dict(small=50.0), "XP-1"),                # smallest lr far above the rounding floor
    (dict(f32=2000.0, f64=1e15), "XP-2"),      # fp64 ends above fp32: not ordered by precision
])
def test_each_claim_can_fail(tmp_path, case, failing):
    assert verdicts(tmp_path, amplification(**case))[failing] == "fail"


def test_tiny_runs_say_not_applicable(tmp_path):
    tiny = dict(CONFIG, fig2=dict(layer="layer2.0.conv1", saves=3))
    assert set(verdicts(tmp_path, amplification(), tiny).values()) == {"not-applicable"}


def test_missing_run_is_an_error(tmp_path):
    runs = write_runs(tmp_path, amplification())[:-1]
    with pytest.raises(ValueError, match="expected 6 runs"):
        build_precision(runs, str(tmp_path / "f.pdf"), str(tmp_path / "f.png"),
                        str(tmp_path / "c.json"), config=CONFIG)


def test_non_finite_or_empty_runs_fail():
    from traindyn.instab.figures.precision import precision_claims, precision_stats

    div = {(dt, n): np.full(5, 1e-9) for dt in DTYPES for n in NS}
    div["float32", 4] = np.array([])  # a lost run
    div["float64", 1] = np.full(5, np.nan)
    got = {c.id: c.verdict for c in precision_claims(precision_stats(div, DTYPES, NS), tiny=False)}
    assert got["XP-1"] == "fail" and got["XP-2"] == "fail"
