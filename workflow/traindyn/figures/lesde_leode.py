"""LE-SDE Figure 5: the LE-ODE simulated with the estimated rates vs the measured class means."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..claims import Claim, ClaimSet, finite, write_claims
from ..lesde.estimators import estimate_ab_i, estimate_ab_l, rates
from ..lesde.leode import initial_conditions, rescaled_mean, simulate
from ..plots.style import plt, save_figure
from .lesde_common import CIFAR, cifar_not_run, load, scoped


def build_fig5(summaries: Sequence[str], datasets: Sequence[str], pdf: str, png: str,
               claims: str, *, window: int, n_trials: int, seed: int, scale: str) -> None:
    stats = {}
    fig, axes = plt.subplots(len(summaries), 2, figsize=(11, 3.8 * len(summaries)), squeeze=False)
    for row, path, name in zip(axes, summaries, datasets):
        means = load(path)["means_y"]
        t = np.arange(len(means))
        rng = np.random.default_rng(seed)
        x0 = initial_conditions(means[0], n_trials, rng)
        for ax, (kind, estimator) in zip(row, (("I", estimate_ab_i), ("L", estimate_ab_l))):
            a, b = estimator(means)
            sim_mean, sim_std = simulate(x0, rates(a, window), rates(b, window))
            align = 1 if (name == "GeoMNIST" and kind == "I") else 0
            tail = min(1000, len(t) // 4)
            curve, factor = rescaled_mean(sim_mean, means, 0, align, tail)
            marks = np.linspace(0, len(t) - 1, 20).astype(int)
            for j in range(3):
                ax.scatter(t[::5], means[::5, 0, j], s=2, alpha=0.3, color=f"C{j}")
                ax.plot(t, curve[:, j], color=f"C{j}", lw=1.5, label=f"logit {j}: LE-ODE")
                ax.errorbar(t[marks], curve[marks, j], yerr=sim_std[marks, 0, j], fmt="none",
                            color=f"C{j}", lw=0.6, capsize=2)
            ax.set(xlabel="iteration", ylabel="class-0 logits",
                   title=f"{name}: {kind} estimates -> L dynamics ({n_trials} trials, mean × "
                         f"{factor:.3g})")
            ax.title.set_fontsize(8)
            ax.legend(fontsize=7)
            stats[name, kind] = fig5_stats(curve, means, align, tail)
    fig.suptitle("LE-SDE Fig. 5 — LE-ODE simulation with the estimated α̂, β̂ (lines, bars: std "
                 "over trials, unscaled) vs the measured class means (dots)\nrandom zero-mean "
                 "starts N(0, |X̄_c(0)|²/3), mean rescaled by one scalar to the data's tail "
                 "(the authors' recipe)")
    save_figure(fig, pdf, png)
    write_claims(claims, fig5_claims(stats, scale=scale))


def fig5_stats(curve: np.ndarray, means: np.ndarray, align: int, tail: int) -> dict:
    """Simulated (rescaled) vs measured class-0 logits: their ends (mean of the last ``tail``
    iterations) on the two coordinates not used for the rescale, and the Pearson r over time of
    every coordinate."""
    others = [j for j in range(3) if j != align]
    return dict(sim_end=[float(v) for v in curve[-tail:].mean(axis=0)[others]],
                data_end=[float(v) for v in means[-tail:, 0].mean(axis=0)[others]],
                corr=[float(np.corrcoef(curve[:, j], means[:, 0, j])[0, 1]) for j in range(3)])


def fig5_claims(stats: dict, *, scale: str) -> list[Claim]:
    cs = ClaimSet("LE-SDE", "Figure 5", "LE-SDE Fig. 5 (LE-ODE simulation vs data)", scale=scale)
    for (name, kind), st in stats.items():
        sim, data = st["sim_end"], st["data_end"]
        cs.holds(f"F5-1a[{name},{kind}]", f"{name}, {kind}: the two non-fitted class-0 logits "
                 "have the data's sign at the end", finite(sim + data)
                 and all(np.sign(a) == np.sign(b) != 0 for a, b in zip(sim, data)),
                 [round(v, 3) for v in sim], [round(v, 3) for v in data], "same signs")
        cs.holds(f"F5-1b[{name},{kind}]", f"{name}, {kind}: Pearson r between simulated and "
                 "measured class-0 logits over time, each coordinate",
                 finite(st["corr"]) and all(c > 0.9 for c in st["corr"]),
                 [round(c, 3) for c in st["corr"]], "> 0.9 each", "r > 0.9", tier="paper")
    cifar_not_run(cs, {name for name, _ in stats}, [
        (f"F5-1{part}[{CIFAR},{kind}]", f"{CIFAR}, {kind}: {what}", want)
        for kind in ("I", "L") for part, what, want in (
            ("a", "the two non-fitted class-0 logits have the data's sign at the end",
             "same signs"),
            ("b", "Pearson r between simulated and measured class-0 logits", "> 0.9 each"))])
    return scoped(cs, scale).claims
