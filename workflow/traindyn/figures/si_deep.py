"""Deprecated: SI Table 1 and Figure 2 moved to :mod:`traindyn.instab.figures.deep` (each
family's figures live in its package). Every name of that module is served from here, with a
DeprecationWarning on import, for at least one release."""

from __future__ import annotations

from ..deprecation import warn_moved
from ..instab.figures import deep as _deep

MOVED_TO = "traindyn.instab.figures.deep"  # read by the layering check: an alias, not a layer

warn_moved(__name__, MOVED_TO)  # stacklevel 3: the importing line


def __getattr__(name: str):
    return getattr(_deep, name)
