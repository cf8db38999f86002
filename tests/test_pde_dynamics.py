"""Linearized and non-linear PDE dynamics, bounds, thresholds and the divergence metric."""

import numpy as np
import pytest

from traindyn.divergence import forward_window_mean, relative_l1_divergence
from traindyn.pde.inputs import build_problem, check_lrs
from traindyn.pde.linear import empirical_thresholds, growth_rate, linear_bounds, run_linear
from traindyn.pde.nonlinear import gradient_norm, hessian_extremes, run_gd
from traindyn.pde.one_layer_direct import forward_loops


def _problem(kind="checkerboard", size=24, k=6):
    return build_problem({"kind": kind, "size": size, "seed": 0}, {"size": k, "seed": 7}, 1.0,
                         "float64")


def test_checkerboard_gram_is_rank_one_with_the_papers_lambda():
    p = _problem(size=24, k=6)
    lam = np.linalg.eigvalsh(p.model.gram())
    n = (24 - 6 + 1) ** 2
    assert lam[-1] == pytest.approx(n * 36, rel=1e-12)  # N * |c|^2, every patch is +-c
    assert abs(lam[-2]) < 1e-8 * lam[-1]


def test_linear_growth_rates_follow_von_neumann():
    p = _problem(kind="random", size=20, k=4)
    gram = p.model.gram()
    lam, vecs = np.linalg.eigh(gram)
    b = linear_bounds(p.model, gram)
    lr = 1.0 / lam[-1]
    below = 0.8 * b.alpha_min  # top mode grows by 1 + lr (lambda_max/4 - alpha)
    run = run_linear(p.model, p.w0, lr, [below], 400, vecs[:, -1].reshape(4, 4))
    expected = 1 + lr * (lam[-1] / 4 - below)
    assert growth_rate(run.top[0], 200, 400) == pytest.approx(expected, rel=1e-6)
    assert b.alpha_max(lr) == pytest.approx(2 / lr + lam[0] / 4)
    assert b.fft_bound >= b.alpha_min  # the periodic bound only bounds alpha_min from above


def test_empirical_thresholds_bracket_the_theory():
    p = _problem(kind="random", size=20, k=4)
    gram = p.model.gram()
    b = linear_bounds(p.model, gram)
    lrs = [0.5 / b.lambda_max, 1.0 / b.lambda_max]
    emp = empirical_thresholds(gram, 1.0, p.w0, lrs, iterations=600)
    np.testing.assert_allclose(emp["alpha_min"], b.alpha_min, rtol=0.01)
    np.testing.assert_allclose(emp["alpha_max"], [b.alpha_max(lr) for lr in lrs], rtol=0.01)
    assert np.all(emp["alpha_min_pm"] < 0.01 * b.alpha_min)


def test_gd_k_power_of_two_is_bitwise_k1_and_k3_differs_only_by_rounding():
    p = _problem(size=24, k=6)
    run = run_gd(p.model, p.w0, [0.05] * 3, 20.0, 60, ks=[1, 2, 3], keep_weights=True)
    assert np.array_equal(run.weights[0], run.weights[1])
    # after one step k=3 differs from k=1 by rounding only: a few ulps of the initial weights
    first = run.weights[2, 1] - run.weights[0, 1]
    assert 0 < np.max(np.abs(first)) <= 4 * np.spacing(np.max(np.abs(p.w0)))
    assert not np.array_equal(run.weights[0], run.weights[2])


def test_gd_fixed_point_and_hessian_extremes_match_the_dense_hessian():
    p = _problem(size=24, k=6)
    run = run_gd(p.model, p.w0, [0.01], 20.0, 1500)
    w = run.final[0]
    assert gradient_norm(p.model, w, 20.0) < 1e-10
    eye = p.model.tensor(np.eye(36).reshape(36, 6, 6))
    dense = p.model.hessian_vp(p.model.tensor(w), eye, 20.0).reshape(36, 36).numpy()
    lam = np.linalg.eigvalsh(0.5 * (dense + dense.T))
    lo, hi = hessian_extremes(p.model, w, 20.0)
    assert lo == pytest.approx(lam[0], rel=1e-8) and hi == pytest.approx(lam[-1], rel=1e-8)
    # rank-one data (checkerboard): all but one eigenvalue equal the weight decay
    assert np.sum(np.isclose(lam, 20.0, rtol=1e-9)) == 35


