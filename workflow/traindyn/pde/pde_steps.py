"""Snakemake steps of the single-layer PDE track: each runs one experiment into an npz.

Every step takes the same ``problem`` settings (image, kernel, swish_beta, dtype), validates them
and the learning rates before any computation, and records provenance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import torch

from ..atomic import save_npz
from ..divergence import forward_window_mean, relative_l1_divergence
from ..provenance import provenance
from .inputs import Problem, build_problem, check_lrs
from .linear import empirical_thresholds, linear_bounds, run_linear
from .nonlinear import gradient_norm, hessian_extremes, run_gd


def _problem(problem: dict) -> Problem:
    return build_problem(problem["image"], problem["kernel"], problem["swish_beta"],
                         problem["dtype"])


def _save(out: str, problem: Problem, params: dict, **arrays) -> None:
    record = provenance({**problem.settings, **params}, torch_dtype=problem.settings["dtype"],
                        device=str(problem.model.device), threads=torch.get_num_threads())
    save_npz(out, settings=json.dumps(problem.settings), params=json.dumps(params),
             paper_setup=problem.is_paper_setup, provenance=json.dumps(record), **arrays)


def _gram_spectrum(p: Problem):
    gram = p.model.gram()
    lam, vecs = np.linalg.eigh(gram)
    return gram, lam, vecs[:, -1].reshape(p.w0.shape)


def linear_pde(out: str, *, problem: dict, lr: float, alphas: Sequence[float],
               iterations: int) -> None:
    """Figure 3: the linearized iteration for each alpha, plus the bounds it is read against."""
    check_lrs(lr, "pde.linear.lr")
    p = _problem(problem)
    gram, lam, top = _gram_spectrum(p)
    bounds = linear_bounds(p.model, gram)
    run = run_linear(p.model, p.w0, lr, alphas, iterations, top)
    _save(out, p, dict(lr=lr, alphas=list(alphas), iterations=iterations),
          alphas=np.asarray(alphas, dtype=np.float64), loss=run.loss, top=run.top, rest=run.rest,
          first_nonfinite=run.first_nonfinite, lr=lr, alpha_min=bounds.alpha_min,
          alpha_max=bounds.alpha_max(lr), fft_bound=bounds.fft_bound,
          lambda_max=bounds.lambda_max, lambda_min=bounds.lambda_min)


def stability_table(out: str, *, problem: dict, lrs: Sequence[float], iterations: int) -> None:
    """Table 2: theoretical and empirical (bisection) alpha thresholds for several lrs."""
    check_lrs(lrs, "pde.linear.table_lrs")
    p = _problem(problem)
    gram, _, _ = _gram_spectrum(p)
    bounds = linear_bounds(p.model, gram)
    emp = empirical_thresholds(gram, p.model.beta, p.w0, lrs, iterations)
    _save(out, p, dict(lrs=list(lrs), iterations=iterations),
          lrs=np.asarray(lrs, dtype=np.float64), alpha_min=bounds.alpha_min,
          alpha_max=np.array([bounds.alpha_max(lr) for lr in lrs]), fft_bound=bounds.fft_bound,
          **{f"emp_{k}": v for k, v in emp.items()})


def nonlinear_pde(out: str, *, problem: dict, weight_decay: float, lrs: Sequence[float],
                  iterations: int) -> None:
    """Figure 4 left: plain GD on the true loss for each lr, and the thresholds 2/lambda of the
    Hessian at the fixed point reached by the smallest lr."""
    check_lrs(lrs, "pde.nonlinear.lrs")
    p = _problem(problem)
    run = run_gd(p.model, p.w0, lrs, weight_decay, iterations)
    ref = int(np.argmin(lrs))
    w_star = run.final[ref]
    lam_min, lam_max = hessian_extremes(p.model, w_star, weight_decay)
    patch = p.model.image[: p.w0.shape[0], : p.w0.shape[1]].cpu().numpy()
    _save(out, p, dict(weight_decay=weight_decay, lrs=list(lrs), iterations=iterations),
          lrs=np.asarray(lrs, dtype=np.float64), loss=run.loss, final=run.final,
          first_nonfinite=run.first_nonfinite, weight_decay=weight_decay, w_star=w_star,
          w_star_grad_norm=gradient_norm(p.model, w_star, weight_decay),
          z_star=float(np.sum(patch * w_star)), hessian_min=lam_min, hessian_max=lam_max,
          lr_orthogonal=2.0 / lam_min, lr_restrained=2.0 / lam_max)


def error_amplification(out: str, *, problem: dict, weight_decay: float, lrs: Sequence[float],
                        k: Sequence[int], window: int, iterations: int) -> None:
    """Figure 4 right: two copies per lr, updated with (lr*k)*(grad/k) for the two k; their
    divergence after every update and its forward moving average."""
    check_lrs(lrs, "pde.amplification.lrs")
    if len(k) != 2 or min(k) < 1:
        raise ValueError(f"pde.amplification.k must be two integers >= 1, got {k}")
    p = _problem(problem)
    n = len(lrs)
    run = run_gd(p.model, p.w0, list(lrs) * 2, weight_decay, iterations,
                 ks=[k[0]] * n + [k[1]] * n, keep_weights=True)
    div = relative_l1_divergence(run.weights[:n, 1:], run.weights[n:, 1:], axis=(2, 3))
    _save(out, p, dict(weight_decay=weight_decay, lrs=list(lrs), k=list(k), window=window,
                       iterations=iterations),
          lrs=np.asarray(lrs, dtype=np.float64), k=np.asarray(k), divergence=div,
          window_mean=np.stack([forward_window_mean(d, window) for d in div]), window=window)
