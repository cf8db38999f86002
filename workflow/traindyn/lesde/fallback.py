"""Which LE-SDE training jobs ran the torch path on a CPU, so a run can say so at its end.

Without the native kernels (no compiler, or a build that failed or was killed: ``failed.json``,
:mod:`.kernels`) every LE-SDE job on a CPU trains on the torch path. Its numbers agree with the
native path to about 1e-12, not bitwise, so a run that meant the native path must not pass the
fallback off silently: each log records its path (``kernels``, ``device`` in its metadata); the
run's closing summary and the header of ``figures/claims.md`` name the logs that fell back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow.parquet as pq


def training_logs(config: Mapping[str, Any]) -> list[str]:
    """The steps logs of the config's LE-SDE training jobs (none when no job of them runs)."""
    from .family import _runs_on
    from .plan import runs

    if not _runs_on(config):
        return []
    return [f"{run.stem}.steps.parquet" for run in runs(config["lesde"], config["data"])]


def torch_fallbacks(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Those of ``paths`` (existing ones) whose job trained on a CPU with the torch path."""
    out = []
    for path in paths:
        if not os.path.isfile(path):
            continue
        try:
            meta = json.loads(pq.read_schema(path).metadata[b"traindyn"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable logs are named by their readers and by `make verify`
        if meta.get("kernels") == "torch" and str(meta.get("device", "")).startswith("cpu"):
            out.append(str(path))
    return out


def fallback_notice(fallbacks: list[str]) -> str | None:
    """One paragraph naming the fallback, or None when no job ran it."""
    if not fallbacks:
        return None
    return (f"NOTE: {len(fallbacks)} LE-SDE training job(s) ran the torch path on a CPU because "
            "the native kernels were unavailable (no C++ compiler, or their build failed: the "
            f"reason is in each job's log under results/logs/lesde/), e.g. {fallbacks[0]}. Their "
            "numbers agree with the native path to about 1e-12, not bitwise. `make kernels` "
            "retries the build; then rerun those jobs with --forcerun lesde_train.")
