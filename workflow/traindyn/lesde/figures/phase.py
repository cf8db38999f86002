"""LE-SDE Figure 4: validation loss and accuracy under label noise, and the tail index of the
intra-class impact vs the noise level p (phase transition at p = 2/3). Claims U3, U4, F4*.

Every per-level statistic is an Estimate: the bootstrap over the level's trials, or the mean of
its independent replicate runs (:mod:`traindyn.lesde.ensemble`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ...claims import Claim, ClaimSet, write_claims
from ..ensemble import ensemble_estimates
from ..estimators import estimate_ab_i, tail_index
from ..noise import noise_name
from ...stats import Z, Estimate, as_estimate
from .common import TINY, final, load

# The authors' Figure 4 at T = 10^4 (notebook outputs): final validation accuracy (read off
# within 0.01), final validation loss (within 0.02) and the tail index r-hat_alpha
# (pixel-extracted within 0.005; 0.6 and 0.8 within 0.01), with the deviation each claim is
# about (its resolution).
F4B = {0.0: (1.00, 0.03), 0.1: (0.99, 0.03), 0.2: (0.97, 0.07), 0.3: (0.96, 0.06),
       0.4: (0.82, 0.11), 0.5: (0.58, 0.135), 0.6: (0.36, 0.09), 2 / 3: (0.34, 0.09),
       0.7: (0.32, 0.09), 0.8: (0.22, 0.08)}
F4A2 = {0.1: 0.15, 0.2: 0.29, 0.3: 0.48, 0.4: 0.75, 0.5: 1.02}
F4C = {0.0: (0.677, 0.005), 0.1: (0.721, 0.005), 0.2: (0.730, 0.005), 0.3: (0.734, 0.005),
       0.4: (0.766, 0.005), 0.5: (0.834, 0.005), 0.6: (1.00, 0.01), 2 / 3: (1.011, 0.005),
       0.7: (1.033, 0.005), 0.8: (1.01, 0.01)}
F4C_RESOLUTION = {"F4c-1": 0.06, "F4c-2": 0.07, "F4c-3": 0.09}
CROSSING = 0.97  # r-hat_alpha at or above it: the non-separable side of the transition


def _band(ax, itrs, values, label, color):
    mean = np.nanmean(values, axis=0)
    half = 1.96 * np.nanstd(values, axis=0) / np.sqrt(values.shape[0])
    ax.plot(itrs, mean, color=color, lw=1.2, label=label)
    ax.fill_between(itrs, mean - half, mean + half, color=color, alpha=0.2)


def level_stats(s: Mapping[str, np.ndarray], tail_n: int) -> dict:
    """One noise level: final and initial validation loss and accuracy (trial means), the rise
    of the loss, and the tail indices of A-hat and B-hat."""
    acc, loss = np.nanmean(s["val_acc"], axis=0), np.nanmean(s["val_loss"], axis=0)
    a, b = estimate_ab_i(s["means_y"])
    return dict(acc=final(acc, 1), loss=final(loss, 1), first_acc=float(acc[0]),
                first_loss=float(loss[0]), rise=final(loss, 1) - float(loss[0]),
                r_alpha=tail_index(a, tail_n), r_beta=tail_index(b, tail_n))


def phase_stats(ps: Sequence[float], summaries: Sequence[Mapping], tail_n: int) -> dict:
    """Per noise level p (its summaries: the main run first, then replicates): every level
    statistic as an Estimate, and the label-corruption counts read from the main run's logs."""
    st: dict = dict(levels={}, labels={}, runs={})
    for p, runs in by_level(ps, summaries).items():
        st["levels"][p] = ensemble_estimates(lambda s: level_stats(s, tail_n), runs,
                                             f"fig4/p{noise_name(p)}")
        st["labels"][p] = np.asarray(runs[0]["label_counts"]).tolist()
        st["runs"][p] = len(runs)
    return st


