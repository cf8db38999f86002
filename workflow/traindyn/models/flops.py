"""FLOPs of a model counted by torch's own flop counter (``torch.utils.flop_counter``), for
runtime estimates: one forward pass, and one training step (forward, loss, backward) on one
batch. Matrix products and convolutions count (a multiply-add is two FLOPs); element-wise
operations do not, as in :mod:`traindyn.budget`'s cost model."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["step_flops"]


def _batch(model: torch.nn.Module, batch: int, channels: int, image_size: Sequence[int],
           n_classes: int):
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    device = param.device if param is not None else "cpu"
    return (torch.zeros(batch, channels, *image_size, dtype=dtype, device=device),
            torch.zeros(batch, dtype=torch.long, device=device) % max(n_classes, 1))


def forward_flops(model: torch.nn.Module, *, channels: int, image_size: Sequence[int],
                  n_classes: int, batch: int = 1) -> float:
    """FLOPs of one forward pass in eval mode (as a test pass runs; BatchNorm then needs no
    batch statistics, so a batch of one works)."""
    twin = copy.deepcopy(model).eval()
    x, _ = _batch(twin, batch, channels, image_size, n_classes)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        twin(x)
    return float(counter.get_total_flops())


def step_flops(model: torch.nn.Module, *, channels: int, image_size: Sequence[int],
               n_classes: int, batch: int = 1) -> float:
    """FLOPs of one SGD step's forward and backward pass on a batch (a copy of the model runs,
    so the model's gradients and buffers stay as they were)."""
    twin = copy.deepcopy(model).train()
    x, y = _batch(twin, batch, channels, image_size, n_classes)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(twin(x), y).backward()
    return float(counter.get_total_flops())
