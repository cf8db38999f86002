"""LE-SDE estimators (synthetic LE-ODE data), tail index, LE-ODE simulation, log summaries."""

import json

import numpy as np
import pytest

from traindyn.lesde.estimators import (estimate_ab_i, estimate_ab_l, i_model_trajectory,
                                       moving_average, rates, tail_index)
from traindyn.lesde.leode import (initial_conditions, projectors, rescaled_mean, simulate,
                                  simulate_loop)
from traindyn.lesde.summary import class_means, label_counts, summarize


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


def _l_model(x0, alpha, beta):
    """The L-model Euler steps written out here (not with the library's projectors):
    X_c <- X_c + (alpha P_c X_c + beta sum_{c' != c} P_c' X_c') / K, P_c = d_c d_c^T / |d_c|^2."""
    k = x0.shape[0]
    d = np.eye(k) - 1.0 / k
    proj = [np.outer(v, v) / (v @ v) for v in d]
    x, out = x0.copy(), [x0.copy()]
    for a, b in zip(alpha[1:], beta[1:]):
        x = np.stack([x[c] + (a * proj[c] @ x[c]
                              + b * sum(proj[o] @ x[o] for o in range(k) if o != c)) / k
                      for c in range(k)])
        out.append(x)
    return np.array(out)


def _l_model_ab(alpha, beta, k=3):
    """A and B of the discrete L model from its two mode growth factors per step:
    d mode 1 + (alpha - beta)/K, f mode 1 + (alpha + beta/(K-1))/K."""
    a_minus_b = np.concatenate([[0.0], np.cumsum(k * np.log1p((alpha[1:] - beta[1:]) / k))])
    a_plus_b = np.concatenate([[0.0], np.cumsum(k * np.log1p((alpha[1:] + beta[1:] / (k - 1)) / k))])
    return (a_minus_b + (k - 1) * a_plus_b) / k, (a_plus_b - a_minus_b) * (k - 1) / k


@pytest.mark.parametrize("seed, ca, cb", [(0, 0.05, 0.01), (1, 0.03, -0.02), (2, 0.08, 0.03)])
def test_l_estimator_recovers_a_and_b_on_zero_sum_l_model_trajectories(seed, ca, cb):
    t = np.arange(1500, dtype=np.float64)
    alpha, beta = ca * (t + 1) ** -0.5, cb * (t + 1) ** -0.7
    x0 = np.random.default_rng(seed).standard_normal((3, 3))
    x0 -= x0.mean(axis=1, keepdims=True)  # every class's logits sum to zero
    a, b = _l_model_ab(alpha, beta)
    ah, bh = estimate_ab_l(_l_model(x0, alpha, beta))
    assert abs(b[-1]) > 0.05  # B is far from 0, so its sign is tested
    np.testing.assert_allclose(ah, a, atol=1e-10)
    np.testing.assert_allclose(bh, b, atol=1e-10)


def test_l_estimator_is_sensitive_to_a_common_logit_offset():
    """A documented property of the recipe: the same dynamics plus +0.7 on every logit give a
    clearly different A-hat (the estimator assumes zero-sum logits)."""
    t = np.arange(1500, dtype=np.float64)
    alpha, beta = 0.05 * (t + 1) ** -0.5, 0.01 * (t + 1) ** -0.7
    x0 = np.random.default_rng(0).standard_normal((3, 3))
    x0 -= x0.mean(axis=1, keepdims=True)
    a, _ = _l_model_ab(alpha, beta)
    ah, _ = estimate_ab_l(_l_model(x0, alpha, beta) + 0.7)
    assert abs(ah[-1] - a[-1]) > 0.2 * abs(a[-1])


def test_l_estimator_is_k3_only():
    with pytest.raises(ValueError, match="K = 3"):
        estimate_ab_l(np.ones((5, 4, 4)))


def test_rates_is_the_derivative():
    a = np.linspace(0, 10, 1001) ** 2 / 100  # derivative 2t/100 per index step of 0.01
    np.testing.assert_allclose(rates(a, 21)[50:-50], 2 * np.linspace(0, 10, 1001)[50:-50] / 100 * 0.01,
                               rtol=1e-9)


def test_moving_average_is_centred_with_partial_windows():
    np.testing.assert_allclose(moving_average(np.arange(5.0), 3), [0.5, 1, 2, 3, 3.5])


