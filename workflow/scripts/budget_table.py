"""The measured compute budget of a finished quick run, and the numbers the README and docs quote
from it, stamped with the commit, date, machine and the hash of the config that produced them.

Every compute rule writes ``results/benchmarks/<rule>/...tsv`` (wall seconds, peak memory). From
those, Snakemake's log of the run (its wall clock) and ``figures/claims.json`` this writes

* docs/compute_budget.md: a table per rule (jobs, total and largest wall time, peak memory);
* the ``quick-run`` blocks of README.md and docs/targets.md: jobs, summed job wall time, wall
  clock, the claims line, and ``config.yaml sha256 <hash>`` (tests/test_doc_stamps.py fails when
  config.yaml no longer hashes to it: the figures are older than the config);
* the ``test-suite`` block of docs/targets.md from this checkout's last whole ``make test``
  (``results/test_session.json``, written by tests/conftest.py).

  .venv/bin/python workflow/scripts/budget_table.py [--run .] [--no-docs]   (make budget-table)

It refuses a run whose recorded config (``figures/run_config.json``) is not config.yaml's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))  # this checkout's library

from traindyn.compare import config_hash, file_mismatch  # noqa: E402
from traindyn.run_record import benchmark_rows, replace_marked, stamp  # noqa: E402

LOG_TIME = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def table(data: dict[str, list[dict[str, float]]]) -> str:
    lines = ["| rule | jobs | total wall time (s) | largest job (s) | peak memory (MB) |",
             "|---|---|---|---|---|"]
    for rule in sorted(data, key=lambda r: -sum(x["s"] for x in data[r])):
        jobs = data[rule]
        total = sum(j["s"] for j in jobs)
        peak = max(j["max_rss"] for j in jobs)
        lines.append(f"| `{rule}` | {len(jobs)} | {total:.1f} | {max(j['s'] for j in jobs):.1f} "
                     f"| {peak:.0f} |")
    return "\n".join(lines)


def wall_clock(run: Path) -> float | None:
    """Seconds from the first to the last job timestamp of the run's last complete Snakemake log
    (None when no log says ``(100%) done``)."""
    logs = sorted((run / ".snakemake" / "log").glob("*.snakemake.log"))
    for log in reversed(logs):
        text = log.read_text(errors="replace")
        if "(100%) done" not in text:
            continue
        times = [datetime.datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
                 for m in map(LOG_TIME.match, text.splitlines()) if m]
        if len(times) >= 2:
            return (times[-1] - times[0]).total_seconds()
    return None


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def claims_line(run: Path) -> str:
    from reference_table import all_counts, run_claims  # beside this script

    return all_counts(run_claims(run))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default=".", help="the run's directory (results/, figures/)")
    ap.add_argument("--config", default=str(ROOT / "config.yaml"))
    ap.add_argument("--no-docs", action="store_true", help="print only")
    ap.add_argument("--tests-only", action="store_true",
                    help="only the test-suite block (after `make test`; no run needed)")
    args = ap.parse_args()
    if args.tests_only:
        return 0 if write_test_suite() else 1
    run = Path(args.run)
    data = benchmark_rows(run / "results")
    if not data:
        print(f"no benchmark files under {run}/results/benchmarks: run the pipeline first",
              file=sys.stderr)
        return 1
    recorded = json.loads((run / "figures" / "run_config.json").read_text())
    mismatch = file_mismatch(recorded, args.config)
    if mismatch:
        print(f"{run} was not run with {args.config}: {mismatch}", file=sys.stderr)
        return 1
    digest = config_hash(args.config)
    jobs = sum(len(v) for v in data.values())
    summed = sum(j["s"] for v in data.values() for j in v)
    wall = wall_clock(run)
    where = f"{stamp()}; config.yaml sha256 {digest}"
    quick = (f"Last quick run (`make` from an empty results folder; {where}): {jobs} jobs, "
             f"{minutes(summed)} of summed job wall time"
             + (f", {minutes(wall)} of wall clock" if wall else "")
             + f". {claims_line(run)} Per rule: `docs/compute_budget.md`; regenerate with "
             "`make budget-table` after `make`.")
    budget = (f"Measured by Snakemake's `benchmark:` files of one quick run ({where}); "
              f"regenerate with `make budget-table`.\n\n{table(data)}\n")
    print(quick, "", budget, sep="\n")
    if args.no_docs:
        return 0
    doc = ROOT / "docs" / "compute_budget.md"
    doc.write_text(replace_marked(doc.read_text(), "budget", budget))
    for page in (ROOT / "README.md", ROOT / "docs" / "targets.md"):
        page.write_text(replace_marked(page.read_text(), "quick-run", quick))
    write_test_suite()
    return 0


def write_test_suite() -> bool:
    """The test-suite block of docs/targets.md from this checkout's last whole `make test`."""
    session = ROOT / "results" / "test_session.json"
    if not session.exists():
        print(f"{session} is missing: run `make test` (the whole suite) first", file=sys.stderr)
        return False
    s = json.loads(session.read_text())
    line = (f"The last whole `make test` ({s['stamp']}): {s['passed']} passed, "
            f"{s['failed']} failed, {s['skipped']} skipped in {minutes(s['seconds'])} "
            "(recorded by tests/conftest.py; regenerate with `make test` then "
            "`make budget-table`, or `budget_table.py --tests-only`).")
    print(line)
    targets = ROOT / "docs" / "targets.md"
    targets.write_text(replace_marked(targets.read_text(), "test-suite", line))
    return True


if __name__ == "__main__":
    sys.exit(main())
