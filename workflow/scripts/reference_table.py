"""The reference tier's verdicts for docs/reference.md and their counts for the README, from a
finished reference run.

  .venv/bin/python workflow/scripts/reference_table.py [--dir reference] [--readme README.md]
      [--page docs/reference.md] [--docs docs/reference_verdicts.md]

Refuses (exit 1, naming what is wrong) unless the run directory is complete and current: a dry
run of the reference config must have nothing to do, and the claim files must be the ones
``figures/claims.md`` was built from. Writes docs/reference_verdicts.md (every claim), replaces
the block between docs/reference.md's ``reference-verdicts`` markers (counts, failures and the
paper claims) and the README's ``reference-counts`` block (the counts and a link), each stamped
with the commit, date and machine (the page also with the summed wall time of the run's jobs).
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

from traindyn.claims import (AUTHORS_CODE, EXTRA, FAIL, ILL_CONDITIONED,  # noqa: E402
                             INCONCLUSIVE, MARKS, PAPER, SELF_CHECK, Claim, _cell, _counts,
                             _measured_cell, claims_markdown, read_claims)
from traindyn.run_record import (benchmark_rows, commit, machine, marker,  # noqa: E402
                                  replace_marked)

CONFIGS = [ROOT / "config.yaml", ROOT / "workflow/configs/reference.yaml"]
BLOCK = "reference-verdicts"  # in docs/reference.md
COUNTS = "reference-counts"  # in the README


def stale_outputs(run_dir: Path) -> str:
    """The dry run's summary when something would be (re)built; empty when all is current."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory",
         str(run_dir), "--configfile", *map(str, CONFIGS), "-n", "--quiet", "rules"],
        capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return text or f"dry run failed with exit code {proc.returncode}"
    return "" if "Nothing to be done" in text or not text.strip() else text


def current_benchmarks(run_dir: Path) -> set[Path]:
    """The benchmark files of the jobs the reference config defines now (a forced dry run
    lists every job), so files of jobs from an earlier config are not counted."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory",
         str(run_dir), "--configfile", *map(str, CONFIGS), "-n", "--forceall"],
        capture_output=True, text=True, check=True)
    return {run_dir / line.split(":", 1)[1].strip() for line in proc.stdout.splitlines()
            if line.strip().startswith("benchmark:")}


def run_claims(run_dir: Path) -> list[Claim]:
    md = run_dir / "figures" / "claims.md"
    files = sorted((run_dir / "results" / "claims").rglob("*.json"))
    if not md.exists() or not files:
        raise SystemExit(f"{md} or its claim files are missing: run `make reference` first")
    claims = read_claims(files)
    if claims_markdown(claims) != md.read_text():
        raise SystemExit(f"the claim files under {run_dir}/results/claims are not the ones {md} "
                         "was built from (a leftover file?): rerun `make reference`")
    return claims


def _hours(seconds: float) -> str:
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def finished(run_dir: Path) -> str:
    return datetime.date.fromtimestamp(
        (run_dir / "figures" / "claims.md").stat().st_mtime).isoformat()


def all_counts(claims: list[Claim]) -> str:
    """The three kinds' counts, paper claims first (one sentence each)."""
    return (f"**Paper claims: {_counts([c for c in claims if c.kind == PAPER])}.** Beyond the "
            f"papers: {_counts([c for c in claims if c.kind == EXTRA])}. Self-checks: "
            f"{_counts([c for c in claims if c.kind == SELF_CHECK])}.")


# the paper claims listed by verdict, in this order, with a title each
LISTED = ((FAIL, "Failures"),
          (AUTHORS_CODE, "Failures the authors' own published code shares (the paper's figure "
                         "disagrees with its code)"),
          (ILL_CONDITIONED, "Ill-conditioned (the estimator takes the log of a quantity within "
                            "its noise)"),
          (INCONCLUSIVE, "Inconclusive"))


