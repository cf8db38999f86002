"""Which tier a config runs at, per tier table of a figure family, decided in one place.

* ``paper``: the paper's own settings; the claims' expected values apply as the paper states them.
* ``quick``: smaller than the paper (fewer trials, epochs, saves; GeoMNIST for CIFAR-10) but big
  enough for the qualitative claims; values read off the paper's figures are reported, and a
  failure notes that the scale may explain it.
* ``tiny``: too small to test the paper (the test suite's config); claims that need data say
  "not applicable" with the reason.

Each family's spec holds its tables (:class:`traindyn.family.Scale`: the paper's settings, the
least a run needs, the reasons); a family's own figures read them from its spec, and this module
answers by table name for every family of the registry (:mod:`traindyn.families`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .families import FAMILIES
from .family import PAPER, QUICK, TINY, Scale

__all__ = ["PAPER", "QUICK", "TINY", "SCALES", "NOT_PAPER", "TOO_SMALL", "is_paper", "tier"]

SCALES: dict[str, Scale] = {name: scale for family in FAMILIES
                            for name, scale in family.scales.items()}
# Why a claim is not applicable below the paper tier, and in the tiny tier (shown in claims.md).
NOT_PAPER = {name: s.not_paper for name, s in SCALES.items() if s.not_paper}
TOO_SMALL = {name: s.too_small for name, s in SCALES.items() if s.too_small}


def is_paper(name: str, section: Mapping[str, Any]) -> bool:
    """The section holds the paper's settings for table ``name`` (:meth:`Scale.is_paper`)."""
    return SCALES[name].is_paper(section)


def tier(name: str, section: Mapping[str, Any]) -> str:
    """``paper``, ``quick`` or ``tiny`` for the section of table ``name`` (see the module doc)."""
    return SCALES[name].tier(section)


def __getattr__(name: str):
    if name == "TABLE":  # renamed SCALES (release 0.1)
        from .deprecation import warn_moved

        warn_moved(f"{__name__}.TABLE", f"{__name__}.SCALES")
        return SCALES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
