"""Perturbed SGD, the null control, batched copies of the CIFAR ResNet, batched augmentation."""

import copy

import pytest
import torch
import torch.nn.functional as F

from traindyn.instab.data import ImageData, augment, epoch_generator, minibatches
from traindyn.instab.optimizer import PerturbedSGD, split
from traindyn.instab.train import copies_identical, loss_and_step
from traindyn.models.resnet import CopiesResNet, init_copies


def _net(copies, act="relu", depth=8, width=4, channels=3, classes=10):
    net = CopiesResNet(depth, copies, channels, classes, width, act, 5.0)
    init_copies(net, torch.Generator().manual_seed(0))
    return net


def _batches(n, gen, b=8, channels=3, classes=10):
    return [(torch.randn(b, channels, 32, 32, generator=gen), torch.randint(0, classes, (b,), generator=gen))
            for _ in range(n)]


@pytest.mark.parametrize("nesterov,momentum,wd", [(True, 0.9, 5e-4), (False, 0.0, 5e-4),
                                                  (False, 0.9, 0.0)])
def test_k1_equals_torch_sgd_bit_for_bit(nesterov, momentum, wd):
    ours = _net(1)
    ref = copy.deepcopy(ours)
    opt = PerturbedSGD(list(ours.parameters()), [1], 0.1, momentum, 0.0, wd, nesterov)
    sgd = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=momentum, weight_decay=wd,
                          nesterov=nesterov, foreach=False)
    for x, y in _batches(6, torch.Generator().manual_seed(1)):
        loss_and_step(ours, opt, x, y)
        sgd.zero_grad()  # same loss expression, so the gradients are the same bits
        F.cross_entropy(ref(x).transpose(1, 2), y[None], reduction="none").mean(dim=1).sum().backward()
        sgd.step()
    for a, b in zip(ours.parameters(), ref.parameters()):
        assert torch.equal(a, b)


def test_powers_of_two_are_bitwise_k1_and_k3_differs_by_an_ulp():
    net = _net(4)
    opt = PerturbedSGD(list(net.parameters()), [1, 2, 4, 3], 0.1, 0.9, 0.0, 5e-4, True)
    before = torch.cat([split(p, 4)[0].detach().flatten() for p in net.parameters()])
    (x, y), *rest = _batches(4, torch.Generator().manual_seed(2))
    loss_and_step(net, opt, x, y)
    diff = torch.cat([(split(p, 4)[3] - split(p, 4)[0]).flatten() for p in net.parameters()])
    after = torch.cat([split(p, 4)[0].flatten() for p in net.parameters()])
    changed = diff != 0
    assert 0 < changed.float().mean() < 0.1
    # rounding of the last multiply-add: at most a couple of ulps of the weights involved
    ulp = torch.finfo(torch.float32).eps * torch.maximum(before.abs(), after.abs())
    assert torch.all(diff.abs() <= 2 * ulp)
    for x, y in rest:
        loss_and_step(net, opt, x, y)
    assert copies_identical(net, 0, 1) and copies_identical(net, 0, 2)
    assert not copies_identical(net, 0, 3)


def test_null_control_stays_identical_through_training():
    net = _net(3, act="swish")
    opt = PerturbedSGD(list(net.parameters()), [1, 3, 1], 0.1, 0.9, 0.0, 5e-4, True)
    for x, y in _batches(8, torch.Generator().manual_seed(3)):
        loss_and_step(net, opt, x, y)
    assert copies_identical(net, 0, 2)


def test_batched_copies_match_copies_trained_alone():
    """Copy c of the batched model follows the trajectory of the same model trained alone (the
    grouped convolution rounds like a standalone one to float32 precision)."""
    both = _net(2)
    alone = _net(1)
    opt_b = PerturbedSGD(list(both.parameters()), [1, 3], 0.05, 0.9, 0.0, 5e-4, True)
    opt_a = PerturbedSGD(list(alone.parameters()), [3], 0.05, 0.9, 0.0, 5e-4, True)
    for x, y in _batches(3, torch.Generator().manual_seed(4)):
        lb = loss_and_step(both, opt_b, x, y)
        la = loss_and_step(alone, opt_a, x, y)
        torch.testing.assert_close(lb[1], la[0], rtol=1e-5, atol=1e-6)
    for pb, pa in zip(both.parameters(), alone.parameters()):
        torch.testing.assert_close(split(pb, 2)[1], split(pa, 1)[0], rtol=1e-4, atol=1e-5)
    # and every copy starts from the same weights
    fresh = _net(3)
    assert all(torch.equal(split(p, 3)[0], split(p, 3)[2]) for p in fresh.parameters())


