"""LE-SDE Figure 1 (separation of the class-mean logits), Figure 3 (A, B, alpha, beta by the I
and L estimators) and the neural-collapse extra, with claims F1-*, F3-*, U1 (U1 is a self-check
on synthetic data). Every statistic carries its sampling uncertainty
(:mod:`traindyn.lesde.ensemble`: a bootstrap over trials, or the spread of replicate runs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ...claims import (ILL_CONDITIONED, MEASURED, SELF_CHECK, Claim, ClaimSet, Conditioning,
                       conditioned, write_claims)
from ..authors_code import AUTHORS_CODE
from ..conditioning import EARLY, conditioning_stats, weights  # EARLY: normalization-free
from ..ensemble import ensemble_estimates
from ..estimators import (estimate_ab_i, estimate_ab_l, i_model_trajectory, loglog_slope,
                                moving_average, rates)
from ...plots.style import plt, save_figure
from ...stats import Estimate
from .common import CIFAR, by_group, cifar_not_run, class_names, final, scoped

# The authors' Figure 1b at T: (value, read-off error); the claim resolves 3.5.
FIG1_EXPECTED = {"GeoMNIST": ((10.5, 0.5), (-11.0, 0.5), (2.5, 0.75))}
FIG1_RESOLUTION = 3.5
# The same curves averaged over the last LATE iterations, read off the authors' Figure 1b by
# workflow/scripts/read_authors_figure1.py (pixel-calibrated; the colour tolerance moves the
# readings by < 0.07, the frame calibration by about ±2 px = ±0.15): a statistic whose
# run-to-run spread is a third of the value at T's (docs/reference.md).
LATE = 1000
FIG1_LATE_EXPECTED = {"GeoMNIST": ((10.0, 0.3), (-10.85, 0.3), (2.8, 0.3))}
SYMBOL = {"A": "Â", "B": "B̂", "alpha": "α̂", "beta": "β̂"}


def _projection(means: np.ndarray, a: int, b: int) -> np.ndarray:
    v = means[-2:, a].mean(axis=0) - means[-2:, b].mean(axis=0)
    return v / np.linalg.norm(v)


def projection_pair(dataset: str, k: int) -> tuple[int, int]:
    """The classes (a, b) whose mean difference Figure 1 projects on: the paper's CIFAR-10 panel
    uses 1 - 2 (automobile - bird), GeoMNIST and any other data 0 - 1 (valid for any K >= 2)."""
    return (1, 2) if dataset == CIFAR and k > 2 else (0, 1)


def fig1_stats(means: np.ndarray, dataset: str) -> list[float]:
    """Class-mean logits at T projected on unit(Xbar_a - Xbar_b) (:func:`projection_pair`)."""
    a, b = projection_pair(dataset, means.shape[1])
    return [float(v) for v in means[-1] @ _projection(means, a, b)]


def fig1_late_stats(means: np.ndarray, dataset: str, late: int = LATE) -> list[float]:
    """The same projections (same direction) averaged over the last ``late`` iterations."""
    a, b = projection_pair(dataset, means.shape[1])
    return [float(v) for v in (means[-late:] @ _projection(means, a, b)).mean(axis=0)]


def build_fig1(summaries: Sequence[str], datasets: Sequence[str], pdf: str, png: str,
               claims: str, *, scale: str, labels: Sequence[str] | None = None,
               who: str = "LE-SDE") -> dict:
    """The figure and its paper claims; returns each data set's projected class means at T
    (Estimates), so a caller reports the numbers the figure shows. ``labels``: class names
    (default the data-set table's); ``who``: what the title names (a study and its data)."""
    groups = by_group(summaries, datasets)
    fig = plt.figure(figsize=(max(8.0, 5.6 * len(groups)), 9.0))
    stats, late = {}, {}
    for col, (name, runs) in enumerate(groups.items()):
        s = runs[0]
        means = s["means_y"]
        t_max, k, _ = means.shape
        names = (list(labels) if labels is not None else class_names(name, k))[:k]
        stats[name] = ensemble_estimates(lambda x: fig1_stats(x["means_y"], name), runs,
                                         f"fig1/{name}")
        if t_max > LATE:
            late[name] = ensemble_estimates(lambda x: fig1_late_stats(x["means_y"], name), runs,
                                            f"fig1-late/{name}")
        every = np.arange(0, t_max, 5)
        shown = min(k, 3)  # the first three logits (two for K = 2)
        ax = fig.add_subplot(2, len(groups), col + 1, **({"projection": "3d"} if k > 2 else {}))
        for c, marker in zip(range(k), "osv^D<>ph*"):
            ax.scatter(*means[every, c, :shown].T, c=every, cmap="viridis_r", marker=marker,
                       s=4, label=names[c])
        if k == 3:  # the triangle of the three class means
            for t in np.linspace(0, t_max - 1, 20).astype(int):
                tri = means[t, :3, :3]
                ax.plot_trisurf(tri[:, 0], tri[:, 1], tri[:, 2], color="gray", alpha=0.08)
        ax.set(**{f"{axis}label": f"logit {j}" for axis, j in zip("xyz", range(shown))},
               title=f"{name}: class-mean logits{' 0-2 of ' + str(k) if k > 3 else ''} "
                     "(colour: iteration, dark = late)")
        ax.legend(fontsize=6)
        a, b = projection_pair(name, k)
        proj = _projection(means, a, b)
        ax = fig.add_subplot(2, len(groups), len(groups) + col + 1)
        samples = s["sample_logits"] @ proj
        for c in range(k):
            hit = s["sample_labels"] == c
            ax.scatter(np.broadcast_to(s["sample_itrs"][:, None], hit.shape)[hit], samples[hit],
                       s=3, alpha=0.35, color=f"C{c}")
            end = stats[name][c]
            ax.plot(np.arange(t_max), moving_average(means[:, c] @ proj, 25), color=f"C{c}",
                    lw=1.8, label=f"{names[c]}: {end.value:.2f} ± {end.se:.2f} at T")
        ax.set(xlabel="iteration", ylabel=f"logit projected on unit(X̄_{a} − X̄_{b})",
               title=f"{name}: sampled examples (dots), class means (lines, 25-iteration "
                     f"moving average); ± is one se ({len(runs)} run(s))")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
    fig.suptitle(f"{who} Fig. 1 — the class-mean logits separate during training\n"
                 "(grouped by training label, averaged over trials)")
    save_figure(fig, pdf, png)
    write_claims(claims, fig1_claims(stats, scale=scale, late=late))
    return stats


def fig1_claims(stats: Mapping[str, Sequence], *, scale: str,
                late: Mapping[str, Sequence] | None = None) -> list[Claim]:
    """F1-1[c]: the projections at T; F1-1w[c]: over the last LATE iterations (``late``)."""
    cs = ClaimSet("LE-SDE", "Figure 1", "LE-SDE Fig. 1 (separation of the class means)",
                  scale=scale)
    for name, ends in stats.items():
        for c, (want, reading) in enumerate(FIG1_EXPECTED.get(name, ())):
            cs.agree(f"F1-1[{c}]", f"{name}: projection of class mean {c} at T", ends[c], want,
                     reading=reading, resolution=FIG1_RESOLUTION,
                     authors_code=AUTHORS_CODE.get(f"F1-1[{c}]"))
        for c, (want, reading) in enumerate(FIG1_LATE_EXPECTED.get(name, ())):
            if late is None or name not in late:
                cs.not_applicable(f"F1-1w[{c}]", f"{name}: projection of class mean {c}, mean "
                                  f"of the last {LATE} iterations", want,
                                  f"needs more than {LATE} iterations")
                continue
            cs.agree(f"F1-1w[{c}]", f"{name}: projection of class mean {c}, mean of the last "
                     f"{LATE} iterations", late[name][c], want, reading=reading,
                     resolution=FIG1_RESOLUTION, authors_code=AUTHORS_CODE.get(f"F1-1w[{c}]"))
        if name not in ("GeoMNIST", CIFAR):
            continue  # the paper orders these two data sets' classes only
        order = [ends[i] for i in ((1, 2, 0) if name == "GeoMNIST" else (2, 0, 1))]
        cs.ordered(f"F1-order[{name}]", f"{name}: order of the projected class means at T",
                   order, "label1 < label2 < label0" if name == "GeoMNIST"
                   else "bird < plane < car")
    cifar_not_run(cs, stats, [(f"F1-order[{CIFAR}]", f"{CIFAR}: order of the projected class "
                               "means at T", "bird < plane < car")])
    return scoped(cs, scale).claims


def estimates(means: np.ndarray, window: int) -> dict[str, np.ndarray]:
    a_i, b_i = estimate_ab_i(means)
    out = {"A_I": a_i, "B_I": b_i, "alpha_I": rates(a_i, window), "beta_I": rates(b_i, window)}
    if means.shape[1] == 3:
        a_l, b_l = estimate_ab_l(means)
        out.update(A_L=a_l, B_L=b_l, alpha_L=rates(a_l, window), beta_L=rates(b_l, window))
    return out


def u1_stats() -> float:
    """U1: worst error of the I estimator on exact I-model trajectories (synthetic)."""
    rng = np.random.default_rng(0)
    t = np.arange(2000, dtype=np.float64)
    worst = 0.0
    for ca, cb in ((0.01, 0.002), (0.05, -0.01), (0.002, 0.001)):
        a = np.concatenate([[0.0], np.cumsum(ca * (t[1:]) ** -0.5)])
        b = np.concatenate([[0.0], np.cumsum(cb * (t[1:]) ** -0.7)])
        ah, bh = estimate_ab_i(i_model_trajectory(rng.standard_normal((3, 3)), a, b))
        worst = max(worst, float(np.nanmax(np.abs(ah - a))), float(np.nanmax(np.abs(bh - b))))
    return worst


def _drop(x: np.ndarray) -> float:
    """Normalization-free: the value at T (mean of the last 100) minus the mean over EARLY. The
    estimators' t = 0 normalization adds one constant to every t > 0, which this cancels."""
    return final(x) - float(np.nanmean(x[EARLY[0]:EARLY[1]]))


def fig3_stats(e: Mapping[str, np.ndarray], means: np.ndarray | None = None) -> dict:
    """The numbers claims F3-* read from the estimates of one data set ('final' = mean of the
    last 100 iterations); None where the run is too short or K != 3. With the class ``means``
    also the estimators' conditioning (:func:`traindyn.lesde.conditioning.conditioning_stats`)."""
    alpha = e["alpha_I"]
    peak = int(np.nanargmax(alpha)) if np.isfinite(alpha).any() else 0  # all-NaN: claims fail
    a_t, b_t = final(e["A_I"]), final(e["B_I"])
    st = dict(A=a_t, B=b_t, dA=_drop(e["A_I"]), dB=_drop(e["B_I"]),
              elastic=a_t - 5 * abs(b_t) - 5, peak=float(alpha[peak]), peak_t=float(peak),
              late=float(np.nanmax(np.abs(alpha[6000:]))) if len(alpha) > 6000 else None,
              decay=abs(float(np.nanmean(alpha[-len(alpha) // 10:]))) / float(alpha[peak]))
    for key in ("A_L", "B_L"):
        st[key] = final(e[key]) if key in e else None
        st["d" + key] = _drop(e[key]) if key in e else None
    if means is not None:
        st.update(conditioning_stats(means))
    return st


def conditions(st: Mapping, key: str) -> list[Conditioning]:
    """The conditioning of the statistic ``key`` of :data:`FIG3_NUMBERS` (empty without the
    conditioning statistics, or for a statistic that takes no log): each log factor at T with
    its share of the statistic (:func:`traindyn.lesde.conditioning.weights`), then the reference
    point, t = 0 (normalized claims) or iterations 1..500 (normalization-free ones, key 'd...')."""
    base = key[1:] if key.startswith("d") else key
    if "Xbar0_T" not in st or base not in ("A", "B", "A_L", "B_L"):
        return []
    if base.endswith("_L") and st.get("Xf_T") is None:
        return []
    k = sum(1 for name in st if name.startswith("Xbar") and name.endswith("_T"))
    out = [Conditioning(f"{f}(T)", float(st[f"{f}_T"]), float(st[f"{f}_T_noise"]), weight=w)
           for f, w in weights(base, k).items()]
    start = "early" if key.startswith("d") else "0"
    when = {"0": "0", "early": f"{EARLY[0]}..{EARLY[1] - 1}"}[start]
    if base.endswith("_L"):
        out += [Conditioning(f"{mode}({when})", float(st[f"{mode}_{start}"]),
                             float(st[f"{mode}_{start}_noise"]), reference=True)
                for mode in ("Xf", "Xs")]
    else:
        out.append(Conditioning.ratio(f"median over the factors of |value| / noise at {when}:",
                                      float(st[f"I_snr_{start}"]), reference=True))
    return out


# Claims on the paper's numbers (read off the authors' Figure 3a/3b/3e at T and over t in
# [1, 500]): id -> (statistic, statement, expected, read-off error, resolution).
FIG3_NUMBERS = {
    "F3-1": ("A", "I: A-hat(T)", 19.5, 0.5, 5.5),
    "F3-2": ("B", "I: B-hat(T)", 0.0, 0.3, 2.0),
    "F3-3a": ("peak", "I: alpha-hat peak", 0.0135, 0.0035, 0.0125),
    "F3-3b": ("peak_t", "I: iteration of the alpha-hat peak", 1150.0, 350.0, 1000.0),
    "F3-4a": ("A_L", "L: A-hat(T)", 18.3, 0.5, 6.0),
    "F3-4b": ("B_L", "L: B-hat(T)", -1.2, 0.4, 3.0),
    "F3-1n": ("dA", "I: A-hat(T) - mean A-hat(1..500) (normalization-free)", 19.0, 0.7, 5.5),
    "F3-2n": ("dB", "I: B-hat(T) - mean B-hat(1..500) (normalization-free)", -1.7, 0.5, 2.0),
    "F3-4an": ("dA_L", "L: A-hat(T) - mean A-hat(1..500) (normalization-free)", 18.3, 0.9, 6.0),
    "F3-4bn": ("dB_L", "L: B-hat(T) - mean B-hat(1..500) (normalization-free)", -4.7, 0.6, 3.0),
}


def fig3_claims(stats: Mapping[str, dict], u1: float, *, scale: str) -> list[Claim]:
    cs = ClaimSet("LE-SDE", "Figure 3", "LE-SDE Fig. 3 (A, B and their rates)", scale=scale)
    cs.at_most("U1", "I estimator on exact I-model trajectories: max |A-hat - A|, |B-hat - B|",
               u1, 1e-8, expected=0.0, kind=SELF_CHECK, source="LE-SDE I model (closed form)")
    for name, st in stats.items():
        cs.bound(f"F3-8[{name}]", f"{name}, I model: local elasticity A(T) - 5|B(T)| - 5 > 0",
                 st["elastic"], lo=0.0, expected="A >> |B|")
        if name != "GeoMNIST":
            continue
        cs.bound("F3-alpha-decays", f"{name}, I: alpha-hat decays (|last-10% mean| / peak "
                 "below 0.2)", st["decay"], hi=0.2, expected="decays")
        for cid, (key, statement, want, reading, resolution) in FIG3_NUMBERS.items():
            statement = f"GeoMNIST p=0, {statement}"
            if st[key] is None:
                cs.not_applicable(cid, statement, want, "needs K = 3 (L estimator)")
            else:
                cs.agree(cid, statement, st[key], want, reading=reading, resolution=resolution,
                         conditions=conditions(st, key), authors_code=AUTHORS_CODE.get(cid))
        statement = "GeoMNIST p=0, I: max |alpha-hat| after t = 6000"
        if st["late"] is None:
            cs.not_applicable("F3-3c", statement, "<= 0.004", "needs > 6000 iterations")
        else:
            cs.bound("F3-3c", statement, st["late"], hi=0.004, tier="paper")
    cifar_not_run(cs, stats, [(f"F3-8[{CIFAR}]", f"{CIFAR}, I model: local elasticity A(T) - "
                               "5|B(T)| - 5 > 0", "A >> |B|")])
    return scoped(cs, scale).claims


def _legend_value(est) -> str:
    return f"{est.value:.2f} ± {est.se:.2f}" if isinstance(est, Estimate) else "n/a"


def build_fig3(summaries: Sequence[str], datasets: Sequence[str], windows: Sequence[int],
               pdf: str, png: str, claims: str, *, scale: str, who: str = "LE-SDE") -> dict:
    """The figure and its claims; returns each data set's statistics (Estimates). The L
    estimator's panels are drawn only where a data set has K = 3 classes."""
    groups = by_group(summaries, datasets)
    window_of = dict(zip(datasets, windows))
    stats = {}
    with_l = any(runs[0]["means_y"].shape[1] == 3 for runs in groups.values())
    cols = 4 if with_l else 2
    fig, axes = plt.subplots(len(groups), cols, figsize=(4 * cols, 3.6 * len(groups)),
                             squeeze=False)
    for row, (name, runs) in zip(axes, groups.items()):
        window = window_of[name]
        e = estimates(runs[0]["means_y"], window)
        st = stats[name] = ensemble_estimates(
            lambda s: fig3_stats(estimates(s["means_y"], window), s["means_y"]), runs,
            f"fig3/{name}")
        t = np.arange(len(e["A_I"]))
        step = max(1, len(t) // 400)
        panels = list(zip(row, (("I", "A"), ("I", "alpha"), ("L", "A"), ("L", "alpha"))))
        for ax, (kind, what) in panels:
            if f"{what}_{kind}" not in e:  # the L estimator: K = 3 only
                ax.text(0.5, 0.5, f"{name}: the L estimator needs K = 3 classes", ha="center",
                        transform=ax.transAxes, fontsize=8)
                ax.set_axis_off()
                continue
            other = "B" if what == "A" else "beta"
            for key, color in ((f"{what}_{kind}", "C0"), (f"{other}_{kind}", "C3")):
                label = f"{SYMBOL[key.split('_')[0]]} ({kind} model)"
                if what == "A":
                    stat = key.split("_")[0] + ("_L" if kind == "L" else "")
                    label += f", T: {_legend_value(st.get(stat))}"
                ax.scatter(t[::step], e[key][::step], s=2, alpha=0.3, color=color)
                ax.plot(t, moving_average(e[key], 10), color=color, lw=1.2, label=label)
            ax.set(xlabel="iteration", title=f"{name}, {kind} estimator"
                   + ("" if what == "A" else f" (Savitzky-Golay window {window})"))
            ax.legend(fontsize=7)
            cond = conditions(st, f"{what}_{kind}" if kind == "L" else what)
            if what == "A" and conditioned(MEASURED, "", cond)[0] == ILL_CONDITIONED:
                ill = [c for c in cond if c.ill and not c.reference]  # say so on the panel
                ax.text(0.02, 0.02, "ill-conditioned at T: " + "; ".join(c.text() for c in ill)
                        + "\n(within its noise: the value follows the trial count)",
                        transform=ax.transAxes, fontsize=6, color="C3", va="bottom")
        # a slope, not the tail index r (Figure 4 and the claims' r̂ are the tail index)
        row[1].text(0.98, 0.95, f"log-log slope of |α̂| over the 2nd half: "
                    f"{loglog_slope(e['alpha_I'], len(t) // 2):.2f}", ha="right", va="top",
                    transform=row[1].transAxes, fontsize=7)
    fig.suptitle(f"{who} Fig. 3 — integrated impacts Â, B̂ and their rates α̂, β̂ (intra- vs "
                 "inter-class), I and L estimators on the trial-averaged class means\n"
                 "(legend: value at T ± one standard error: bootstrap over trials or replicate "
                 "runs; docs/estimators.md on the t = 0 normalization)")
    save_figure(fig, pdf, png)
    write_claims(claims, fig3_claims(stats, u1_stats(), scale=scale))
    return stats


def collapse_stats(means: np.ndarray) -> dict:
    """Centred class means: pairwise cosines and max/min norm over time, and their final values
    (mean of the last 100 iterations)."""
    k = means.shape[1]
    centred = means - means.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=2)
    unit = centred / norms[:, :, None]
    cos = np.einsum("tcj,tdj->tcd", unit, unit)
    iu = np.triu_indices(k, 1)
    pair = cos[:, iu[0], iu[1]]
    ratio = norms.max(axis=1) / norms.min(axis=1)
    return dict(k=k, pairs=list(zip(*iu)), cos=pair, ratio=ratio,
                final_cos=[float(c) for c in pair[-100:].mean(axis=0)],
                final_ratio=float(np.mean(ratio[-100:])))


def _collapse_ends(means: np.ndarray) -> dict:
    st = collapse_stats(means)
    return dict(final_cos=st["final_cos"], final_ratio=st["final_ratio"])


def collapse_claims(stats: Mapping[str, dict], *, scale: str) -> list[Claim]:
    """Beyond the paper: the neural-collapse geometry, measured with its uncertainty and no band
    (the paper gives no number; a simplex ETF would have cosines -1/(K-1) and ratio 1)."""
    cs = ClaimSet("LE-SDE", "Neural collapse (extra)", "neural-collapse geometry (not a "
                  "number of the paper)", scale=scale, kind="extra")
    for name, st in stats.items():
        for j, cos in enumerate(st["final_cos"]):
            cs.measure(f"F1-4a[{name},{j}]", f"{name}: cosine of centred class-mean pair {j} at "
                       "T (simplex ETF: -1/(K-1))", cos)
        cs.measure(f"F1-4b[{name}]", f"{name}: largest / smallest centred class-mean norm at T "
                   "(>= 1 by definition; ETF: 1)", st["final_ratio"])
    cifar_not_run(cs, stats, [
        (f"F1-4a[{CIFAR}]", f"{CIFAR}: pairwise cosines of centred class means at T", "-"),
        (f"F1-4b[{CIFAR}]", f"{CIFAR}: largest / smallest centred class-mean norm at T", "-")])
    return scoped(cs, scale).claims


def build_collapse(summaries: Sequence[str], datasets: Sequence[str], pdf: str, png: str,
                   claims: str, *, scale: str, who: str = "LE-SDE (beyond the paper)") -> dict:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    stats = {}
    for name, runs in by_group(summaries, datasets).items():
        st = collapse_stats(runs[0]["means_y"])
        stats[name] = ensemble_estimates(lambda s: _collapse_ends(s["means_y"]), runs,
                                         f"collapse/{name}")
        t = np.arange(len(st["ratio"]))
        for j, (a, b) in enumerate(st["pairs"]):
            axes[0].plot(t, st["cos"][:, j], lw=0.8, label=f"{name}: cos(μ{a}, μ{b})")
        axes[1].plot(t, st["ratio"], label=name)
    k = runs[0]["means_y"].shape[1]
    axes[0].axhline(-1 / (k - 1), color="k", ls=":", label="simplex ETF −1/(K−1)")
    axes[0].set(xlabel="iteration", ylabel="cosine", title="angles between centred class means")
    axes[1].axhline(1, color="k", ls=":")
    axes[1].set(xlabel="iteration", ylabel="max / min norm", title="equinorm")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(f"{who} — neural-collapse geometry of the class means")
    save_figure(fig, pdf, png)
    write_claims(claims, collapse_claims(stats, scale=scale))
    return stats
