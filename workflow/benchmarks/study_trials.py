"""Many trials of one model as a study trains them: vmap-batched (torch.func) vs a loop of
single models, on this CPU.

  .venv/bin/python workflow/benchmarks/study_trials.py [--trials 32] [--steps 20]

Prints trial-steps per second of both strategies (one-sample SGD of the LE-SDE SimpleConv on
1 x 32 x 32 images, K = 3, as a study would run it: :mod:`traindyn.lesde.trial_models`), their
ratio, and the arithmetic rate from the FLOPs torch's flop counter gives for one step. ``make
bench`` reports the same measurements (bench_all.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
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
