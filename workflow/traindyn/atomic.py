"""Result files: atomic writes (a reader never sees a half-written output, a crash leaves none
behind), and reads that name the file when it is missing, truncated or corrupted."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

__all__ = ["load_npz"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        full = _disk_full(path, err)
        Path(tmp).unlink(missing_ok=True)
        if full:
            raise OSError(errno.ENOSPC, full) from err
        raise


# Below this much free space a failed write is taken for a full disk: writers do not all say so
# (torch.save reports "unexpected pos 704 vs 598" from its zip writer, numpy may say nothing).
LOW_SPACE = 64 * 1024**2


def _disk_full(path: Path, err: BaseException) -> str | None:
    """The message for a write that failed because the file system is full, else None."""
    if not isinstance(err, (OSError, RuntimeError)):
        return None
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    if getattr(err, "errno", None) != errno.ENOSPC and free >= LOW_SPACE:
        return None
    return (f"cannot write {path}: no space left on the file system holding {path.parent} "
            f"({free / 1024**2:.0f} MiB free; the writer said: {err}). Free some space and run "
            "again (a resumable job continues from its last complete checkpoint)")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_npz(path: str | os.PathLike, **arrays: Any) -> None:
    """``np.savez_compressed`` through a temporary file (numpy would append .npz to a bare name)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` result; a damaged file is an error naming it (numpy alone says
    "BadZipFile: File is not a zip file" without a name)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"cannot read result file {path} ({type(err).__name__}: {err}); it is "
                         "truncated or damaged: delete it to rebuild it") from err


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
