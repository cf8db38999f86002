"""Training of perturbed copies of one CIFAR ResNet on the same minibatches (SI Table 1 and
Figure 2), with checkpoints inside the job's owned work directory (:mod:`traindyn.workdir`)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..models.builtin import resnet_copies
from ..models.resnet import CopiesResNet
from ..models.sequential import SequentialCopies, copy_axis
from .data import ImageData, minibatches
from .optimizer import PerturbedSGD, split


@dataclass(frozen=True)
class NetSpec:
    depth: int
    width: int
    activation: str
    swish_beta: float
    shortcut: str = "B"  # the authors' projection; "A" for zero-padding shortcuts


def build(spec: NetSpec, data: ImageData, ks: list[int], seed: int, dtype, device):
    """The copies of one seed, all from the same initialization: grouped on a GPU, sequential
    single-copy networks on a CPU (:class:`~traindyn.models.sequential.SequentialCopies`); the
    layout of the built-in ``cifar_resnet`` (:func:`traindyn.models.builtin.resnet_copies`)."""
    return resnet_copies(ks, seed, dtype, device, depth=spec.depth, width=spec.width,
                         in_channels=data.x_train.shape[1], n_classes=data.n_classes,
                         activation=spec.activation, swish_beta=spec.swish_beta,
                         shortcut=spec.shortcut)


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


def _weight(net: nn.Module, layer: str) -> torch.Tensor:
    """A parameter by name ('fc.weight'), or a layer's weight by the layer's name ('conv1')."""
    params = dict(net.named_parameters())
    return params[layer] if layer in params else net.get_submodule(layer).weight


def layer_weight(model: CopiesResNet | SequentialCopies, layer: str) -> torch.Tensor:
    """The (copies, ...) weights of a named layer, e.g. 'layer2.5.conv1', or of a named
    parameter."""
    if isinstance(model, SequentialCopies):
        return torch.stack([_weight(net, layer) for net in model.nets])
    return split(_weight(model, layer), model.copies)


def loss_and_step(model: CopiesResNet | SequentialCopies, opt: PerturbedSGD, x: torch.Tensor, y: torch.Tensor):
    """One step of every copy on the same minibatch; returns the per-copy training loss."""
    return step_with_accuracy(model, opt, x, y)[0]


def step_with_accuracy(model: CopiesResNet | SequentialCopies, opt: PerturbedSGD, x: torch.Tensor,
                       y: torch.Tensor, step_seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of every copy on the same minibatch: per-copy training loss and the number of
    the minibatch's images each copy classified correctly before the step (both on the device).
    Every random number a copy's forward draws from torch's generators (dropout masks, random
    layers) is the same for every copy: the generators are seeded from ``step_seed`` before
    each copy (and the caller's state is restored afterwards), so copies differ by rounding
    alone and the null control stays bit-identical."""
    opt.zero_grad()
    with shared_draws(step_seed, x.device) as reset:
        if isinstance(model, SequentialCopies):
            # forward and backward one copy per worker at a time: only those copies'
            # activations are alive. Side by side, each copy also takes its own step (its
            # parameter group, as optimizer() builds them); else one step for all
            x = model.layout(x)
            own = model.side_by_side and _group_per_copy(model, opt)

            def copy_step(c: int, net: nn.Module):
                out = _forward_backward(net, x, y)
                if own:
                    opt.step_group(c)
                return out
            logits, losses = zip(*model.each(copy_step, reset))
            logits, losses = torch.cat(logits), torch.cat(losses)
            if not own:
                opt.step()
        else:
            reset()
            logits, losses = _forward_backward(model, x, y)
            opt.step()
    correct = (logits.argmax(dim=2) == y).sum(dim=1)
    return losses, correct


def _group_per_copy(model: SequentialCopies, opt: PerturbedSGD) -> bool:
    """Parameter group c holds exactly copy c's parameters (as :func:`optimizer` builds them)."""
    groups = opt.param_groups
    return len(groups) == model.copies and all(
        [id(p) for p in g["params"]] == [id(p) for p in net.parameters()]
        for g, net in zip(groups, model.nets))