def ids_by_verdict(claims: list[Claim]) -> str:
    """'Failures: a, b. Failures the authors' ... shares: c.' for the paper claims."""
    parts = []
    for verdict, title in LISTED:
        ids = [c.id for c in claims if c.kind == PAPER and c.verdict == verdict]
        if ids:
            parts.append(f"{title.split(' (')[0]}: {', '.join(ids)}.")
    return " ".join(parts)


def counts_block(claims: list[Claim], run_dir: Path) -> str:
    """The README's short form: where and when, the counts, and where the rest is."""
    return (f"Last reference run (commit {commit(ROOT)}, finished {finished(run_dir)} on "
            f"{machine()}): {all_counts(claims)} {ids_by_verdict(claims)} Failures, "
            "inconclusive claims and every paper "
            "claim: [docs/reference.md](docs/reference.md#the-last-verdicts); every claim with "
            "its tolerance and source: [docs/reference_verdicts.md](docs/reference_verdicts.md).")


def block(claims: list[Claim], run_dir: Path) -> str:
    jobs = [j for rule in benchmark_rows(run_dir / "results", current_benchmarks(run_dir))
            .values() for j in rule]
    paper = [c for c in claims if c.kind == PAPER]
    lines = [
        f"Reference tier, commit {commit(ROOT)}, run finished {finished(run_dir)} on {machine()}: "
        f"{len(jobs)} jobs, {_hours(sum(j['s'] for j in jobs))} of job wall time (summed "
        "from the Snakemake benchmark files; every job uses both cores, one at a time). "
        "Regenerate with `make reference` (run and table) or `make reference-table` (table of "
        "the last run).",
        "",
        f"{all_counts(claims)} Measured values are ± one "
        "standard error (bootstrap over trials or seeds, or the spread of replicate runs); every "
        "claim with its derived tolerance, source and notes: "
        "[docs/reference_verdicts.md](reference_verdicts.md).",
        "",
    ]
    for verdict, title in LISTED:
        rows = [c for c in paper if c.verdict == verdict]
        if rows:
            lines += [f"{title}:", ""] + [
                f"- **{c.id}** ({c.paper} {c.figure}): measured "
                f"{_measured_cell(c.measured, c.uncertainty)}, expected {_cell(c.expected)} "
                f"({c.tolerance}). {c.reason}" for c in rows] + [""]
    lines += ["<details><summary>Paper claims: id, verdict, measured ± se, expected</summary>",
              "", "| id | verdict | measured | expected |", "|---|---|---|---|"]
    lines += [f"| {_cell(c.id)} | {MARKS[c.verdict]} | "
              f"{_measured_cell(c.measured, c.uncertainty)} | {_cell(c.expected)} |"
              for c in paper]
    lines += ["", "</details>"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=str(ROOT / "reference"), help="the reference run directory")
    ap.add_argument("--readme", default=str(ROOT / "README.md"), help="gets the counts")
    ap.add_argument("--page", default=str(ROOT / "docs" / "reference.md"),
                    help="gets the counts, failures and paper claims")
    ap.add_argument("--docs", default=str(ROOT / "docs" / "reference_verdicts.md"))
    args = ap.parse_args()
    run_dir = Path(args.dir).resolve()
    stale = stale_outputs(run_dir)
    if stale:
        print(f"{run_dir} is not a complete, current reference run; the dry run says:\n{stale}",
              file=sys.stderr)
        return 1
    claims = run_claims(run_dir)
    text = block(claims, run_dir)
    for path, name, content in ((args.page, BLOCK, text),
                                (args.readme, COUNTS, counts_block(claims, run_dir))):
        Path(path).write_text(replace_marked(Path(path).read_text(), name, content))
    full = (run_dir / "figures" / "claims.md").read_text()
    Path(args.docs).write_text(
        "<!-- generated by workflow/scripts/reference_table.py from the reference run -->\n"
        + text.split("\n", 1)[0] + "\n\n" + full.replace("# Claims: verdicts",
                                                         "# Reference tier: every verdict", 1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