def test_batch_norm_statistics_are_per_copy():
    net = _net(2)
    opt = PerturbedSGD(list(net.parameters()), [1, 1], 0.1, 0.0, 0.0, 0.0, False)
    x, y = _batches(1, torch.Generator().manual_seed(5))[0]
    with torch.no_grad():
        split(net.conv1.weight, 2)[1].mul_(2.0)  # copy 1 now sees twice the activations
    loss_and_step(net, opt, x, y)
    rv = split(net.bn1.running_var, 2)
    assert not torch.allclose(rv[0], rv[1])


def test_augmentation_is_batched_seeded_and_shape_preserving():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).reshape(2, 3, 32, 32)
    a = augment(x, epoch_generator(1, 0, x.device))
    b = augment(x, epoch_generator(1, 0, x.device))
    c = augment(x, epoch_generator(1, 1, x.device))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    # a crop of the zero-padded image: every value comes from the image or the padding
    assert set(a.unique().tolist()) <= set(x.unique().tolist()) | {0.0}
    data = ImageData(x, torch.tensor([0, 1]), x, torch.tensor([0, 1]), 2, augment=False)
    assert [len(yb) for _, yb in minibatches(data, 1, 0, 0)] == [1, 1]


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="6n\\+2"):
        CopiesResNet(10, 1)
    with pytest.raises(ValueError, match=">= 1"):
        PerturbedSGD([torch.zeros(2)], [0, 1], 0.1)
    with pytest.raises(ValueError, match="unknown activation"):
        CopiesResNet(8, 1, act="tanh")


RUNNER = """
import sys
from traindyn.instab.steps import table1_run
table1_run(sys.argv[1], sys.argv[2], dataset="geomnist", seed=1, activation="relu", ks=[1, 3],
           network=dict(depth=8, width=4, swish_beta=5.0), lr=0.05, momentum=0.9, nesterov=True,
           weight_decay=5e-4, batch=16, epochs=4, milestones=[3], test_batch=64,
           dtype="float32", device="cpu", deterministic=True)
"""


def test_sigkilled_table1_run_resumes_to_identical_results(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pyarrow.parquet as pq
    from lesde_fixtures import geomnist_cache

    data = geomnist_cache(tmp_path / "g.npz", n_train=16, n_val=8)
    ref, out = tmp_path / "ref.parquet", tmp_path / "out.parquet"
    # the subprocesses import this checkout's library, not whichever one is installed
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "workflow"))
    subprocess.run([sys.executable, "-c", RUNNER, str(ref), data], check=True, env=env)
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(out), data], env=env)
    ckpt = tmp_path / "out.parquet.work" / "checkpoint.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not out.exists(), "the run finished before it could be killed"
    subprocess.run([sys.executable, "-c", RUNNER, str(out), data], check=True, env=env)
    a, b = pq.read_table(ref).to_pandas(), pq.read_table(out).to_pandas()
    assert a.equals(b) and len(a) == 4 * 3  # 4 epochs x (2 copies + control)
    assert not ckpt.exists()


def test_cifar_input_is_read_normalized_and_augmented(tmp_path):
    from lesde_fixtures import cifar_archive

    from traindyn.instab.steps import load_data

    root = cifar_archive(tmp_path / "cifar", per_class_train=2, per_class_test=1)
    data = load_data("cifar10", None, root, False, torch.float32, torch.device("cpu"))
    assert data.x_train.shape == (100, 3, 32, 32) and data.x_test.shape == (10, 3, 32, 32)
    assert data.n_classes == 10 and data.augment
    # the red channel encodes the class in the fixture; normalized with the authors' constants
    red = data.x_train[:, 0, 0, 0] * 0.267 + 0.507
    torch.testing.assert_close(red, data.y_train.float() * 25 / 255, rtol=0, atol=1e-5)
    x, y = next(minibatches(data, 16, 0, 0))
    assert x.shape == (16, 3, 32, 32) and y.shape == (16,)
    with pytest.raises(FileNotFoundError, match="cifar10_download"):
        load_data("cifar10", None, str(tmp_path / "none"), False, torch.float32,
                  torch.device("cpu"))


