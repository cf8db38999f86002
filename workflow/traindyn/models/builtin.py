"""The papers' networks as ordinary one-model modules, for studies: the LE-SDE SimpleConv and the
SI CIFAR ResNet (one copy; logits (B, K)). Built by :class:`~traindyn.models.names.ModelFactory`
under a seed, the ResNet gets the authors' initialization from that seed, the same weights every
copy of the SI runs gets (:func:`traindyn.instab.train.build` lays them out with
:func:`resnet_copies`). The networks are shared modules (:mod:`.simpleconv`, :mod:`.resnet`,
:mod:`.sequential`): the families import them, not the other way round."""

from __future__ import annotations

import torch

from .resnet import CopiesResNet, init_copies
from .sequential import SequentialCopies
from .simpleconv import SimpleConv


def simple_conv(in_channels: int = 1, n_classes: int = 3) -> SimpleConv:
    """The LE-SDE network (PyTorch's default initialization from torch's global generator)."""
    return SimpleConv(in_channels, n_classes)


class CifarResNet(CopiesResNet):
    """A single-copy CIFAR ResNet whose forward returns logits (B, K) like any classifier; its
    parameter names are those of the SI runs' networks (``layer2.0.conv1.weight``)."""

    def __init__(self, depth: int, in_channels: int, n_classes: int, width: int,
                 activation: str, swish_beta: float, shortcut: str) -> None:
        super().__init__(depth, 1, in_channels, n_classes, width, activation, swish_beta,
                         shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)[0]


def cifar_resnet(depth: int = 20, width: int = 16, in_channels: int = 3, n_classes: int = 10,
                 activation: str = "relu", swish_beta: float = 5.0,
                 shortcut: str = "B") -> CifarResNet:
    """The SI network; initialized as the authors do from torch's initial seed (under
    ``ModelFactory.build(seed)``: from ``seed``)."""
    model = CifarResNet(depth, in_channels, n_classes, width, activation, swish_beta, shortcut)
    init_copies(model, torch.Generator().manual_seed(torch.initial_seed()))
    return model


def resnet_copies(ks, seed: int, dtype: torch.dtype, device, *, depth: int = 20, width: int = 16,
                  in_channels: int = 3, n_classes: int = 10, activation: str = "relu",
                  swish_beta: float = 5.0, shortcut: str = "B"):
    """The SI runs' layout of len(ks) copies from one initialization (drawn from ``seed``):
    grouped on a GPU, channels-last single-copy networks side by side on a CPU (one thread
    each: the network draws no random numbers)."""
    def net(copies: int) -> CopiesResNet:
        model = CopiesResNet(depth, copies, in_channels, n_classes, width, activation, swish_beta,
                             shortcut)
        init_copies(model, torch.Generator().manual_seed(seed))
        return model.to(device=device, dtype=dtype)
    if torch.device(device).type == "cpu":
        return SequentialCopies([net(1).to(memory_format=torch.channels_last) for _ in ks],
                                side_by_side=True)
    return net(len(ks))


cifar_resnet.copies = resnet_copies  # the faster layout of its copies (see ModelFactory)