def test_projectors_are_orthogonal_rank_one_projections_onto_the_label_directions():
    for k in (3, 5):
        proj = projectors(k)
        for c in range(k):
            p = proj[c]
            d = np.eye(k)[c] - 1.0 / k
            np.testing.assert_allclose(p @ p, p, atol=1e-14)  # idempotent
            np.testing.assert_allclose(p, p.T, atol=0)  # symmetric
            np.testing.assert_allclose(p @ d, d, atol=1e-14)  # keeps d_c
            np.testing.assert_allclose(p @ np.ones(k), 0.0, atol=1e-14)  # kills the common mode
            other = np.linalg.svd(np.stack([d, np.ones(k)]))[2][2:]  # the rest of R^k
            np.testing.assert_allclose(other @ p, 0.0, atol=1e-14)
            assert np.trace(p) == pytest.approx(1.0)


def test_one_simulation_step_by_hand():
    """X_c = e_c: P_c X_c = d_c and sum_{c' != c} P_c' X_c' = -d_c (the d_c sum to 0), so one step
    gives X_c + (alpha - beta) d_c / 3."""
    alpha, beta = np.array([0.0, 0.3]), np.array([0.0, 0.06])
    mean, std = simulate(np.eye(3)[None], alpha, beta)
    step = 0.08 / 3
    want = np.array([[1 + 2 * step, -step, -step], [-step, 1 + 2 * step, -step],
                     [-step, -step, 1 + 2 * step]])
    np.testing.assert_allclose(mean[1], want, atol=1e-15)
    np.testing.assert_allclose(std, 0.0, atol=1e-15)
    np.testing.assert_allclose(simulate_loop(np.eye(3)[None], alpha, beta)[1, 0], want, atol=1e-15)


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


def test_summarize_groups_by_training_label_on_a_hand_made_log(tmp_path):
    """Two trials, three iterations, K = 3. Rows whose training label differs from the true
    class decide whether the class means follow the label (they must) or the true class."""
    import pyarrow.parquet as pq

    from traindyn.lesde.logs import steps_table, val_table

    # (iteration, trial): sampled example, training label, true class, logits
    smp = np.array([[0, 5], [3, 6], [1, 7]])
    y = np.array([[0, 1], [0, 2], [1, 2]])
    true = np.array([[0, 1], [1, 2], [0, 2]])  # (1, 0) and (2, 0): label != true class
    logits = np.arange(18, dtype=np.float64).reshape(3, 2, 3)
    steps = steps_table(np.array([0, 1]), np.arange(3), smp, y, true, logits, np.zeros((3, 2)))
    vals = val_table(np.array([0, 1]), np.array([0, 2]), np.array([[1.1, 1.0], [0.5, 0.4]]),
                     np.array([[0.3, 0.4], [0.9, 1.0]]))
    # the run the logs belong to (summarize checks every log complete against it)
    meta = {b"traindyn": json.dumps({"spec": {"trials": [0, 1], "iterations": 3,
                                              "eval_every": 2}}).encode()}
    pq.write_table(steps.replace_schema_metadata(meta), tmp_path / "steps.parquet")
    pq.write_table(vals.replace_schema_metadata(meta), tmp_path / "val.parquet")
    summarize(str(tmp_path / "s.npz"), [str(tmp_path / "steps.parquet")],
              [str(tmp_path / "val.parquet")], n_samples=3)
    s = np.load(tmp_path / "s.npz")
    m = s["means_y"]
    np.testing.assert_allclose(m[0, 0], logits[0, 0])  # itr 0: label 0 <- trial 0
    np.testing.assert_allclose(m[0, 1], logits[0, 1])
    np.testing.assert_allclose(m[1, 0], logits[1, 0])  # itr 1: label 0 (true class 1)
    np.testing.assert_allclose(m[1, 2], logits[1, 1])
    np.testing.assert_allclose(m[2, 1], logits[2, 0])  # itr 2: label 1 (true class 0)
    np.testing.assert_allclose(m[2, 0], logits[1, 0])  # nobody labelled 0: carried forward
    np.testing.assert_allclose(s["means_true"][1, 1], logits[1, 0])  # by true class: class 1
    assert s["counts_y"].tolist() == [[1, 1, 0], [1, 0, 1], [0, 1, 1]]
    assert s["label_counts"].tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 2]]
    np.testing.assert_allclose(s["val_acc"], [[0.3, 0.9], [0.4, 1.0]])
    np.testing.assert_allclose(s["val_loss"][:, 0], [1.1, 1.0])


def test_label_counts_count_distinct_examples():
    smp = np.array([0, 0, 1, 2, 2, 3])
    true = np.array([0, 0, 0, 1, 1, 1])
    label = np.array([1, 1, 0, 1, 1, 0])
    assert label_counts(smp, true, label, 2).tolist() == [[1, 1], [1, 1]]
