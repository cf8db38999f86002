"""Which tier a config runs at, per figure family, decided in one place from one table.

* ``paper``: the paper's own settings; the claims' expected values apply as the paper states them.
* ``quick``: smaller than the paper (fewer trials, epochs, saves; GeoMNIST for CIFAR-10) but big
  enough for the qualitative claims; values read off the paper's figures are reported, and a
  failure notes that the scale may explain it.
* ``tiny``: too small to test the paper (the test suite's config); claims that need data say
  "not applicable" with the reason.

Every rule and figure builder asks this module; nothing else compares a config with the paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PAPER, QUICK, TINY = "paper", "quick", "tiny"

# family -> (the paper's settings, the least a run needs to test the qualitative claims).
# Settings are dotted key paths into the family's config section.
TABLE: dict[str, dict[str, dict[str, Any]]] = {
    "lesde": {  # config["lesde"]["geomnist_noise"]
        "paper": {"trials": 100, "iterations": 10000, "lr": 0.005},
        "least": {"trials": 10, "iterations": 1000},
    },
    "table1": {  # config["instab"]
        "paper": {"dataset": "cifar10", "network.depth": 56, "table1.seeds": 6,
                  "table1.ks": [1, 3, 5, 7, 9, 11], "table1.lr": 0.1, "table1.batch": 128,
                  "table1.epochs": 200, "table1.milestones": [40, 80, 120, 160],
                  "table1.stat_epochs": 10},
        "least": {"table1.seeds": 3, "table1.epochs": 3},
    },
    "fig2": {  # config["instab"]
        "paper": {"network.depth": 56, "fig2.saves": 100,
                  "fig2.ns": [2, 4, 8, 16, 32, 320, 3200, 32000], "fig2.layer": "layer2.5.conv1"},
        "least": {"fig2.saves": 10},
    },
    "pde": {  # the single-layer problem: config["pde"] image, kernel, swish_beta, dtype
        "paper": {"image.kind": "checkerboard", "image.size": 256, "kernel.size": 32,
                  "kernel.seed": 7, "swish_beta": 1.0, "dtype": "float64"},
        "least": {},
    },
}

# Why a claim is not applicable below the paper tier, per family (shown in claims.md).
NOT_PAPER = {
    "pde": "the config differs from the paper's setup (checkerboard 256, kernel 32 seed 7, "
           "beta 1, float64)",
}
TOO_SMALL = {
    "lesde": "run too small to test the paper (needs >= 10 trials and >= 1000 iterations)",
    "table1": "run too small to test the paper (needs >= 3 seeds and >= 3 epochs)",
    "fig2": "run too small to test the paper (needs >= 10 saves)",
}


_MISSING = object()


def _get(section: Mapping[str, Any], path: str) -> Any:
    value: Any = section
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return len(value) if path.endswith("seeds") else value


def _meets(value: Any, want: Any, at_least: bool) -> bool:
    if value is _MISSING:
        return False
    return value >= want if at_least else value == want


def is_paper(family: str, section: Mapping[str, Any]) -> bool:
    """The section holds the paper's settings for this family (a paper run may have more
    trials than the paper's 100; everything else must be equal)."""
    return all(_meets(_get(section, k), v, k == "trials")
               for k, v in TABLE[family]["paper"].items())


def tier(family: str, section: Mapping[str, Any]) -> str:
    """``paper``, ``quick`` or ``tiny`` for the family's config section (see the module doc)."""
    if is_paper(family, section):
        return PAPER
    least = TABLE[family]["least"]
    return QUICK if all(_meets(_get(section, k), v, True) for k, v in least.items()) else TINY
