import json
import math

import pytest

from traindyn.claims import (EXTRA, FAIL, INCONCLUSIVE, MEASURED, NA, PASS, SELF_CHECK, Claim,
                             ClaimSet, claims_markdown, gather, read_claims)
from traindyn.stats import Estimate


def test_verdicts():
    cs = ClaimSet("SI", "Figure 9", "test")
    assert cs.close("a", "close", 1.00005, 1.0, atol=1e-4).verdict == PASS
    assert cs.close("b", "far", 1.1, 1.0, rtol=0.05).verdict == FAIL
    assert cs.close("c", "nan", math.nan, 1.0, atol=1).verdict == FAIL
    assert cs.close("d", "inf", math.inf, 1.0, atol=1).verdict == FAIL
    assert cs.close("e", "missing", None, 1.0, atol=1).verdict == FAIL  # never n/a by default
    assert cs.within("f", "in", 0.5, 0, 1).verdict == PASS
    assert cs.within("g", "out", 1.5, 0, 1).verdict == FAIL
    assert cs.holds("h", "qual", False, "x", "y").reason
    assert cs.not_applicable("i", "needs more", 3, "scale too small").verdict == NA
    assert [c.id for c in cs.claims] == list("abcdefghi")


@pytest.mark.parametrize("measured, expected, kw, verdict", [
    (103.0, 100.0, dict(rtol=0.05), PASS),     # relative tolerance scales with |expected|
    (106.0, 100.0, dict(rtol=0.05), FAIL),
    (100.5, 100.0, dict(atol=0.6), PASS),
    (100.7, 100.0, dict(atol=0.6), FAIL),
    (-9.6, -10.0, dict(rtol=0.05), PASS),      # negative expected: |expected| sets the scale
    (-10.6, -10.0, dict(rtol=0.05), FAIL),
    (-9.4, -10.0, dict(rtol=0.05), FAIL),
    (0.0101, 0.01, dict(rtol=0.02), PASS),     # small expected: rel 2% is 2e-4, not 0.02
    (0.0105, 0.01, dict(rtol=0.02), FAIL),
    (0.01, 0.0, dict(rtol=0.5), FAIL),         # rel tolerance of 0 is 0
    (0.51, 0.5, dict(atol=0.005, rtol=0.02), PASS),  # atol + rtol*|expected| = 0.015
    (0.52, 0.5, dict(atol=0.005, rtol=0.02), FAIL),
])
def test_close_with_expected_other_than_one(measured, expected, kw, verdict):
    assert ClaimSet("SI", "F", "s").close("x", "s", measured, expected, **kw).verdict == verdict


@pytest.mark.parametrize("measured, lo, hi, verdict", [
    (-3.0, -4.0, 2.0, PASS), (-4.5, -4.0, 2.0, FAIL), (2.5, -4.0, 2.0, FAIL),
    (-4.0, -4.0, 2.0, PASS), (2.0, -4.0, 2.0, PASS), (None, -4.0, 2.0, FAIL),
    (math.nan, -4.0, 2.0, FAIL)])
def test_within_both_ends_and_negative_values(measured, lo, hi, verdict):
    assert ClaimSet("SI", "F", "s").within("x", "s", measured, lo, hi).verdict == verdict


def test_one_sided_bounds():
    cs = ClaimSet("SI", "F", "s")
    assert cs.at_least("a", "s", 7.3, 0.5).verdict == PASS  # no upper end
    assert cs.at_least("b", "s", 0.4, 0.5).verdict == FAIL
    assert cs.at_least("c", "s", -math.inf, -1.0).verdict == FAIL
    assert cs.at_most("d", "s", -100.0, 0.3).verdict == PASS  # no lower end
    assert cs.at_most("e", "s", 0.31, 0.3).verdict == FAIL
    assert cs.at_most("f", "s", None, 0.3).verdict == FAIL
    assert cs.claims[0].tolerance == ">= 0.5" and cs.claims[3].tolerance == "<= 0.3"


