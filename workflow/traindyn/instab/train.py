"""Training of perturbed copies of one CIFAR ResNet on the same minibatches (SI Table 1 and
Figure 2), with checkpoints inside the job's owned work directory (:mod:`traindyn.workdir`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..atomic import atomic_path
from ..workdir import WorkDir
from .data import ImageData, minibatches
from .optimizer import PerturbedSGD, split
from .resnet import CopiesResNet, init_copies


@dataclass(frozen=True)
class NetSpec:
    depth: int
    width: int
    activation: str
    swish_beta: float
    shortcut: str = "B"  # the authors' projection; "A" for zero-padding shortcuts


def build(spec: NetSpec, data: ImageData, ks: list[int], seed: int, dtype, device):
    model = CopiesResNet(spec.depth, len(ks), data.x_train.shape[1], data.n_classes, spec.width,
                         spec.activation, spec.swish_beta, spec.shortcut)
    init_copies(model, torch.Generator().manual_seed(seed))
    return model.to(device=device, dtype=dtype)


def loss_and_step(model: CopiesResNet, opt: PerturbedSGD, x: torch.Tensor, y: torch.Tensor):
    """One step of every copy on the same minibatch; returns the per-copy training loss."""
    return step_with_accuracy(model, opt, x, y)[0]


def step_with_accuracy(model: CopiesResNet, opt: PerturbedSGD, x: torch.Tensor,
                       y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of every copy on the same minibatch: per-copy training loss and the number of
    the minibatch's images each copy classified correctly before the step (both on the device)."""
    opt.zero_grad()
    logits = model(x)  # (C, B, K)
    losses = F.cross_entropy(logits.transpose(1, 2), y.expand(model.copies, -1),
                             reduction="none").mean(dim=1)
    losses.sum().backward()  # copies are independent: each gets d(its loss)/d(its weights)
    opt.step()
    correct = (logits.detach().argmax(dim=2) == y).sum(dim=1)
    return losses.detach(), correct


@torch.no_grad()
def accuracy(model: CopiesResNet, x: torch.Tensor, y: torch.Tensor, batch: int) -> np.ndarray:
    model.eval()
    correct = torch.zeros(model.copies, device=x.device)
    for start in range(0, len(y), batch):
        pred = model(x[start:start + batch]).argmax(dim=2)
        correct += (pred == y[start:start + batch]).sum(dim=1)
    model.train()
    return (correct / len(y)).cpu().numpy()


def copies_identical(model: CopiesResNet, a: int, b: int) -> bool:
    """Bitwise equality of two copies' parameters and BatchNorm buffers."""
    for t in list(model.parameters()) + list(model.buffers()):
        if t.ndim == 0:
            continue
        v = split(t, model.copies)
        if not torch.equal(v[a], v[b]):
            return False
    return True


def save_checkpoint(work: WorkDir, model, opt: PerturbedSGD, progress: dict) -> None:
    """Model, optimizer and the job's own ``progress`` record (counters, rows so far)."""
    work.check()
    with atomic_path(work.path / "checkpoint.pt") as tmp:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "progress": progress}, tmp)


def load_checkpoint(work: WorkDir, model, opt: PerturbedSGD, device) -> dict | None:
    """Restore model and optimizer from the work directory; the saved ``progress`` or None.
    (The directory's run fingerprint has matched, so the state is this run's.)"""
    path = work.path / "checkpoint.pt"
    if not path.exists():
        return None
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    return state["progress"]


def progress(total: int, initial: int, desc: str):
    return tqdm(total=total, initial=initial, file=sys.stderr, mininterval=10, desc=desc)

