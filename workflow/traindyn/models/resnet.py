"""CIFAR ResNets (depth 6n+2, BasicBlocks, widths 16/32/64) for C copies at once: every layer is
a grouped layer with one group per copy, so BatchNorm keeps per-copy statistics and running
buffers, and all copies see the same minibatch in one forward pass.

Where a block changes the shape, the shortcut is the authors' projection (option B: a strided
1x1 convolution + BatchNorm; ResNet-56 has 855,770 parameters) or, selectable, He et al.'s
parameter-free option A (subsample and zero-pad the channels; 853,018).

Initialization as in the authors' code: conv weights ~ N(0, 2/(kh*kw*out_ch)), BN gamma = 1,
beta = 0; the classifier uses PyTorch's default. All copies start from the same weights (the
perturbation experiments copy one initialization).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Swish(nn.Module):
    """x * sigmoid(beta x); the authors' ResNet Swish uses beta = 5."""

    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


def activation(name: str, beta: float) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "swish":
        return Swish(beta)
    raise ValueError(f"unknown activation {name!r}; expected relu or swish")


SHORTCUTS = ("A", "B")


class Block(nn.Module):
    def __init__(self, copies: int, cin: int, cout: int, stride: int, act: nn.Module,
                 shortcut: str = "B") -> None:
        super().__init__()
        if shortcut not in SHORTCUTS:
            raise ValueError(f"unknown shortcut {shortcut!r}; expected A or B")
        self.copies, self.cin, self.cout, self.stride = copies, cin, cout, stride
        self.conv1 = nn.Conv2d(copies * cin, copies * cout, 3, stride, 1, bias=False, groups=copies)
        self.bn1 = nn.BatchNorm2d(copies * cout)
        self.conv2 = nn.Conv2d(copies * cout, copies * cout, 3, 1, 1, bias=False, groups=copies)
        self.bn2 = nn.BatchNorm2d(copies * cout)
        self.act = act
        self.project = None
        if shortcut == "B" and (stride != 1 or cin != cout):
            self.project = nn.Sequential(
                nn.Conv2d(copies * cin, copies * cout, 1, stride, bias=False, groups=copies),
                nn.BatchNorm2d(copies * cout))

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1 and self.cin == self.cout:
            return x
        if self.project is not None:
            return self.project(x)
        x = x[:, :, ::2, ::2]  # option A: subsample and zero-pad the channels of every copy
        b, _, h, w = x.shape
        x = x.reshape(b, self.copies, self.cin, h, w)
        pad = (self.cout - self.cin) // 2
        x = F.pad(x, (0, 0, 0, 0, pad, self.cout - self.cin - pad))
        return x.reshape(b, self.copies * self.cout, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + self.shortcut(x))


class CopiesResNet(nn.Module):
    def __init__(self, depth: int, copies: int, in_channels: int = 3, n_classes: int = 10,
                 width: int = 16, act: str = "relu", beta: float = 5.0,
                 shortcut: str = "B") -> None:
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        self.copies, self.in_channels, self.n_classes = copies, in_channels, n_classes
        widths = (width, 2 * width, 4 * width)
        self.conv1 = nn.Conv2d(copies * in_channels, copies * widths[0], 3, 1, 1, bias=False,
                               groups=copies)
        self.bn1 = nn.BatchNorm2d(copies * widths[0])
        self.act = activation(act, beta)
        layers, cin = [], widths[0]
        for stage, cout in enumerate(widths):
            blocks = []
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(Block(copies, cin, cout, stride, self.act, shortcut))
                cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc_w = nn.Parameter(torch.empty(copies, n_classes, widths[2]))
        self.fc_b = nn.Parameter(torch.empty(copies, n_classes))
        self.width_out = widths[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, in_channels, H, W), the same minibatch for every copy -> logits (C, B, K)."""
        x = x.repeat(1, self.copies, 1, 1)
        out = self.act(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).reshape(x.shape[0], self.copies, self.width_out)
        return torch.baddbmm(self.fc_b[:, None], out.transpose(0, 1), self.fc_w.transpose(1, 2))


def init_copies(model: CopiesResNet, generator: torch.Generator) -> None:
    """One initialization drawn once and copied into every copy."""
    c = model.copies
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                out_per_copy = module.out_channels // c
                fan = module.kernel_size[0] * module.kernel_size[1] * out_per_copy
                one = torch.randn(module.weight.shape[0] // c, *module.weight.shape[1:],
                                  generator=generator) * math.sqrt(2.0 / fan)
                module.weight.copy_(one.repeat(c, 1, 1, 1))
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
        bound = 1 / math.sqrt(model.width_out)
        w = (torch.rand(model.n_classes, model.width_out, generator=generator) * 2 - 1) * bound
        b = (torch.rand(model.n_classes, generator=generator) * 2 - 1) * bound
        model.fc_w.copy_(w.expand(c, -1, -1))
        model.fc_b.copy_(b.expand(c, -1))
