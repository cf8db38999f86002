"""What each job wrote: one record per output, so a file changed afterwards is caught.

Snakemake decides what is current from paths, modification times and its own record of each
job's parameters and code; it never looks at a file's bytes. A log truncated with its timestamp
put back, or a file copied over another, is therefore "Nothing to be done". So the step runner
records, when a job has succeeded, every output's content hash (and its inputs' hashes) in
``results/.records/<output path>.json``; ``make verify`` (:mod:`traindyn.verify`) compares every
output of the current config with its record without rerunning anything.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_json

RECORDS = Path("results/.records")


def digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_path(output: str | os.PathLike) -> Path:
    return RECORDS / f"{os.path.normpath(output)}.json"


def record_job(rule: str, outputs: Iterable[str], inputs: Iterable[str]) -> None:
    """Called by the step runner after the job succeeded (paths relative to the run directory)."""
    ins = {str(p): digest(p) for p in inputs if os.path.isfile(p)}
    for out in outputs:
        write_json(record_path(out), {"output": str(out), "rule": rule, "sha256": digest(out),
                                      "bytes": os.path.getsize(out), "inputs": ins})


def read_record(output: str | os.PathLike) -> Mapping[str, Any] | None:
    try:
        return json.loads(record_path(output).read_text())
    except (OSError, ValueError):
        return None
