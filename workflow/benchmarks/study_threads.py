"""1 vs 2 compute threads for the studies' two job kinds, on a small model, with the machine
otherwise idle and under a competing load (one process spinning on a matrix product, as a
laptop's other work would): wall seconds of each and the 2-thread / 1-thread ratios.

    .venv/bin/python workflow/benchmarks/study_threads.py [--repeats 2]

Each measurement runs in a fresh process (torch's thread count is set once per process). The
studies' default (``studies.<name>.train.threads``, docs/studies.md) is chosen from this."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

JOB = r'''
import sys, time, tempfile, torch
torch.set_num_threads(int(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
from traindyn.data.images import load_images
from traindyn.instab.copies import train_copies
from traindyn.lesde.trials import train_trials
from traindyn.models.names import resolve_model
data = load_images("geomnist", train_per_class=100, test_per_class=50)
model = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3})
t0 = time.perf_counter()
if sys.argv[1] == "copies":
    train_copies(model, data, [1, 3], lr=0.05, epochs=2, batch=32, seed=1)
else:
    with tempfile.TemporaryDirectory() as d:
        train_trials(model, data, d + "/t", study="b", trials=range(8), iterations=300,
                     lr=0.01, dtype="float32")
print(time.perf_counter() - t0)
'''


def _spin(stop) -> None:
    import numpy as np

    os.environ["OMP_NUM_THREADS"] = "1"
    a = np.random.default_rng(0).random((300, 300))
    while not stop.is_set():
        a = (a @ a) / 300.0


def measure(kind: str, threads: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", JOB, kind, str(threads), str(ROOT / "workflow")],
                         capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    rows = []
    for load in ("idle", "loaded"):
        stop = mp.Event()
        spinner = mp.Process(target=_spin, args=(stop,)) if load == "loaded" else None
        if spinner:
            spinner.start()
            time.sleep(1)
        try:
            for kind in ("copies", "trials"):
                best = {t: min(measure(kind, t) for _ in range(args.repeats)) for t in (1, 2)}
                rows.append((load, kind, best[1], best[2]))
        finally:
            if spinner:
                stop.set()
                spinner.join()
    print("| machine | job | 1 thread (s) | 2 threads (s) | 2 / 1 |")
    print("|---|---|---|---|---|")
    for load, kind, one, two in rows:
        print(f"| {load} | {kind} | {one:.2f} | {two:.2f} | {two / one:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
