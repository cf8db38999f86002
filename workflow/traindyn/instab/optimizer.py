"""The perturbed SGD of the authors' PDE_nesterov: torch-1.8 SGD with the step split as
(lr*k) * (d_p/k). In exact arithmetic every k gives the same update; in floating point k = 1 is
plain SGD bit for bit, powers of two change nothing, other k round differently.

Per parameter, in the authors' order: d_p = g + wd*p; momentum buffer (clone on the first step,
then buf = m*buf + (1-dampening)*d_p); Nesterov d_p = d_p + m*buf (else d_p = buf); d_p = d_p / k;
p += -(lr*k) * d_p.

A ``torch.optim.Optimizer``: use it on any model (``PerturbedSGD(model.parameters(), ks=3,
lr=0.1)``), with ``state_dict``/``load_state_dict`` and the ``torch.optim.lr_scheduler`` classes.
For C copies of a model stacked on the leading axis of every parameter ((C * n, ...), as
``CopiesResNet`` holds them) pass one k per copy (``ks=[1, 3, 5]``). Each stage runs as one
multi-tensor (foreach) operation over all parameters of a group, and the last one once per copy,
so a step launches a few kernels per copy instead of a few per parameter and copy; on the CPU the
foreach operations are the per-tensor kernels, so the result is bitwise that of a loop.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import torch

__all__ = ["PerturbedSGD"]


def perturbation_factors(ks) -> list[int]:
    """``ks`` as a list of integers >= 1: one k (``3``) or one per copy (``[1, 3, 5]``). An integral
    float (``3.0``) is that integer; anything else (``2.7``, ``0``, ``True``, an empty list) is an
    error rather than a silently different k."""
    items = ks if isinstance(ks, (list, tuple)) else [ks]
    bad = [k for k in items if isinstance(k, bool) or not isinstance(k, numbers.Real)
           or not float(k).is_integer() or k < 1]
    if not items or bad:
        raise ValueError(f"perturbation factors k must be integers >= 1, got ks={ks!r}")
    return [int(k) for k in items]


def split(t: torch.Tensor, copies: int) -> torch.Tensor:
    """View a stacked parameter (copies * n, ...) as (copies, n, ...)."""
    return t.view(copies, t.shape[0] // copies, *t.shape[1:])


class PerturbedSGD(torch.optim.Optimizer):
    def __init__(self, params: Iterable, ks: int | Sequence[int], lr: float,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        ks = perturbation_factors(ks)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if lr <= 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        defaults = dict(lr=lr, ks=ks, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        """torch's, plus the checks of a group's own ``ks`` (the constructor adds its groups
        through here too, so a group's ``"ks": [0]`` is refused like ``ks=0``)."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            group["ks"] = perturbation_factors(group["ks"])
        except ValueError as err:
            self.param_groups.pop()
            raise ValueError(f"parameter group {len(self.param_groups)}: {err}") from None
        c = len(group["ks"])
        for p in group["params"]:
            if c > 1 and (p.ndim == 0 or p.shape[0] % c):
                self.param_groups.pop()
                raise ValueError(f"a parameter of shape {tuple(p.shape)} cannot hold "
                                 f"{c} stacked copies")

    @property
    def ks(self) -> list[int]:
        return self.param_groups[0]["ks"]

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    @torch.no_grad()
    def step_group(self, index: int) -> None:
        """The step of parameter group ``index`` alone (each group's update reads and writes
        only its own parameters and state: copies side by side step their own groups)."""
        self._step_group(self.param_groups[index])

    def _step_group(self, group: dict) -> None:
        params = [p for p in group["params"] if p.grad is not None]
        if params:
            self._update(group, params)

    def _update(self, group: dict, params: list[torch.Tensor]) -> None:
        grads = [p.grad for p in params]
        wd, m, damp = group["weight_decay"], group["momentum"], group["dampening"]
        d_ps = torch._foreach_add(grads, params, alpha=wd) if wd else [g.clone() for g in grads]
        if m:
            states = [self.state[p] for p in params]
            new = [i for i, s in enumerate(states) if "momentum_buffer" not in s]
            old = [i for i, s in enumerate(states) if "momentum_buffer" in s]
            for i in new:
                states[i]["momentum_buffer"] = d_ps[i].clone().detach()
            if old:
                bufs = [states[i]["momentum_buffer"] for i in old]
                torch._foreach_mul_(bufs, m)
                torch._foreach_add_(bufs, [d_ps[i] for i in old], alpha=1 - damp)
            bufs = [s["momentum_buffer"] for s in states]
            d_ps = (torch._foreach_add(d_ps, bufs, alpha=m) if group["nesterov"]
                    else [b.clone() for b in bufs])
        ks, lr = group["ks"], group["lr"]
        c = len(ks)
        if c == 1:  # the same per-element operations as below, without the copy views
            scaled = torch._foreach_div(d_ps, ks[0]) if ks[0] != 1 else d_ps
            torch._foreach_add_(params, scaled, alpha=-(lr * ks[0]))
            return
        d_views = [split(d, c) if c > 1 else d[None] for d in d_ps]
        p_views = [split(p, c) if c > 1 else p[None] for p in params]
        for copy, k in enumerate(ks):  # copy `copy` of every stacked parameter
            d_c = [d[copy] for d in d_views]
            scaled = torch._foreach_div(d_c, k) if k != 1 else d_c
            torch._foreach_add_([p[copy] for p in p_views], scaled, alpha=-(lr * k))
