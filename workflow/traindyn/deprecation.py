"""Public names that moved keep working from their old place for at least one release, with a
DeprecationWarning naming the new place (the public names: docs/library.md)."""

from __future__ import annotations

import warnings


def warn_moved(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is now ``new``; ``stacklevel`` 3 points at the caller of the function
    that calls this (a module ``__getattr__``: the line that imported the old name)."""
    warnings.warn(f"{old} moved to {new}; the old name will be removed in a later release",
                  DeprecationWarning, stacklevel=stacklevel)
