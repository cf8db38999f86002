"""Non-linear gradient-descent PDE (SI eq. 8) of the one-layer CNN, the perturbed copies of
Figure 4 right, and the stability thresholds read off the Hessian at the fixed point.

Update (PySun / PySun2): d = grad BCE + alpha*w, then w <- w - (lr*k) * (d / k). k = 1 is plain
gradient descent; k = 3 is the same mathematics with different floating-point rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from .one_layer import OneLayer


@dataclass
class GDRun:
    loss: np.ndarray  # (B, T): BCE + alpha/2 |w|^2 before each update
    final: np.ndarray  # (B, k, k): kernel after the last update
    first_nonfinite: np.ndarray  # (B,): first iteration with a non-finite loss, -1 if none
    weights: np.ndarray | None = None  # (B, T+1, k, k) when kept


def run_gd(model: OneLayer, w0: np.ndarray, lrs: Sequence[float], alpha: float, iterations: int,
           ks: Sequence[int] | None = None, keep_weights: bool = False) -> GDRun:
    """Gradient descent for a batch of (lr, k) pairs from the same initial kernel."""
    b = len(lrs)
    ks = np.ones(b, dtype=np.int64) if ks is None else np.asarray(ks)
    step = model.tensor(np.asarray(lrs, dtype=np.float64) * ks)[:, None, None]  # lr*k, rounded
    kdiv = model.tensor(ks.astype(np.float64))[:, None, None]
    w = model.tensor(w0)[None].repeat(b, 1, 1)
    loss = torch.empty((b, iterations), dtype=torch.float64)
    weights = torch.empty((b, iterations + 1, *w0.shape), dtype=model.dtype) if keep_weights else None
    for t in range(iterations):
        if weights is not None:
            weights[:, t] = w
        bce, grad = model.data_loss_grad(w)
        loss[:, t] = bce + alpha / 2 * (w * w).sum(dim=(1, 2))
        w = w - step * ((grad + alpha * w) / kdiv)
    if weights is not None:
        weights[:, iterations] = w
    loss_np = loss.numpy()
    bad = ~np.isfinite(loss_np)
    return GDRun(loss_np, w.cpu().numpy(), np.where(bad.any(axis=1), bad.argmax(axis=1), -1),
                 None if weights is None else weights.cpu().numpy())


def hessian_extremes(model: OneLayer, w: np.ndarray, alpha: float) -> tuple[float, float]:
    """Smallest and largest eigenvalue of the loss Hessian at kernel ``w`` (Lanczos on H v)."""
    shape = w.shape
    wt = model.tensor(w)

    def matvec(v: np.ndarray) -> np.ndarray:
        hv = model.hessian_vp(wt, model.tensor(v.reshape(1, *shape)), alpha)
        return hv.reshape(-1).cpu().numpy()

    op = LinearOperator((w.size, w.size), matvec=matvec, dtype=np.float64)
    rng = np.random.default_rng(0)
    start = rng.standard_normal(w.size)
    lo = eigsh(op, k=1, which="SA", v0=start, tol=1e-10, return_eigenvectors=False)[0]
    hi = eigsh(op, k=1, which="LA", v0=start, tol=1e-10, return_eigenvectors=False)[0]
    return float(lo), float(hi)


def gradient_norm(model: OneLayer, w: np.ndarray, alpha: float) -> float:
    _, grad = model.data_loss_grad(model.tensor(w)[None])
    return float(torch.linalg.vector_norm(grad[0] + alpha * model.tensor(w)))
