"""The native LE-SDE CPU kernels (traindyn.lesde.kernels) against the reference network: the
ordinary torch.nn module trained by torch.optim.SGD, and the batched torch path of the GPU."""

import pytest
import torch
import torch.nn.functional as F

from traindyn.codedeps import closure
from traindyn.lesde import kernels
from traindyn.lesde.model import head, init_params, sgd_step
from traindyn.models.simpleconv import SimpleConv


def _params(m, channels=1, k=3, dtype=torch.float64):
    return init_params(range(m), seed=0, experiment="k", channels=channels, n_classes=k,
                       dtype=dtype)


def _module_params(ref):
    return {f"{layer}_{'w' if kind == 'weight' else 'b'}": p
            for (layer, kind), p in ((n.split("."), p) for n, p in ref.named_parameters())}


@pytest.mark.parametrize("step", [kernels.sgd_step, sgd_step], ids=["native", "torch"])
@pytest.mark.parametrize("channels,k", [(1, 3), (3, 10)])
def test_step_equals_torch_sgd_on_the_reference_module(step, channels, k):
    """Both batched steps (the CPU's native kernel, the GPU's torch code), 30 steps at a large
    learning rate: logits, losses and every parameter to 1e-12."""
    m = 3
    params = _params(m, channels, k)
    refs = [SimpleConv(channels, k).double().load_trial(params, i) for i in range(m)]
    opts = [torch.optim.SGD(r.parameters(), lr=0.1, momentum=0) for r in refs]
    rng = torch.Generator().manual_seed(0)
    for _ in range(30):
        x = torch.randn(m, channels, 32, 32, dtype=torch.float64, generator=rng)
        y = torch.randint(0, k, (m,), generator=rng)
        logits, losses = step(params, x, y, 0.1)
        for i, (ref, opt) in enumerate(zip(refs, opts)):
            opt.zero_grad()
            out = ref(x[i:i + 1])
            loss = F.cross_entropy(out, y[i:i + 1])
            loss.backward()
            opt.step()
            torch.testing.assert_close(logits[i], out[0].detach(), rtol=0, atol=1e-12)
            torch.testing.assert_close(losses[i], loss.detach(), rtol=0, atol=1e-12)
    for i, ref in enumerate(refs):
        for name, p in _module_params(ref).items():
            torch.testing.assert_close(params[name][i], p.detach(), rtol=0, atol=1e-12, msg=name)


def test_step_gradients_equal_autograd():
    """With lr = 1 the update of one step is the gradient: every layer's, to 1e-12."""
    params = _params(4, 3, 5)
    before = {n: p.clone() for n, p in params.items()}
    rng = torch.Generator().manual_seed(2)
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64, generator=rng)
    y = torch.randint(0, 5, (4,), generator=rng)
    kernels.sgd_step(params, x, y, 1.0)
    for i in range(4):
        ref = SimpleConv(3, 5).double().load_trial(before, i)
        F.cross_entropy(ref(x[i:i + 1]), y[i:i + 1]).backward()
        for name, p in _module_params(ref).items():
            step = before[name][i] - params[name][i]
            assert p.grad.abs().max() > 0, name
            torch.testing.assert_close(step, p.grad, rtol=0, atol=1e-12, msg=name)


@pytest.mark.parametrize("others,threads", [(0, 2), (1, 1), (7, 2), (12, 3)])
def test_a_trials_step_is_bitwise_independent_of_batch_and_threads(others, threads):
    """The trial at position ``others`` of a batch and the same trial alone, with a different
    number of threads, follow the identical trajectory (every parameter bit for bit)."""
    batch = init_params(range(others + 1), seed=0, experiment="t", channels=1, n_classes=3)
    alone = init_params([others], seed=0, experiment="t", channels=1, n_classes=3)
    rng = torch.Generator().manual_seed(1)
    old = torch.get_num_threads()
    try:
        for _ in range(25):
            x = torch.randn(others + 1, 1, 32, 32, dtype=torch.float64, generator=rng)
            y = torch.randint(0, 3, (others + 1,), generator=rng)
            torch.set_num_threads(threads)
            lb, sb = kernels.sgd_step(batch, x, y, 0.05)
            torch.set_num_threads(1)
            la, sa = kernels.sgd_step(alone, x[others:], y[others:], 0.05)
            assert torch.equal(lb[others], la[0]) and torch.equal(sb[others], sa[0])
    finally:
        torch.set_num_threads(old)
    for name in batch:
        assert torch.equal(batch[name][others], alone[name][0]), name


