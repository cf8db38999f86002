"""Does a result file belong where it is read? Its metadata against what the reader expects.

A file copied over another (the p = 0.67 logs over the p = 0 ones, trials 2-3 over trials 0-2, a
Table 1 run of another seed) keeps its own metadata, and Snakemake, which looks only at paths and
modification times, trusts it. Every reader of the pipeline's intermediate files compares the
identity stored in the file (experiment, setting, trials, seed, ... as the job that wrote it
recorded them) with the one the reading job expects (from the file's path and the config), and
fails naming the file and every field that differs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any


class IdentityError(ValueError):
    """A result file was written by another run than the one its reader expects."""


def _plain(value: Any) -> Any:
    """JSON form (tuples as lists, numpy scalars as numbers): what the writer stored."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def differences(found: Mapping[str, Any], expect: Mapping[str, Any]) -> list[str]:
    """``field: stored -> expected`` for every field of ``expect`` the file stores otherwise;
    a field the file does not store at all counts as different (``<absent>``)."""
    out = []
    for key, want in expect.items():
        have = found.get(key, "<absent>")
        if have != "<absent>":
            have = _plain(have)
        if have != _plain(want):
            out.append(f"{key}: {have!r} in the file, {_plain(want)!r} expected")
    return out


def check_identity(path: str | os.PathLike, found: Mapping[str, Any] | None,
                   expect: Mapping[str, Any], what: str) -> None:
    """Fail unless the identity ``found`` in the file at ``path`` agrees with ``expect``."""
    if found is None:
        raise IdentityError(f"{what} {path} carries no run metadata, so it cannot be shown to "
                            "belong to this run (written elsewhere or by an older version): "
                            "delete it to rebuild it")
    diff = differences(found, expect)
    if diff:
        raise IdentityError(f"{what} {path} belongs to another run ({'; '.join(diff)}): it was "
                            "copied or moved here, or the config changed while its timestamp did "
                            "not; delete it (and any .work folder beside it) to rebuild it")


def path_identity(path: str | os.PathLike, pattern: str) -> dict[str, Any] | None:
    """The identity a pipeline path spells (``pattern``'s named groups, digits as ints), or None
    for a path outside the pipeline's layout (a file of the user's own: nothing to compare)."""
    m = re.search(pattern, os.fspath(path))
    if m is None:
        return None
    return {k: int(v) if v.isdigit() else v for k, v in m.groupdict().items()}
