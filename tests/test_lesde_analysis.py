"""LE-SDE estimators (synthetic LE-ODE data), tail index, LE-ODE simulation, log summaries."""

import numpy as np
import pytest

from traindyn.lesde.estimators import (estimate_ab_i, estimate_ab_l, i_model_trajectory,
                                       moving_average, rates, tail_index)
from traindyn.lesde.leode import initial_conditions, rescaled_mean, simulate, simulate_loop
from traindyn.lesde.summary import class_means


@pytest.mark.parametrize("ca,cb,seed", [(0.01, 0.002, 0), (0.05, -0.01, 1), (0.002, 0.004, 2)])
def test_i_estimator_inverts_the_exact_i_model(ca, cb, seed):
    t = np.arange(3000, dtype=np.float64)
    a = np.concatenate([[0.0], np.cumsum(ca * t[1:] ** -0.5)])
    b = np.concatenate([[0.0], np.cumsum(cb * t[1:] ** -0.7)])
    x0 = np.random.default_rng(seed).standard_normal((3, 3))
    ah, bh = estimate_ab_i(i_model_trajectory(x0, a, b))
    assert np.nanmax(np.abs(ah - a)) < 1e-8 and np.nanmax(np.abs(bh - b)) < 1e-8


@pytest.mark.parametrize("c,r,expected", [(0.1, 0.5, 0.677), (0.1, 1.0, 1.003),
                                          (0.01, 0.5, 0.928), (1.0, 1.5, 0.896)])
def test_tail_index_reproduces_the_synthetic_values(c, r, expected):
    a = np.cumsum(c * np.arange(1, 10001, dtype=np.float64) ** -r)
    assert tail_index(a, 1000) == pytest.approx(expected, abs=0.002)


def test_tail_index_negates_a_mostly_negative_tail():
    a = np.cumsum(0.1 * np.arange(1, 10001, dtype=np.float64) ** -0.5)
    assert tail_index(-a) == pytest.approx(tail_index(a))


def test_l_estimator_is_k3_only_and_exact_on_a_pure_mode_mix():
    with pytest.raises(ValueError, match="K = 3"):
        estimate_ab_l(np.ones((5, 4, 4)))
    rng = np.random.default_rng(0)
    means = rng.standard_normal((50, 3, 3)).cumsum(axis=0) + 5
    a, b = estimate_ab_l(means)
    assert a.shape == b.shape == (50,) and a[0] == 0 and b[0] == 0


def test_rates_is_the_derivative():
    a = np.linspace(0, 10, 1001) ** 2 / 100  # derivative 2t/100 per index step of 0.01
    np.testing.assert_allclose(rates(a, 21)[50:-50], 2 * np.linspace(0, 10, 1001)[50:-50] / 100 * 0.01,
                               rtol=1e-9)


def test_moving_average_is_centred_with_partial_windows():
    np.testing.assert_allclose(moving_average(np.arange(5.0), 3), [0.5, 1, 2, 3, 3.5])


def test_vectorized_simulation_equals_the_loop():
    rng = np.random.default_rng(0)
    x0 = initial_conditions(rng.standard_normal((3, 3)), 6, rng)
    alpha = 0.02 * np.exp(-np.arange(300) / 100)
    beta = 0.003 * np.cos(np.arange(300) / 30)
    mean, std = simulate(x0, alpha, beta)
    full = simulate_loop(x0, alpha, beta)
    np.testing.assert_allclose(mean, full.mean(axis=1), atol=1e-13)
    np.testing.assert_allclose(std, full.std(axis=1), atol=1e-12)
    curve, scale = rescaled_mean(mean, full.mean(axis=1) * 3.0, 0, 1, tail=50)
    assert scale == pytest.approx(3.0)


def test_class_means_average_over_trials_and_fill_empty_cells():
    itr = np.array([0, 0, 0, 1, 1, 2])
    label = np.array([0, 0, 1, 0, 0, 1])
    logits = np.arange(12, dtype=np.float64).reshape(6, 2)
    means, counts = class_means(itr, label, logits, 3, 2)
    np.testing.assert_allclose(means[0, 0], [1.0, 2.0])  # two trials sampled label 0 at itr 0
    np.testing.assert_allclose(means[1, 1], means[0, 1])  # nobody sampled label 1 at itr 1
    np.testing.assert_allclose(means[2, 0], means[1, 0])
    assert counts[:, 0].tolist() == [2, 2, 0]
    with pytest.raises(ValueError, match="never sampled"):
        class_means(itr, label, logits, 3, 3)
