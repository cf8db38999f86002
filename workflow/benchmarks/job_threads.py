"""1 vs 2 compute threads for three job kinds, with OpenMP's idle threads as the runtime leaves
them (``default``: GNU OpenMP spins a while, then sleeps) or sleeping at once (PASSIVE), on an
otherwise idle machine and under a competing load (one process spinning on a matrix product, as
a laptop's other work would): wall seconds of each.

    .venv/bin/python workflow/benchmarks/job_threads.py [--repeats 2] [--kinds table1,trials]

Job kinds: ``table1``, the quick SI Table 1 job's training (ResNet-8 width 8, batch 32, 4
copies, :func:`traindyn.instab.train.build`, 60 steps); ``copies`` and ``trials``, a study's
two training job kinds on SimpleConv (GeoMNIST, 100 images per class). Each measurement runs in
a fresh process (torch reads its thread count and the wait policy once). The pipeline's jobs
run with OMP_WAIT_POLICY=PASSIVE (workflow/scripts/step.py) and the studies' default thread
count (``studies.<name>.train.threads``, docs/studies.md) is chosen from this."""

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
kind = sys.argv[1]
if kind == "table1":
    from types import SimpleNamespace
    from traindyn.instab.train import NetSpec, build, loss_and_step, optimizer
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randn(32, 3, 32, 32, generator=gen), torch.randint(0, 3, (32,), generator=gen))
               for _ in range(60)]
    ks = [1, 3, 5, 1]
    shape = SimpleNamespace(x_train=torch.empty(1, 3, 32, 32), n_classes=3)
    model = build(NetSpec(8, 8, "relu", 5.0), shape, ks, 0, torch.float32, torch.device("cpu"))
    opt = optimizer(model, ks, 0.05, 0.9, 5e-4, True)
    t0 = time.perf_counter()
    for x, y in batches:
        loss_and_step(model, opt, x, y)
else:
    from traindyn.data.images import load_images
    from traindyn.instab.copies import train_copies
    from traindyn.lesde.trials import train_trials
    from traindyn.models.names import resolve_model
    data = load_images("geomnist", train_per_class=100, test_per_class=50)
    model = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3})
    t0 = time.perf_counter()
    if kind == "copies":
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


def measure(kind: str, threads: int, policy: str) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY=policy)
    if policy == "default":
        del env["OMP_WAIT_POLICY"]
    out = subprocess.run([sys.executable, "-c", JOB, kind, str(threads), str(ROOT / "workflow")],
                         capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--kinds", default="table1,trials,copies")
    ap.add_argument("--doc", default=None,
                    help="also replace the threads block of this page (docs/benchmarks.md)")
    args = ap.parse_args()
    rows = []
    for load in ("idle", "loaded"):
        stop = mp.Event()
        spinner = mp.Process(target=_spin, args=(stop,)) if load == "loaded" else None
        if spinner:
            spinner.start()
            time.sleep(1)
        try:
            for kind in args.kinds.split(","):
                for policy in ("default", "PASSIVE"):
                    best = {t: min(measure(kind, t, policy) for _ in range(args.repeats))
                            for t in (1, 2)}
                    rows.append((load, kind, policy, best[1], best[2]))
                    print(*rows[-1], flush=True, file=sys.stderr)
        finally:
            if spinner:
                stop.set()
                spinner.join()
    from traindyn.run_record import replace_marked, stamp

    lines = [f"Measured by `job_threads.py --repeats {args.repeats}` ({stamp()}).", "",
             "| machine | job | OMP_WAIT_POLICY | 1 thread (s) | 2 threads (s) | 2 / 1 |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {load} | {kind} | {policy} | {one:.2f} | {two:.2f} | {two / one:.2f} |"
              for load, kind, policy, one, two in rows]
    print("\n".join(lines))
    if args.doc:
        doc = Path(args.doc)
        doc.write_text(replace_marked(doc.read_text(), "threads", "\n".join(lines)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
