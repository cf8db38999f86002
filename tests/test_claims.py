import json
import math

import pytest

from traindyn.claims import FAIL, NA, PASS, Claim, ClaimSet, claims_markdown, gather, read_claims


def test_verdicts():
    cs = ClaimSet("SI", "Figure 9", "test")
    assert cs.close("a", "close", 1.00005, 1.0, atol=1e-4).verdict == PASS
    assert cs.close("b", "far", 1.1, 1.0, rtol=0.05).verdict == FAIL
    assert cs.close("c", "nan", math.nan, 1.0, atol=1).verdict == FAIL
    assert cs.close("d", "inf", math.inf, 1.0, atol=1).verdict == FAIL
    assert cs.close("e", "missing", None, 1.0, atol=1).verdict == NA
    assert cs.within("f", "in", 0.5, 0, 1).verdict == PASS
    assert cs.within("g", "out", 1.5, 0, 1).verdict == FAIL
    assert cs.holds("h", "qual", False, "x", "y").reason
    assert cs.not_applicable("i", "needs more", 3, "scale too small").verdict == NA
    assert [c.id for c in cs.claims] == list("abcdefghi")


def test_not_applicable_requires_a_reason():
    with pytest.raises(ValueError, match="reason"):
        Claim("x", "SI", "F", "s", None, 1, "-", NA, "src", "")
    with pytest.raises(ValueError, match="verdict"):
        Claim("x", "SI", "F", "s", 1, 1, "-", "maybe", "src")


def test_write_read_gather_roundtrip(tmp_path):
    a = ClaimSet("SI", "Figure 1", "notes")
    a.close("H1", "value | with pipe", 1.0, 1.0, atol=0.1)
    a.close("H2", "bad", 5.0, 1.0, atol=0.1)
    b = ClaimSet("LE-SDE", "Figure 4", "notes")
    b.not_applicable("F4", "needs CIFAR", 1, "CIFAR not configured")
    a.write(tmp_path / "a.json")
    b.write(tmp_path / "b.json")
    assert len(json.loads((tmp_path / "a.json").read_text())) == 2
    gather([tmp_path / "a.json", tmp_path / "b.json"], tmp_path / "claims.md")
    md = (tmp_path / "claims.md").read_text()
    assert "3 claims: 1 pass, 1 fail, 1 not applicable" in md
    assert "## LE-SDE — Figure 4" in md and "## SI — Figure 1" in md
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
