"""The family registry is the one place the pipeline learns of a family: its target keys are the
schema's, its rules files and target rules exist, and no two families claim a config key."""

from __future__ import annotations

import re

import yaml

from conftest import ROOT, SCHEMA
from traindyn.families import FAMILIES

RULES = ROOT / "workflow" / "rules"
SHARED = {"common.smk", "data.smk", "claims.smk", "manifest.smk"}  # included by the Snakefile


def test_target_keys_are_the_schemas():
    schema = yaml.safe_load(SCHEMA.read_text())
    keys = [k for family in FAMILIES for k in family.targets]
    assert sorted(keys) == sorted(schema["properties"]["targets"]["properties"])


def test_every_rules_file_is_shared_or_a_familys_and_target_rules_exist():
    files = [f for family in FAMILIES for f in family.rules]
    assert len(files) == len(set(files))
    assert {p.name for p in RULES.glob("*.smk")} == SHARED | set(files)
    defined = {m for p in RULES.glob("*.smk")
               for m in re.findall(r"^rule (\w+):", p.read_text(), re.M)}
    named = {r for family in FAMILIES for rules in family.targets.values() for r in rules}
    assert named <= defined, named - defined


def test_no_key_or_table_is_claimed_twice():
    sizes = [k for family in FAMILIES for k in family.not_sizes]
    scales = [k for family in FAMILIES for k in family.scales]
    names = [family.name for family in FAMILIES]
    for claimed in (sizes, scales, names):
        assert len(claimed) == len(set(claimed))
    assert all(k.split(".")[0] == f.name for f in FAMILIES for k in f.not_sizes)