def test_holds_fails_on_an_empty_measurement():
    cs = ClaimSet("SI", "F", "s")
    assert cs.holds("a", "s", True, [], "x").verdict == FAIL
    assert cs.holds("b", "s", True, {}, "x").verdict == FAIL
    assert cs.holds("c", "s", True, None, "x").verdict == FAIL
    assert cs.holds("d", "s", True, [0.1], "x").verdict == PASS


def test_not_applicable_keeps_the_measured_value():
    cs = ClaimSet("LE-SDE", "F", "s", scale="quick")
    assert cs.not_applicable("a", "s", 0.677, "quick scale", measured=0.81).measured == 0.81
    cs.close("b", "s", 0.5, 0.677, atol=0.06)
    cs.only_evaluable("too small", lambda cid: False)
    assert [(c.verdict, c.measured) for c in cs.claims] == [(NA, 0.81), (NA, 0.5)]


def test_paper_scale_claims_are_not_applicable_below_it_keeping_value_and_uncertainty():
    quick = ClaimSet("LE-SDE", "F", "s", scale="quick")
    c = quick.agree("a", "s", Estimate(5.0, 0.3, 0.3, "boot"), 1.0, reading=0.1, resolution=1)
    assert (c.verdict, c.measured, c.uncertainty) == (NA, 5.0, 0.3)
    assert "make reference" in c.reason
    assert quick.close("b", "s", 5.0, 1.0, atol=0.1).verdict == FAIL  # tier any: evaluated
    paper = ClaimSet("LE-SDE", "F", "s", scale="paper")
    assert paper.agree("a", "s", Estimate(5.0, 0.3, 0.3, "boot"), 1.0, reading=0.1,
                       resolution=1).verdict == FAIL


def test_agree_records_the_derived_tolerance_and_can_be_inconclusive():
    cs = ClaimSet("LE-SDE", "F", "s", scale="paper")
    ok = cs.agree("a", "s", Estimate(19.0, 1.0, 1.0, "boot"), 19.5, reading=0.5, resolution=4)
    assert ok.verdict == PASS and ok.tolerance.startswith("±3") and ok.method == "boot"
    vague = cs.agree("b", "s", Estimate(19.0, 3.0, 3.0, "boot"), 19.5, reading=0.5,
                     resolution=4)
    assert vague.verdict == INCONCLUSIVE and "resolution" in vague.reason
    exact = cs.agree("c", "s", 19.0, 19.5, reading=0.5, resolution=4)  # a plain number: exact
    assert exact.verdict == PASS and exact.uncertainty is None
    assert cs.agree("d", "s", None, 19.5, reading=0.5, resolution=4).verdict == FAIL


def test_bound_bound_all_ordered_and_measure():
    cs = ClaimSet("SI", "F", "s")
    assert cs.bound("a", "s", Estimate(0.5, 0.1, 0, "b"), 0.0, 1.0).verdict == PASS
    assert cs.bound("b", "s", Estimate(0.05, 0.1, 0, "b"), lo=0.0).verdict == INCONCLUSIVE
    assert cs.bound("c", "s", Estimate(2.0, 0.1, 0, "b"), hi=1.0).verdict == FAIL
    got = cs.bound_all("d", "s", [Estimate(0.95, 0.01, 0, "b"), Estimate(0.99, 0.001, 0, "b")],
                       lo=0.9)
    assert got.verdict == PASS and got.uncertainty == [0.01, 0.001]
    assert cs.bound_all("e", "s", [0.95, 0.5], lo=0.9).verdict == FAIL
    assert cs.bound_all("f", "s", [], lo=0.9).verdict == FAIL
    assert cs.ordered("g", "s", [Estimate(0.6, 0.01), Estimate(0.59, 0.01)], "rising").verdict \
        == PASS
    falling = cs.ordered("h", "s", [0.6, 0.7], "falling", rising=False)
    assert falling.verdict == FAIL and "rises beyond" in falling.reason
    m = cs.measure("i", "s", Estimate(1.5, 0.1, 0.1, "boot"))
    assert (m.verdict, m.kind, m.uncertainty) == (MEASURED, EXTRA, 0.1)


