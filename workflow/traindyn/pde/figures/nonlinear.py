"""SI Figure 4: the non-linear PDE (left: loss vs iteration per lr, restrained instability) and
error amplification between two rounding-perturbed copies (right). Claims N1-N6, R1-R2, M1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...atomic import load_npz
from ...claims import SELF_CHECK, Claim, ClaimSet, finite, write_claims
from ...divergence import relative_l1_divergence
from ...plots.style import plt, save_figure
from .linear import PAPER_ONLY, _find


def nonlinear_stats(lrs: np.ndarray, loss: np.ndarray, *, paper_setup: bool,
                    weight_decay: float, z_star: float, lr_orthogonal: float,
                    lr_restrained: float) -> dict:
    """The numbers claims N1-N6 read; None where the sweep lacks the lr or iterations."""
    T = loss.shape[1]

    def row(lr, min_iters=1000):
        i = _find(lrs, lr)
        return None if i is None or T < min_iters else loss[i]

    st = dict(paper=bool(paper_setup) and float(weight_decay) == 20.0, z_star=abs(float(z_star)),
              lr_orthogonal=float(lr_orthogonal), lr_restrained=float(lr_restrained))
    for lr in N1_LRS:
        r = row(lr)
        st[f"N1[lr={lr:g}]"] = None if r is None else float(r[-1])
    for lr in N2_LRS:
        r = row(lr)
        st[f"N2[lr={lr:g}]"] = None if r is None else [float(r[-100:].min()),
                                                        float(r[-100:].max())]
    r = row(0.1)
    st["N3"] = None if r is None else [float(np.min(r)), float(np.max(r))]  # NaN propagates
    for lr in N4_RATES:
        r = row(lr, 101)
        with np.errstate(invalid="ignore", over="ignore"):
            st[f"N4[lr={lr:g}]a"] = None if r is None else float((r[100] / r[50]) ** (1 / 50))
        big = [] if r is None else np.flatnonzero(~(r <= 1e6 * r[0]))
        st[f"N4[lr={lr:g}]b"] = None if r is None else (int(big[0]) if len(big) else -1)
    return st


N1_LRS, N2_LRS, N4_RATES = (0.01, 0.03), (0.05, 0.07, 0.09), {0.11: 1.44, 0.13: 2.56}


def nonlinear_claims(st: dict) -> list[Claim]:
    cs = ClaimSet("SI", "Figure 4 left", "SI Fig. 4 left (non-linear PDE, eq. 8)", scale="paper")
    reason = PAPER_ONLY + " or weight_decay != 20"

    def gate(cid, statement, expected, needs="") -> bool:
        if not st["paper"]:
            cs.not_applicable(cid, statement, expected, reason, measured=st.get(cid))
        elif needs and st.get(cid) is None:
            cs.not_applicable(cid, statement, expected, needs)
        else:
            return True
        return False

    for lr in N1_LRS:
        cid = f"N1[lr={lr:g}]"
        if gate(cid, f"lr={lr:g}: final loss", 0.291495, f"needs lr = {lr:g}, >= 1000 iterations"):
            cs.close(cid, f"lr={lr:g}: final loss (converged)", st[cid], 0.291495, atol=1e-5)
    if gate("N1[z*]", "|z*| = |c . w*| at the fixed point", 3.86525):
        cs.close("N1[z*]", "|z*| = |c . w*| at the fixed point (c = first 32x32 patch)",
                 st["z_star"], 3.86525, atol=1e-5)
    for lr in N2_LRS:
        cid = f"N2[lr={lr:g}]"
        statement = f"lr={lr:g}: last-100-iteration loss [min, max]: bounded oscillation"
        want = "max/min >= 1.5, max < 10, finite"
        if gate(cid, statement, want, f"needs lr = {lr:g}, >= 1000 iterations"):
            lo, hi = st[cid]
            cs.holds(cid, statement, finite([lo, hi]) and lo > 0 and hi / lo >= 1.5 and hi < 10,
                     [lo, hi], want)
    statement = "lr=0.1: loss [min, max] over all iterations stays in [9490, 9510]"
    if gate("N3", statement, [9490, 9510], "needs lr = 0.1, >= 1000 iterations"):
        lo, hi = st["N3"]
        cs.holds("N3", statement, finite([lo, hi]) and lo >= 9490 and hi <= 9510, [lo, hi],
                 [9490, 9510], "range")
    for lr, rate in N4_RATES.items():
        cid = f"N4[lr={lr:g}]a"
        if gate(cid, f"lr={lr:g}: loss growth factor per iteration", rate,
                f"needs lr = {lr:g}, >= 101 iterations"):
            cs.close(cid, f"lr={lr:g}: loss growth factor per iteration, 50..100 (expected "
                     "(1 - alpha lr)^2)", st[cid], rate, rtol=0.01,
                     source="derivation: (1 - alpha lr)^2 (growth, not NaN index)")
        cid = f"N4[lr={lr:g}]b"
        statement = f"lr={lr:g}: first iteration with loss > 1e6 x initial"
        if gate(cid, statement, "<= 100", f"needs lr = {lr:g}, >= 101 iterations"):
            first = st[cid]
            cs.holds(cid, statement, 0 <= first <= 100,
                     first if first >= 0 else "never", "<= 100", "<= 100 iterations")
    if gate("N5", "orthogonal-mode bound 2/lambda_min(H(w*)) = 2/alpha", 0.1):
        cs.close("N5", "orthogonal-mode bound 2/lambda_min(H(w*)) = 2/alpha",
                 st["lr_orthogonal"], 0.1, rtol=1e-6)
    if gate("N6", "restrained-instability onset 2/lambda_max(H(w*))", 2 / 62.0):
        cs.close("N6", "restrained-instability onset 2/lambda_max(H(w*))",
                 st["lr_restrained"], 2 / 62.0, rtol=0.03)
    return cs.claims


def build_fig4_left(nonlinear_npz: str, pdf: str, png: str, claims: str) -> None:
    d = load_npz(nonlinear_npz)
    lrs, loss, first = d["lrs"], d["loss"], d["first_nonfinite"]
    lr_c, lr_o = float(d["lr_restrained"]), float(d["lr_orthogonal"])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    it = np.arange(1, loss.shape[1] + 1)
    colors = plt.cm.viridis(np.linspace(0, 0.95, len(lrs)))
    for i, (lr, color) in enumerate(zip(lrs, colors)):
        style = dict(lw=2.2) if lr < lr_c else (dict(alpha=0.5) if lr < lr_o else {})
        label = f"lr = {lr:g}"
        if np.isclose(lr, lr_o, rtol=1e-6):
            label += " (threshold 2/λ_min)"
        if first[i] >= 0:
            label += f" (non-finite from {first[i]})"
        ax.loglog(it, np.where(loss[i] < 1e100, loss[i], np.nan), color=color, label=label,
                  **style)
    ax.set_ylim(0.2, 3e4)
    ax.set(xlabel="iteration", ylabel="loss (BCE + α/2 |w|²); blow-ups leave the axis",
           title=f"non-linear GD PDE, weight decay α = {float(d['weight_decay']):g}")
    ax.legend(fontsize=6.5)
    tail = loss[:, -100:]
    top = 1e5
    with np.errstate(invalid="ignore"):
        lo, hi = np.min(tail, axis=1), np.max(tail, axis=1)
    shown = np.isfinite(hi) & (hi < top)
    ax2.vlines(lrs[shown], lo[shown], hi[shown], color="k", lw=3)
    ax2.plot(lrs[shown], lo[shown], "k_", ms=10, label="min..max of the loss, last 100 iterations")
    ax2.plot(lrs[~shown], np.full((~shown).sum(), top / 2), "r^",
             label=f"blow-up (loss > {top:g} or non-finite)")
    ax2.set_yscale("log")
    ax2.set_ylim(0.1, top)
    ax2.axvline(lr_c, color="C1", ls="--", label=f"2/λ_max(H(w*)) = {lr_c:.4f}: the fixed point "
                "turns unstable")
    ax2.axvline(lr_o, color="C3", ls=":", label=f"2/λ_min(H(w*)) = {lr_o:.4g}: every mode "
                "unstable (= 2/α for rank-one data)")
    ax2.set(xlabel="learning rate", ylabel="loss over the last 100 iterations",
            title="converge | restrained oscillation | blow-up")
    ax2.legend(fontsize=6.5, loc="upper left")
    fig.suptitle("SI Fig. 4 (left) — one-layer CNN: thresholds from the Hessian at the fixed "
                 "point w* reached by the smallest lr")
    save_figure(fig, pdf, png)
    write_claims(claims, nonlinear_claims(nonlinear_stats(
        lrs, loss, paper_setup=bool(d["paper_setup"]), weight_decay=float(d["weight_decay"]),
        z_star=float(d["z_star"]), lr_orthogonal=lr_o, lr_restrained=lr_c)))


M1_A, M1_B = np.array([1.0, -2.0, 0.0, 3.0]), np.array([1.0, 2.0, 0.0, 1.0])
M1_EXPECTED = 2 * (0 + 1 + 0 + 0.5) / 4  # by hand; the 0/0 entry counts as 0
R1_LRS, R2_LRS = (0.01, 0.03), (0.05, 0.07, 0.09)


def amplification_stats(lrs: np.ndarray, divergence: np.ndarray, window_mean: np.ndarray, *,
                        paper_setup: bool, k: Sequence[int]) -> dict:
    """The numbers claims R1, R2 and M1 read; None where the lr is not configured."""
    st = dict(paper=bool(paper_setup) and list(k) == [1, 3],
              M1=float(relative_l1_divergence(M1_A, M1_B)))
    for lr in R1_LRS:
        i = _find(lrs, lr)
        st[f"R1[lr={lr:g}]"] = None if i is None else float(np.max(window_mean[i]))
    for lr in R2_LRS:
        i = _find(lrs, lr)
        cross = [] if i is None else np.flatnonzero(~(divergence[i] <= 1e-3))
        st[f"R2[lr={lr:g}]a"] = None if i is None else float(window_mean[i, -1])
        st[f"R2[lr={lr:g}]b"] = None if i is None else (int(cross[0]) + 1 if len(cross) else -1)
    return st


def amplification_claims(st: dict) -> list[Claim]:
    cs = ClaimSet("SI", "Figure 4 right", "SI Fig. 4 right (error amplification)", scale="paper")
    cs.close("M1", "metric 2*mean(|a-b|/(|a|+|b|)), 0/0 -> 0, on a fixed example", st["M1"],
             M1_EXPECTED, atol=1e-15, kind=SELF_CHECK, source="authors' divergence metric")
    reason = PAPER_ONLY + " or k != (1, 3)"

    def gate(cid, statement, expected, lr) -> bool:
        if not st["paper"]:
            cs.not_applicable(cid, statement, expected, reason, measured=st[cid])
        elif st[cid] is None:
            cs.not_applicable(cid, statement, expected, f"lr = {lr:g} not configured")
        else:
            return True
        return False

    for lr in R1_LRS:
        cid = f"R1[lr={lr:g}]"
        statement = f"lr={lr:g}: largest forward window mean of D"
        if gate(cid, statement, "<= 1e-12", lr):
            cs.at_most(cid, statement, st[cid], 1e-12)
    for lr in R2_LRS:
        cid = f"R2[lr={lr:g}]a"
        statement = f"lr={lr:g}: final window mean of D (amplified to O(1))"
        if gate(cid, statement, ">= 0.5", lr):
            cs.at_least(cid, statement, st[cid], 0.5, expected=">= 0.5 (replica 1.2-1.4)")
        cid = f"R2[lr={lr:g}]b"
        statement = f"lr={lr:g}: first update with D > 1e-3"
        if gate(cid, statement, "< 400", lr):
            first = st[cid]
            cs.holds(cid, statement, 0 < first < 400, first if first > 0 else "never", "< 400")
    return cs.claims


def build_fig4_right(amplification_npz: str, pdf: str, png: str, claims: str) -> None:
    d = load_npz(amplification_npz)
    lrs, div, wm, window = d["lrs"], d["divergence"], d["window_mean"], int(d["window"])
    k = d["k"]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = plt.cm.viridis(np.linspace(0, 0.95, len(lrs)))
    floor = np.finfo(np.float64).eps / 2
    for i, (lr, color) in enumerate(zip(lrs, colors)):
        it = np.arange(1, div.shape[1] + 1)
        ax.semilogy(it, np.maximum(div[i], floor), color=color, alpha=0.25, lw=0.6)
        ax.semilogy(np.arange(1, wm.shape[1] + 1), np.maximum(wm[i], floor), color=color,
                    lw=1.6, label=f"lr = {lr:g}")
    ax.axhline(floor, color="gray", ls=":", lw=0.8, label="exactly 0 (drawn at eps/2)")
    ax.set(xlabel="iteration", ylabel="2·mean(|w1−w2| / (|w1|+|w2|))",
           title=f"SI Fig. 4 (right) — copies updated with (lr·k)·(grad/k), k = {k[0]} vs "
                 f"{k[1]}\nfaint: after each update; bold: forward {window}-iteration mean")
    ax.legend()
    save_figure(fig, pdf, png)
    write_claims(claims, amplification_claims(amplification_stats(
        lrs, div, wm, paper_setup=bool(d["paper_setup"]), k=list(k))))