def test_float32_step_follows_the_float32_torch_path():
    ours, theirs = _params(5, dtype=torch.float32), _params(5, dtype=torch.float32)
    rng = torch.Generator().manual_seed(3)
    for _ in range(10):
        x = torch.randn(5, 1, 32, 32, generator=rng)
        y = torch.randint(0, 3, (5,), generator=rng)
        lo, so = kernels.sgd_step(ours, x, y, 0.05)
        lt, st = sgd_step(theirs, x, y, 0.05)
        assert lo.dtype == torch.float32
        torch.testing.assert_close(lo, lt, rtol=0, atol=1e-5)
        torch.testing.assert_close(so, st, rtol=0, atol=1e-5)
    for name in ours:
        torch.testing.assert_close(ours[name], theirs[name], rtol=0, atol=1e-5, msg=name)


@pytest.mark.parametrize("channels,k,dtype,atol",
                         [(1, 3, torch.float64, 1e-12), (3, 4, torch.float64, 1e-12),
                          (1, 3, torch.float32, 1e-5)])
def test_shared_features_give_the_reference_logits(channels, k, dtype, atol):
    params = _params(6, channels, k, dtype)
    x = torch.randn(11, channels, 32, 32, dtype=dtype)
    logits = head(params, kernels.shared_features(params, x))  # (M, N, K)
    for m in range(6):
        ref = SimpleConv(channels, k).to(dtype).load_trial(params, m)
        torch.testing.assert_close(logits[m], ref(x).detach(), rtol=0, atol=atol)


def test_shared_features_of_a_trial_do_not_depend_on_the_others():
    batch = _params(9)
    alone = {n: p[4:5].clone() for n, p in batch.items()}
    x = torch.randn(7, 1, 32, 32, dtype=torch.float64)
    assert torch.equal(kernels.shared_features(batch, x)[4], kernels.shared_features(alone, x)[0])


def test_bad_inputs_are_errors_not_memory_reads():
    params = _params(2)
    x = torch.zeros(2, 1, 32, 32, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="labels must be in"):
        kernels.sgd_step(params, x, torch.tensor([0, 3]), 0.1)
    with pytest.raises(RuntimeError, match="images must be"):
        kernels.sgd_step(params, x[:, :, :28], torch.tensor([0, 1]), 0.1)
    with pytest.raises(RuntimeError, match="images must be"):
        kernels.sgd_step(params, x[:1], torch.tensor([0]), 0.1)
    with pytest.raises(RuntimeError, match="images must be"):
        kernels.shared_features(params, torch.zeros(3, 3, 32, 32, dtype=torch.float64))
    wrong = {**params, "fc1_w": params["fc1_w"][:, :100].contiguous()}
    with pytest.raises(RuntimeError, match="shape"):
        kernels.shared_features(wrong, torch.zeros(3, 1, 32, 32, dtype=torch.float64))
    strided = {n: p[::2] for n, p in _params(4).items()}
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.sgd_step(strided, x, torch.tensor([0, 1]), 0.1)


def test_the_kernel_source_is_part_of_the_training_steps_code():
    """Editing the C++ reruns the LE-SDE training jobs and invalidates their resumable state."""
    names = {p.name for p in closure("lesde.steps")}
    assert "simpleconv.cpp" in names and "kernels.py" in names
