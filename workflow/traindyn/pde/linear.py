"""Linearized gradient-descent PDE (SI eq. 9) exactly as the authors' ``linear.py`` defines it,
its von Neumann bounds, and empirical stability thresholds (SI Figure 3, Table 2; SI §3.2).

The authors linearize around w = 0 with sigmoid(p) - 1 ~ -1/2 and s'(u) ~ 1/2 + beta*u/2 and sum
over positions (no 1/N), giving the forward-Euler step

    w <- w - lr * (alpha*w - (beta/4) X^T X w - (1/4) mean(I) 1).

Mode by mode (eigenvalues lambda of X^T X) the amplification is 1 - lr*(alpha - (beta/4) lambda):
no mode grows iff alpha >= alpha_min = (beta/4) lambda_max, and no mode oscillates out iff
alpha <= alpha_max = 2/lr + (beta/4) lambda_min.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .one_layer import OneLayer

__all__ = ["LinearBounds", "linear_bounds"]


@dataclass(frozen=True)
class LinearBounds:
    lambda_max: float  # of X^T X
    lambda_min: float
    fft_bound: float  # (beta/4) max |FFT(I)|^2, the periodic upper bound the authors' script prints
    beta: float

    @property
    def alpha_min(self) -> float:
        return self.beta / 4 * self.lambda_max

    def alpha_max(self, lr: float) -> float:
        return 2.0 / lr + self.beta / 4 * self.lambda_min


def linear_bounds(model: OneLayer, gram: np.ndarray) -> LinearBounds:
    lam = np.linalg.eigvalsh(gram)
    fft_peak = float(np.max(np.abs(np.fft.fft2(model.image.cpu().numpy())) ** 2))
    return LinearBounds(float(lam[-1]), float(max(lam[0], 0.0)), model.beta / 4 * fft_peak,
                        model.beta)


def linear_step(model: OneLayer, w: torch.Tensor, lr: torch.Tensor, alpha: torch.Tensor,
                u: torch.Tensor | None = None) -> torch.Tensor:
    """One linearized step for a batch of kernels with per-kernel lr and alpha (shape (B,));
    ``u`` = X w when the caller already has it."""
    xtx_w = model.adjoint(model.forward(w) if u is None else u)
    grad = alpha[:, None, None] * w - model.beta / 4 * xtx_w - 0.25 * model.image.mean()
    return w - lr[:, None, None] * grad


@dataclass
class LinearRun:
    loss: np.ndarray  # (B, T): BCE at w_t (true model) + alpha/2 |w_{t+1}|^2, as the authors log it
    top: np.ndarray  # (B, T+1): component of w_t along the top eigenvector of X^T X
    rest: np.ndarray  # (B, T+1): norm of the remaining components
    first_nonfinite: np.ndarray  # (B,): first t with a non-finite loss, -1 if none


def run_linear(model: OneLayer, w0: np.ndarray, lr: float, alphas: Sequence[float],
               iterations: int, top_vector: np.ndarray | None = None) -> LinearRun:
    """Iterate the linearized step for every alpha at once from the same initial kernel. With a
    ``top_vector`` (a unit kernel, e.g. the top eigenvector of X^T X) the run also records the
    kernel's component along it and the norm of the rest; without one, those are NaN and the
    norm of the whole kernel."""
    b = len(alphas)
    alpha = model.tensor(np.asarray(alphas, dtype=np.float64))
    lrs = model.tensor(np.full(b, float(lr)))
    top_v = model.tensor(np.zeros(w0.shape) if top_vector is None else top_vector)
    w = model.tensor(w0)[None].repeat(b, 1, 1)
    loss = torch.empty((b, iterations), dtype=torch.float64)
    top = torch.empty((b, iterations + 1), dtype=torch.float64)
    sq = torch.empty((b, iterations + 1), dtype=torch.float64)
    for t in range(iterations + 1):
        top[:, t] = (w * top_v).sum(dim=(1, 2))
        sq[:, t] = (w * w).sum(dim=(1, 2))
        if t == iterations:
            break
        u = model.forward(w)
        bce = model.bce(model.pooled(u))
        w = linear_step(model, w, lrs, alpha, u)
        loss[:, t] = bce + alpha / 2 * (w * w).sum(dim=(1, 2))
    loss_np, top_np = loss.numpy(), top.numpy()
    if top_vector is None:
        top_np = np.full_like(top_np, np.nan)
    with np.errstate(invalid="ignore"):
        rest = np.sqrt(np.maximum(sq.numpy() - np.nan_to_num(top_np) ** 2, 0.0))
    bad = ~np.isfinite(loss_np)
    first = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
    return LinearRun(loss_np, top_np, rest, first)


def growth_rate(series: np.ndarray, start: int, stop: int) -> float:
    """Geometric-mean per-iteration growth of |series| between two iterations."""
    a, b = abs(series[start]), abs(series[stop])
    return float((b / a) ** (1.0 / (stop - start))) if a > 0 and np.isfinite(b) else float("nan")


def _stable(gram: np.ndarray, beta: float, w0: np.ndarray, lrs: np.ndarray, alphas: np.ndarray,
            iterations: int) -> np.ndarray:
    """Simulate the linear map in matrix form for many (lr, alpha) pairs at once (columns).

    Stable means: every iterate finite and the increment w_{t+1} - w_t did not grow over the
    second half of the run (the increments follow the linear part alone, whatever mean(I) is).
    """
    w = np.repeat(w0.reshape(-1, 1), len(alphas), axis=1)
    decay = 1.0 - lrs * alphas
    gain = lrs * beta / 4
    half = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations):
            new = decay * w + gain * (gram @ w)
            if t == iterations // 2:
                half = np.linalg.norm(new - w, axis=0)
            if t == iterations - 1:
                last = np.linalg.norm(new - w, axis=0)
            w = new
    return np.isfinite(last) & (last <= half)


def empirical_thresholds(gram: np.ndarray, beta: float, w0: np.ndarray, lrs: Sequence[float],
                         iterations: int, scan: int = 32, span: tuple[float, float] = (1e-4, 1e2),
                         points: int = 8, rounds: int = 3) -> dict[str, np.ndarray]:
    """Empirical alpha_min and alpha_max for each lr, found without the theoretical values.

    A geometric scan of alpha over span[0]/lr .. span[1]/lr (set by the step size alone) must show
    one stable interval; its two edges are then refined by a batched bisection (``points`` alphas
    per bracket per round, all brackets in one matrix product per iteration). An lr whose scan
    shows no stable alpha, or more than one stable interval, or a stable end of the scan, yields
    NaN: the Table 2 claims then fail rather than agree by construction.
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    n = len(lrs)
    grid = np.geomspace(span[0], span[1], scan)[None] / lrs[:, None]  # (n, scan)
    stable = _stable(gram, beta, w0, np.repeat(lrs, scan), grid.ravel(),
                     iterations).reshape(grid.shape)
    lo, hi = np.full(2 * n, np.nan), np.full(2 * n, np.nan)
    for j in range(n):
        edges = np.flatnonzero(np.diff(stable[j].astype(int)))
        if len(edges) == 2 and not stable[j, 0] and stable[j, edges[0] + 1]:
            lo[j], hi[j] = grid[j, edges[0]], grid[j, edges[0] + 1]  # unstable -> stable
            lo[n + j], hi[n + j] = grid[j, edges[1]], grid[j, edges[1] + 1]  # stable -> unstable
    valid = np.isfinite(lo)
    lr_of = np.concatenate([lrs, lrs])
    for _ in range(rounds):
        if not valid.any():
            break
        idx = np.flatnonzero(valid)
        sub = lo[idx, None] + (hi - lo)[idx, None] * np.linspace(0.0, 1.0, points)[None]
        ok = _stable(gram, beta, w0, np.repeat(lr_of[idx], points), sub.ravel(),
                     iterations).reshape(sub.shape)
        for row, j in enumerate(idx):
            change = np.flatnonzero(ok[row, 1:] != ok[row, :-1])
            if change.size != 1:
                valid[j] = False
                continue
            lo[j], hi[j] = sub[row, change[0]], sub[row, change[0] + 1]
    mid = np.where(valid, 0.5 * (lo + hi), np.nan)
    half_width = np.where(valid, 0.5 * (hi - lo), np.nan)
    return {"alpha_min": mid[:n], "alpha_min_pm": half_width[:n],
            "alpha_max": mid[n:], "alpha_max_pm": half_width[n:]}
