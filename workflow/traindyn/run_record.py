"""What a finished run records about itself: its jobs' wall times and memory (Snakemake's
benchmark files) and a stamp naming the commit, date and machine. Used by the budget table and
by the reference tier's verdict table."""

from __future__ import annotations

import csv
import datetime
import os
import platform
import subprocess
from collections import defaultdict
from pathlib import Path


def benchmark_rows(results: Path, only: set[Path] | None = None) -> dict[str, list[dict[str, float]]]:
    """rule -> one record per job: wall seconds ``s`` and peak memory ``max_rss`` (MB); with
    ``only``, just those files (the jobs of the current config)."""
    out: dict[str, list[dict[str, float]]] = defaultdict(list)
    base = Path(results) / "benchmarks"
    keep = None if only is None else {Path(p).resolve() for p in only}
    for path in sorted(base.rglob("*.tsv")):
        if keep is not None and path.resolve() not in keep:
            continue
        rule = path.relative_to(base).parts[0].removesuffix(".tsv")
        with open(path) as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out[rule].append({"s": float(row["s"]), "max_rss": _num(row.get("max_rss"))})
    return out


def _num(value: str | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def commit(cwd: str | os.PathLike | None = None) -> str:
    """Short commit of the checkout holding this file (``+dirty`` with uncommitted changes)."""
    here = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True, cwd=here).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, cwd=here).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty.strip() else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return f"{platform.node()} ({os.cpu_count()} cores, {cpu_model()})"


def stamp(day: datetime.date | None = None) -> str:
    day = day or datetime.date.today()
    return f"commit {commit()}, {day.isoformat()}, {machine()}"


def marker(name: str, end: bool = False) -> str:
    return f"<!-- {name}:{'end' if end else 'begin'} -->"


def replace_marked(text: str, name: str, body: str) -> str:
    """``text`` with the block between its ``name`` markers replaced by ``body`` (markers kept);
    an error when the markers are not there exactly once each."""
    begin, end = marker(name), marker(name, end=True)
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise SystemExit(f"expected one {begin} ... {end} block to replace")
    head, rest = text.split(begin)
    return head + begin + "\n" + body.strip("\n") + "\n" + end + rest.split(end, 1)[1]
