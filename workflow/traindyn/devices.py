"""One GPU per job on a workstation with several: a pool of the machine's GPUs, one lock file each.

``snakemake --resources gpu=4`` bounds how many GPU jobs run at once, not which device each opens:
every job's ``cuda`` would be GPU 0. So a job that asked for G GPUs takes G free devices of the
pool (an ``flock`` on ``<pool>/gpu-<id>.lock``, which names the job holding it) and sets
``CUDA_VISIBLE_DEVICES`` to them before CUDA starts: its ``cuda:0`` is its own GPU. The locks are
held until the process ends, so a job that fails, or is killed, frees its GPUs too. When every
device is taken (more GPU jobs than GPUs, e.g. two Snakemake runs) the job waits for one.

Under SLURM (``SLURM_JOB_ID`` set) the scheduler has assigned the job's GPUs: the pool keeps out.
The pool's devices are those visible when the job starts (``CUDA_VISIBLE_DEVICES`` as Snakemake was
started with, else every GPU ``nvidia-smi -L`` lists); its folder is ``$TRAINDYN_GPU_POOL``, else
``<tmp>/traindyn-gpus-<uid>`` (one pool per user and machine).
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

_held: dict[str, int] = {}  # device -> lock fd, for the life of this process


def visible_devices() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries (none without a driver)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(re.findall(r"^GPU \d+:", out, flags=re.M))]


def pool_dir() -> Path:
    default = Path(tempfile.gettempdir()) / f"traindyn-gpus-{os.getuid()}"
    return Path(os.environ.get("TRAINDYN_GPU_POOL") or default)


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


def claim_gpus(n: int, job: str = "", log: Callable[[str], None] | None = None,
               poll: float = 1.0) -> list[str] | None:
    """Take ``n`` GPUs of the pool for this process and make them its only visible ones; the
    devices taken, or None where the pool keeps out (no GPUs asked for, SLURM, no GPUs here)."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if n <= 0:
        return None
    if os.environ.get("SLURM_JOB_ID"):
        log(f"GPUs of this job: assigned by SLURM (CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')})")
        return None
    if len(_held) >= n:  # taken earlier by this process
        return list(_held)[:n]
    devices = visible_devices()
    if not devices:
        return None
    if n > len(devices):
        raise ValueError(f"this job asks for {n} GPUs but {len(devices)} are visible "
                         f"({','.join(devices)})")
    pool = pool_dir()
    pool.mkdir(parents=True, exist_ok=True)
    locks = {d: pool / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', d)}.lock" for d in devices}
    waited = False
    while True:
        taken: dict[str, int] = {}
        for device, path in locks.items():
            fd = _try_lock(path) if len(taken) < n else None
            if fd is not None:
                taken[device] = fd
        if len(taken) == n:
            break
        for fd in taken.values():  # never sit on some GPUs while waiting for the others
            os.close(fd)
        if not waited:
            busy = "; ".join(f"{d}: {_holder(p)}" for d, p in locks.items() if d not in taken)
            log(f"waiting for a free GPU of {pool} ({busy})")
            waited = True
        time.sleep(poll)
    _held.update(taken)
    mine = list(_held)
    for device in mine:
        os.ftruncate(_held[device], 0)
        os.write(_held[device], f"pid {os.getpid()} {job} since "
                                f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(mine)
    log(f"GPUs of this job: {','.join(mine)} of {','.join(devices)} (pool {pool}; "
        f"CUDA_VISIBLE_DEVICES={','.join(mine)})")
    return mine


def release() -> None:
    """Give this process's GPUs back (the end of the process does the same)."""
    for fd in _held.values():
        os.close(fd)
    _held.clear()
