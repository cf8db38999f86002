"""Training of perturbed copies of one CIFAR ResNet on the same minibatches (SI Table 1 and
Figure 2), with checkpoints inside the job's owned work directory (:mod:`traindyn.workdir`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
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


class SequentialCopies(nn.Module):
    """The CPU layout of C copies: C single-copy networks, each run on the same minibatch one
    after another, in the channels-last memory format. Same interface as the grouped
    :class:`CopiesResNet` (``copies``, forward -> logits (C, B, K)); each copy has its own
    BatchNorm statistics, and a copy's arithmetic is exactly that of the network trained alone
    (in this layout). On a CPU this is faster than the grouped model (whose grouped convolutions
    run below the speed of C ordinary ones there), and channels-last convolutions run 1.3-1.4x
    faster than PyTorch's default layout there (make bench); on a GPU the grouped model fills the
    device with one launch per layer."""

    def __init__(self, nets: list[CopiesResNet]) -> None:
        super().__init__()
        if any(net.copies != 1 for net in nets):
            raise ValueError("SequentialCopies holds single-copy networks")
        self.nets = nn.ModuleList(nets)
        self.copies = len(nets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        return torch.cat([net(x) for net in self.nets])


def build(spec: NetSpec, data: ImageData, ks: list[int], seed: int, dtype, device):
    """The copies of one seed, all from the same initialization: grouped on a GPU, sequential
    single-copy networks on a CPU (:class:`SequentialCopies`)."""
    def net(copies: int) -> CopiesResNet:
        model = CopiesResNet(spec.depth, copies, data.x_train.shape[1], data.n_classes,
                             spec.width, spec.activation, spec.swish_beta, spec.shortcut)
        init_copies(model, torch.Generator().manual_seed(seed))
        return model.to(device=device, dtype=dtype)
    if torch.device(device).type == "cpu":
        return SequentialCopies([net(1).to(memory_format=torch.channels_last) for _ in ks])
    return net(len(ks))


def optimizer(model: CopiesResNet | SequentialCopies, ks: list[int], lr: float,
              momentum: float = 0.0, weight_decay: float = 0.0,
              nesterov: bool = False) -> PerturbedSGD:
    """Perturbed SGD for the copies: one k per stacked copy of a grouped model, or one parameter
    group with its own k per network of a :class:`SequentialCopies`."""
    if isinstance(model, SequentialCopies):
        params = [{"params": list(n.parameters()), "ks": [int(k)]} for n, k in zip(model.nets, ks)]
    else:
        params = list(model.parameters())
    return PerturbedSGD(params, list(ks), lr, momentum, 0.0, weight_decay, nesterov)


def copy_tensors(model: CopiesResNet | SequentialCopies, c: int) -> list[torch.Tensor]:
    """Copy c's parameters and BatchNorm buffers (views, in a fixed order)."""
    if isinstance(model, SequentialCopies):
        net = model.nets[c]
        return [t for t in list(net.parameters()) + list(net.buffers()) if t.ndim > 0]
    return [split(t, model.copies)[c] for t in list(model.parameters()) + list(model.buffers())
            if t.ndim > 0]


def layer_weight(model: CopiesResNet | SequentialCopies, layer: str) -> torch.Tensor:
    """The (copies, ...) weights of a named conv layer, e.g. 'layer2.5.conv1'."""
    if isinstance(model, SequentialCopies):
        return torch.stack([net.get_submodule(layer).weight for net in model.nets])
    return split(model.get_submodule(layer).weight, model.copies)


def loss_and_step(model: CopiesResNet | SequentialCopies, opt: PerturbedSGD, x: torch.Tensor, y: torch.Tensor):
    """One step of every copy on the same minibatch; returns the per-copy training loss."""
    return step_with_accuracy(model, opt, x, y)[0]


def step_with_accuracy(model: CopiesResNet | SequentialCopies, opt: PerturbedSGD, x: torch.Tensor,
                       y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of every copy on the same minibatch: per-copy training loss and the number of
    the minibatch's images each copy classified correctly before the step (both on the device)."""
    opt.zero_grad()
    if isinstance(model, SequentialCopies):
        # forward and backward one copy at a time: only one copy's activations are alive, as
        # when the copies are trained one after another; then one optimizer step for all
        x = x.contiguous(memory_format=torch.channels_last)
        logits, losses = zip(*(_forward_backward(net, x, y) for net in model.nets))
        logits, losses = torch.cat(logits), torch.cat(losses)
    else:
        logits, losses = _forward_backward(model, x, y)
    opt.step()
    correct = (logits.argmax(dim=2) == y).sum(dim=1)
    return losses, correct


def _forward_backward(model: CopiesResNet, x: torch.Tensor, y: torch.Tensor):
    """Logits (C, B, K) and per-copy losses (C,), detached, after accumulating the gradients."""
    logits = model(x)
    losses = F.cross_entropy(logits.transpose(1, 2), y.expand(logits.shape[0], -1),
                             reduction="none").mean(dim=1)
    losses.sum().backward()  # copies are independent: each gets d(its loss)/d(its weights)
    return logits.detach(), losses.detach()


@torch.no_grad()
def accuracy(model: CopiesResNet | SequentialCopies, x: torch.Tensor, y: torch.Tensor, batch: int) -> np.ndarray:
    model.eval()
    correct = torch.zeros(model.copies, device=x.device)
    for start in range(0, len(y), batch):
        pred = model(x[start:start + batch]).argmax(dim=2)
        correct += (pred == y[start:start + batch]).sum(dim=1)
    model.train()
    return (correct / len(y)).cpu().numpy()


def copies_identical(model: CopiesResNet | SequentialCopies, a: int, b: int) -> bool:
    """Bitwise equality of two copies' parameters and BatchNorm buffers."""
    return all(torch.equal(u, v) for u, v in zip(copy_tensors(model, a), copy_tensors(model, b)))


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

