"""The work directory of a resumable job: owned by one process, tied to one run.

* **Ownership.** The job holds an OS lock (``flock``) on ``<work>/.lock`` for its whole life; a
  second process on the same directory fails at once, naming the holder. (Snakemake's own lock
  cannot be relied on: it is removed when any run in the directory ends.)
* **Run identity.** ``<work>/run.json`` is the fingerprint of everything that determines the
  job's output: its parameters, the content of its input files, the code of its import closure,
  torch's version and the device kind. State is resumed only on an exact match; otherwise it is
  discarded, and the log says so.
* **Presence.** :meth:`WorkDir.check` fails when the directory (or its lock file) disappeared or
  was replaced while the job ran, so a deleted work directory never turns into a short output.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .atomic import write_json
from .codedeps import code_version


class WorkDirBusy(RuntimeError):
    """Another process holds the work directory."""


class WorkDirLost(RuntimeError):
    """The work directory disappeared or was replaced while the job ran."""


def file_digest(path: str | os.PathLike) -> str:
    """Content hash of an input file, or of every file under an input directory."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def run_fingerprint(module: str, params: Mapping[str, Any], inputs: Sequence[str | None] = (),
                    **extra: Any) -> dict[str, Any]:
    """What determines a job's output: ``params`` (JSON-able), the content of its ``inputs``, the
    code of ``traindyn.<module>`` and everything it imports, torch's version and ``extra``."""
    import torch

    return json.loads(json.dumps({
        "params": dict(params),
        "inputs": {str(p): file_digest(p) for p in inputs if p is not None},
        "code": code_version(module),
        "torch": torch.__version__,
        **extra,
    }, sort_keys=True, default=str))


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


class WorkDir:
    """See the module docstring; use through :func:`owned_workdir`."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._fd = lock_fd
        self._ino = os.fstat(lock_fd).st_ino

    def check(self) -> None:
        """Fail unless this process's directory and lock file are still in place."""
        try:
            ino = (self.path / ".lock").stat().st_ino
        except FileNotFoundError:
            ino = None
        if ino != self._ino:
            raise WorkDirLost(f"work directory {self.path} disappeared or was replaced while this "
                              "job ran (deleted by hand or by another process?): its state is "
                              "incomplete, so the job stops without writing an output; run it "
                              "again to start over")

    def remove(self) -> None:
        """Delete the directory once the outputs are published (the lock goes with it)."""
        self.check()
        shutil.rmtree(self.path)


def _holder(lock: Path) -> str:
    try:
        return lock.read_text().strip() or "an unknown process"
    except OSError:
        return "an unknown process"


@contextmanager
def owned_workdir(path: str | os.PathLike, fingerprint: Mapping[str, Any],
                  log=None) -> Iterator[WorkDir]:
    """Lock ``path`` for this process, discard state that belongs to another run, and yield it.
    On an error the directory stays (a rerun of the same job resumes from it)."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    lock = path / ".lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkDirBusy(f"work directory {path} is in use by {_holder(lock)}: another "
                              "process is running this job (a second Snakemake in the same "
                              "directory?); wait for it or stop it") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {platform.node()} since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        stamp = path / "run.json"
        stored = json.loads(stamp.read_text()) if stamp.exists() else None
        state = [p for p in path.iterdir() if p.name not in (".lock", "run.json")]
        if stored != dict(fingerprint) and (state or stored is not None):
            why = ("; ".join(_differences(stored, fingerprint)) if stored is not None
                   else "no run fingerprint")
            log(f"discarding the saved state in {path}: it belongs to another run ({why})")
            for p in state:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        if stored != dict(fingerprint):
            write_json(stamp, dict(fingerprint))
        elif state:
            log(f"resuming from the saved state in {path} (same run fingerprint)")
        yield WorkDir(path, fd)
    finally:
        os.close(fd)
