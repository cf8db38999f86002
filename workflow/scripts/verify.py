"""Check a run directory against its config without running any job (``make verify``), or build
the report of what is current there (``make report-partial``). See :mod:`traindyn.verify`.

    python workflow/scripts/verify.py [--report figures/report.html] [-- SNAKEMAKE ARGS]

Run in the run directory; the Snakemake command is ``--snakemake`` (default: the snakemake
beside this Python, on this checkout's Snakefile) plus the arguments after ``--``
(``--configfile ...``, ``--config ...``).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

from traindyn.deliverables import FIGURES, leftover_message  # noqa: E402
from traindyn.verify import verify  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # quoted: a checkout or environment path may hold spaces
    parser.add_argument("--snakemake", default=shlex.join(
        [str(Path(sys.executable).with_name("snakemake")), "-s", str(ROOT / "Snakefile")]))
    parser.add_argument("--report", help="build this report of the current deliverables only")
    parser.add_argument("args", nargs="*", help="more Snakemake arguments (after --)")
    opts = parser.parse_args()
    snakemake = [*shlex.split(opts.snakemake), *opts.args]
    result = verify(snakemake)
    figures = [f for f in result.current if f.startswith(f"{FIGURES}/")]
    leftover_figures = [f for f in result.leftovers if f.startswith(f"{FIGURES}/")]
    if opts.report:
        for problem in result.problems:
            print(f"left out of the report: {problem}")
        if leftover_figures:
            print(leftover_message(leftover_figures))
        if not figures:
            print("no current deliverable to report yet", file=sys.stderr)
            return 1
        return subprocess.run([*snakemake, "--report", opts.report, *figures]).returncode
    for problem in result.problems:
        print(f"FAIL {problem}")
    if result.leftovers:
        print(f"not made by the current config (leftovers of an earlier one): "
              f"{', '.join(result.leftovers)}")
    print(f"{len(result.current)} outputs verified (complete, current, the bytes their jobs "
          f"wrote); {len(result.problems)} problems; {len(result.leftovers)} leftovers")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
