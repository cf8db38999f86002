"""LE-SDE Figure 4: validation loss and accuracy under label noise, and the tail index of the
intra-class impact vs the noise level p (phase transition at p = 2/3). Claims U3, U4, F4*."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..claims import Claim, ClaimSet, finite, write_claims
from ..lesde.estimators import estimate_ab_i, tail_index
from ..lesde.noise import noise_name
from .lesde_common import QUICK, TINY, final, load

F4B = {0.0: (0.97, 1.0), 0.1: (0.97, 1.0), 0.2: (0.90, 1.0), 0.3: (0.90, 1.0), 0.4: (0.70, 0.92),
       0.5: (0.45, 0.72), 0.6: (0.27, 0.45), 2 / 3: (0.27, 0.45), 0.7: (0.27, 0.45),
       0.8: (0.0, 0.30)}
PAPER_ONLY_F4B = {0.2, 0.3, 0.4, 0.5}  # intermediate values depend on the training length
F4A2 = {0.1: 0.15, 0.2: 0.29, 0.3: 0.48, 0.4: 0.75, 0.5: 1.02}


def _band(ax, itrs, values, label, color):
    mean = np.nanmean(values, axis=0)
    half = 1.96 * np.nanstd(values, axis=0) / np.sqrt(values.shape[0])
    ax.plot(itrs, mean, color=color, lw=1.2, label=label)
    ax.fill_between(itrs, mean - half, mean + half, color=color, alpha=0.2)


def phase_stats(ps: Sequence[float], summaries: Sequence[dict], tail_n: int) -> dict:
    """Per noise level p: final and initial validation loss and accuracy (trial means), the
    tail indices of A-hat and B-hat, and the label-corruption counts read from the logs."""
    st = dict(acc={}, loss={}, first_acc={}, first_loss={}, r_alpha={}, r_beta={}, labels={})
    for p, s in zip(ps, summaries):
        st["acc"][p] = final(np.nanmean(s["val_acc"], axis=0), 1)
        st["loss"][p] = final(np.nanmean(s["val_loss"], axis=0), 1)
        st["first_acc"][p] = float(np.nanmean(s["val_acc"][:, 0]))
        st["first_loss"][p] = float(np.nanmean(s["val_loss"][:, 0]))
        a, b = estimate_ab_i(s["means_y"])
        st["r_alpha"][p], st["r_beta"][p] = tail_index(a, tail_n), tail_index(b, tail_n)
        st["labels"][p] = np.asarray(s["label_counts"]).tolist()
    return st


def _near(p: float, table) -> float | None:
    q = min(table, key=lambda q: abs(q - p))
    return q if abs(q - p) < 1e-9 else None


def _names(values: dict) -> dict:
    return {noise_name(p): round(v, 3) for p, v in values.items()}


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
    paper = scale == "paper"
    acc, loss, r = st["acc"], st["loss"], st["r_alpha"]
    first_acc, first_loss = st["first_acc"], st["first_loss"]
    cs.within("U3a", "initial validation accuracy (after the first update), mean over p",
              float(np.mean(list(first_acc.values()))) if first_acc else None,
              1 / 3 - 0.02, 1 / 3 + 0.02)
    cs.within("U3b", "initial validation loss, mean over p",
              float(np.mean(list(first_loss.values()))) if first_loss else None,
              np.log(3) - 0.01, np.log(3) + 0.01)
    for p, counts in st["labels"].items():
        _u4(cs, p, counts, n_train)
    for p in acc:
        q = _near(p, F4B)
        if q is None:
            continue
        lo, hi = F4B[q]
        cid, statement = f"F4b[p={noise_name(p)}]", f"p={noise_name(p)}: final validation accuracy"
        if q in PAPER_ONLY_F4B and not paper:
            cs.not_applicable(cid, statement, [lo, hi], QUICK, measured=acc[p])
        elif q == 0.8:
            cs.at_most(cid, statement + " (below chance)", acc[p], hi, tier="paper")
        elif hi >= 1.0:
            cs.at_least(cid, statement, acc[p], lo, tier="paper")
        else:
            cs.within(cid, statement, acc[p], lo, hi, tier="paper")
    two_thirds = _near(2 / 3, acc)
    if two_thirds is not None:
        cs.within("F4b-5b", "p=0.67: final validation accuracy within 0.05 of chance",
                  acc[two_thirds], 1 / 3 - 0.05, 1 / 3 + 0.05)
    accs = [acc[p] for p in sorted(acc)]
    statement = "final validation accuracy non-increasing in p (inversions <= 0.03)"
    if len(accs) < 2:
        cs.not_applicable("F4b-7", statement, "none", "needs >= 2 noise levels",
                          measured=_names(acc))
    else:
        inversions = [round(b - a, 4) for a, b in zip(accs, accs[1:]) if not b - a <= 0.03]
        cs.holds("F4b-7", statement, finite(accs) and not inversions, inversions or "none",
                 "none")
    if 0.0 in loss:
        cs.at_most("F4a-1", "p=0: final validation loss", loss[0.0], 0.06, tier="paper")
    for p in (0.6, 2 / 3, 0.7):
        q = _near(p, loss)
        if q is not None:
            cs.within(f"F4a-3[p={noise_name(p)}]", f"p={noise_name(p)}: final - initial "
                      "validation loss", loss[q] - first_loss[q], -0.05, 0.05, tier="paper")
    if 0.8 in loss:
        cs.at_least("F4a-4", "p=0.8: final - initial validation loss (rises above the start)",
                    loss[0.8] - first_loss[0.8], 0.01, expected="> 0.01", tier="paper")
    for p, want in F4A2.items():
        if p in loss:
            cid, statement = f"F4a-2[p={noise_name(p)}]", f"p={noise_name(p)}: final validation loss"
            if paper:
                cs.close(cid, statement, loss[p], want, atol=0.1)
            else:
                cs.not_applicable(cid, statement, want, QUICK, measured=loss[p])
    _tail_claims(cs, r, paper)
    if scale == "tiny":
        cs.only_evaluable(TINY, lambda cid: cid.startswith("U4"))
    return cs.claims


def _tail_claims(cs: ClaimSet, r: dict, paper: bool) -> None:
    """F4c: the tail index of A-hat against p."""
    if 0.0 in r:
        if paper:
            cs.close("F4c-1", "p=0: tail index r-hat_alpha", r[0.0], 0.677, atol=0.06)
        else:
            cs.not_applicable("F4c-1", "p=0: tail index r-hat_alpha", 0.677, QUICK,
                              measured=r[0.0])
    small = {p: v for p, v in r.items() if 0 < p <= 0.5}
    statement = "r-hat_alpha < 0.95 for every p in (0, 0.5]"
    if not small:
        cs.not_applicable("F4c-2", statement, "< 0.95", "no p in (0, 0.5] configured")
    else:
        cs.holds("F4c-2", statement, finite(list(small.values()))
                 and all(v < 0.95 for v in small.values()), _names(small), "< 0.95",
                 tier="paper")
    big = {p: v for p, v in r.items() if p >= 0.66}
    statement = "r-hat_alpha in [0.97, 1.15] for p in {0.67, 0.7, 0.8}"
    if not big:
        cs.not_applicable("F4c-3", statement, "[0.97, 1.15]", "no p >= 0.67 configured")
    else:
        cs.holds("F4c-3", statement, finite(list(big.values()))
                 and all(0.97 <= v <= 1.15 for v in big.values()), _names(big), "[0.97, 1.15]",
                 tier="paper")
    statement = "smallest p with r-hat_alpha >= 0.97 is 0.5, 0.6 or 0.67"
    if not (any(p < 0.5 for p in r) and any(p >= 0.66 for p in r)):
        cs.not_applicable("F4c-4", statement, "0.5 / 0.6 / 0.67",
                          "needs noise levels on both sides of the transition")
    else:
        crossing = next((p for p in sorted(r) if r[p] >= 0.97), None)
        cs.holds("F4c-4", statement, crossing is not None
                 and any(abs(crossing - q) < 1e-9 for q in (0.5, 0.6, 2 / 3)),
                 "none" if crossing is None else noise_name(crossing), "0.5 / 0.6 / 0.67",
                 tier="paper")
    upto = [r[p] for p in sorted(r) if p <= 0.7 + 1e-9]
    statement = "r-hat_alpha rises with p up to 0.7 (one inversion <= 0.02 allowed)"
    if len(upto) < 3:
        cs.not_applicable("F4c-5", statement, "<= 1 inversion <= 0.02",
                          "needs >= 3 noise levels up to 0.7", measured=_names(r))
    else:
        drops = [round(a - b, 4) for a, b in zip(upto, upto[1:]) if not a - b <= 0]
        cs.holds("F4c-5", statement, finite(upto) and len(drops) <= 1
                 and all(d <= 0.02 for d in drops), drops or "none", "<= 1 inversion <= 0.02",
                 tier="paper")


def build_fig4(summaries: Sequence[str], ps: Sequence[float], pdf: str, png: str, claims: str, *,
               tail_n: int, scale: str, n_train: int) -> None:
    from ..plots.style import plt, save_figure

    data = [load(p) for p in summaries]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    colors = plt.cm.plasma(np.linspace(0, 0.9, len(ps)))
    st = phase_stats(list(ps), data, tail_n)
    r_alpha, r_beta = list(st["r_alpha"].values()), list(st["r_beta"].values())
    for p, s, color in zip(ps, data, colors):
        _band(axes[0], s["val_itrs"], s["val_loss"], f"p = {noise_name(p)}", color)
        _band(axes[1], s["val_itrs"], s["val_acc"], f"p = {noise_name(p)}", color)
    init = float(np.mean([np.nanmean(s["val_loss"][:, 0]) for s in data]))
    axes[0].axhline(init, color="k", ls=":", lw=0.8, label="mean initial loss")
    axes[1].axhline(1 / 3, color="k", ls=":", lw=0.8, label="chance 1/3")
    axes[0].set(xlabel="iteration", ylabel="validation loss", title="(a) validation loss")
    axes[1].set(xlabel="iteration", ylabel="validation accuracy", title="(b) validation accuracy")
    ax = axes[2]
    ax.axhspan(0, 1, color="green", alpha=0.08)
    ax.axhspan(1, 2, color="red", alpha=0.08)
    ax.plot(ps, r_alpha, "o-", label="r̂ from Â (intra-class)")
    ax.plot(ps, r_beta, "s--", label="r̂ from B̂ (inter-class)")
    ax.axhline(1, color="k", ls=":", lw=0.8)
    ax.axvline(2 / 3, color="k", ls="--", lw=0.8, label="p = 2/3")
    ax.set_ylim(min(0.5, np.nanmin(r_alpha + r_beta) - 0.05), max(1.3, np.nanmax(r_alpha) + 0.05))
    ax.set(xlabel="label-noise level p", ylabel=f"tail index r̂ (last {tail_n} iterations)",
           title="(c) tail index (green: r < 1, separable)")
    for a in axes:
        a.legend(fontsize=6.5)
    fig.suptitle("LE-SDE Fig. 4 — phase transition under label noise (GeoMNIST, mean ± 95% CI "
                 "over trials)")
    save_figure(fig, pdf, png)
    write_claims(claims, phase_claims(st, scale=scale, n_train=n_train))
