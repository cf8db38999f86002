"""LE-SDE Figure 1 (separation of the class-mean logits), Figure 3 (A, B, alpha, beta by the I
and L estimators) and the neural-collapse extra, with claims F1-*, F3-*, U1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..claims import ClaimSet
from ..lesde.estimators import (estimate_ab_i, estimate_ab_l, i_model_trajectory, loglog_slope,
                                moving_average, rates)
from ..plots.style import plt, save_figure
from .lesde_common import QUICK, class_names, load, scoped

FIG1_EXPECTED = {"GeoMNIST": (10.5, -11.0, 2.5)}
SYMBOL = {"A": "Â", "B": "B̂", "alpha": "α̂", "beta": "β̂"}


def _projection(means: np.ndarray, a: int, b: int) -> np.ndarray:
    v = means[-2:, a].mean(axis=0) - means[-2:, b].mean(axis=0)
    return v / np.linalg.norm(v)


def build_fig1(summaries: Sequence[str], datasets: Sequence[str], pdf: str, png: str,
               claims: str, *, scale: str) -> None:
    fig = plt.figure(figsize=(max(8.0, 5.6 * len(summaries)), 9.0))
    cs = ClaimSet("LE-SDE", "Figure 1", "notes §2 Figure 1, §4 F1-*")
    for col, (path, name) in enumerate(zip(summaries, datasets)):
        s = load(path)
        means = s["means_y"]
        t_max, k, _ = means.shape
        labels = class_names(name, k)
        ax = fig.add_subplot(2, len(summaries), col + 1, projection="3d")
        every = np.arange(0, t_max, 5)
        for c, marker in zip(range(k), "osv^D"):
            ax.scatter(*means[every, c, :3].T, c=every, cmap="viridis_r", marker=marker, s=4,
                       label=labels[c])
        for t in np.linspace(0, t_max - 1, 20).astype(int):
            tri = means[t, :3, :3]
            ax.plot_trisurf(tri[:, 0], tri[:, 1], tri[:, 2], color="gray", alpha=0.08)
        ax.set(xlabel="logit 0", ylabel="logit 1", zlabel="logit 2",
               title=f"{name}: class-mean logits (colour: iteration, dark = late)")
        ax.legend(fontsize=6)
        a, b = (0, 1) if name == "GeoMNIST" else (1, 2)
        proj = _projection(means, a, b)
        ax = fig.add_subplot(2, len(summaries), len(summaries) + col + 1)
        samples = s["sample_logits"] @ proj
        for c in range(k):
            hit = s["sample_labels"] == c
            ax.scatter(np.broadcast_to(s["sample_itrs"][:, None], hit.shape)[hit], samples[hit],
                       s=3, alpha=0.35, color=f"C{c}")
            ax.plot(np.arange(t_max), moving_average(means[:, c] @ proj, 25), color=f"C{c}",
                    lw=1.8, label=labels[c])
        ax.set(xlabel="iteration", ylabel=f"logit projected on unit(X̄_{a} − X̄_{b})",
               title=f"{name}: sampled examples (dots), class means (lines, 25-iteration "
                     "moving average)")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
        ends = means[-1] @ proj
        statement = f"{name}: class-mean projections at T (labels 0, 1, 2)"
        if name in FIG1_EXPECTED and scale == "paper":
            for c, want in enumerate(FIG1_EXPECTED[name]):
                cs.close(f"F1-1[{c}]", f"{name}: projection of class mean {c} at T", ends[c],
                         want, atol=3.5)
        elif name in FIG1_EXPECTED:
            cs.not_applicable("F1-1", statement, FIG1_EXPECTED[name], QUICK)
        order_ok = bool(ends[1] < ends[2] < ends[0]) if name == "GeoMNIST" else bool(
            ends[2] < ends[0] < ends[1])
        cs.holds(f"F1-order[{name}]", f"{name}: order of the projected class means at T",
                 order_ok, [round(float(e), 3) for e in ends],
                 "label1 < label2 < label0" if name == "GeoMNIST" else "bird < plane < car")
    fig.suptitle("LE-SDE Fig. 1 — the class-mean logits separate during training\n"
                 "(grouped by training label, averaged over trials)")
    save_figure(fig, pdf, png)
    scoped(cs, scale).write(claims)


def estimates(means: np.ndarray, window: int) -> dict[str, np.ndarray]:
    a_i, b_i = estimate_ab_i(means)
    out = {"A_I": a_i, "B_I": b_i, "alpha_I": rates(a_i, window), "beta_I": rates(b_i, window)}
    if means.shape[1] == 3:
        a_l, b_l = estimate_ab_l(means)
        out.update(A_L=a_l, B_L=b_l, alpha_L=rates(a_l, window), beta_L=rates(b_l, window))
    return out


def u1_claim(cs: ClaimSet) -> None:
    """U1: the I estimator inverts the exact I-model solution (synthetic, several alpha, beta)."""
    rng = np.random.default_rng(0)
    t = np.arange(2000, dtype=np.float64)
    worst = 0.0
    for ca, cb in ((0.01, 0.002), (0.05, -0.01), (0.002, 0.001)):
        a = np.concatenate([[0.0], np.cumsum(ca * (t[1:]) ** -0.5)])
        b = np.concatenate([[0.0], np.cumsum(cb * (t[1:]) ** -0.7)])
        ah, bh = estimate_ab_i(i_model_trajectory(rng.standard_normal((3, 3)), a, b))
        worst = max(worst, float(np.nanmax(np.abs(ah - a))), float(np.nanmax(np.abs(bh - b))))
    cs.within("U1", "I estimator on exact I-model trajectories: max |A-hat - A|, |B-hat - B|",
              worst, 0.0, 1e-8, source="notes §4 U1")


def build_fig3(summaries: Sequence[str], datasets: Sequence[str], windows: Sequence[int],
               pdf: str, png: str, claims: str, *, scale: str) -> None:
    cs = ClaimSet("LE-SDE", "Figure 3", "notes §2 Figure 3, §4 F3-*")
    u1_claim(cs)
    fig, axes = plt.subplots(len(summaries), 4, figsize=(16, 3.6 * len(summaries)), squeeze=False)
    for row, path, name, window in zip(axes, summaries, datasets, windows):
        e = estimates(load(path)["means_y"], window)
        t = np.arange(len(e["A_I"]))
        step = max(1, len(t) // 400)
        for ax, kind, what in ((row[0], "I", "A"), (row[1], "I", "alpha"), (row[2], "L", "A"),
                               (row[3], "L", "alpha")):
            if f"{what}_{kind}" not in e:
                ax.text(0.5, 0.5, "L estimator: K = 3 only", ha="center", transform=ax.transAxes)
                continue
            other = "B" if what == "A" else "beta"
            for key, color in ((f"{what}_{kind}", "C0"), (f"{other}_{kind}", "C3")):
                ax.scatter(t[::step], e[key][::step], s=2, alpha=0.3, color=color)
                ax.plot(t, moving_average(e[key], 10), color=color, lw=1.2,
                        label=f"{SYMBOL[key.split('_')[0]]} ({kind} model)")
            ax.set(xlabel="iteration", title=f"{name}, {kind} estimator"
                   + ("" if what == "A" else f" (Savitzky-Golay window {window})"))
            ax.legend(fontsize=7)
        a_t, b_t = float(np.nanmean(e["A_I"][-100:])), float(np.nanmean(e["B_I"][-100:]))
        cs.holds(f"F3-8[{name}]", f"{name}, I model: local elasticity A(T) > 5|B(T)| + 5",
                 a_t > 5 * abs(b_t) + 5, [round(a_t, 3), round(b_t, 3)], "A >> |B|",
                 "A > 5|B| + 5")
        if name == "GeoMNIST":
            if scale == "paper":
                cs.within("F3-1", "GeoMNIST p=0, I: A-hat(T)", a_t, 14, 25)
                cs.holds("F3-2", "GeoMNIST p=0, I: |B(T)| < 2 and A - B > 12",
                         abs(b_t) < 2 and a_t - b_t > 12, [a_t, b_t], "|B| < 2, A - B > 12")
                peak = int(np.nanargmax(e["alpha_I"]))
                cs.holds("F3-3", "GeoMNIST p=0, I: alpha-hat peak in [0.005, 0.03] at t in "
                         "[500, 2500], |alpha| < 0.004 after 6000",
                         0.005 <= e["alpha_I"][peak] <= 0.03 and 500 <= peak <= 2500
                         and np.nanmax(np.abs(e["alpha_I"][6000:])) < 0.004,
                         [float(e["alpha_I"][peak]), peak], "peak 0.005-0.03 at 500-2500")
                a_l, b_l = float(np.nanmean(e["A_L"][-100:])), float(np.nanmean(e["B_L"][-100:]))
                cs.holds("F3-4", "GeoMNIST p=0, L: A in [12, 24], B in [-4, 2]",
                         12 <= a_l <= 24 and -4 <= b_l <= 2, [a_l, b_l], "A 12-24, B -4..2")
            else:
                for cid in ("F3-1", "F3-2", "F3-3", "F3-4"):
                    cs.not_applicable(cid, "GeoMNIST p=0 estimator values at T = 10^4", "see notes",
                                      QUICK)
            cs.holds("F3-alpha-decays", f"{name}, I: alpha-hat decays (last-10% mean below 20% of "
                     "its peak)", abs(np.nanmean(e["alpha_I"][-len(t) // 10:]))
                     < 0.2 * np.nanmax(e["alpha_I"]),
                     [float(np.nanmean(e["alpha_I"][-len(t) // 10:])),
                      float(np.nanmax(e["alpha_I"]))], "decays", "qualitative")
        row[1].text(0.98, 0.95, f"log-log fit of |α̂|, 2nd half: r ≈ "
                    f"{loglog_slope(e['alpha_I'], len(t) // 2):.2f}", ha="right", va="top",
                    transform=row[1].transAxes, fontsize=7)
    fig.suptitle("LE-SDE Fig. 3 — integrated impacts Â, B̂ and their rates α̂, β̂ (intra- vs "
                 "inter-class), I and L estimators on the trial-averaged class means")
    save_figure(fig, pdf, png)
    scoped(cs, scale).write(claims)


def build_collapse(summaries: Sequence[str], datasets: Sequence[str], pdf: str, png: str,
                   claims: str, *, scale: str) -> None:
    cs = ClaimSet("LE-SDE", "Neural collapse (extra)", "notes §1.7, §4 F1-4 (suggested check)")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for path, name in zip(summaries, datasets):
        means = load(path)["means_y"]
        k = means.shape[1]
        centred = means - means.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(centred, axis=2)
        unit = centred / norms[:, :, None]
        cos = np.einsum("tcj,tdj->tcd", unit, unit)
        iu = np.triu_indices(k, 1)
        pair = cos[:, iu[0], iu[1]]
        t = np.arange(len(means))
        for j, (a, b) in enumerate(zip(*iu)):
            axes[0].plot(t, pair[:, j], lw=0.8, label=f"{name}: cos(μ{a}, μ{b})")
        axes[1].plot(t, norms.max(axis=1) / norms.min(axis=1), label=name)
        final_cos = pair[-100:].mean(axis=0)
        ratio = float(np.mean(norms[-100:].max(axis=1) / norms[-100:].min(axis=1)))
        cs.holds(f"F1-4a[{name}]", f"{name}: pairwise cosines of centred class means at T",
                 bool(np.all((final_cos >= -0.75) & (final_cos <= -0.25))),
                 [round(float(c), 3) for c in final_cos], f"[-0.75, -0.25] (ETF: {-1/(k-1):.3f})",
                 "each in [-0.75, -0.25]")
        cs.within(f"F1-4b[{name}]", f"{name}: largest / smallest centred class-mean norm at T",
                  ratio, 1.0, 1.6)
    axes[0].axhline(-1 / (k - 1), color="k", ls=":", label="simplex ETF −1/(K−1)")
    axes[0].set(xlabel="iteration", ylabel="cosine", title="angles between centred class means")
    axes[1].axhline(1, color="k", ls=":")
    axes[1].set(xlabel="iteration", ylabel="max / min norm", title="equinorm")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle("LE-SDE (beyond the paper) — neural-collapse geometry of the class means")
    save_figure(fig, pdf, png)
    scoped(cs, scale).write(claims)
