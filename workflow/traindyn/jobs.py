"""The frame every resumable job runs in, written once: the LE-SDE training chunks, the SI
Table 1 and Figure 2 runs, and the studies' copies and trials jobs.

    dev = resolve_device(device, gpus, job=out)
    with resumable_job(out + ".work", dev, run_fingerprint(...)) as job:
        state = job.load_state()          # this run's saved state, or None
        ...                               # the loop: job.save_state(...) at its checkpoints;
        ...                               # at a time limit: raise job.stop("epoch 3 of 10")
        ...                               # check the result complete, then
        meta = job.provenance(params, dtype, ...)
        job.check(); write the outputs atomically (traindyn.atomic)

:func:`resumable_job` sets the numerics (TF32 off, deterministic kernels when asked), reads the
scheduler's time limit (:mod:`traindyn.deadline`), owns the work directory for the run's
fingerprint (:mod:`traindyn.workdir`: locked, state of another run discarded) and removes it
once the body has published its outputs; after an error it stays, so a rerun resumes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_path
from .deadline import Deadline, TimeLimitReached, job_deadline
from .provenance import provenance
from .runtime import numerics
from .workdir import WorkDir, owned_workdir

STATE = "checkpoint.pt"


class Job:
    """A running job's device, run fingerprint, owned work directory and deadline."""

    def __init__(self, work: WorkDir, device: torch.device, fingerprint: Mapping[str, Any],
                 deadline: Deadline) -> None:
        self.work, self.device, self.deadline = work, device, deadline
        self.fingerprint = dict(fingerprint)

    @property
    def path(self) -> Path:
        return self.work.path

    def check(self) -> None:
        """Fail unless the work directory is still this job's: call before every write."""
        self.work.check()

    def load_state(self) -> dict | None:
        """The saved state (the fingerprint already matched: it is this run's), or None."""
        path = self.path / STATE
        if not path.exists():
            return None
        return torch.load(path, map_location=self.device, weights_only=True)

    def save_state(self, state: dict) -> None:
        self.check()
        with atomic_path(self.path / STATE) as tmp:
            torch.save(state, tmp)

    def reached(self, next_step: float = 0.0) -> bool:
        """The time limit is near (see :meth:`traindyn.deadline.Deadline.reached`)."""
        return self.deadline.reached(next_step)

    def stop(self, where: str) -> TimeLimitReached:
        """The error to raise once the state is saved (``where``: how far the job got)."""
        return self.deadline.stop(where, self.path)

    def provenance(self, params: Any, dtype: str, **extra: Any) -> dict[str, Any]:
        """The outputs' provenance: ``params``' hash, the code and platform, torch's version,
        the floating-point format and the device, then ``extra``."""
        return provenance(params, torch=torch.__version__, dtype=dtype, device=str(self.device),
                          **extra)


@contextmanager
def resumable_job(work_dir: str | os.PathLike, device: torch.device,
                  fingerprint: Mapping[str, Any],
                  deterministic: bool | None = True) -> Iterator[Job]:
    """Run the block as the job ``fingerprint`` names, in ``work_dir`` (see the module doc).
    ``deterministic=None`` leaves torch's numerics to the block (a library call that sets its
    own)."""
    deadline = job_deadline()
    with (nullcontext() if deterministic is None else numerics(deterministic)), \
            owned_workdir(work_dir, fingerprint) as work:
        yield Job(work, device, fingerprint, deadline)
        work.remove()
