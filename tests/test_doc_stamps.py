"""The quick run's numbers in README.md and docs/targets.md belong to the config that is here now:
they carry the hash of the config.yaml they were measured with (`make budget-table`), and this
fails once config.yaml changes until they are measured again."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from traindyn.compare import config_hash, file_mismatch

STAMP = re.compile(r"config\.yaml sha256 ([0-9a-f]{12})")


@pytest.mark.parametrize("page", ["README.md", "docs/targets.md", "docs/compute_budget.md"])
def test_the_quick_run_figures_belong_to_this_config(page):
    text = (ROOT / page).read_text()
    found = STAMP.findall(text)
    assert found, f"{page} quotes no measured quick run: run `make` then `make budget-table`"
    now = config_hash(ROOT / "config.yaml")
    assert set(found) == {now}, (
        f"{page}'s quick-run figures were measured with config.yaml sha256 {found}, but "
        f"config.yaml now hashes to {now}: run `make` then `make budget-table` to measure them "
        "again")


def test_the_config_hash_and_the_run_check(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\ny: {z: [1, 2], w: 0.5}  # a comment\n")
    b.write_text("y:\n  w: 5.0e-1\n  z: [1, 2]\nx: 1\n")
    assert config_hash(a) == config_hash(b)  # values, not layout
    b.write_text("x: 1\ny: {z: [1, 3], w: 0.5}\n")
    assert config_hash(a) != config_hash(b)
    assert file_mismatch({"x": 1, "y": {"z": [1, 2], "w": 0.5, "default": 3}}, a) == ""
    assert "y.z" in file_mismatch({"x": 1, "y": {"z": [1, 3], "w": 0.5}}, a)
    assert "x is not in" in file_mismatch({"y": {"z": [1, 2], "w": 0.5}}, a)
