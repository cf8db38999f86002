"""LE-SDE Figure 5: the LE-ODE simulated with the estimated rates vs the measured class means.

The statistics compare the rescaled simulation with the data smoothed over SMOOTH iterations
(each iteration's class mean averages only the ~1/K of the trials that sampled that class, so the
raw series is noisy and caps any correlation below 1), take the median over SIM_SEEDS simulation
seeds (the simulation starts from random zero-mean states, the authors' recipe), and carry a
bootstrap over trials (fewer draws: each simulates the ODE again)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ...claims import Claim, ClaimSet, write_claims
from ..ensemble import ensemble_estimates
from ..estimators import estimate_ab_i, estimate_ab_l, moving_average, rates
from ..leode import initial_conditions, mean_trajectories, rescaled_mean, simulate
from ...plots.style import plt, save_figure
from ...stats import Estimate, as_estimate
from .common import CIFAR, by_group, cifar_not_run, scoped

ESTIMATORS = (("I", estimate_ab_i), ("L", estimate_ab_l))
SMOOTH = 101  # iterations of the centred moving average applied to the data
SIM_SEEDS = 5
N_BOOT_SIM = 50


def _align(name: str, kind: str) -> int:
    """The class-0 coordinate the authors rescale the simulation to (Fig. 5a: logit 1)."""
    return 1 if (name == "GeoMNIST" and kind == "I") else 0


def fig5_stats(curve: np.ndarray, means: np.ndarray, align: int, tail: int) -> dict:
    """Simulated (rescaled) vs measured class-0 logits: their ends (mean of the last ``tail``
    iterations) on the two coordinates not used for the rescale, and the Pearson r over time of
    every coordinate against the data smoothed over SMOOTH iterations."""
    k = means.shape[2]
    others = [j for j in range(k) if j != align]
    smooth = np.stack([moving_average(means[:, 0, j], SMOOTH) for j in range(k)], axis=1)
    return dict(sim_end=[float(v) for v in curve[-tail:].mean(axis=0)[others]],
                data_end=[float(v) for v in means[-tail:, 0].mean(axis=0)[others]],
                corr=[float(np.corrcoef(curve[:, j], smooth[:, j])[0, 1]) for j in range(k)])


def estimators(k: int) -> tuple:
    """The estimators that apply to K classes (the authors' L estimator is for K = 3 only)."""
    return ESTIMATORS if k == 3 else ESTIMATORS[:1]


def simulated_stats(s: Mapping[str, np.ndarray], name: str, kind: str, *, window: int,
                    n_trials: int, seed: int) -> dict:
    """fig5_stats of the simulation driven by one summary's estimated rates: the median over
    SIM_SEEDS seeds. The ODE is linear, so each seed's trial mean is simulated from the mean of
    its ``n_trials`` random starts."""
    means = s["means_y"]
    a, b = dict(ESTIMATORS)[kind](means)
    starts = np.stack([initial_conditions(means[0], n_trials, np.random.default_rng([seed, i]))
                       .mean(axis=0) for i in range(SIM_SEEDS)])
    traj = mean_trajectories(starts, rates(a, window), rates(b, window))
    tail = min(1000, len(means) // 4)
    align = _align(name, kind)
    per_seed = [fig5_stats(rescaled_mean(traj[:, i], means, 0, align, tail)[0], means, align,
                           tail) for i in range(SIM_SEEDS)]
    return {key: [float(np.median([p[key][j] for p in per_seed]))
                  for j in range(len(per_seed[0][key]))] for key in per_seed[0]}


def build_fig5(summaries: Sequence[str], datasets: Sequence[str], pdf: str, png: str,
               claims: str, *, window: int, n_trials: int, seed: int, scale: str,
               who: str = "LE-SDE") -> dict:
    """The figure and its claims; returns the statistics (Estimates). The L estimator's panel
    is drawn only where a data set has K = 3 classes."""
    groups = by_group(summaries, datasets)
    stats = {}
    cols = 2 if any(runs[0]["means_y"].shape[1] == 3 for runs in groups.values()) else 1
    fig, axes = plt.subplots(len(groups), cols, figsize=(5.5 * cols, 3.8 * len(groups)),
                             squeeze=False)
    for row, (name, runs) in zip(axes, groups.items()):
        means = runs[0]["means_y"]
        t = np.arange(len(means))
        x0 = initial_conditions(means[0], n_trials, np.random.default_rng([seed, 0]))
        if means.shape[1] != 3 and cols == 2:
            row[1].text(0.5, 0.5, f"{name}: the L estimator needs K = 3 classes",
                        ha="center", transform=row[1].transAxes, fontsize=8)
            row[1].set_axis_off()
        for ax, (kind, estimator) in zip(row, estimators(means.shape[1])):
            st = stats[name, kind] = ensemble_estimates(
                lambda s: simulated_stats(s, name, kind, window=window, n_trials=n_trials,
                                          seed=seed), runs, f"fig5/{name}/{kind}", N_BOOT_SIM)
            a, b = estimator(means)
            sim_mean, sim_std = simulate(x0, rates(a, window), rates(b, window))
            tail = min(1000, len(t) // 4)
            curve, factor = rescaled_mean(sim_mean, means, 0, _align(name, kind), tail)
            marks = np.linspace(0, len(t) - 1, 20).astype(int)
            for j in range(means.shape[2]):
                r = st["corr"][j]
                ax.scatter(t[::5], means[::5, 0, j], s=2, alpha=0.3, color=f"C{j}")
                ax.plot(t, curve[:, j], color=f"C{j}", lw=1.5,
                        label=f"logit {j}: LE-ODE (corr = {r.value:.3f} ± {r.se:.3f})")
                ax.errorbar(t[marks], curve[marks, j], yerr=sim_std[marks, 0, j], fmt="none",
                            color=f"C{j}", lw=0.6, capsize=2)
            ax.set(xlabel="iteration", ylabel="class-0 logits",
                   title=f"{name}: {kind} estimates -> L dynamics ({n_trials} trials, mean × "
                         f"{factor:.3g}); corr with the data smoothed over {SMOOTH} its, median of "
                         f"{SIM_SEEDS} seeds")
            ax.title.set_fontsize(7)
            ax.legend(fontsize=7)
    fig.suptitle(f"{who} Fig. 5 — LE-ODE simulation with the estimated α̂, β̂ (lines, bars: std "
                 "over trials, unscaled) vs the measured class means (dots)\nrandom zero-mean "
                 "starts N(0, |X̄_c(0)|²/3), mean rescaled by one scalar to the data's tail "
                 "(the authors' recipe)")
    save_figure(fig, pdf, png)
    write_claims(claims, fig5_claims(stats, scale=scale))
    return stats


def fig5_claims(stats: Mapping, *, scale: str) -> list[Claim]:
    cs = ClaimSet("LE-SDE", "Figure 5", "LE-SDE Fig. 5 (LE-ODE simulation vs data)", scale=scale)
    for (name, kind), st in stats.items():
        signs = [np.sign(float(d)) for d in st["data_end"]]
        agree = [_times(e, sign) for e, sign in zip(st["sim_end"], signs)]
        cs.bound_all(f"F5-1a[{name},{kind}]", f"{name}, {kind}: the two non-fitted class-0 "
                     "logits end with the data's sign (simulated end times the data's sign)",
                     agree, lo=0.0, expected="same signs (> 0)")
        cs.bound_all(f"F5-1b[{name},{kind}]", f"{name}, {kind}: Pearson r between simulated "
                     f"and smoothed measured class-0 logits over time, each coordinate",
                     st["corr"], lo=0.9, expected="> 0.9 each", tier="paper")
    cifar_not_run(cs, {name for name, _ in stats}, [
        (f"F5-1{part}[{CIFAR},{kind}]", f"{CIFAR}, {kind}: {what}", want)
        for kind in ("I", "L") for part, what, want in (
            ("a", "the two non-fitted class-0 logits have the data's sign at the end",
             "same signs"),
            ("b", "Pearson r between simulated and measured class-0 logits", "> 0.9 each"))])
    return scoped(cs, scale).claims


def _times(e, sign: float) -> Estimate:
    e = as_estimate(e)
    return Estimate(e.value * sign, e.se, e.spread, e.method) if sign else Estimate(float("nan"))
