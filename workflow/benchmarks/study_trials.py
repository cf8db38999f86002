"""Many trials of one model as a study trains them: vmap-batched (torch.func) vs a loop of
single models, on this CPU.

  .venv/bin/python workflow/benchmarks/study_trials.py [--trials 32] [--steps 20] [--scan]

Prints trial-steps per second of both strategies (one-sample SGD of the LE-SDE SimpleConv on
1 x 32 x 32 images, K = 3, as a study would run it: :mod:`traindyn.lesde.trial_models`), their
ratio, and the arithmetic rate from the FLOPs torch's flop counter gives for one step. ``make
bench`` reports the same measurements (bench_all.py).

``--scan``: what caps the vmap rate. The time of one vmap step over 1 ... 512 trials, fitted as
a fixed cost per step (the operators' dispatch through torch.func, paid once whatever the trial
count) plus a cost per trial (the arithmetic): the share of the fixed cost at the benchmark's
32 trials, and the rate the arithmetic alone reaches, against the matrix-product rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the pipeline's jobs run (step.py)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

import torch  # noqa: E402

from traindyn.lesde.trial_models import make_trials  # noqa: E402
from traindyn.models.flops import step_flops  # noqa: E402
from traindyn.models.names import resolve_model  # noqa: E402
from traindyn.runtime import numerics  # noqa: E402

SHAPE = dict(channels=1, image_size=(32, 32), n_classes=3)


def trials_rates(trials: int, steps: int, dtype: torch.dtype, repeats: int = 3):
    """(vmap trial-steps/s, loop trial-steps/s, FLOPs of one trial-step), best of ``repeats``
    interleaved timings on the same minibatches."""
    factory = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3})
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(steps, trials, 1, 1, 32, 32, generator=gen).to(dtype)
    y = torch.randint(0, 3, (steps, trials, 1), generator=gen)
    engines = {s: make_trials([factory.build(i).to(dtype) for i in range(trials)], s, 0.005)
               for s in ("vmap", "loop")}
    best = {s: float("inf") for s in engines}
    for _ in range(repeats + 1):  # the first round warms up
        for s, engine in engines.items():
            t = time.perf_counter()
            for i in range(steps):
                engine.step(x[i], y[i])
            best[s] = min(best[s], time.perf_counter() - t)
    flops = step_flops(factory.build(0).to(dtype), **SHAPE)
    return trials * steps / best["vmap"], trials * steps / best["loop"], flops


def scan(dtype: torch.dtype, counts=(1, 4, 16, 32, 128, 512), steps: int = 10) -> list[str]:
    """Markdown rows: trials, ms per vmap step, GFLOP/s; then the least-squares fit
    time = fixed + per_trial x trials and what it implies (see the module doc)."""
    factory = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3})
    flops = step_flops(factory.build(0).to(dtype), **SHAPE)
    mm = _matmul(dtype)
    times = []
    for m in counts:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(steps, m, 1, 1, 32, 32, generator=gen).to(dtype)
        y = torch.randint(0, 3, (steps, m, 1), generator=gen)
        engine = make_trials([factory.build(i).to(dtype) for i in range(m)], "vmap", 0.005)
        best = float("inf")
        for _ in range(4):
            t = time.perf_counter()
            for i in range(steps):
                engine.step(x[i], y[i])
            best = min(best, (time.perf_counter() - t) / steps)
        times.append(best)
    n = torch.tensor(counts, dtype=torch.float64)
    t = torch.tensor(times, dtype=torch.float64)
    slope = float(((n - n.mean()) * (t - t.mean())).sum() / ((n - n.mean()) ** 2).sum())
    fixed = float(t.mean() - slope * n.mean())
    rows = [f"| {m} | {1e3 * s:.2f} | {m * flops / s / 1e9:.2f} |" for m, s in zip(counts, times)]
    at32 = fixed / (fixed + 32 * slope)
    rows.append(f"\n{str(dtype)[6:]}: fixed {1e3 * fixed:.2f} ms per step + {1e3 * slope:.3f} ms "
                f"per trial; at 32 trials the fixed cost is {at32:.0%} of the step; the "
                f"arithmetic alone runs at {flops / slope / 1e9:.1f} GFLOP/s = "
                f"{flops / slope / 1e9 / mm:.0%} of the {mm:.0f} GFLOP/s matrix product")
    return rows


def _matmul(dtype: torch.dtype, n: int = 1024) -> float:
    a = torch.randn(n, n, dtype=dtype)
    a @ a
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--scan", action="store_true", help="what caps the vmap rate (module doc)")
    args = ap.parse_args()
    if args.scan:
        with numerics(True):
            for dtype in (torch.float32, torch.float64):
                print("| trials | ms per vmap step | GFLOP/s |\n|---|---|---|")
                print("\n".join(scan(dtype)) + "\n")
        return 0
    with numerics(True):
        for dtype in (torch.float32, torch.float64):
            vmap, loop, flops = trials_rates(args.trials, args.steps, dtype)
            print(f"{args.trials} trials, {str(dtype)[6:]}: vmap {vmap:.0f} trial-steps/s "
                  f"({vmap * flops / 1e9:.2f} GFLOP/s), loop {loop:.0f} "
                  f"({loop * flops / 1e9:.2f} GFLOP/s), vmap/loop {vmap / loop:.2f}x "
                  f"({flops:.3g} FLOPs per trial-step, torch {torch.get_num_threads()} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
