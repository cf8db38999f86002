"""Operator budgets of the training loops, counted with torch.profiler on the CPU: on a GPU every
operator is a kernel launch, so a loop whose operator count grows with the number of trials,
copies or images, or that syncs with the host, would be launch-bound there. These tests show such
a regression without a GPU."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from traindyn.instab.optimizer import PerturbedSGD
from traindyn.instab.train import loss_and_step
from traindyn.lesde.model import init_params
from traindyn.lesde.train import RunSpec, evaluate, launch_sizes, train_step
from traindyn.models.resnet import CopiesResNet, init_copies

SYNC = ("aten::_local_scalar_dense", "aten::item")  # a value copied to the host
# metadata-only operators: views launch no kernel
VIEWS = {f"aten::{n}" for n in ("select", "view", "as_strided", "slice", "narrow", "reshape",
                                 "transpose", "t", "expand", "unsqueeze", "squeeze", "permute",
                                 "detach", "alias", "_unsafe_view", "unbind", "split")}


def operators(fn) -> dict[str, int]:
    """Operators the code calls (top level of the profile), by name. Their CPU implementations
    may loop inside (a grouped convolution runs group by group on the CPU); on a GPU each is one
    library call."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    counts: dict[str, int] = {}
    for e in prof.events():
        if e.name.startswith("aten::") and e.name not in VIEWS and (e.cpu_parent is None or
                                            not e.cpu_parent.name.startswith("aten::")):
            counts[e.name] = counts.get(e.name, 0) + 1
    syncs = {e.name for e in prof.events() if e.name in SYNC}
    return {**counts, **{s: 1 for s in syncs}}


def _lesde(m: int):
    params = init_params(range(m), seed=0, experiment="t", channels=1, n_classes=3)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(m, 1, 32, 32, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 3, (m,), generator=gen)
    xv = torch.randn(60, 1, 32, 32, dtype=torch.float64, generator=gen)
    yv = torch.randint(0, 3, (60,), generator=gen)
    return params, x, y, xv, yv


def test_gpu_launch_sizes_put_everything_in_one_call():
    spec = RunSpec("e", "s", tuple(range(25)), 10, 0.1, 1, 0)
    assert launch_sizes(spec, torch.device("cuda"), 1500) == (1500, 25)
    assert launch_sizes(spec, torch.device("cpu"), 1500) == (100, 25)  # native kernels: all trials
    custom = RunSpec("e", "s", tuple(range(25)), 10, 0.1, 1, 0, eval_batch=100, trial_block=5)
    assert launch_sizes(custom, torch.device("cuda"), 1500) == (100, 5)


def test_lesde_step_and_validation_do_not_grow_with_trials():
    """The GPU path (the torch one; a CPU runs the native kernels)."""
    counts = {}
    for m in (4, 12):
        params, x, y, xv, yv = _lesde(m)
        step = operators(lambda: train_step(params, x, y, 0.01, block=m, native=False))
        val = operators(lambda: evaluate(params, xv, yv, batch=len(yv), block=m, native=False))
        counts[m] = (sum(step.values()), sum(val.values()))
        assert not any(s in step or s in val for s in SYNC)
    assert counts[4] == counts[12], counts
    step_ops, val_ops = counts[4]
    assert step_ops <= 200 and val_ops <= 80, counts  # a few per layer, whatever M is


def test_resnet_step_grows_by_at_most_the_per_copy_update():
    totals = {}
    for copies in (2, 4):
        net = CopiesResNet(8, copies, width=4)
        init_copies(net, torch.Generator().manual_seed(0))
        opt = PerturbedSGD(net.parameters(), ks=[1, 3, 5, 7][:copies], lr=0.1, momentum=0.9,
                           weight_decay=5e-4, nesterov=True)
        x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
        loss_and_step(net, opt, x, y)  # momentum buffers exist from here on
        ops = operators(lambda: loss_and_step(net, opt, x, y))
        assert not any(s in ops for s in SYNC), ops
        totals[copies] = sum(ops.values())
    # forward and backward are one grouped call per layer for all copies; the update adds a
    # division and an add per extra copy
    assert totals[4] - totals[2] == 2 * 2, totals
    assert totals[2] <= 200, totals


def test_table1_and_figure2_steps_sync_only_at_epoch_ends_and_saves():
    """The hot loops call loss_and_step and nothing else per step (instab/steps.py): the watched
    layer leaves the device only in ``divergence()`` at a save."""
    import inspect

    from traindyn.instab import steps

    src = inspect.getsource(steps.fig2_run)
    loop = src[src.index("for x, y in islice"):src.index("bar.update")]
    assert ".cpu()" not in loop and ".item()" not in loop and "numpy()" not in loop
    assert "saved = snapshot()" in loop and "if step % n == 0" in loop
    net = CopiesResNet(8, 2, width=4)
    opt = PerturbedSGD(net.parameters(), ks=[1, 3], lr=0.1)
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    loss = loss_and_step(net, opt, x, y)
    assert loss.shape == (2,) and F.relu(loss).device == x.device
