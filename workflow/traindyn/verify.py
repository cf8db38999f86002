"""``make verify``: is every output of the current config complete, current and the one its job
wrote? Checked without running any job.

1. Snakemake's own view (``snakemake --summary``, a dry run): every output of the config's DAG
   exists and its job would not rerun (no newer input, no changed parameter or code).
2. The bytes (:mod:`traindyn.records`): each output is what its job wrote, and the inputs it
   was built from still hold the bytes they had then (a file truncated or copied over with its
   timestamp kept is caught here; Snakemake never reads a file's content).
3. The content (the pipeline's own readers): training logs complete and the run their path
   names, Table 1 / Figure 2 runs complete and theirs, summaries and caches readable and theirs.
4. Leftovers: files under ``figures/`` and ``results/`` that no job of the current config makes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .deliverables import FIGURES, NOT_RULE_OUTPUTS
from .records import RECORDS, digest, read_record

# Folders under results/ that hold no job outputs (logs, timings, records, benchmarks).
NOT_OUTPUTS = ("results/logs", "results/benchmarks", str(RECORDS), "results/bench")


# What a problem says about the run: outputs not there yet, outputs a job would rebuild (a
# changed input, parameter or code), outputs whose bytes or content are not what their job wrote.
KINDS = ("incomplete", "stale", "damaged")


@dataclass
class Report:
    current: list[str] = field(default_factory=list)  # outputs that passed every check
    problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    kinds: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def add(self, kind: str, problem: str) -> None:
        self.problems.append(problem)
        self.kinds[kind].append(problem)


def dag_outputs(snakemake: Sequence[str]) -> list[tuple[str, str, str]]:
    """(output, rule, plan) of every output of the config's DAG (``snakemake --summary``)."""
    # (the Snakefile's clock-skew stop is left to this module's own code check)
    proc = subprocess.run([*snakemake, "--summary"], capture_output=True, text=True,
                          env={**os.environ, "TRAINDYN_NO_SKEW_CHECK": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake --summary failed:\n{proc.stderr[-3000:]}")
    rows = [line.split("\t") for line in proc.stdout.splitlines() if line.count("\t") >= 5]
    return [(r[0], r[2], f"{r[4]} ({r[5]})") if r[5] != "no update" else (r[0], r[2], "")
            for r in rows[1:]]


def _readers() -> list[tuple[Callable[[str], bool], Callable[[str], object]]]:
    from .atomic import load_npz
    from .data.geomnist import load_geomnist
    from .instab.outputs import read_fig2_run, read_table1_run
    from .lesde.logs import check_log_complete, check_log_run, check_summary
    from .snapshots import read_meta

    def log(path):
        check_log_complete(path)
        check_log_run(path)

    return [
        (lambda p: p.endswith(".snapshots.safetensors"), read_meta),
        (lambda p: p.startswith("results/lesde/") and p.endswith(".parquet"), log),
        (lambda p: p.endswith("/summary.npz"), lambda p: check_summary(p, load_npz(p))),
        (lambda p: p.startswith("results/instab/table1/"), read_table1_run),
        (lambda p: p.startswith("results/instab/fig2/"), read_fig2_run),
        (lambda p: p.startswith("results/data/geomnist/"), load_geomnist),
        (lambda p: p.endswith(".npz"), load_npz),
    ]


def content_problem(path: str) -> str | None:
    """What the pipeline's reader of ``path`` says is wrong with it, or None."""
    for matches, read in _readers():
        if matches(path):
            try:
                read(path)
            except (ValueError, OSError, KeyError) as err:
                return str(err)
            return None
    return None


def check_bytes(path: str, hashed: Callable[[str], str]) -> str | None:
    record = read_record(path)
    if record is None:
        return (f"{path}: no record of the job that wrote it (made before records were kept, "
                "or copied in): delete it, or rerun its rule with --forcerun, to rebuild it")
    if hashed(path) != record["sha256"]:
        return (f"{path}: its bytes changed after its job ({record['rule']}) wrote it "
                f"({record['bytes']} bytes then, {os.path.getsize(path)} now): truncated, edited "
                "or copied over; delete it to rebuild it")
    changed = [p for p, h in record["inputs"].items() if not os.path.isfile(p) or hashed(p) != h]
    if changed:
        return (f"{path}: built from inputs that have changed since ({', '.join(changed)}): "
                "delete it to rebuild it")
    # an input that was already damaged when this job read it (its own record disagrees)
    damaged = [p for p, h in record["inputs"].items()
               if (r := read_record(p)) is not None and r.get("sha256") != h]
    if damaged:
        return (f"{path}: built from inputs that were not what their jobs wrote "
                f"({', '.join(damaged)}): delete them and it to rebuild them")
    return None


def changed_code(path: str, hashed: Callable[[str], str]) -> str | None:
    """The code the job ran, by content: an edit is seen even when a skewed clock dates the
    output after it (Snakemake, comparing times, then plans nothing)."""
    record = read_record(path)
    code = (record or {}).get("code") or {}
    changed = [p for p, h in code.items() if not os.path.isfile(p) or hashed(p) != h]
    if changed:
        return (f"{path}: not current, built by code that has changed since "
                f"({', '.join(changed)}); its rule ({record['rule']}) would rerun were the clocks "
                "right: rerun it with --forcerun")
    return None


def leftovers(outputs: set[str]) -> list[str]:
    """Files under figures/ and results/ that no job of the current config makes."""
    keep = {os.path.normpath(p) for p in (*outputs, *NOT_RULE_OUTPUTS)}
    out = []
    for root in (FIGURES, "results"):
        for dirpath, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.endswith(".work")
                             and os.path.join(dirpath, d) not in NOT_OUTPUTS)
            out += [os.path.join(dirpath, f) for f in sorted(files)
                    if not f.startswith(".") and os.path.normpath(os.path.join(dirpath, f))
                    not in keep]
    return out


def verify(snakemake: Sequence[str]) -> Report:
    """Every check of the module docstring, for the run in the current directory."""
    report = Report()
    hashed = lru_cache(maxsize=None)(digest)
    outputs = dag_outputs(snakemake)
    for path, rule, stale in outputs:
        if stale:
            missing = not os.path.exists(path)
            report.add("incomplete" if missing else "stale",
                       f"{path}: {'missing' if missing else 'not current for this config'}, "
                       f"{rule} would run: {stale}")
            # a stale file may still be read (`make compare ALLOW_STALE=1`): its own bytes too
            record = None if missing else read_record(path)
            if record is not None and hashed(path) != record["sha256"]:
                report.add("damaged", f"{path}: its bytes changed after its job ({rule}) wrote "
                                      "it: truncated, edited or copied over")
            continue
        problem = check_bytes(path, hashed) or content_problem(path)
        if problem:
            report.add("damaged", problem if problem.startswith(path) else f"{path}: {problem}")
        elif code := changed_code(path, hashed):
            report.add("stale", code)
        else:
            report.current.append(path)
    report.leftovers = leftovers({p for p, _, _ in outputs})
    return report
