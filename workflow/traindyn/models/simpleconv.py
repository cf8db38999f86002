"""The LE-SDE network (the authors' LeNet-style "SimpleConv") as one ordinary module: the
built-in ``simpleconv`` of studies, and the reference that :mod:`traindyn.lesde.model`'s batched
trials are tested against. A shared module, so that the built-in networks import no family."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class SimpleConv(torch.nn.Module):
    """The network of :mod:`traindyn.lesde.model` for one trial, in PyTorch's default
    initialization; :meth:`load_trial` copies in one trial of the batched parameters."""

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, 6, 5)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2 = torch.nn.Linear(400, 120), torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    def load_trial(self, params: dict[str, torch.Tensor], m: int) -> "SimpleConv":
        with torch.no_grad():
            for name, p in params.items():
                layer, kind = name.split("_")
                getattr(self, layer).weight.copy_(p[m]) if kind == "w" else getattr(
                    self, layer).bias.copy_(p[m])
        return self
