"""Operators launched per training step, counted with torch.profiler on the CPU (on a GPU each is
a kernel launch; views excluded): the LE-SDE step and validation pass with the CPU launch sizes
(trial blocks of 25, 16 validation images per pass) and the GPU ones (everything in one call), and
one optimizer step of the Table 1 job as a per-parameter loop and as multi-tensor operations.

Usage: .venv/bin/python workflow/benchmarks/launch_counts.py [--trials 100] [--val 1500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from traindyn.instab.optimizer import PerturbedSGD, split  # noqa: E402
from traindyn.instab.train import loss_and_step  # noqa: E402
from traindyn.lesde.model import init_params  # noqa: E402
from traindyn.lesde.train import evaluate, train_step  # noqa: E402
from traindyn.models.resnet import CopiesResNet, init_copies  # noqa: E402

VIEWS = {f"aten::{n}" for n in ("select", "view", "as_strided", "slice", "narrow", "reshape",
                                 "transpose", "t", "expand", "unsqueeze", "squeeze", "permute",
                                 "detach", "alias", "_unsafe_view", "unbind", "split")}


def count(fn) -> int:
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return sum(1 for e in prof.events() if e.name.startswith("aten::") and e.name not in VIEWS
               and (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")))


def loop_step(params, ks, lr, m, wd, bufs) -> None:
    """The per-parameter, per-copy update the multi-tensor optimizer replaced."""
    with torch.no_grad():
        for i, p in enumerate(params):
            d_p = p.grad.add(p, alpha=wd)
            bufs[i] = d_p.clone() if bufs[i] is None else bufs[i].mul_(m).add_(d_p)
            d_p = d_p.add(bufs[i], alpha=m)
            for c, k in enumerate(ks):
                scaled = split(d_p, len(ks))[c] / k if k != 1 else split(d_p, len(ks))[c]
                split(p, len(ks))[c].add_(scaled, alpha=-(lr * k))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--val", type=int, default=1500)
    args = ap.parse_args()
    m = args.trials
    params = init_params(range(m), seed=0, experiment="bench", channels=1, n_classes=3)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(m, 1, 32, 32, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 3, (m,), generator=gen)
    xv = torch.randn(args.val, 1, 32, 32, dtype=torch.float64, generator=gen)
    yv = torch.randint(0, 3, (args.val,), generator=gen)
    print(f"operators per call (views excluded), M = {m} trials, {args.val} validation images")
    # the torch path, which a GPU runs (a CPU runs the native kernels: one call per step)
    print(f"  LE-SDE step (torch path)        block 25: "
          f"{count(lambda: train_step(params, x, y, 0.01, 25, native=False)):6d}"
          f"   block {m}: {count(lambda: train_step(params, x, y, 0.01, m, native=False)):6d}")
    print(f"  LE-SDE validation (torch path)  16 x 25: "
          f"{count(lambda: evaluate(params, xv, yv, 16, 25, native=False)):6d}"
          f"   {args.val} x {m}: {count(lambda: evaluate(params, xv, yv, args.val, m, native=False)):6d}")
    ks = [1, 3, 5, 7, 9, 11, 1]
    net = CopiesResNet(56, len(ks), width=16)
    init_copies(net, torch.Generator().manual_seed(0))
    opt = PerturbedSGD(net.parameters(), ks=ks, lr=0.1, momentum=0.9, weight_decay=5e-4,
                       nesterov=True)
    xb, yb = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    loss_and_step(net, opt, xb, yb)
    bufs = [opt.state[p]["momentum_buffer"].clone() for p in net.parameters()]
    plist = list(net.parameters())
    foreach = count(opt.step)
    loop = count(lambda: loop_step(plist, ks, 0.1, 0.9, 5e-4, bufs))
    print(f"  Table 1 update (ResNet-56, 7 copies, {len(plist)} tensors): per-parameter loop "
          f"{loop:6d}   multi-tensor {foreach:6d}")
    total = count(lambda: loss_and_step(net, opt, xb, yb))
    print(f"  Table 1 / Figure 2 step (forward, backward, update): {total}")


if __name__ == "__main__":
    main()