def test_not_applicable_requires_a_reason():
    with pytest.raises(ValueError, match="reason"):
        Claim("x", "SI", "F", "s", None, 1, "-", NA, "src", "")
    with pytest.raises(ValueError, match="verdict"):
        Claim("x", "SI", "F", "s", 1, 1, "-", "maybe", "src")
    with pytest.raises(ValueError, match="kind"):
        Claim("x", "SI", "F", "s", 1, 1, "-", PASS, "src", kind="other")


def test_write_read_gather_roundtrip(tmp_path):
    a = ClaimSet("SI", "Figure 1", "notes")
    a.close("H1", "value | with pipe", 1.0, 1.0, atol=0.1)
    a.close("H2", "bad", 5.0, 1.0, atol=0.1)
    a.close("M1", "metric on a fixed example", 1.0, 1.0, kind=SELF_CHECK)
    b = ClaimSet("LE-SDE", "Figure 4", "notes")
    b.not_applicable("F4", "needs CIFAR", 1, "CIFAR not configured")
    a.write(tmp_path / "a.json")
    b.write(tmp_path / "b.json")
    assert len(json.loads((tmp_path / "a.json").read_text())) == 3
    assert [c.kind for c in read_claims([tmp_path / "a.json"])] == ["paper", "paper", SELF_CHECK]
    gather([tmp_path / "a.json", tmp_path / "b.json"], tmp_path / "claims.md",
           tmp_path / "claims.json")
    assert [c.id for c in read_claims([tmp_path / "claims.json"])] == ["H1", "H2", "M1", "F4"]
    md = (tmp_path / "claims.md").read_text()
    assert "4 claims: 2 pass, 1 fail, 0 inconclusive, 1 not applicable" in md
    paper, self_checks = md.split("## Self-checks")
    assert "### LE-SDE — Figure 4" in paper and "### SI — Figure 1" in paper
    assert "| H2 |" in paper and "| M1 |" not in paper
    assert "| M1 |" in self_checks and "1 claims: 1 pass" in self_checks
    assert "**FAIL**" in md and "CIFAR not configured" in md
    assert "value \\| with pipe" in md


def test_missing_or_broken_claim_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nope.json"):
        read_claims([tmp_path / "nope.json"])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        read_claims([tmp_path / "bad.json"])


def test_markdown_of_no_claims_says_so():
    assert "0 claims" in claims_markdown([])


def test_verdict_summary_counts_kinds_and_lists_failures():
    from traindyn.claims import Claim, verdict_summary

    claims = [Claim("A1", "SI", "Table 1", "holds", 1.0, 1.0, "exact", "pass", "src"),
              Claim("A2", "SI", "Table 1", "big", 0.5, ">= 1", ">= 1", "fail", "src",
                    reason="below the bound", uncertainty=0.1, method="bootstrap"),
              Claim("A3", "SI", "Table 1", "vague", 0.5, "1", "±2", "inconclusive", "src",
                    reason="too noisy"),
              Claim("S1", "SI", "Table 1", "self", True, True, "exact", "pass", "src",
                    kind="self-check")]
    text = verdict_summary(claims)
    assert "Paper claims: 3 claims: 1 pass, 1 fail, 1 inconclusive, 0 not applicable" in text
    assert "Self-checks: 1 claims: 1 pass" in text
    assert "FAIL A2 (SI Table 1): big -- measured 0.5 ± 0.1, expected >= 1 (>= 1): below the " \
           "bound" in text
    assert "inconclusive (uncertainty too large to tell): A3" in text
    assert "FAIL A1" not in text and "FAIL S1" not in text