def test_blow_up_is_recorded_not_raised():
    p = _problem(size=24, k=6)
    run = run_gd(p.model, p.w0, [0.5], 20.0, 400)
    assert run.first_nonfinite[0] > 0
    assert np.all(np.isfinite(run.loss[0, : run.first_nonfinite[0]]))


def test_divergence_metric():
    a = np.array([1.0, -2.0, 0.0, 3.0])
    b = np.array([1.0, 2.0, 0.0, 1.0])
    assert relative_l1_divergence(a, b) == pytest.approx(2 * (0 + 1 + 0 + 0.5) / 4)
    assert relative_l1_divergence(a, a) == 0.0
    assert relative_l1_divergence(a, -a) == pytest.approx(2 * 3 / 4)  # the 0 entry counts as 0
    stacked = relative_l1_divergence(np.stack([a, a]), np.stack([a, b]), axis=1)
    np.testing.assert_allclose(stacked, [0.0, 0.75])


def test_forward_window_mean():
    x = np.arange(10.0)
    np.testing.assert_allclose(forward_window_mean(x, 3), [1, 2, 3, 4, 5, 6, 7, 8])
    with pytest.raises(ValueError):
        forward_window_mean(x, 11)


def test_non_positive_lr_is_rejected():
    with pytest.raises(ValueError, match="must be > 0"):
        check_lrs([0.01, 0.0], "pde.nonlinear.lrs")


def test_empirical_thresholds_are_nan_when_no_alpha_is_stable():
    # lr so large that 2/lr < lambda_max/4: alpha_max < alpha_min, the window is empty
    p = _problem(kind="random", size=20, k=4)
    gram = p.model.gram()
    b = linear_bounds(p.model, gram)
    lr = 40.0 / b.lambda_max
    assert b.alpha_max(lr) < b.alpha_min
    emp = empirical_thresholds(gram, 1.0, p.w0, [lr], iterations=600)
    assert np.isnan(emp["alpha_min"][0]) and np.isnan(emp["alpha_max"][0])


def _hand_bce(image, w, beta=1.0):
    """BCE(sigmoid(p), 1) = log(1 + exp(-p)), p = mean Swish of the valid correlation (loops)."""
    u = forward_loops(image, w)
    p = np.mean(u / (1.0 + np.exp(-beta * u)))
    return np.log1p(np.exp(-p))


def test_logged_loss_adds_half_alpha_times_the_squared_norm():
    """Both logged PDE losses are BCE + (alpha/2)|w|^2, computed here by hand: GD logs it at w_t
    (before the update), the linearized run at w_(t+1) (the authors' mix), each counted once."""
    p = _problem(kind="random", size=8, k=3)
    image, w0, alpha, lr = p.model.image.numpy(), p.w0, 20.0, 0.05
    run = run_gd(p.model, w0, [lr], alpha, 2, keep_weights=True)
    for t in range(2):
        w = run.weights[0, t]
        assert run.loss[0, t] == pytest.approx(_hand_bce(image, w) + alpha / 2 * np.sum(w * w),
                                               rel=1e-12)
    gram = p.model.gram()
    lam, vecs = np.linalg.eigh(gram)
    lin_lr, lin_alpha = 1e-3, 5.0
    lin = run_linear(p.model, w0, lin_lr, [lin_alpha], 1, vecs[:, -1].reshape(3, 3))
    grad = lin_alpha * w0 - 0.25 * (gram @ w0.ravel()).reshape(3, 3) - 0.25 * image.mean()
    w1 = w0 - lin_lr * grad
    assert lin.loss[0, 0] == pytest.approx(_hand_bce(image, w0) + lin_alpha / 2 * np.sum(w1 * w1),
                                           rel=1e-12)


def test_empirical_thresholds_are_nan_when_the_scan_misses_an_edge():
    # lr so small that every scanned alpha >= 1e-4/lr is already above alpha_min: the scan
    # starts stable, shows only the alpha_max edge, and alpha_min is not claimed
    p = _problem(kind="random", size=20, k=4)
    gram = p.model.gram()
    b = linear_bounds(p.model, gram)
    lr = 1e-7 / b.lambda_max
    emp = empirical_thresholds(gram, 1.0, p.w0, [lr], iterations=600)
    assert np.isnan(emp["alpha_min"][0]) and np.isnan(emp["alpha_max"][0])
