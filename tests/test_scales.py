"""One table decides each figure family's tier; the shipped configs land where they should."""

import copy

import pytest
import yaml
from snakemake.utils import validate

from conftest import ROOT, SCHEMA
from traindyn import scales


def filled(*files) -> dict:
    config = {}
    for f in files:
        over = yaml.safe_load((ROOT / f).read_text())
        _merge(config, over)
    validate(config, str(SCHEMA), set_default=True)
    return config


def _merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)


@pytest.mark.parametrize("files,expected", [
    (["config.yaml"], dict(lesde="quick", table1="quick", fig2="quick", pde="paper")),
    (["config.yaml", "workflow/configs/paper.yaml"],
     dict(lesde="paper", table1="paper", fig2="paper", pde="paper")),
    (["config.yaml", "workflow/configs/reference.yaml"],
     dict(lesde="paper", table1="quick", fig2="quick", pde="paper")),
    (["config.yaml", "tests/config.yaml"], dict(lesde="tiny", table1="tiny", fig2="tiny",
                                                pde="paper")),
])
def test_shipped_configs_have_their_tiers(files, expected):
    c = filled(*files)
    pde = {k: c["pde"][k] for k in ("image", "kernel", "swish_beta", "dtype")}
    got = dict(lesde=scales.tier("lesde", c["lesde"]["geomnist_noise"]),
               table1=scales.tier("table1", c["instab"]), fig2=scales.tier("fig2", c["instab"]),
               pde=scales.tier("pde", pde))
    assert got == expected


def test_one_setting_away_from_the_paper_is_not_the_paper():
    c = filled("config.yaml", "workflow/configs/paper.yaml")
    assert scales.is_paper("table1", c["instab"])
    c["instab"]["table1"]["lr"] = 0.05
    assert not scales.is_paper("table1", c["instab"])
    assert scales.tier("table1", c["instab"]) == "quick"
    c["instab"]["table1"]["seeds"] = [1, 2]
    assert scales.tier("table1", c["instab"]) == "tiny"
    noise = dict(c["lesde"]["geomnist_noise"], trials=200)  # more trials than the paper: still it
    assert scales.tier("lesde", noise) == "paper"
    assert not scales.is_paper("pde", {"image": {"kind": "random"}})  # missing keys: not paper
