"""The perturbed SGD of the authors' PDE_nesterov (SI notes §1): torch-1.8 SGD with the step split
as (lr*k) * (d_p/k). In exact arithmetic every k gives the same update; in floating point k = 1 is
plain SGD bit for bit, powers of two change nothing, other k round differently.

Per parameter, in the authors' order: d_p = g + wd*p; momentum buffer (clone on the first step,
then buf = m*buf + (1-dampening)*d_p); Nesterov d_p = d_p + m*buf (else d_p = buf); d_p = d_p / k;
p += -(lr*k) * d_p. Copies are stacked on the leading axis (copies * n, ...), each with its own k;
the element-wise steps run on the whole stack (identical per element), the last one copy by copy
with exactly the kernel torch.optim.SGD(foreach=False) uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def split(t: torch.Tensor, copies: int) -> torch.Tensor:
    """View a stacked parameter (copies * n, ...) as (copies, n, ...)."""
    return t.view(copies, t.shape[0] // copies, *t.shape[1:])


class PerturbedSGD:
    def __init__(self, params: Sequence[torch.Tensor], ks: Sequence[int], lr: float,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if any(k < 1 for k in ks):
            raise ValueError(f"perturbation factors k must be >= 1, got {list(ks)}")
        self.params = list(params)
        self.ks = [int(k) for k in ks]
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.buffers: list[torch.Tensor | None] = [None] * len(self.params)

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            grad = p.grad
            d_p = grad.add(p, alpha=self.weight_decay) if self.weight_decay else grad.clone()
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = d_p.clone().detach()
                else:
                    self.buffers[i].mul_(self.momentum).add_(d_p, alpha=1 - self.dampening)
                buf = self.buffers[i]
                d_p = d_p.add(buf, alpha=self.momentum) if self.nesterov else buf.clone()
            d_view, p_view = split(d_p, len(self.ks)), split(p, len(self.ks))
            for c, k in enumerate(self.ks):  # copy c of the stacked parameter
                scaled = d_view[c] / k if k != 1 else d_view[c]
                p_view[c].add_(scaled, alpha=-(self.lr * k))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state(self) -> dict:
        return {"buffers": [b for b in self.buffers], "lr": self.lr}

    def load(self, state: dict) -> None:
        self.buffers = list(state["buffers"])
        self.lr = state["lr"]
