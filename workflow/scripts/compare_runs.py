"""Print what changed between two run directories (``make compare A=dir B=dir``): the claims whose
verdict or measured value differ, with both values, and the config keys that differ."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's library

from traindyn.compare import report  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("a", help="a run directory (holds figures/claims.json, figures/run_config.json)")
parser.add_argument("b", help="the run to compare it with")
args = parser.parse_args()
try:
    print(report(args.a, args.b))
except FileNotFoundError as err:
    sys.exit(f"make compare: {err}")
