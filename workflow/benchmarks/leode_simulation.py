"""Benchmark of the LE-ODE simulation (LE-SDE Figure 5): 500 trials x 10^4 steps, the vectorized
simulation vs a straightforward per-trial loop (the authors' structure), in one run.

The loop is timed on --loop-trials trials and its 500-trial time is extrapolated (it is linear in
the number of trials); the printout says so.

Usage: .venv/bin/python workflow/benchmarks/leode_simulation.py [--trials 500] [--steps 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from traindyn.lesde.leode import initial_conditions, simulate, simulate_loop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=500)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--loop-trials", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    t = np.arange(1, args.steps + 1, dtype=np.float64)
    alpha, beta = 0.01 * np.exp(-t / 3000), 0.001 * np.cos(t / 500)
    x0 = initial_conditions(rng.standard_normal((3, 3)), args.trials, rng)
    start = time.perf_counter()
    mean, _ = simulate(x0, alpha, beta)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    full = simulate_loop(x0[: args.loop_trials], alpha, beta)
    per_trial = (time.perf_counter() - start) / args.loop_trials
    check, _ = simulate(x0[: args.loop_trials], alpha, beta)
    print(f"LE-ODE, {args.trials} trials x {args.steps} steps, K = 3")
    print(f"  vectorized        {fast:8.3f} s")
    print(f"  per-trial loop    {per_trial:8.3f} s per trial, {per_trial * args.trials:8.1f} s for "
          f"{args.trials} trials (extrapolated from {args.loop_trials})")
    print(f"  speed-up          {per_trial * args.trials / fast:8.0f} x   (max |difference| of the "
          f"trial mean {np.max(np.abs(full.mean(axis=1) - check)):.1e})")


if __name__ == "__main__":
    main()
