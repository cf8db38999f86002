"""Memory and time each job of a config would need, estimated from its size keys before any job.

Each enabled family lists its jobs' needs (``needs`` of its spec in :mod:`traindyn.families`;
:class:`~traindyn.family.Need`: the config keys that set the size, the job, bytes of its largest
arrays, seconds of work), and the GeoMNIST caches they read are estimated from the data uses
(:mod:`traindyn.data.checks`); :func:`size_errors` refuses a need above this machine's memory or
above ``budget.max_job_hours``, with the estimate. The estimates are rough (within a small
factor): they exist to stop a typo (``iterations: 1.0e+12``) at ``snakemake -n`` instead of as a
56 TB allocation, or a job that never ends, hours later. Training jobs use the cost model of
:mod:`traindyn.budget` (its rates are config keys); the numpy and FFT tracks use the rates of
:mod:`traindyn.family`.

Every integer key of the schema is either a size some estimate covers, or listed in
:data:`NOT_SIZES` with the reason it needs none (each family's ``not_sizes``, the data
section's and the shared keys below; ``tests/test_config.py`` checks both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .data import checks as data_checks
from .families import FAMILIES, data_uses
from .family import Need

GIB = 1024**3

NOT_SIZES = {
    "budget.min_minutes": "a floor of the runtime request",
    "cluster.max_runtime_minutes": "a cap on the runtime requests, not a size",
    **data_checks.NOT_SIZES,
    **{key: why for family in FAMILIES for key, why in family.not_sizes.items()},
}


def needs(config: Mapping[str, Any]) -> list[Need]:
    """The needs of the families the config's targets build, and of the data they read."""
    out = [n for family in FAMILIES if family.enabled(config) for n in family.needs(config)]
    return out + data_checks.cache_needs(config, data_uses(config))


# ---------------------------------------------------------------- refusals


def duration(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def size_errors(config: Mapping[str, Any], available: float | None = None) -> list[str]:
    """One line per need above this machine's memory or above ``budget.max_job_hours``."""
    if available is None:
        import psutil

        available = psutil.virtual_memory().total
    limit = config["budget"]["max_job_hours"] * 3600
    worst: dict[tuple, tuple[Need, int]] = {}  # one line per keys and kind: the largest need
    for need in needs(config):
        for kind, over in (("memory", need.bytes > available), ("time", need.seconds > limit)):
            if over:
                size = need.bytes if kind == "memory" else need.seconds
                old, count = worst.get((need.keys, kind), (None, 0))
                bigger = old is None or size > (old.bytes if kind == "memory" else old.seconds)
                worst[(need.keys, kind)] = (need if bigger else old, count + 1)
    errs = []
    for (keys, kind), (need, count) in worst.items():
        more = f" (the largest of {count} such jobs)" if count > 1 else ""
        if kind == "memory":
            errs.append(f"{', '.join(keys)}: {need.what}{more} would need about "
                        f"{need.bytes / GIB:.1f} GiB of memory, more than this machine's "
                        f"{available / GIB:.1f} GiB; reduce them (or run on a larger node)")
        else:
            errs.append(f"{', '.join(keys)}: {need.what}{more} would run for about "
                        f"{duration(need.seconds)}, more than budget.max_job_hours "
                        f"({limit / 3600:g} h); reduce them, or raise budget.max_job_hours if "
                        "the run is meant to be that long")
    return errs
