"""The SI single-layer families: the heat equation (SI Figure 1, config ``heat``) and the
one-layer PDE track (SI Figures 3-4, Table 2, config ``pde``). Their rules across keys, size
estimates and tier table (:class:`traindyn.family.Family`); both run on numpy / FFT, so their
estimates use the rates of :mod:`traindyn.family`, not the training cost model."""

from __future__ import annotations

import math

from ..family import (BLAS_GFLOPS, CPU_GFLOPS, LOOP_SECONDS, Config, Family, Need, Scale)

# The single-layer problem's paper setup: config["pde"] image, kernel, swish_beta, dtype.
PDE_SCALE = Scale(
    paper={"image.kind": "checkerboard", "image.size": 256, "kernel.size": 32, "kernel.seed": 7,
           "swish_beta": 1.0, "dtype": "float64"},
    not_paper="the config differs from the paper's setup (checkerboard 256, kernel 32 seed 7, "
              "beta 1, float64)")


def heat_checks(config: Config) -> list[str]:
    sweep = config["heat"]["sweep"]
    if sweep["dt_min"] >= sweep["dt_max"]:
        return [f"heat.sweep.dt_min ({sweep['dt_min']}) must be below dt_max ({sweep['dt_max']})"]
    return []


def heat_needs(config: Config) -> list[Need]:
    h = config["heat"]
    n, steps, panels, sw = h["n_points"], h["max_steps"], len(h["panels"]), h["sweep"]
    return [
        Need(("heat.max_steps", "heat.n_points"), "the heat panels (heat_simulate)",
             8 * (steps + 1) * (n + 1) * panels * 2,
             steps * (LOOP_SECONDS + 10 * panels * n / (CPU_GFLOPS * 1e9))),
        Need(("heat.sweep.steps", "heat.sweep.n", "heat.n_points"),
             "the dt sweep (heat_simulate)", 8 * sw["n"] * n * 4 + 24 * n * n,
             sw["steps"] * (LOOP_SECONDS + 20 * sw["n"] * n / (CPU_GFLOPS * 1e9))
             + 4 * n**3 / (CPU_GFLOPS * 1e9)),
    ]


def pde_checks(config: Config) -> list[str]:
    pde, errs = config["pde"], []
    amp = pde["amplification"]
    if amp["window"] > pde["iterations"]:
        errs.append(f"pde.amplification.window ({amp['window']}) exceeds pde.iterations "
                    f"({pde['iterations']}): the moving average needs a full window")
    if pde["kernel"]["size"] > pde["image"]["size"]:
        errs.append(f"pde.kernel.size ({pde['kernel']['size']}) is larger than pde.image.size "
                    f"({pde['image']['size']}): the valid convolution would be empty")
    return errs


def _fft(side: int) -> float:
    """FLOPs of one forward + adjoint pass of the one-layer CNN (four 2-D FFTs of side^2)."""
    return 20.0 * side * side * max(math.log2(side * side), 1.0)


def pde_needs(config: Config) -> list[Need]:
    p = config["pde"]
    side, k2, its = p["image"]["size"], p["kernel"]["size"] ** 2, p["iterations"]
    fft, rate = _fft(side), CPU_GFLOPS * 1e9
    image = ("pde.image.size", "pde.kernel.size")
    grid = 16 * side * side * 8  # the image, its spectrum and FFT buffers of one copy
    gram = Need(image, "the Gram matrix X^T X and its eigenvalues (every PDE step)",
                3 * 8 * k2 * k2, (k2 * fft + 4 * k2**3) / rate)
    lin, non = len(p["linear"]["alphas"]), len(p["nonlinear"]["lrs"])
    amp = 2 * len(p["amplification"]["lrs"])
    cols, b_its = 80 * len(p["linear"]["table_lrs"]), p["linear"]["bisection_iterations"]
    return [gram,
            Need(("pde.iterations", *image), "the linearized PDE run (pde_linear)",
                 lin * (24 * (its + 1) + grid),
                 its * (LOOP_SECONDS + lin * fft / rate)),
            Need(("pde.linear.bisection_iterations", "pde.kernel.size"),
                 "the stability bisection (pde_stability_table)", 24 * k2 * cols,
                 b_its * (LOOP_SECONDS + 2 * k2 * k2 * cols / (BLAS_GFLOPS * 1e9))),
            Need(("pde.iterations", *image), "the non-linear PDE run (pde_nonlinear)",
                 non * (8 * its + grid), its * (LOOP_SECONDS + 2 * non * fft / rate)),
            Need(("pde.iterations", *image), "the error amplification run (pde_amplification)",
                 amp * (8 * (its + 1) * k2 + 24 * its + grid),
                 its * (LOOP_SECONDS + 2 * amp * fft / rate))]


HEAT = Family("heat", targets={"si_heat": ("si_fig1_heat",)}, rules=("heat.smk",),
              checks=heat_checks, needs=heat_needs)

PDE = Family(
    "pde",
    targets={"si_pde": ("si_fig3_linear_pde", "si_fig4_nonlinear_pde",
                        "si_fig4_error_amplification", "si_table2_stability_bounds")},
    rules=("pde.smk",), checks=pde_checks, needs=pde_needs, scales={"pde": PDE_SCALE},
    not_sizes={"pde.image.seed": "a seed", "pde.kernel.seed": "a seed",
               "pde.image.geomnist_class": "a class index (0-2)",
               "pde.amplification.k": "perturbation factors",
               "pde.threads": "at most 1024 (schema)",
               "pde.amplification.window": "at most pde.iterations (checked)"})
