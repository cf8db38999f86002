"""The weight snapshots each tier's training jobs would write (the dry run's estimate), and, for a
run directory, the bytes its snapshot files hold now:

    .venv/bin/python workflow/scripts/snapshot_sizes.py [--dir RUN_DIR]

Tiers: quick (config.yaml), reference and paper (workflow/configs/*.yaml merged over it)."""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

from snakemake.utils import update_config, validate  # noqa: E402

from traindyn.instab.family import fig2_snapshot_bytes, table1_snapshot_bytes  # noqa: E402
from traindyn.instab.plan import fig2_jobs  # noqa: E402
from traindyn.studies.budget import snapshot_bytes_of  # noqa: E402
from traindyn.studies.spec import enabled  # noqa: E402

TIERS = {"quick": [], "reference": ["reference.yaml"], "paper": ["paper.yaml"]}


def config_of(files: list[str]) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    for f in files:
        update_config(config, yaml.safe_load((ROOT / "workflow" / "configs" / f).read_text()))
    config = copy.deepcopy(config)
    validate(config, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"), set_default=True)
    return config


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", help="a run directory whose snapshot files to measure")
    args = ap.parse_args()
    print("| tier | Figure 2: runs, snapshots, per run | Table 1: runs, snapshots | studies |")
    print("|---|---|---|---|")
    for tier, files in TIERS.items():
        config = config_of(files)
        runs = len(fig2_jobs(config))
        total = fig2_snapshot_bytes(config)
        t1 = config["instab"]["table1"]
        table1 = table1_snapshot_bytes(config)
        studies = sum(snapshot_bytes_of(s) for s in enabled(config["studies"]).values())
        print(f"| {tier} | {runs}, {total / 2**20:.1f} MiB, {total / runs / 2**20:.2f} MiB "
              f"| {len(t1['seeds']) * len(t1['activations'])}, {table1 / 2**20:.1f} MiB "
              f"| {studies / 2**20:.1f} MiB |")
    if args.dir:
        files = sorted(Path(args.dir).glob("results/**/*.snapshots.safetensors"))
        size = sum(f.stat().st_size for f in files)
        print(f"\n{args.dir}: {len(files)} snapshot files, {size / 2**20:.1f} MiB on disk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