@contextmanager
def shared_draws(seed: int, device: torch.device):
    """Yields ``reset()``, which seeds torch's CPU generator (and ``device``'s, on a GPU) from
    ``seed``; the generators' states from before are restored on exit."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type="cuda" if devices else None):
        def reset() -> None:
            torch.manual_seed(seed)
        yield reset


def step_seed(seed: int, epoch: int, step: int) -> int:
    """The seed of one step's random draws (dropout), a pure function of (seed, epoch, step)."""
    state = np.random.SeedSequence([seed, epoch, step, 0xD5]).generate_state(1, np.uint64)[0]
    return int(state) & 0x7FFF_FFFF_FFFF_FFFF


def _forward_backward(model: CopiesResNet, x: torch.Tensor, y: torch.Tensor):
    """Logits (C, B, K) and per-copy losses (C,), detached, after accumulating the gradients."""
    logits = copy_axis(model(x))
    losses = F.cross_entropy(logits.transpose(1, 2), y.expand(logits.shape[0], -1),
                             reduction="none").mean(dim=1)
    losses.sum().backward()  # copies are independent: each gets d(its loss)/d(its weights)
    return logits.detach(), losses.detach()


def train_epoch(model: CopiesResNet | SequentialCopies, opt: PerturbedSGD, images: ImageData,
                batch: int, seed: int, epoch: int, lr: float, milestones,
                on_step=None) -> tuple[np.ndarray, np.ndarray]:
    """One epoch of every copy on the seeded minibatches of (seed, epoch), the learning rate
    divided by 10 at each milestone passed; per-copy mean training loss and running training
    accuracy (before each step, on the epoch's possibly augmented minibatches). ``on_step()``
    runs after every step."""
    for group in opt.param_groups:
        group["lr"] = lr * 0.1 ** sum(epoch >= m for m in milestones)
    steps = []
    for i, (x, y) in enumerate(minibatches(images, batch, seed, epoch)):
        steps.append(step_with_accuracy(model, opt, x, y, step_seed(seed, epoch, i)))
        if on_step is not None:
            on_step()
    train_loss = torch.stack([s[0] for s in steps]).mean(dim=0).cpu().numpy()
    train_acc = (torch.stack([s[1] for s in steps]).sum(dim=0).double()
                 / len(images.y_train)).cpu().numpy()
    return train_loss, train_acc


@torch.no_grad()
def accuracy(model: CopiesResNet | SequentialCopies, x: torch.Tensor, y: torch.Tensor, batch: int) -> np.ndarray:
    model.eval()
    correct = torch.zeros(model.copies, device=x.device)
    for start in range(0, len(y), batch):
        pred = model(x[start:start + batch]).argmax(dim=2)
        correct += (pred == y[start:start + batch]).sum(dim=1)
    model.train()
    return (correct / len(y)).cpu().numpy()


@torch.no_grad()
def logit_health(model: CopiesResNet | SequentialCopies, x: torch.Tensor,
                 batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Per copy, on the test images: the fraction of logits that are exactly 0 and the largest
    spread (std over images) of any logit -- 0 when the network's output does not depend on its
    input (a dead or untrained head)."""
    model.eval()
    logits = torch.cat([model(x[start:start + batch]) for start in range(0, len(x), batch)],
                       dim=1).double()  # (copies, N, K)
    model.train()
    zero = (logits == 0).double().mean(dim=(1, 2))
    spread = logits.std(dim=1, unbiased=False).amax(dim=1) if logits.shape[1] > 1 else (
        torch.zeros(logits.shape[0], dtype=torch.float64))
    return zero.cpu().numpy(), spread.cpu().numpy()


def copies_identical(model: CopiesResNet | SequentialCopies, a: int, b: int) -> bool:
    """Bitwise equality of two copies' parameters and BatchNorm buffers."""
    return all(torch.equal(u, v) for u, v in zip(copy_tensors(model, a), copy_tensors(model, b)))


def progress(total: int, initial: int, desc: str):
    return tqdm(total=total, initial=initial, file=sys.stderr, mininterval=10, desc=desc)

