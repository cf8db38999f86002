"""Benchmark of the LE-SDE trainer (ratios measured in one run, on this machine).

1. Training: trial-steps per second of the batched trainer (M trials, one sample each per step)
   vs a one-trial-at-a-time loop of the ordinary network (torch.nn.Module + torch.optim.SGD) on
   the same data, and their ratio.
2. Validation: images per second of the batched evaluation (all trials on shared images), as
   GFLOP/s (0.83 MFLOP per image and trial, traindyn.budget) and as a fraction of the float64 matrix
   product rate measured here (a 1024 x 1024 x 1024 product).

Usage: .venv/bin/python workflow/benchmarks/lesde_training.py [--trials 100] [--steps 30]
       [--dtype float64] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from traindyn.budget import SIMPLECONV_STEP_FLOPS
from traindyn.lesde.model import init_params
from traindyn.lesde.train import RunSpec, evaluate, launch_sizes, train_step
from traindyn.models.simpleconv import SimpleConv

FWD_FLOP = 0.83e6  # SimpleConv, 1 channel, K = 3, forward
STEP_FLOP = SIMPLECONV_STEP_FLOPS


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def rate(fn, device, repeats):
    fn()
    sync(device)
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync(device)
    return (time.perf_counter() - t) / repeats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--val-images", type=int, default=512)
    ap.add_argument("--eval-batch", type=int, default=100)
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)
    m = args.trials
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.steps, m, 1, 32, 32, dtype=dtype, generator=gen).to(device)
    y = torch.randint(0, 3, (args.steps, m), generator=gen).to(device)

    params = init_params(range(m), seed=0, experiment="bench", channels=1, n_classes=3,
                         dtype=dtype, device=device)

    spec = RunSpec("bench", "bench", tuple(range(m)), 1, 0.005, 1, 0, args.dtype)
    block = launch_sizes(spec, device, 1500)[1]

    def batched():
        for s in range(args.steps):
            train_step(params, x[s], y[s], 0.005, block)

    nets = [SimpleConv(1, 3).to(device=device, dtype=dtype).load_trial(params, i) for i in range(m)]
    opts = [torch.optim.SGD(n.parameters(), lr=0.005, momentum=0) for n in nets]

    def loop():
        for i, (net, opt) in enumerate(zip(nets, opts)):
            for s in range(args.steps):
                opt.zero_grad()
                F.cross_entropy(net(x[s, i:i + 1]), y[s, i:i + 1]).backward()
                opt.step()

    t_batch = rate(batched, device, 3) / (args.steps * m)
    t_loop = rate(loop, device, 1) / (args.steps * m)
    print(f"device {device}, dtype {args.dtype}, torch threads {torch.get_num_threads()}, M = {m}")
    print("training (one-sample SGD steps):")
    print(f"  batched trainer      {1 / t_batch:10.0f} trial-steps/s")
    print(f"  one trial at a time  {1 / t_loop:10.0f} trial-steps/s")
    print(f"  ratio                {t_loop / t_batch:10.1f} x")

    xv = torch.randn(args.val_images, 1, 32, 32, dtype=dtype, generator=gen).to(device)
    yv = torch.randint(0, 3, (args.val_images,), generator=gen).to(device)
    t_val = rate(lambda: evaluate(params, xv, yv, args.eval_batch, block), device, 2)
    images = m * args.val_images / t_val
    a = torch.randn(1024, 1024, dtype=dtype, generator=gen).to(device)
    t_mm = rate(lambda: a @ a, device, 5)
    peak = 2 * 1024**3 / t_mm / 1e9
    achieved = images * FWD_FLOP / 1e9
    print(f"  batched trainer at {STEP_FLOP / t_batch / 1e9:.1f} GFLOP/s; 20x the loop would need "
          f"{20 * STEP_FLOP / t_loop / 1e9:.1f} GFLOP/s = {20 * STEP_FLOP / t_loop / 1e9 / peak:.0%}"
          " of the matrix-product rate below")
    print("validation (all trials on shared images):")
    print(f"  {images:10.0f} images/s = {achieved:.1f} GFLOP/s")
    print(f"  matrix-product rate {peak:.1f} GFLOP/s -> achieved fraction {achieved / peak:.0%}")

if __name__ == "__main__":
    main()
