"""Which config a documented run belongs to: the hash that README.md and docs/targets.md quote
with the quick run's numbers (``workflow/scripts/budget_table.py``), so a test can tell when those
numbers are older than the config that produces them."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import yaml


def _canonical(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def config_hash(path: str | os.PathLike) -> str:
    """The first 12 hex digits of the SHA-256 of the config file's values (key order, comments
    and layout do not count)."""
    with open(path) as f:
        values = _canonical(yaml.safe_load(f))
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


def contains(recorded: Any, path: str | os.PathLike) -> str:
    """'' when every value the config file sets is the run's recorded one (the run's config is
    the file plus defaults), else the first key that differs."""
    with open(path) as f:
        given = _canonical(yaml.safe_load(f))

    def walk(a: Any, b: Any, where: str) -> str:
        if isinstance(a, dict):
            if not isinstance(b, dict):
                return f"{where or 'the config'} is not a mapping in the run"
            for k, v in a.items():
                if k not in b:
                    return f"{where}{k} is not in the run's config"
                found = walk(v, b[k], f"{where}{k}.")
                if found:
                    return found
            return ""
        return "" if a == b else f"{where.rstrip('.')}: {a!r} in the file, {b!r} in the run"

    return walk(given, _canonical(recorded), "")
