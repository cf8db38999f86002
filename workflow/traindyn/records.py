"""What each job wrote: one record per output, so a file changed afterwards is caught.

Snakemake decides what is current from paths, modification times and its own record of each
job's parameters and code; it never looks at a file's bytes. A log truncated with its timestamp
put back, or a file copied over another, is therefore "Nothing to be done". So the step runner
records, when a job has succeeded, every output's content hash (and its inputs' hashes) in
``results/.records/<output path>.json``; ``make verify`` (:mod:`traindyn.verify`) compares every
output of the current config with its record without rerunning anything.

Records are also read when a file is used: the step runner checks every input of a job against
its own record before the job starts (:func:`damaged_inputs`), so a damaged result fails the job
that would read it, naming the file. And a record holds the hashes of the code the job ran, so
``make verify`` sees an edit even when a skewed clock dates the outputs after it.
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


def hashes(paths: Iterable[str]) -> dict[str, str]:
    return {str(p): digest(p) for p in paths if os.path.isfile(p)}


def record_job(rule: str, outputs: Iterable[str], inputs: Iterable[str] | Mapping[str, str],
               code: Iterable[str] = ()) -> None:
    """Called by the step runner after the job succeeded (paths relative to the run directory);
    ``inputs`` as paths, or their hashes as the job read them; ``code`` the job's source files."""
    ins = dict(inputs) if isinstance(inputs, Mapping) else hashes(inputs)
    sources = hashes(code)
    for out in outputs:
        write_json(record_path(out), {"output": str(out), "rule": rule, "sha256": digest(out),
                                      "bytes": os.path.getsize(out), "inputs": ins,
                                      "code": sources})


def damaged_inputs(inputs: Mapping[str, str]) -> list[str]:
    """The inputs (path -> hash now) whose bytes differ from what their own job recorded: a
    message for each. Inputs without a record (external data, made before records) pass."""
    problems = []
    for path, sha in inputs.items():
        record = read_record(path)
        if record is not None and record.get("sha256") != sha:
            problems.append(f"{path}: its bytes changed after its job ({record.get('rule')}) wrote "
                            f"it ({record.get('bytes')} bytes then, {os.path.getsize(path)} now): "
                            "damaged, truncated or copied over; delete it to rebuild it")
    return problems


def read_record(output: str | os.PathLike) -> Mapping[str, Any] | None:
    try:
        return json.loads(record_path(output).read_text())
    except (OSError, ValueError):
        return None