def test_pixel_noise_is_fixed_per_image_and_only_where_asked(tmp_path):
    import numpy as np

    from traindyn.data.geomnist import build_geomnist
    from traindyn.data.noise import pixel_noise as noisy
    from traindyn.instab.steps import load_data

    path = str(tmp_path / "g.npz")
    build_geomnist(path, n_train=20, n_val=10, seed=0, image_size=32, max_angle_deg=176,
                   blur_sigma=[0.9, 1.1])
    cpu = torch.device("cpu")
    clean = load_data("geomnist", path, None, False, torch.float64, cpu)
    a = load_data("geomnist", path, None, False, torch.float64, cpu, pixel_noise=0.7)
    b = load_data("geomnist", path, None, False, torch.float64, cpu, pixel_noise=0.7)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)  # reproducible
    assert torch.equal(a.y_train, clean.y_train) and torch.equal(a.y_test, clean.y_test)
    # normalized to mean 0, std 1 over the training set either way; the noise is N(0, 0.7^2)
    for d in (clean, a):
        assert abs(float(d.x_train.mean())) < 1e-6 and abs(float(d.x_train.std()) - 1) < 1e-3
    x = np.zeros((4000, 1, 8, 8), np.float32)
    n_train, n_test = noisy(x, 0.7, 0), noisy(x, 0.7, 1)
    assert abs(n_train.std() - 0.7) < 0.01 and abs(n_train.mean()) < 0.01
    assert not np.allclose(n_train, n_test)  # train and test images get different noise
    assert noisy(x, 0.0, 0) is x


# Parameters of one CIFAR ResNet (10 classes), counted by hand: option A at depth 20 is
# 432 + 32 (stem) + 14,016 + 51,072 + 203,520 (stages) + 650 (classifier) = 269,722, and each
# further block per stage adds 4,672 + 18,560 + 73,984 = 97,216; option B's two projections add
# 16*32 + 64 + 32*64 + 128 = 2,752. ResNet-56: 853,018 (A) and 855,770 (B, the authors' network).
@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_parameter_counts_of_both_shortcuts(depth):
    n = (depth - 2) // 6
    option_a = 269_722 + (n - 3) * 97_216
    for shortcut, expected in (("A", option_a), ("B", option_a + 2_752)):
        for copies in (1, 3):
            net = CopiesResNet(depth, copies, shortcut=shortcut)
            assert sum(p.numel() for p in net.parameters()) == copies * expected
    if depth == 56:  # the counts quoted for the authors' ResNet-56 and He et al.'s
        assert (option_a, option_a + 2_752) == (853_018, 855_770)


def test_projection_shortcut_copies_match_copies_alone():
    torch.manual_seed(0)
    both = CopiesResNet(8, 2, width=4, shortcut="B")
    init_copies(both, torch.Generator().manual_seed(3))
    alone = CopiesResNet(8, 1, width=4, shortcut="B")
    init_copies(alone, torch.Generator().manual_seed(3))
    x = torch.randn(5, 3, 32, 32)
    torch.testing.assert_close(both(x)[1], alone(x)[0], rtol=0, atol=1e-5)
    assert both.layer2[0].project is not None and both.layer1[0].project is None


def _side_by_side_run(threads: int, ks=(1, 3, 1, 5, 1)) -> list[torch.Tensor]:
    from types import SimpleNamespace

    from traindyn.instab.train import NetSpec, build, optimizer

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        shape = SimpleNamespace(x_train=torch.empty(1, 3, 32, 32), n_classes=10)
        model = build(NetSpec(8, 4, "relu", 5.0), shape, list(ks), 7, torch.float32,
                      torch.device("cpu"))
        opt = optimizer(model, list(ks), 0.1, 0.9, 5e-4, True)
        losses = [loss_and_step(model, opt, x, y)
                  for x, y in _batches(3, torch.Generator().manual_seed(9), b=16)]
        with torch.no_grad():
            logits = model(_batches(1, torch.Generator().manual_seed(4), b=16)[0][0])
        assert torch.get_num_threads() == threads  # the job's threads, back after every step
        return [*losses, logits, *(t for net in model.nets for t in net.state_dict().values())]
    finally:
        torch.set_num_threads(before)


