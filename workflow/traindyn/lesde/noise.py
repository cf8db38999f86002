"""Names of the LE-SDE label-noise settings. The corruption itself (as the authors' code corrupts
labels) lives with the other data noise in :mod:`traindyn.data.noise`."""

from __future__ import annotations


def noise_name(p: float) -> str:
    """Readable, stable name of a noise level: 2/3 -> '0.67', 0.1 -> '0.1', 0 -> '0.0'."""
    name = f"{round(p, 2):g}"
    return name if "." in name else name + ".0"
