"""The time limit of the job this process runs in, so a long training job saves its state and stops
before the scheduler kills it (a resubmission resumes from there: ``cluster.max_runtime_minutes``).

Under SLURM (``SLURM_JOB_ID`` set) the end is read once, at the start: ``SLURM_JOB_END_TIME``
where SLURM exports it (23.02 and later), else ``squeue`` (time left and time limit). Elsewhere,
or when neither answers, there is no limit and the jobs only checkpoint at their usual points.
The job stops ``margin`` seconds early: enough to write its last part and checkpoint; the
environment variable ``TRAINDYN_STOP_MARGIN_S`` sets it where the default (see
:func:`stop_margin`) is too short, e.g. large checkpoints on a slow shared file system.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable


class TimeLimitReached(RuntimeError):
    """The job saved its state and stopped before its time limit; the next attempt resumes."""


def slurm_seconds(text: str) -> float | None:
    """squeue's ``[days-][hours:]minutes:seconds`` as seconds; None for UNLIMITED, NOT_SET, ..."""
    text = text.strip()
    days, _, rest = text.rpartition("-") if "-" in text else ("0", "", text)
    try:
        parts = [int(p) for p in rest.split(":")]
        seconds = sum(v * 60**i for i, v in enumerate(reversed(parts)))
        return float(int(days or 0) * 86400 + seconds) if len(parts) <= 3 else None
    except ValueError:
        return None


MARGIN_ENV = "TRAINDYN_STOP_MARGIN_S"


def stop_margin(limit: float | None) -> float:
    """Seconds to spare: ``$TRAINDYN_STOP_MARGIN_S`` where set, else 5% of the job's time limit,
    at least 15 s, at most 5 min."""
    given = os.environ.get(MARGIN_ENV)
    if given:
        try:
            margin = float(given)
        except ValueError:
            margin = -1.0
        if not 0 < margin < (limit or float("inf")):
            raise ValueError(f"{MARGIN_ENV}={given!r}: a number of seconds above 0 and below "
                             f"the job's time limit ({limit} s)")
        return margin
    return 15.0 if limit is None else max(15.0, min(0.05 * limit, 300.0))


@dataclass
class Deadline:
    end: float | None  # time.time() at which the scheduler stops the job; None: no limit
    margin: float = 15.0
    source: str = "no time limit"
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def left(self) -> float:
        return float("inf") if self.end is None else self.end - self.clock()

    def reached(self, next_step: float = 0.0) -> bool:
        """True when the work of ``next_step`` seconds would not end ``margin`` before the limit."""
        return self.end is not None and self.clock() + next_step + self.margin >= self.end

    def stop(self, where: str, work) -> TimeLimitReached:
        """The error to raise once the state is saved (``where``: how far the job got)."""
        return TimeLimitReached(
            f"stopped {self.left():.0f} s before the time limit ({self.source}) at {where}: the "
            f"state is saved in {work}, and the next attempt of this job resumes from it")


def _squeue(job: str) -> tuple[float | None, float | None]:
    try:
        out = subprocess.run(["squeue", "-h", "-j", job, "-o", "%L|%l"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    left, _, limit = out.partition("|")
    return slurm_seconds(left) if out else None, slurm_seconds(limit) if limit else None


def job_deadline(log: Callable[[str], None] | None = None) -> Deadline:
    """The deadline of this job (see the module docstring); its log says what was found."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    job = os.environ.get("SLURM_JOB_ID")
    if not job:
        return Deadline(None)
    now = time.time()
    end, limit = os.environ.get("SLURM_JOB_END_TIME"), None
    if end:
        end = float(end)
        start = os.environ.get("SLURM_JOB_START_TIME")
        limit = end - float(start) if start else None
    else:
        left, limit = _squeue(job)
        end = None if left is None else now + left
    cpus = os.environ.get("SLURM_CPUS_PER_TASK", "?")
    if end is None:
        log(f"SLURM job {job} ({cpus} CPUs per task): time limit unknown or unlimited; the job "
            "checkpoints at its usual points only")
        return Deadline(None, source=f"SLURM job {job}")
    deadline = Deadline(end, stop_margin(limit), f"SLURM job {job}")
    log(f"SLURM job {job} ({cpus} CPUs per task): {deadline.left() / 60:.1f} min left"
        + (f" of {limit / 60:.1f}" if limit else "")
        + f"; the job saves its state and stops {deadline.margin:.0f} s before the limit")
    return deadline
