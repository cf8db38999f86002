"""LE-ODE simulation of the class means (the Figure 5 recipe of the authors' code), vectorized over
trials: X_c <- X_c + (alpha(t) P_c X_c + beta(t) sum_{c' != c} P_{c'} X_{c'}) / K with
P_c = d_c d_c^T / |d_c|^2, d_c = e_c - 1/K, alpha(t) used for the step into t (as coded)."""

from __future__ import annotations

import numpy as np


def projectors(k: int) -> np.ndarray:
    d = np.eye(k) - 1.0 / k
    return np.einsum("ci,cj->cij", d, d) / np.sum(d * d, axis=1)[:, None, None]


def initial_conditions(data_x0: np.ndarray, n_trials: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean random starts: class c ~ N(0, s_c^2 I) with s_c = |Xbar_c(0)| / sqrt(K)."""
    k = data_x0.shape[0]
    scale = np.linalg.norm(data_x0, axis=1) / np.sqrt(k)
    return rng.standard_normal((n_trials, k, k)) * scale[None, :, None]


def step_matrices(k: int) -> tuple[np.ndarray, np.ndarray]:
    """(P, Q) with the update vec(X) <- (I + alpha/K P + beta/K Q) vec(X), vec row-major over
    (class, coordinate): P = blockdiag(P_c), Q[c, c'] = P_{c'} for c' != c."""
    proj = projectors(k)
    p = np.zeros((k * k, k * k))
    q = np.zeros((k * k, k * k))
    for c in range(k):
        for other in range(k):
            block = (slice(c * k, (c + 1) * k), slice(other * k, (other + 1) * k))
            (p if other == c else q)[block] = proj[other]
    return p, q


def simulate(x0: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x0: (n, K, K) [trial, class, coordinate]. Every trial moves by the same K^2 x K^2 matrix per
    step, so the whole ensemble advances with one matrix product. Returns the trial mean and
    standard deviation of the class means at every step, each (T, K, K), T = len(alpha)."""
    n, k, _ = x0.shape
    p, q = step_matrices(k)
    eye = np.eye(k * k)
    x = x0.reshape(n, k * k).copy()
    mean = np.empty((len(alpha), k * k))
    sq = np.empty((len(alpha), k * k))
    mean[0], sq[0] = x.mean(axis=0), (x * x).mean(axis=0)
    for t in range(1, len(alpha)):
        x = x @ (eye + (alpha[t] / k) * p + (beta[t] / k) * q).T
        mean[t], sq[t] = x.mean(axis=0), (x * x).mean(axis=0)
    std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    return mean.reshape(-1, k, k), std.reshape(-1, k, k)


def mean_trajectories(x0s: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """The update is linear, so an ensemble's mean follows the same update from the mean of its
    starts: (n, K, K) ensemble-mean starts (one per simulation seed) -> (T, n, K, K) trajectories
    of those means, all n advanced by one matrix product per step."""
    n, k, _ = x0s.shape
    p, q = step_matrices(k)
    eye = np.eye(k * k)
    x = x0s.reshape(n, k * k).copy()
    out = np.empty((len(alpha), n, k * k))
    out[0] = x
    for t in range(1, len(alpha)):
        x = x @ (eye + (alpha[t] / k) * p + (beta[t] / k) * q).T
        out[t] = x
    return out.reshape(len(alpha), n, k, k)


def simulate_loop(x0: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Straightforward per-trial, per-class loop (the authors' structure), for tests."""
    n, k, _ = x0.shape
    proj = projectors(k)
    out = np.empty((len(alpha), n, k, k))
    for trial in range(n):
        x = x0[trial].copy()
        out[0, trial] = x
        for t in range(1, len(alpha)):
            new = x.copy()
            for c in range(k):
                push = alpha[t] * proj[c] @ x[c]
                for other in range(k):
                    if other != c:
                        push = push + beta[t] * proj[other] @ x[other]
                new[c] = x[c] + push / k
            x = new
            out[t, trial] = x
    return out


def rescaled_mean(sim_mean: np.ndarray, data: np.ndarray, cls: int, align: int,
                  tail: int = 1000) -> tuple[np.ndarray, float]:
    """Class ``cls``'s simulated mean logits times the scalar that matches the data's mean of
    coordinate ``align`` over the last ``tail`` iterations (the authors' rescale)."""
    mean = sim_mean[:, cls, :]
    target = np.nanmean(data[-tail:, cls, align])
    scale = target / mean[-tail:, align].mean()
    return mean * scale, float(scale)
