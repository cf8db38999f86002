"""Provenance stamped into every result file: what produced it, from which config and code."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__


def config_hash(params: Any) -> str:
    """Short stable hash of a JSON-able parameter set (key order does not matter)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@lru_cache(maxsize=1)
def git_sha() -> str:
    """Commit of the checkout the library runs from (``unknown`` outside git), ``+dirty`` if edited."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def provenance(params: Any, **extra: Any) -> dict[str, Any]:
    """Provenance record for outputs computed from ``params``."""
    record: dict[str, Any] = {
        "traindyn_version": __version__,
        "config_hash": config_hash(params),
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "host": platform.node(),
    }
    record.update(extra)
    return record
