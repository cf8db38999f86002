"""Names of the LE-SDE label-noise settings. The corruption itself (as the authors' code corrupts
labels) lives with the other data noise in :mod:`traindyn.data.noise`."""

from __future__ import annotations

__all__ = ["noise_name"]


def noise_name(p: float) -> str:
    """Readable, stable name of a noise level: 2/3 -> '0.67', 0.1 -> '0.1', 0 -> '0.0'."""
    name = f"{round(p, 2):g}"
    return name if "." in name else name + ".0"


def __getattr__(name: str):
    if name == "corrupt_labels":  # moved to traindyn.data.noise (release 0.1)
        from ..data.noise import corrupt_labels
        from ..deprecation import warn_moved

        warn_moved(f"{__name__}.corrupt_labels", "traindyn.data.noise.corrupt_labels")
        return corrupt_labels
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