def test_cpu_copies_side_by_side_do_not_depend_on_the_thread_count():
    """The built-in ResNet's CPU copies run side by side, one thread each: the same bits on 1 and
    2 threads (an odd number of copies: one worker runs more of them), and the same bits as one
    copy trained alone on one thread; the k = 1 copies stay twins."""
    one, two = _side_by_side_run(1), _side_by_side_run(2)
    assert len(one) == len(two) and all(torch.equal(a, b) for a, b in zip(one, two))
    alone = _side_by_side_run(2, ks=(3,))
    per_copy = (len(one) - 4) // 5  # state tensors per copy; copy 1 is the k = 3 one
    assert all(torch.equal(a, b) for a, b in
               zip(one[4 + per_copy:4 + 2 * per_copy], alone[4:]))
    assert all(torch.equal(one[4 + i], one[4 + 2 * per_copy + i]) for i in range(per_copy))


def test_side_by_side_copies_refuse_a_network_that_draws_random_numbers():
    from traindyn.models.sequential import SequentialCopies

    def net():
        return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5),
                                   torch.nn.Linear(8, 2))
    model = SequentialCopies([net(), net()], channels_last=False, side_by_side=True)
    with pytest.raises(RuntimeError, match="drew random numbers"):
        model(torch.randn(3, 4))
    model.eval()  # no dropout in evaluation: nothing drawn
    assert model(torch.randn(3, 4)).shape == (2, 3, 2)


def test_cpu_copies_are_sequential_networks_each_exactly_as_trained_alone():
    """On a CPU the copies are single-copy networks run one after another: copy c follows the
    bit-identical trajectory of the same network trained alone with its k, the null control
    stays the twin of the k = 1 copy, and BatchNorm statistics stay per copy."""
    from types import SimpleNamespace

    from traindyn.instab.train import NetSpec, build, layer_weight, optimizer
    from traindyn.models.sequential import SequentialCopies

    spec = NetSpec(8, 4, "swish", 5.0)
    shape = SimpleNamespace(x_train=torch.empty(1, 3, 32, 32), n_classes=10)
    cpu = torch.device("cpu")
    ks = [1, 3, 1]
    model = build(spec, shape, ks, 7, torch.float32, cpu)
    assert isinstance(model, SequentialCopies) and model.copies == 3
    alone = build(spec, shape, [3], 7, torch.float32, cpu)
    opt, opt_alone = optimizer(model, ks, 0.1, 0.9, 5e-4, True), optimizer(alone, [3], 0.1, 0.9,
                                                                             5e-4, True)
    assert copies_identical(model, 0, 1)  # one initialization for every copy
    for x, y in _batches(4, torch.Generator().manual_seed(9)):
        losses = loss_and_step(model, opt, x, y)
        loss_alone = loss_and_step(alone, opt_alone, x, y)
        assert torch.equal(losses[1], loss_alone[0])
    for a, b in zip(model.nets[1].state_dict().values(), alone.nets[0].state_dict().values()):
        assert torch.equal(a, b)
    assert copies_identical(model, 0, 2) and not copies_identical(model, 0, 1)
    w = layer_weight(model, "layer2.0.conv1")
    assert w.shape[0] == 3 and torch.equal(w[1], alone.nets[0].layer2[0].conv1.weight)
    with torch.no_grad():
        model.nets[1].conv1.weight.mul_(2.0)  # copy 1 now sees twice the activations
    loss_and_step(model, opt, *_batches(1, torch.Generator().manual_seed(5))[0])
    rv = [net.bn1.running_var for net in model.nets]
    assert not torch.equal(rv[0], rv[1]) and torch.equal(rv[0], rv[2])  # statistics per copy
