"""The registry of figure families, one entry each, in the order their rules files are included
and their config problems listed. A new family is a package with its ``family.py`` spec
(:class:`traindyn.family.Family`), its rules file(s) and one entry here."""

from __future__ import annotations

from .family import Config, DataUse
from .instab import family as si_deep
from .lesde import family as lesde
from .pde import family as pde
from .studies import family as studies

FAMILIES = (pde.HEAT, pde.PDE, lesde.FAMILY, si_deep.FAMILY, studies.FAMILY)


def data_uses(config: Config) -> list[DataUse]:
    """The data sets the enabled families' jobs read."""
    return [u for family in FAMILIES if family.enabled(config) for u in family.data(config)]
