"""Benchmark of the perturbed-copies trainer (SI Table 1): training images per second summed over
copies, all copies batched in one grouped model vs the same copies trained one after another
(each its own single-copy model), on the same minibatches, in one run.

Usage: .venv/bin/python workflow/benchmarks/instab_copies.py [--depth 8] [--width 16]
       [--copies 7] [--batch 128] [--steps 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import torch

from traindyn.instab.optimizer import PerturbedSGD
from traindyn.instab.train import loss_and_step
from traindyn.models.resnet import CopiesResNet, init_copies
from traindyn.runtime import numerics


def make(depth, width, copies, device):
    net = CopiesResNet(depth, copies, 3, 10, width, "relu", 5.0)
    init_copies(net, torch.Generator().manual_seed(0))
    net = net.to(device)
    ks = [1, 3, 5, 7, 9, 11, 1][:copies] if copies <= 7 else [1] * copies
    return net, PerturbedSGD(list(net.parameters()), ks, 0.1, 0.9, 0.0, 5e-4, True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--copies", type=int, default=7)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    numerics(True).__enter__()  # for the whole benchmark process
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randn(args.batch, 3, 32, 32, generator=gen).to(device),
                torch.randint(0, 10, (args.batch,), generator=gen).to(device))
               for _ in range(args.steps + 1)]

    def run(models):
        for net, opt in models:
            loss_and_step(net, opt, *batches[0])  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for x, y in batches[1:]:
            for net, opt in models:
                loss_and_step(net, opt, x, y)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    images = args.copies * args.batch * args.steps
    t_batched = run([make(args.depth, args.width, args.copies, device)])
    t_seq = run([make(args.depth, args.width, 1, device) for _ in range(args.copies)])
    print(f"ResNet-{args.depth} width {args.width}, {args.copies} copies, batch {args.batch}, "
          f"{device}, torch threads {torch.get_num_threads()}")
    print(f"  batched (one grouped model)  {images / t_batched:8.1f} images/s")
    print(f"  one copy after another       {images / t_seq:8.1f} images/s")
    print(f"  ratio                        {t_seq / t_batched:8.2f} x")


if __name__ == "__main__":
    main()
