"""`make bench` writes one record per figure, each with its fraction of the measured limit."""

import json
import subprocess
import sys

from conftest import ROOT
from traindyn.run_record import marker


def test_bench_quick_writes_records_and_the_docs_block(tmp_path):
    readme = tmp_path / "benchmarks.md"
    readme.write_text(f"a\n{marker('bench')}\nold\n{marker('bench', end=True)}\nb\n")
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/benchmarks/bench_all.py"),
                           "--quick", "--out", str(tmp_path / "bench"), "--doc", str(readme)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    records = json.loads((tmp_path / "bench" / "summary.json").read_text())
    names = [r["name"] for r in records]
    assert names[:4] == ["matmul float64 (1024^3)", "matmul float32 (1024^3)",
                         "LE-SDE validation, float64", "LE-SDE training step, float64"]
    assert sum(n.startswith("ResNet copies vs sequential") for n in names) == 2
    assert sum(n.startswith("study trials vmap vs loop") for n in names) == 2
    for r in records:
        assert set(r) == {"name", "value", "unit", "limit", "fraction", "target"}
        assert r["value"] > 0 and abs(r["fraction"] - r["value"] / r["limit"]) < 1e-12
    text = readme.read_text()
    assert "old" not in text and "| LE-SDE validation, float64 |" in text
    assert text.startswith("a\n") and text.endswith("\nb\n")
