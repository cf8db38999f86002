"""Every throughput figure of the project against this machine's limit, measured in one run.

  .venv/bin/python workflow/benchmarks/bench_all.py [--out results/bench] [--quick]
  (make bench)

The limit is the machine's matrix-product rate (an n x n x n product, float64 or float32 as the
workload), measured in the same run, so a figure's *fraction* says how close the code comes to
what this hardware does, independent of how busy the machine was. Prints a table and writes
``summary.json`` (a list of records: name, value, unit, limit, fraction, target) and
``summary.md`` (the table docs/benchmarks.md shows) under --out.

Figures:
* LE-SDE validation: forward of M = 100 trials over 1,500 shared images (float64), GFLOP/s.
* LE-SDE training step: one-sample SGD of M = 100 trials (float64), GFLOP/s.
* ResNet copies (float32): training images per second of the copies as the runs build them on
  this device (:func:`traindyn.instab.train.build`; on a CPU sequential networks in the
  channels-last layout) vs the plain sequential way (independent single-copy networks in
  PyTorch's default layout, each with its own optimizer, one after another), at the quick shapes
  (ResNet-8, width 8, batch 32, 4 copies) and at ResNet-20, width 16, batch 128 (7 copies);
  the fraction is of the float32 matrix-product rate.
* Study trials (float32 and float64): one-sample SGD of M trials of a model as a study trains
  them (the LE-SDE SimpleConv through :mod:`traindyn.lesde.trial_models`), batched with
  torch.func's vmap vs a loop of single models; the ratio vmap/loop, and the vmap throughput in
  GFLOP/s (FLOPs per step from torch's flop counter) against the matrix-product rate of its
  dtype (study_trials.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# as the pipeline's jobs run (workflow/scripts/step.py): idle OpenMP threads sleep
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

import torch  # noqa: E402

from traindyn import budget  # noqa: E402
from traindyn.instab.train import loss_and_step  # noqa: E402
from traindyn.lesde.model import init_params  # noqa: E402
from traindyn.lesde.train import RunSpec, evaluate, launch_sizes, train_step  # noqa: E402
from traindyn.run_record import replace_marked, stamp  # noqa: E402
from traindyn.runtime import numerics  # noqa: E402

from study_trials import trials_rates  # noqa: E402  (beside this script)

LESDE_FWD = budget.simpleconv_flops(1, 3)  # SimpleConv (1 channel, K = 3), per image
LESDE_STEP = budget.SIMPLECONV_STEP_FLOPS


def best_of(fn, repeats: int) -> float:
    """Fastest of ``repeats`` timed calls after one warm-up (the least disturbed by other load)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def best_of_interleaved(fns, repeats: int) -> list[float]:
    """``best_of`` for several functions timed in turns, so slow drift of the machine's load
    affects each alike (for ratios)."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [min(ts) for ts in times]


def matmul_gflops(dtype: torch.dtype, n: int = 1024) -> float:
    # the 1024^3 product also in quick mode: it is the limit every fraction is of
    a = torch.randn(n, n, dtype=dtype, generator=torch.Generator().manual_seed(0))
    return 2 * n**3 / best_of(lambda: a @ a, 5) / 1e9


def lesde(trials: int, val_images: int, steps: int) -> tuple[float, float]:
    gen = torch.Generator().manual_seed(0)
    params = init_params(range(trials), seed=0, experiment="bench", channels=1, n_classes=3)
    spec = RunSpec("bench", "bench", tuple(range(trials)), 1, 0.005, 1, 0)
    eval_batch, block = launch_sizes(spec, torch.device("cpu"), val_images)
    xv = torch.randn(val_images, 1, 32, 32, dtype=torch.float64, generator=gen)
    yv = torch.randint(0, 3, (val_images,), generator=gen)
    t_val = best_of(lambda: evaluate(params, xv, yv, eval_batch, block), 3)
    x = torch.randn(steps, trials, 1, 32, 32, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 3, (steps, trials), generator=gen)

    def train():
        for s in range(steps):
            train_step(params, x[s], y[s], 0.005, block)
    t_step = best_of(train, 3) / steps
    return (trials * val_images * LESDE_FWD / t_val / 1e9, trials * LESDE_STEP / t_step / 1e9)


def copies(depth: int, width: int, n_copies: int, batch: int, steps: int) -> tuple[float, float]:
    """(images/s of the copies as the Table 1 and Figure 2 runs train them on this device,
    images/s of the plain sequential way: independent single-copy networks in PyTorch's default
    layout, each with its own optimizer, one after another), on the same minibatches."""
    from types import SimpleNamespace

    from traindyn.instab.optimizer import PerturbedSGD
    from traindyn.instab.train import NetSpec, build, optimizer
    from traindyn.models.resnet import CopiesResNet, init_copies

    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randn(batch, 3, 32, 32, generator=gen),
                torch.randint(0, 10, (batch,), generator=gen)) for _ in range(steps)]
    ks = ([1, 3, 5, 7, 9, 11, 1] * 2)[:n_copies]
    spec = NetSpec(depth, width, "relu", 5.0)
    shape = SimpleNamespace(x_train=torch.empty(1, 3, 32, 32), n_classes=10)
    cpu = torch.device("cpu")

    def make(ks_):
        model = build(spec, shape, ks_, 0, torch.float32, cpu)
        return model, optimizer(model, ks_, 0.1, 0.9, 5e-4, True)

    def plain(k):  # a single-copy network in PyTorch's default layout, its own optimizer
        model = CopiesResNet(depth, 1, 3, 10, spec.width, spec.activation, spec.swish_beta)
        init_copies(model, torch.Generator().manual_seed(0))
        return model, PerturbedSGD(model.parameters(), [k], 0.1, 0.9, 0.0, 5e-4, True)

    together = [make(ks)]
    alone = [plain(k) for k in ks]

    def run(models):
        for x, y in batches:
            for model, opt in models:
                loss_and_step(model, opt, x, y)
    images = n_copies * batch * steps
    t_together, t_alone = best_of_interleaved([lambda: run(together), lambda: run(alone)], 3)
    return images / t_together, images / t_alone


def speedup(shape: str, names: tuple[str, str], fast: float, slow: float, flops: float,
            limit: float) -> list[dict]:
    """Two records: the ratio of the fast way's rate to the slow way's (target 1: no slower),
    and the fast way's GFLOP/s (``flops`` per unit of the rates) against ``limit``."""
    return [dict(name=f"{names[0]}, {shape}", value=fast / slow, unit="x", limit=1.0,
                 target=1.0),
            dict(name=f"{names[1]}, {shape}", value=fast * flops / 1e9, unit="GFLOP/s",
                 limit=limit)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "bench"))
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    ap.add_argument("--doc", default=None,
                    help="also replace the bench block of this page (docs/benchmarks.md)")
    args = ap.parse_args()
    q = args.quick
    with numerics(True):
        mm64, mm32 = matmul_gflops(torch.float64), matmul_gflops(torch.float32)
        val, step = lesde(10 if q else 100, 32 if q else 1500, 2 if q else 20)
        records = [
            dict(name="matmul float64 (1024^3)", value=mm64, unit="GFLOP/s", limit=mm64),
            dict(name="matmul float32 (1024^3)", value=mm32, unit="GFLOP/s", limit=mm32),
            dict(name="LE-SDE validation, float64", value=val, unit="GFLOP/s", limit=mm64,
                 target=0.40),
            dict(name="LE-SDE training step, float64", value=step, unit="GFLOP/s", limit=mm64,
                 target=0.15),
        ]
        shapes = ((8, 4, 2, 8), (20, 4, 2, 8)) if q else ((8, 8, 4, 32), (20, 16, 7, 128))
        for depth, width, n, batch in shapes:
            fast, seq = copies(depth, width, n, batch, 1 if q else 3)
            flops = budget.TRAIN_FACTOR * budget.resnet_flops(depth, width, 3)
            records += speedup(f"ResNet-{depth} width {width}, batch {batch}, {n} copies",
                               ("ResNet copies vs sequential", "ResNet copies training"),
                               fast, seq, flops, mm32)
        n_trials = 4 if q else 32
        for dtype, limit in ((torch.float32, mm32), (torch.float64, mm64)):
            vmap, loop, flops = trials_rates(n_trials, 2 if q else 20, dtype, 1 if q else 3)
            records += speedup(f"SimpleConv, {n_trials} trials, {str(dtype)[6:]}",
                               ("study trials vmap vs loop", "study trials vmap training"),
                               vmap, loop, flops, limit)
    for r in records:
        r["fraction"] = r["value"] / r["limit"]
        r.setdefault("target", None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(records, indent=2) + "\n")
    lines = [f"Measured by `make bench` ({stamp()}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads).", "",
             "| figure | value | limit | fraction | target |", "|---|---|---|---|---|"]
    for r in records:
        target = f">= {r['target']:.0%}" if r["target"] is not None else ""
        lines.append(f"| {r['name']} | {r['value']:.2f} {r['unit']} | {r['limit']:.2f} | "
                     f"{r['fraction']:.0%} | {target} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    if args.doc:
        doc = Path(args.doc)
        doc.write_text(replace_marked(doc.read_text(), "bench", "\n".join(lines)))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
