"""The FFT operators and derivatives of the one-layer CNN against direct implementations."""

import numpy as np
import pytest
import torch

from traindyn.pde import one_layer_direct as direct
from traindyn.pde.inputs import build_problem, make_image
from traindyn.pde.one_layer import OneLayer, authors_kernel, checkerboard


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 20)), rng.standard_normal((5, 5)), OneLayer(
        rng.standard_normal((20, 20)) * 0 + rng.standard_normal((20, 20)), 5)


def test_forward_and_adjoint_match_loops_to_1e12():
    rng = np.random.default_rng(1)
    image, w, v = rng.standard_normal((20, 20)), rng.standard_normal((5, 5)), rng.standard_normal((16, 16))
    m = OneLayer(image, 5)
    fast_u = m.forward(m.tensor(w)[None])[0].numpy()
    fast_a = m.adjoint(m.tensor(v)[None])[0].numpy()
    np.testing.assert_allclose(fast_u, direct.forward_loops(image, w), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast_a, direct.adjoint_loops(image, v, 5), rtol=0, atol=1e-12)
    np.testing.assert_allclose(direct.forward_sliding(image, w), direct.forward_loops(image, w),
                               atol=1e-12)
    np.testing.assert_allclose(direct.adjoint_sliding(image, v, 5),
                               direct.adjoint_loops(image, v, 5), atol=1e-12)


def test_batched_kernels_are_independent():
    """Batching changes only the FFT's rounding (pocketfft vectorizes across the batch), never
    more than a few ulps; kernels inside one batch get identical arithmetic (see the k=2 test)."""
    rng = np.random.default_rng(2)
    m = OneLayer(rng.standard_normal((24, 24)), 6)
    ws = m.tensor(rng.standard_normal((3, 6, 6)))
    both = m.forward(ws)
    for i in range(3):
        one = m.forward(ws[i:i + 1])[0]
        np.testing.assert_allclose(one.numpy(), both[i].numpy(), rtol=0, atol=1e-13)


def _autograd_loss(image, w, beta, alpha):
    img = torch.as_tensor(image, dtype=torch.float64)
    k = w.shape[-1]
    u = torch.nn.functional.conv2d(img[None, None], w[None, None])[0, 0]
    p = (u * torch.sigmoid(beta * u)).mean()
    return -torch.nn.functional.logsigmoid(p) + alpha / 2 * (w * w).sum()


@pytest.mark.parametrize("beta", [1.0, 2.5])
def test_gradient_matches_autograd(beta):
    rng = np.random.default_rng(3)
    image, w0 = rng.standard_normal((20, 20)), rng.standard_normal((5, 5))
    m = OneLayer(image, 5, beta=beta)
    w = torch.tensor(w0, requires_grad=True)
    loss = _autograd_loss(image, w, beta, alpha=0.7)
    (auto,) = torch.autograd.grad(loss, w)
    loss = loss.detach()
    bce, grad = m.data_loss_grad(m.tensor(w0)[None])
    np.testing.assert_allclose(float(bce[0]) + 0.35 * (w0**2).sum(), float(loss), rtol=1e-13)
    np.testing.assert_allclose((grad[0] + 0.7 * m.tensor(w0)).numpy(), auto.numpy(), atol=1e-12)


def test_hessian_vector_product_matches_autograd():
    rng = np.random.default_rng(4)
    image, w0, v0 = (rng.standard_normal((16, 16)), rng.standard_normal((4, 4)) * 0.3,
                     rng.standard_normal((4, 4)))
    m = OneLayer(image, 4, beta=1.0)
    w = torch.tensor(w0, requires_grad=True)
    (g,) = torch.autograd.grad(_autograd_loss(image, w, 1.0, 2.0), w, create_graph=True)
    (hv,) = torch.autograd.grad((g * torch.tensor(v0)).sum(), w)
    ours = m.hessian_vp(m.tensor(w0), m.tensor(v0)[None], 2.0)[0]
    np.testing.assert_allclose(ours.numpy(), hv.numpy(), atol=1e-12)


def test_gram_equals_explicit_patch_matrix():
    rng = np.random.default_rng(5)
    image = rng.standard_normal((12, 12))
    m = OneLayer(image, 3)
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3)).reshape(-1, 9)
    np.testing.assert_allclose(m.gram(batch=4), windows.T @ windows, atol=1e-12)


def test_authors_kernel_and_checkerboard():
    w = authors_kernel(32, 7)
    assert (w**2).sum() == pytest.approx(949.749, abs=1e-3)
    board = checkerboard(4)
    assert board[0, 0] == -1 and board[0, 1] == 1 and board.sum() == 0
    assert float(np.sum(checkerboard(256)[:32, :32] * w)) == pytest.approx(-0.036037, abs=1e-6)


@pytest.mark.parametrize("kind", ["checkerboard", "random", "geomnist"])
def test_image_kinds(kind):
    img = make_image(kind, 40, seed=1)
    assert img.shape == (40, 40) and np.all(np.isfinite(img))
    p = build_problem({"kind": kind, "size": 40, "seed": 1}, {"size": 8, "seed": 7}, 1.0, "float64")
    loss, grad = p.model.data_loss_grad(p.model.tensor(p.w0)[None])
    assert torch.isfinite(loss).all() and grad.shape == (1, 8, 8)


def test_bad_inputs_fail_before_work():
    with pytest.raises(ValueError, match="larger than pde.image.size"):
        build_problem({"kind": "checkerboard", "size": 16}, {"size": 32, "seed": 7}, 1.0, "float64")
    with pytest.raises(ValueError, match="unknown pde.image.kind 'photo'"):
        build_problem({"kind": "photo", "size": 16}, {"size": 4, "seed": 7}, 1.0, "float64")
    with pytest.raises(ValueError, match="square"):
        OneLayer(np.zeros((4, 5)), 2)


def test_single_kernel_and_losses_only_runs():
    """One (k, k) kernel needs no batch axis, and run_linear needs no top vector for losses."""
    from traindyn.pde.linear import run_linear
    from traindyn.pde.one_layer import OneLayer

    rng = np.random.default_rng(0)
    model = OneLayer(rng.normal(size=(12, 12)), 4)
    w = torch.as_tensor(rng.normal(size=(4, 4)), dtype=torch.float64)
    torch.testing.assert_close(model.forward(w), model.forward(w[None])[0], rtol=0, atol=0)
    u = model.forward(w)
    torch.testing.assert_close(model.adjoint(u), model.adjoint(u[None])[0], rtol=0, atol=0)
    run = run_linear(model, w.numpy(), 1e-3, [1.0, 10.0], 5)
    assert run.loss.shape == (2, 5) and np.isfinite(run.loss).all() and np.isnan(run.top).all()
    np.testing.assert_allclose(run.rest[:, 0], np.linalg.norm(w.numpy()))