def by_level(ps: Sequence[float], summaries: Sequence[Mapping]) -> dict[float, list]:
    groups: dict[float, list] = {}
    for p, s in zip(ps, summaries):
        groups.setdefault(p, []).append(s)
    return dict(sorted(groups.items()))


def _near(p: float, table) -> float | None:
    q = min(table, key=lambda q: abs(q - p))
    return q if abs(q - p) < 1e-9 else None


def _mean(ests: Sequence) -> Estimate:
    """Mean of independent estimates: se = sqrt(sum se^2) / n."""
    es = [as_estimate(e) for e in ests]
    n = len(es)
    return Estimate(float(np.mean([e.value for e in es])),
                    math.sqrt(sum(e.se**2 for e in es)) / n, 0.0, es[0].method)


def _u4(cs: ClaimSet, p: float, counts: list, n_train: int) -> None:
    """Corrupted labels per class counted in the logs: int(p n) flipped, split half / half."""
    counts = np.asarray(counts)
    k = len(counts)
    flipped = int(p * n_train)
    cid, name = f"U4[p={noise_name(p)}]", noise_name(p)
    statement = (f"p={name}: sampled training examples per class whose training label differs "
                 f"from the true class ({n_train} per class), split between the other classes")
    off = [[int(counts[c, j]) for j in range(k) if j != c] for c in range(k)]
    want = [flipped // 2, flipped - flipped // 2] if k == 3 else flipped
    seen = counts.sum(axis=1)
    if np.any(seen < n_train):
        cs.not_applicable(cid, statement, want, f"only {seen.tolist()} of {n_train} examples per "
                          "class were sampled: the logs cannot show every label", measured=off)
        return
    ok = all((o == want) if k == 3 else (sum(o) == flipped) for o in off)
    cs.holds(cid, statement, ok and bool(np.all(seen == n_train)), off, want, "exact",
             source="LE-SDE label-noise setup; counted in the training logs")


def phase_claims(st: dict, *, scale: str, n_train: int) -> list[Claim]:
    cs = ClaimSet("LE-SDE", "Figure 4", "LE-SDE Fig. 4 (label-noise phase transition)",
                  scale=scale)
    lv = st["levels"]
    if lv:
        cs.bound("U3a", "initial validation accuracy (after the first update), mean over p",
                 _mean([x["first_acc"] for x in lv.values()]), 1 / 3 - 0.02, 1 / 3 + 0.02,
                 expected="1/3 (chance) ± 0.02")
        cs.bound("U3b", "initial validation loss, mean over p",
                 _mean([x["first_loss"] for x in lv.values()]), np.log(3) - 0.01,
                 np.log(3) + 0.01, expected="ln 3 ± 0.01")
    for p, counts in st["labels"].items():
        _u4(cs, p, counts, n_train)
    for p, x in lv.items():
        q = _near(p, F4B)
        if q is not None:
            want, resolution = F4B[q]
            cs.agree(f"F4b[p={noise_name(p)}]", f"p={noise_name(p)}: final validation accuracy",
                     x["acc"], want, reading=0.01, resolution=resolution)
    two_thirds = _near(2 / 3, lv)
    if two_thirds is not None:
        cs.bound("F4b-5b", "p=0.67: final validation accuracy within 0.05 of chance (labels "
                 "independent of the class)", lv[two_thirds]["acc"], 1 / 3 - 0.05, 1 / 3 + 0.05,
                 expected="1/3 ± 0.05")
    statement = "final validation accuracy non-increasing in p"
    if len(lv) < 2:
        cs.not_applicable("F4b-7", statement, "non-increasing", "needs >= 2 noise levels")
    else:
        cs.ordered("F4b-7", statement, [x["acc"] for x in lv.values()], "non-increasing",
                   labels=[noise_name(p) for p in lv], rising=False)
    if 0.0 in lv:
        cs.agree("F4a-1", "p=0: final validation loss", lv[0.0]["loss"], 0.01, reading=0.005,
                 resolution=0.05)
    for p in (0.6, 2 / 3, 0.7):
        q = _near(p, lv)
        if q is not None:
            cs.agree(f"F4a-3[p={noise_name(p)}]", f"p={noise_name(p)}: final - initial "
                     "validation loss (stays at the start)", lv[q]["rise"], 0.0, reading=0.01,
                     resolution=0.05)
    if 0.8 in lv:
        cs.agree("F4a-4", "p=0.8: final - initial validation loss (rises above the start)",
                 lv[0.8]["rise"], 0.035, reading=0.01, resolution=0.025)
    for p, want in F4A2.items():
        if p in lv:
            cs.agree(f"F4a-2[p={noise_name(p)}]", f"p={noise_name(p)}: final validation loss",
                     lv[p]["loss"], want, reading=0.02, resolution=0.1)
    _tail_claims(cs, {p: x["r_alpha"] for p, x in lv.items()})
    if scale == "tiny":
        cs.only_evaluable(TINY, lambda cid: cid.startswith("U4"))
    return cs.claims


def _tail_claims(cs: ClaimSet, r: dict) -> None:
    """F4c: the tail index of A-hat against p: the paper's values, where it crosses, and that it
    rises with p."""
    for p, est in r.items():
        q = _near(p, F4C)
        if q is None:
            continue
        cid = "F4c-1" if q == 0.0 else "F4c-2" if q <= 0.5 else "F4c-3"
        want, reading = F4C[q]
        cs.agree(cid if q == 0.0 else f"{cid}[p={noise_name(p)}]",
                 f"p={noise_name(p)}: tail index r-hat_alpha", est, want, reading=reading,
                 resolution=F4C_RESOLUTION[cid])
    statement = (f"smallest p with r-hat_alpha >= {CROSSING} is 0.5, 0.6 or 0.67 (levels whose "
                 f"r-hat is within {Z:g} se of {CROSSING} may be on either side)")
    if not (any(p < 0.5 for p in r) and any(p >= 0.66 for p in r)
            and any(_near(q, r) is not None for q in (0.5, 0.6, 2 / 3))):
        cs.not_applicable("F4c-4", statement, "0.5 / 0.6 / 0.67",
                          "needs noise levels on both sides of the transition and at least one "
                          "of 0.5, 0.6, 0.67")
    else:
        _crossing(cs, "F4c-4", statement, r)
    upto = {p: v for p, v in r.items() if p <= 0.7 + 1e-9}
    statement = "r-hat_alpha rises with p up to 0.7"
    if len(upto) < 3:
        cs.not_applicable("F4c-5", statement, "rising", "needs >= 3 noise levels up to 0.7")
    else:
        cs.ordered("F4c-5", statement, list(upto.values()), "rising",
                   labels=[noise_name(p) for p in upto])


def crossing_candidates(r: Mapping[float, object]) -> tuple[list[float], bool]:
    """Levels that may be the first with r-hat >= CROSSING given the uncertainty: from the first
    level not surely below up to the first surely above; and whether a surely-above level
    exists."""
    cand: list[float] = []
    for p in sorted(r):
        e = as_estimate(r[p])
        above, below = e.value - Z * e.se >= CROSSING, e.value + Z * e.se < CROSSING
        if not below:
            cand.append(p)
        if above:
            return cand, True
    return cand, False


def _crossing(cs: ClaimSet, cid: str, statement: str, r: Mapping[float, object]) -> None:
    allowed = (0.5, 0.6, 2 / 3)
    cand, surely = crossing_candidates(r)
    inside = [any(abs(p - q) < 1e-9 for q in allowed) for p in cand]
    if not all(math.isfinite(as_estimate(v).value) for v in r.values()):
        verdict = "fail"
    elif surely and cand and all(inside):
        verdict = "pass"
    elif not any(inside) and surely:
        verdict = "fail"
    else:
        verdict = "inconclusive"
    names = [noise_name(p) for p in cand] or "none"
    reason = {"pass": "", "fail": "the crossing lies outside 0.5-0.67",
              "inconclusive": "the uncertainty leaves crossings outside 0.5-0.67 possible"}
    cs._add(cid, statement, names, "0.5 / 0.6 / 0.67", f"candidates within {Z:g} se",
            verdict, reason[verdict], tier="paper")


def build_fig4(summaries: Sequence[str], ps: Sequence[float], pdf: str, png: str, claims: str, *,
               tail_n: int, scale: str, n_train: int, n_classes: int = 3,
               data_title: str = "GeoMNIST", who: str = "LE-SDE",
               reference: bool = True) -> None:
    """The figure and its claims. ``reference``: overlay the authors' read-off tail indices and
    their p = 2/3 transition (the paper's GeoMNIST runs only, never a study's data)."""
    from ...plots.style import plt, save_figure

    data = [load(path) for path in summaries]
    groups = by_level(ps, data)
    levels = list(groups)
    st = phase_stats(ps, data, tail_n)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    colors = plt.cm.plasma(np.linspace(0, 0.9, len(levels)))
    for p, color in zip(levels, colors):
        s = groups[p][0]
        _band(axes[0], s["val_itrs"], s["val_loss"], f"p = {noise_name(p)}", color)
        _band(axes[1], s["val_itrs"], s["val_acc"], f"p = {noise_name(p)}", color)
    init = float(np.mean([np.nanmean(groups[p][0]["val_loss"][:, 0]) for p in levels]))
    axes[0].axhline(init, color="k", ls=":", lw=0.8, label="mean initial loss")
    axes[1].axhline(1 / n_classes, color="k", ls=":", lw=0.8, label=f"chance 1/{n_classes}")
    axes[0].set(xlabel="iteration", ylabel="validation loss", title="(a) validation loss")
    axes[1].set(xlabel="iteration", ylabel="validation accuracy", title="(b) validation accuracy")
    ax = axes[2]
    ax.axhspan(0, 1, color="green", alpha=0.08)
    ax.axhspan(1, 2, color="red", alpha=0.08)
    lv = [st["levels"][p] for p in levels]
    for key, fmt, label in (("r_alpha", "o-", "r̂ from Â (intra-class)"),
                            ("r_beta", "s--", "r̂ from B̂ (inter-class)")):
        ax.errorbar(levels, [x[key].value for x in lv], yerr=[Z * x[key].se for x in lv],
                    fmt=fmt, capsize=3, label=label)
    if reference:
        ax.plot(list(F4C), [v for v, _ in F4C.values()], "kx", ms=5,
                label="authors' r̂ (read off)")
        ax.axvline(2 / 3, color="k", ls="--", lw=0.8, label="p = 2/3")
    ax.axhline(1, color="k", ls=":", lw=0.8)
    r_all = [x[k].value for x in lv for k in ("r_alpha", "r_beta")]
    ax.set_ylim(min(0.5, np.nanmin(r_all) - 0.05), max(1.3, np.nanmax(r_all) + 0.05))
    runs = sorted({st["runs"][p] for p in levels})
    ax.set(xlabel="label-noise level p", ylabel=f"tail index r̂ (last {tail_n} iterations)",
           title=f"(c) tail index ± {Z:g} se (green: r < 1, separable); runs per level: "
                 f"{'/'.join(map(str, runs))}")
    ax.title.set_fontsize(8)
    for a in axes:
        a.legend(fontsize=6.5)
    fig.suptitle(f"{who} Fig. 4 — phase transition under label noise ({data_title}, main run: "
                 "mean ± 95% CI over trials; (c): bootstrap or replicate uncertainty)")
    save_figure(fig, pdf, png)
    write_claims(claims, phase_claims(st, scale=scale, n_train=n_train))
