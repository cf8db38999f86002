"""M independent trials of one arbitrary model, two ways with one interface (:class:`Trials`):

* :class:`VmapTrials` -- the parameters of every trial stacked along a leading axis
  (``torch.func.stack_module_state``) and one ``vmap`` of ``functional_call`` with its gradient
  per step: one batched call for all trials. Correct for models without buffers (BatchNorm's
  running statistics would be written inside the vmap) and without random layers (dropout draws
  would be shared or refused): :func:`vmap_supported`.
* :class:`LoopTrials` -- the M models, each with its own ``torch.optim.SGD``, stepped one after
  another: any model.

Both take plain SGD steps (momentum, weight decay: torch.optim.SGD's update, foreach off), on
each trial's own minibatch, and return the logits of that minibatch before the update. They
agree to rounding, not bitwise: vmap runs a convolution of M trials as one grouped convolution
and a linear layer as a batched product, whose kernels sum in another order than the M
single-model calls (tests/test_lesde_trials.py bounds the difference).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

RANDOM_LAYERS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                 nn.FeatureAlphaDropout)


def draws_random(model: nn.Module, x: torch.Tensor) -> bool:
    """Does a training-mode forward draw random numbers from torch (``F.dropout`` inside
    ``forward``, noise layers)? Two forwards of a copy from two seeds differ."""
    twin = copy.deepcopy(model).train()
    outs = []
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        for seed in (1, 2):
            torch.manual_seed(seed)
            outs.append(twin(x))
    return not torch.equal(*outs)


def vmap_supported(model: nn.Module, sample: torch.Tensor | None = None) -> str | None:
    """None when the vmap path is correct for ``model``, else why not (``sample``: a batch
    of the data, to find random draws inside ``forward`` that no layer type shows)."""
    if any(True for _ in model.buffers()):
        return "it has buffers (e.g. BatchNorm running statistics)"
    if any(isinstance(m, RANDOM_LAYERS) and m.p > 0 for m in model.modules()):
        return "it has random layers (dropout)"
    if sample is not None and draws_random(model, sample):
        return "its forward draws random numbers"
    return None


def draw_seed(base: int, step: int) -> int:
    """The seed of one trial's random draws in one step: a pure function of the trial's own
    stream and the step, so a trial's dropout masks do not depend on the other trials."""
    state = np.random.SeedSequence([base, step]).generate_state(1, np.uint64)[0]
    return int(state) & 0x7FFF_FFFF_FFFF_FFFF


class Trials:
    """Interface: ``step(x (M, B, ...), y (M, B))`` -> pre-update logits (M, B, K), updating
    every trial; ``shared_logits(x (N, ...))`` -> (M, N, K) in eval mode, no update;
    ``state()`` -> stacked parameters {name: (M, ...)}."""

    strategy = ""

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def shared_logits(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class LoopTrials(Trials):
    strategy = "loop"

    def __init__(self, models: Sequence[nn.Module], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, draw_seeds: Sequence[int] | None = None) -> None:
        """``draw_seeds``: one per trial; each step seeds torch's generators from (the trial's
        seed, the step) before that trial's forward (the caller's state is kept)."""
        self.models = list(models)
        self.opts = [torch.optim.SGD(m.parameters(), lr=lr, momentum=momentum,
                                     weight_decay=weight_decay, foreach=False)
                     for m in self.models]
        self.draw_seeds = list(draw_seeds) if draw_seeds is not None else None
        self.t = 0

    def step(self, x, y):
        out = []
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=self.draw_seeds is not None,
                                   device_type="cuda" if devices else None):
            for i, (model, opt, xm, ym) in enumerate(zip(self.models, self.opts, x, y)):
                if self.draw_seeds is not None:
                    torch.manual_seed(draw_seed(self.draw_seeds[i], self.t))
                opt.zero_grad(set_to_none=True)
                logits = model(xm)
                F.cross_entropy(logits, ym).backward()
                opt.step()
                out.append(logits.detach())
        self.t += 1
        return torch.stack(out)

    @torch.no_grad()
    def shared_logits(self, x):
        out = []
        for model in self.models:
            model.eval()
            out.append(model(x))
            model.train()
        return torch.stack(out)

    def state(self):
        return {name: torch.stack([dict(m.named_parameters())[name].detach()
                                   for m in self.models])
                for name, _ in self.models[0].named_parameters()}


class VmapTrials(Trials):
    strategy = "vmap"

    def __init__(self, models: Sequence[nn.Module], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        why = vmap_supported(models[0])
        if why:
            raise ValueError(f"the vmap strategy cannot train this model: {why}")
        params, _ = stack_module_state(list(models))
        self.params = {k: v.detach() for k, v in params.items()}
        self.base = copy.deepcopy(models[0]).to("meta")
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers: dict[str, torch.Tensor] = {}  # momentum buffers, as torch.optim.SGD's

        def loss(p, x, y):
            logits = functional_call(self.base, p, (x,))
            return F.cross_entropy(logits, y), logits

        self._grad = vmap(grad_and_value(loss, has_aux=True))
        self._forward = vmap(lambda p, x: functional_call(self.base, p, (x,)),
                             in_dims=(0, None))

    def step(self, x, y):
        self.base.train()
        grads, (_, logits) = self._grad(self.params, x, y)
        with torch.no_grad():
            for name, p in self.params.items():  # torch.optim.SGD's update, parameter by one
                d = grads[name]
                if self.weight_decay:
                    d = d.add(p, alpha=self.weight_decay)
                if self.momentum:
                    buf = self.buffers.get(name)
                    if buf is None:
                        buf = self.buffers[name] = d.clone()
                    else:
                        buf.mul_(self.momentum).add_(d)
                    d = buf
                p.add_(d, alpha=-self.lr)
        return logits.detach()

    @torch.no_grad()
    def shared_logits(self, x):
        self.base.eval()
        return self._forward(self.params, x)

    def state(self):
        return dict(self.params)


def make_trials(models: Sequence[nn.Module], strategy: str, lr: float, momentum: float = 0.0,
                weight_decay: float = 0.0, sample: torch.Tensor | None = None,
                draw_seeds: Sequence[int] | None = None) -> Trials:
    """``vmap``, ``loop`` or ``auto``: vmap where :func:`vmap_supported`, else the loop (on
    the 2-core CPU of ``make bench`` vmap trains 32 SimpleConv trials 2.7x (float64) to 5.5x
    (float32) faster than the loop)."""
    if strategy not in ("auto", "vmap", "loop"):
        raise ValueError(f"unknown strategy {strategy!r}: auto, vmap or loop")
    why = vmap_supported(models[0], sample)
    if strategy == "auto":
        strategy = "loop" if why else "vmap"
    if strategy == "vmap":
        if why:
            raise ValueError(f"the vmap strategy cannot train this model: {why} (use loop)")
        return VmapTrials(models, lr, momentum, weight_decay)
    return LoopTrials(models, lr, momentum, weight_decay, draw_seeds)
