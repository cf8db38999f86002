"""PerturbedSGD as a torch optimizer: usable on any model, state_dict and LR schedulers work, the
multi-tensor update is bitwise the per-parameter loop, and a step launches few operators."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from traindyn.instab.optimizer import PerturbedSGD, split
from traindyn.instab.train import loss_and_step
from traindyn.models.resnet import CopiesResNet, init_copies


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def _train(model: nn.Module, opt, steps: int = 5, sched=None) -> None:
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x, y = torch.randn(8, 6, generator=gen), torch.randint(0, 3, (8,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if sched is not None:
            sched.step()


@pytest.mark.parametrize("nesterov,momentum,wd", [(True, 0.9, 5e-4), (False, 0.9, 0.0),
                                                  (False, 0.0, 1e-3)])
def test_k1_on_any_module_is_torch_sgd_bit_for_bit(nesterov, momentum, wd):
    ours, ref = _mlp(), _mlp()
    _train(ours, PerturbedSGD(ours.parameters(), ks=1, lr=0.1, momentum=momentum,
                              weight_decay=wd, nesterov=nesterov))
    _train(ref, torch.optim.SGD(ref.parameters(), lr=0.1, momentum=momentum, weight_decay=wd,
                                nesterov=nesterov, foreach=False))
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), ref.parameters()))


def test_k3_rounds_differently_from_sgd():
    ours, ref = _mlp(), _mlp()
    _train(ours, PerturbedSGD(ours.parameters(), ks=3, lr=0.1, momentum=0.9, nesterov=True))
    _train(ref, torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, nesterov=True))
    diffs = [(a - b).abs().max().item() for a, b in zip(ours.parameters(), ref.parameters())]
    assert 0 < max(diffs) < 1e-5


def test_state_dict_round_trip_continues_bitwise():
    a = _mlp()
    opt_a = PerturbedSGD(a.parameters(), ks=3, lr=0.1, momentum=0.9, nesterov=True)
    _train(a, opt_a, steps=3)
    b = copy.deepcopy(a)
    opt_b = PerturbedSGD(b.parameters(), ks=3, lr=0.5, momentum=0.9, nesterov=True)
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
    assert opt_b.param_groups[0]["lr"] == 0.1
    _train(a, opt_a, steps=3)
    _train(b, opt_b, steps=3)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_lr_schedulers_drive_it():
    model = _mlp()
    opt = PerturbedSGD(model.parameters(), ks=3, lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
    _train(model, opt, steps=5, sched=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)


def _loop_step(params, ks, lr, m, wd, bufs):
    """The per-parameter, per-copy loop the multi-tensor update replaces (the authors' order)."""
    with torch.no_grad():
        for i, p in enumerate(params):
            d_p = p.grad.add(p, alpha=wd)
            if bufs[i] is None:
                bufs[i] = d_p.clone()
            else:
                bufs[i].mul_(m).add_(d_p, alpha=1.0)
            d_p = d_p.add(bufs[i], alpha=m)
            for c, k in enumerate(ks):
                scaled = split(d_p, len(ks))[c] / k if k != 1 else split(d_p, len(ks))[c]
                split(p, len(ks))[c].add_(scaled, alpha=-(lr * k))


def _copies(ks) -> CopiesResNet:
    net = CopiesResNet(8, len(ks), width=4)
    init_copies(net, torch.Generator().manual_seed(3))
    return net


def test_stacked_copies_update_is_bitwise_the_loop():
    ks = [1, 3, 5, 1]
    a, b = _copies(ks), _copies(ks)
    opt = PerturbedSGD(a.parameters(), ks=ks, lr=0.1, momentum=0.9, weight_decay=5e-4,
                       nesterov=True)
    bufs = [None] * len(list(b.parameters()))
    gen = torch.Generator().manual_seed(4)
    for _ in range(4):
        x, y = torch.randn(6, 3, 32, 32, generator=gen), torch.randint(0, 10, (6,), generator=gen)
        loss_and_step(a, opt, x, y)
        for p in b.parameters():
            p.grad = None
        logits = b(x)
        F.cross_entropy(logits.transpose(1, 2), y.expand(len(ks), -1),
                        reduction="none").mean(dim=1).sum().backward()
        _loop_step(list(b.parameters()), ks, 0.1, 0.9, 5e-4, bufs)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_step_launches_a_few_operators_per_copy():
    """Operator budget of one optimizer step, counted on the CPU with the profiler: it must not
    grow with the number of parameters (a ResNet-8 has 29 parameter tensors per copy)."""
    ks = [1, 3, 5, 7]
    net = _copies(ks)
    opt = PerturbedSGD(net.parameters(), ks=ks, lr=0.1, momentum=0.9, weight_decay=5e-4,
                       nesterov=True)
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    loss_and_step(net, opt, x, y)  # the momentum buffers exist from here on
    opt.zero_grad()
    F.cross_entropy(net(x).transpose(1, 2), y.expand(len(ks), -1), reduction="none").sum().backward()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        opt.step()
    top = {e.key for e in prof.key_averages()}
    foreach_calls = sum(e.count for e in prof.key_averages() if e.key.startswith("aten::_foreach"))
    n_params = len(list(net.parameters()))
    assert n_params > 20
    # weight decay, momentum (mul, add), Nesterov add, then a div and an add per copy
    assert foreach_calls <= 4 + 2 * len(ks), sorted(top)


def test_every_groups_ks_is_checked_like_the_constructors():
    """k >= 1 integers in every parameter group, not only the constructor's ``ks``: a group's
    ``[0]`` would divide by zero (NaN steps), ``2.7`` would silently become 2."""
    w = nn.Parameter(torch.ones(3))
    for bad in ([{"params": [w], "ks": [0]}], [{"params": [w], "ks": 2.7}],
                [{"params": [w], "ks": [1, True]}]):
        with pytest.raises(ValueError, match="parameter group 0: perturbation factors k must be "
                                             "integers >= 1"):
            PerturbedSGD(bad, ks=1, lr=0.1)
    for bad in (2.7, 0, [], [1, -3]):
        with pytest.raises(ValueError, match="must be integers >= 1"):
            PerturbedSGD([w], ks=bad, lr=0.1)
    opt = PerturbedSGD([{"params": [w], "ks": 3}], ks=1, lr=0.1)  # a scalar group k: one copy
    assert opt.param_groups[0]["ks"] == [3] and PerturbedSGD([w], ks=3.0, lr=0.1).ks == [3]
    with pytest.raises(ValueError, match="parameter group 1"):
        opt.add_param_group({"params": [nn.Parameter(torch.ones(2))], "ks": [0]})
    assert len(opt.param_groups) == 1  # the refused group is not kept
    w.grad = torch.ones(3)
    opt.step()
    assert torch.isfinite(w).all()
