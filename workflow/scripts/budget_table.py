"""The measured compute budget of a finished run, from Snakemake's benchmark files.

Every compute rule writes ``results/benchmarks/<rule>/...tsv`` (wall seconds, peak memory). This
prints a Markdown table per rule (jobs, total and largest wall time, peak memory), stamped with
the commit, date and machine, for docs/compute_budget.md:

  .venv/bin/python workflow/scripts/budget_table.py [--results results] [--out docs/x.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's library

from traindyn.run_record import benchmark_rows, stamp  # noqa: E402


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    data = benchmark_rows(Path(args.results))
    if not data:
        print(f"no benchmark files under {args.results}/benchmarks: run the pipeline first",
              file=sys.stderr)
        return 1
    text = (f"Measured by Snakemake's `benchmark:` files of one run ({stamp()}); "
            f"regenerate with `make budget-table`.\n\n{table(data)}\n")
    if args.out:
        Path(args.out).write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
