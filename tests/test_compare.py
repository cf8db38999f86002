"""`make compare A=dir B=dir`: the claims whose verdict or measured value changed (both values),
claims only one run has, and the config keys that differ; unknown record fields are ignored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from traindyn.compare import config_changes, flatten, report


def _run(root: Path, claims: list[dict], config: dict) -> Path:
    (root / "figures").mkdir(parents=True)
    (root / "figures/claims.json").write_text(json.dumps(claims))
    (root / "figures/run_config.json").write_text(json.dumps(config))
    return root


def _claim(cid: str, verdict: str, measured, **extra) -> dict:
    return dict(id=cid, paper="SI", figure="Figure 2", statement="s", verdict=verdict,
                measured=measured, expected=">= 1", **extra)


def test_changed_claims_and_config_keys_are_listed_with_both_values(tmp_path):
    a = _run(tmp_path / "a", [_claim("H1", "pass", 1.5), _claim("F2b-2", "fail", 1.85),
                              _claim("L1", "pass", [1, 2]), _claim("gone", "pass", 0)],
             {"heat": {"sweep": {"n": 41, "dt_min": 0.4}}, "seed": 0})
    b = _run(tmp_path / "b", [_claim("H1", "pass", 1.5, uncertainty=0.1, kind="new"),
                              _claim("F2b-2", "inconclusive", 1000.5),
                              _claim("L1", "pass", [1, 3]), _claim("new", "fail", None)],
             {"heat": {"sweep": {"n": 7, "dt_min": 0.4}}, "seed": 0, "extra": {"k": True}})
    text = report(a, b)
    assert "Config keys that differ: 2" in text
    assert "  heat.sweep.n: 41 -> 7" in text and "  extra.k: null -> true" in text
    assert "seed" not in text and "dt_min" not in text
    assert "Claims whose verdict or measured value changed: 4 (of 4 in A)" in text
    assert "F2b-2 (SI Figure 2): verdict fail -> inconclusive; measured 1.85 -> 1000.5" in text
    assert "L1 (SI Figure 2): verdict pass; measured [1, 2] -> [1, 3]" in text
    assert "gone: only in A (pass, measured 0)" in text and "new: only in B (fail" in text
    assert "H1" not in text  # new fields alone are no change


BIN = f"BIN={Path(sys.executable).parent}"


def test_flatten_and_the_make_target(tmp_path):
    assert flatten({"a": {"b": 1, "c": {"d": [1]}}, "e": {}}) == {"a.b": 1, "a.c.d": [1], "e": {}}
    assert config_changes({"a": 1}, {"a": 1}) == []
    a = _run(tmp_path / "a", [_claim("H1", "pass", 1)], {"x": 1})
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "compare", "STAMP=", BIN, f"A={a}",
                           f"B={a}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Config keys that differ: 0" in proc.stdout and "changed: 0 (of 1 in A)" in proc.stdout
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "compare", "STAMP=", BIN, f"A={a}",
                           f"B={tmp_path}"], capture_output=True, text=True)
    assert proc.returncode != 0 and "figures/claims.json is missing" in proc.stderr
