"""Training of perturbed copies of one CIFAR ResNet on the same minibatches (SI §1, Table 1 and
Figure 2), resumable per epoch."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..atomic import atomic_path
from .data import ImageData, minibatches
from .optimizer import PerturbedSGD, split
from .resnet import CopiesResNet, init_copies


def numerics(deterministic: bool) -> None:
    """TF32 off (fp32 means fp32); deterministic kernels so the null control can hold."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        # Deterministic mode also NaN-fills every new tensor (a debugging aid against reads of
        # uninitialized memory, which no kernel here does): a fifth of the CPU step time.
        torch.utils.deterministic.fill_uninitialized_memory = False
        torch.backends.cudnn.benchmark = False


@dataclass(frozen=True)
class NetSpec:
    depth: int
    width: int
    activation: str
    swish_beta: float


def build(spec: NetSpec, data: ImageData, ks: list[int], seed: int, dtype, device):
    model = CopiesResNet(spec.depth, len(ks), data.x_train.shape[1], data.n_classes, spec.width,
                         spec.activation, spec.swish_beta)
    init_copies(model, torch.Generator().manual_seed(seed))
    return model.to(device=device, dtype=dtype)


def loss_and_step(model: CopiesResNet, opt: PerturbedSGD, x: torch.Tensor, y: torch.Tensor):
    """One step of every copy on the same minibatch; returns the per-copy training loss."""
    opt.zero_grad()
    logits = model(x)  # (C, B, K)
    losses = F.cross_entropy(logits.transpose(1, 2), y.expand(model.copies, -1),
                             reduction="none").mean(dim=1)
    losses.sum().backward()  # copies are independent: each gets d(its loss)/d(its weights)
    opt.step()
    return losses.detach()


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


def save_checkpoint(path: str, model, opt: PerturbedSGD, epoch: int, rows: list) -> None:
    with atomic_path(path) as tmp:
        torch.save({"model": model.state_dict(), "opt": opt.state(), "epoch": epoch,
                    "rows": rows}, tmp)


def load_checkpoint(path: str, model, opt: PerturbedSGD, device):
    if not os.path.exists(path):
        return 0, []
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    opt.load(state["opt"])
    return int(state["epoch"]), list(state["rows"])


def progress(total: int, initial: int, desc: str):
    return tqdm(total=total, initial=initial, file=sys.stderr, mininterval=10, desc=desc)

