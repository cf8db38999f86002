"""Copies of one network run one after another: the CPU layout of the perturbed copies, of the
built-in CIFAR ResNet (:func:`traindyn.models.builtin.resnet_copies`) and of any model
(:func:`traindyn.instab.copies.train_copies`). Shared, so that the built-in networks import no
family."""

from __future__ import annotations

import torch
from torch import nn


class SequentialCopies(nn.Module):
    """The CPU layout of C copies: C single-copy networks, each run on the same minibatch one
    after another, in the channels-last memory format (``channels_last=False``: as they are,
    for copies of any model, whose logits may be (B, K)). Same interface as the grouped
    :class:`~traindyn.models.resnet.CopiesResNet` (``copies``, forward -> logits (C, B, K));
    each copy has its own BatchNorm statistics, and a copy's arithmetic is exactly that of the
    network trained alone (in this layout). On a CPU this is faster than the grouped model
    (whose grouped convolutions run below the speed of C ordinary ones there), and channels-last
    convolutions run 1.3-1.4x faster than PyTorch's default layout there (make bench); on a GPU
    the grouped model fills the device with one launch per layer."""

    def __init__(self, nets: list[nn.Module], channels_last: bool = True) -> None:
        super().__init__()
        if any(getattr(net, "copies", 1) != 1 for net in nets):
            raise ValueError("SequentialCopies holds single-copy networks")
        self.nets = nn.ModuleList(nets)
        self.copies = len(nets)
        self.channels_last = channels_last

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layout(x)
        return torch.cat([copy_axis(net(x)) for net in self.nets])


def copy_axis(logits: torch.Tensor) -> torch.Tensor:
    """Logits (C, B, K) of a copies model, or (1, B, K) of an ordinary classifier's (B, K)."""
    return logits if logits.ndim == 3 else logits[None]
