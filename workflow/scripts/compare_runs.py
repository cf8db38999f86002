"""Print what changed between two run directories (``make compare A=dir B=dir``): the claims whose
verdict or measured value differ, with both values, and the config keys that differ. Each run is
first checked as `make verify` checks it (against the config it recorded): an incomplete, stale
or damaged run is refused, naming which, since its claims are not that config's results."""

import argparse
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))  # this checkout's library

from traindyn.compare import RunError, check_run, report  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("a", help="a run directory (holds figures/claims.json, figures/run_config.json)")
parser.add_argument("b", help="the run to compare it with")
parser.add_argument("--snakemake", default=shlex.join(
    [str(Path(sys.executable).with_name("snakemake")), "-s", str(ROOT / "Snakefile")]),
    help="the Snakemake command that checks each run (default: this checkout's)")
parser.add_argument("--allow-stale", action="store_true",
                    help="compare runs whose outputs this checkout's code would rebuild (runs "
                         "of two code versions); incomplete or damaged runs are still refused")
args = parser.parse_args()
try:
    notes = [check_run(run, shlex.split(args.snakemake), args.allow_stale)
             for run in (args.a, args.b)]
    print(report(args.a, args.b))
    for note in filter(None, notes):
        print(f"note: {note}")
except RunError as err:
    sys.exit(f"make compare: {err}")
