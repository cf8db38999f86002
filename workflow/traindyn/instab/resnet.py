"""Deprecated: moved to :mod:`traindyn.models.resnet` (shared by both families).
Every name of that module is served from here, with a DeprecationWarning on import, for at
least one release."""

from __future__ import annotations

from ..deprecation import warn_moved
from ..models import resnet as _moved

MOVED_TO = "traindyn.models.resnet"  # read by the layering check: an alias, not a layer

warn_moved(__name__, MOVED_TO)  # stacklevel 3: the importing line


def __getattr__(name: str):
    return getattr(_moved, name)
