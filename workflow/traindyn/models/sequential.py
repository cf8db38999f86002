"""Copies of one network run one after another, or side by side on the CPU's cores: the CPU
layout of the perturbed copies, of the built-in CIFAR ResNet
(:func:`traindyn.models.builtin.resnet_copies`) and of any model
(:func:`traindyn.instab.copies.train_copies`). Shared, so that the built-in networks import no
family."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator

import torch
from torch import nn

_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="traindyn-copy")
    return _POOLS[workers]


@contextmanager
def one_thread_each() -> Iterator[int]:
    """Yields the job's thread count and runs the block with torch's intra-op threads at 1 (so
    that each copy's arithmetic is a single thread's, whichever worker runs it)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield threads
    finally:
        torch.set_num_threads(threads)


class SequentialCopies(nn.Module):
    """The CPU layout of C copies: C single-copy networks, each run on the same minibatch, in the
    channels-last memory format (``channels_last=False``: as they are, for copies of any model,
    whose logits may be (B, K)). Same interface as the grouped
    :class:`~traindyn.models.resnet.CopiesResNet` (``copies``, forward -> logits (C, B, K));
    each copy has its own BatchNorm statistics, and a copy's arithmetic is exactly that of the
    network trained alone (in this layout). On a CPU this is faster than the grouped model
    (whose grouped convolutions run below the speed of C ordinary ones there); on a GPU the
    grouped model fills the device with one launch per layer.

    ``side_by_side=True`` (networks that draw no random numbers, such as the built-in ResNet):
    every copy runs on one thread, and the copies are spread over the job's threads, one copy
    per core at a time. Small networks parallelize poorly inside each layer (ResNet-8 width 8,
    batch 32: 2 threads 1.2x one) and well across copies (1.9x); a copy's arithmetic is then a
    single thread's whatever the job's thread count, so the results do not depend on it.
    Otherwise the copies run one after another with the job's threads (a copy that draws random
    numbers must draw the same ones as the others, from torch's one global generator)."""

    def __init__(self, nets: list[nn.Module], channels_last: bool = True,
                 side_by_side: bool = False) -> None:
        super().__init__()
        if any(getattr(net, "copies", 1) != 1 for net in nets):
            raise ValueError("SequentialCopies holds single-copy networks")
        self.nets = nn.ModuleList(nets)
        self.copies = len(nets)
        self.channels_last = channels_last
        self.side_by_side = side_by_side

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def each(self, fn: Callable[[int, nn.Module], Any],
             before: Callable[[], None] | None = None) -> list[Any]:
        """``fn(c, net)`` for every copy c, in copy order: side by side on one thread each, or
        one after another with ``before()`` ahead of each (reseeding the shared draws)."""
        if not self.side_by_side:
            return [(before and before(), fn(c, net))[1] for c, net in enumerate(self.nets)]
        if before is not None:
            before()
        state = torch.random.get_rng_state()
        with one_thread_each() as threads:
            workers = min(threads, self.copies)
            out = (list(_pool(workers).map(fn, range(self.copies), self.nets)) if workers > 1
                   else [fn(c, net) for c, net in enumerate(self.nets)])
        if not torch.equal(state, torch.random.get_rng_state()):
            raise RuntimeError("a copy drew random numbers from torch's generator: side-by-side "
                               "copies must not (they would draw different ones); build the "
                               "SequentialCopies with side_by_side=False")
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layout(x)
        return torch.cat(self.each(lambda c, net: copy_axis(net(x))))


def copy_axis(logits: torch.Tensor) -> torch.Tensor:
    """Logits (C, B, K) of a copies model, or (1, B, K) of an ordinary classifier's (B, K)."""
    return logits if logits.ndim == 3 else logits[None]
