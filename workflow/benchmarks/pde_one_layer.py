"""Benchmark of the single-layer PDE track (SI Figures 3, 4, Table 2).

Times, in one process on the paper's problem (256x256 checkerboard, 32x32 kernel, float64):
  1. one gradient-descent iteration (loss + exact gradient + update) of the FFT path and of a
     direct sliding-window implementation, and their ratio;
  2. the four PDE steps of the pipeline at the configured (paper) scale, end to end.

Usage: .venv/bin/python workflow/benchmarks/pde_one_layer.py [--repeats 30] [--skip-track]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from scipy.special import expit

from traindyn.pde import pde_steps
from traindyn.pde.inputs import build_problem
from traindyn.pde.one_layer_direct import adjoint_sliding, forward_sliding

ROOT = Path(__file__).resolve().parents[2]


def fast_iteration(model, w, lr, alpha):
    _, grad = model.data_loss_grad(w)
    return w - lr * (grad + alpha * w)


def direct_iteration(image, w, lr, alpha):
    u = forward_sliding(image, w)
    sg = expit(u)
    p = (u * sg).mean()
    ds = sg + u * sg * (1 - sg)
    grad = (expit(p) - 1.0) / u.size * adjoint_sliding(image, ds, w.shape[0])
    return w - lr * (grad + alpha * w)


def timeit(fn, repeats):
    fn()  # warm-up
    best = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return float(np.median(best))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--skip-track", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    p = build_problem({"kind": "checkerboard", "size": 256}, {"size": 32, "seed": 7}, 1.0, "float64")
    image = p.model.image.numpy()
    w_t = p.model.tensor(p.w0)[None]
    fast = timeit(lambda: fast_iteration(p.model, w_t, 0.01, 20.0), args.repeats)
    direct = timeit(lambda: direct_iteration(image, p.w0, 0.01, 20.0), max(3, args.repeats // 5))
    diff = np.max(np.abs(fast_iteration(p.model, w_t, 0.01, 20.0)[0].numpy()
                         - direct_iteration(image, p.w0, 0.01, 20.0)))
    print(f"threads: torch {torch.get_num_threads()}")
    print(f"one GD iteration, 256x256 image, 32x32 kernel, float64 (median of runs):")
    print(f"  FFT path        {fast * 1e3:8.3f} ms")
    print(f"  sliding window  {direct * 1e3:8.3f} ms")
    print(f"  speed-up        {direct / fast:8.1f} x   (max |difference| of the updated kernel "
          f"{diff:.1e})")
    if args.skip_track:
        return
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())["pde"]
    problem = {k: cfg[k] for k in ("image", "kernel", "swish_beta", "dtype")}
    steps = {
        "linear (Fig 3)": lambda out: pde_steps.linear_pde(
            out, problem=problem, lr=cfg["linear"]["lr"], alphas=cfg["linear"]["alphas"],
            iterations=cfg["iterations"]),
        "stability table (Table 2)": lambda out: pde_steps.stability_table(
            out, problem=problem, lrs=cfg["linear"]["table_lrs"],
            iterations=cfg["linear"]["bisection_iterations"]),
        "non-linear (Fig 4 left)": lambda out: pde_steps.nonlinear_pde(
            out, problem=problem, weight_decay=cfg["nonlinear"]["weight_decay"],
            lrs=cfg["nonlinear"]["lrs"], iterations=cfg["iterations"]),
        "amplification (Fig 4 right)": lambda out: pde_steps.error_amplification(
            out, problem=problem, weight_decay=cfg["nonlinear"]["weight_decay"],
            iterations=cfg["iterations"], **cfg["amplification"]),
    }
    total = 0.0
    print("PDE track steps at the config.yaml scale (the paper's):")
    with tempfile.TemporaryDirectory() as tmp:
        for name, step in steps.items():
            t = time.perf_counter()
            step(str(Path(tmp) / "out.npz"))
            dt = time.perf_counter() - t
            total += dt
            print(f"  {name:28s} {dt:7.1f} s")
    print(f"  {'total':28s} {total:7.1f} s")


if __name__ == "__main__":
    main()
