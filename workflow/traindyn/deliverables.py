"""The deliverables of the current config, and what else lies in ``figures/``.

A target family switched off (or a figure whose rule now writes elsewhere) leaves its old
files behind; nothing reruns for them, and a report built from "what exists" would show them as
current. So the pipeline writes ``figures/manifest.json``: every deliverable of the current
config with its content hash, and the files of ``figures/`` that are not among them
(leftovers, named at the end of the run too). The report and the claims file take only the
current config's deliverables (``make report-partial`` asks :mod:`traindyn.verify` which ones).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_json
from .records import digest

FIGURES = "figures"
# Files of figures/ that no rule makes and that are not leftovers.
NOT_RULE_OUTPUTS = ("figures/report.html", "figures/README.md")


def leftovers(deliverables: Iterable[str], root: str | os.PathLike = FIGURES) -> list[str]:
    """Files under ``root`` that are none of ``deliverables`` (paths as the rules write them)."""
    keep = {os.path.normpath(p) for p in (*deliverables, *NOT_RULE_OUTPUTS)}
    root = Path(root)
    files = (str(p) for p in sorted(root.rglob("*")) if p.is_file() and
             not any(part.startswith(".") for part in p.parts))
    return [f for f in files if os.path.normpath(f) not in keep]


def leftover_message(files: list[str]) -> str:
    head = ", ".join(files[:8]) + (f", ... ({len(files)} files)" if len(files) > 8 else "")
    return (f"{FIGURES}/ also holds {len(files)} file(s) that the current config does not build "
            f"(left from an earlier config; they are in neither the report nor the claims): "
            f"{head}. Delete them, or switch their targets back on.")


def write_manifest(out: str, deliverables: Iterable[str], *, targets: Mapping[str, Any]) -> None:
    """Snakemake step: the manifest of the current config's deliverables."""
    files = sorted(str(p) for p in deliverables)
    extra = leftovers([*files, out])
    write_json(out, {"targets": dict(targets),
                     "deliverables": [{"path": f, "sha256": digest(f),
                                       "bytes": os.path.getsize(f)} for f in files],
                     "leftovers": extra})
    if extra:
        print(leftover_message(extra))
