"""Beyond the paper: SI Figure 2's k = 1 vs k = 3 divergence in several floating-point formats.

If the copies diverge because rounding errors are amplified by the training dynamics, the
divergence should start at each format's rounding level (its machine epsilon) and, while it is
small, grow by the same factor in every format. Claims XP-1..3 test exactly that."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...claims import EXTRA, Claim, ClaimSet, finite, write_claims
from ...family import TINY as TINY_TIER
from ..family import FIG2_SCALE
from ..outputs import read_fig2_run
from ...plots.style import plt, save_figure

ORDER = ("bfloat16", "float32", "float64")  # least to most precise
COLORS = {"bfloat16": "tab:red", "float32": "tab:blue", "float64": "tab:green"}
LINEAR = 1e-2  # divergence below which growth is still a small perturbation of one trajectory


def eps(dtype: str) -> float:
    return float(torch.finfo(getattr(torch, dtype)).eps)


def final(d: dict) -> float:
    """Divergence at the end of a run: mean of the last 3 saves."""
    return float(np.mean(d["divergence"][-3:]))


def load_runs(runs: Sequence[str], dtypes: Sequence[str], ns: Sequence[int]) -> dict:
    """(dtype, n) -> run, in the order the rule lists them; every pair must be present."""
    expected = [(d, n) for d in dtypes for n in ns]
    if len(runs) != len(expected):
        raise ValueError(f"expected {len(expected)} runs for {expected}, got {len(runs)}")
    return {key: read_fig2_run(path) for key, path in zip(expected, runs)}


def build_precision(runs: Sequence[str], pdf: str, png: str, claims: str, *,
                    config: dict) -> None:
    dtypes = sorted(config["precision"]["dtypes"], key=ORDER.index)
    ns = sorted(config["precision"]["ns"])  # largest lr first
    data = load_runs(runs, config["precision"]["dtypes"], config["precision"]["ns"])
    fig, axes = plt.subplots(1, len(ns), figsize=(3.6 * len(ns), 3.6), sharey=True,
                             squeeze=False)
    for ax, n in zip(axes[0], ns):
        for dt in dtypes:
            d = data[dt, n]
            j = np.arange(1, len(d["divergence"]) + 1)
            ax.semilogy(j, np.maximum(d["divergence"], 1e-20), color=COLORS[dt], label=dt)
            ax.axhline(eps(dt), color=COLORS[dt], ls=":", lw=0.8)
        ax.set(title=f"lr = {float(data[dtypes[0], n]['lr']):.4g} (n = {n})",
               xlabel="save j (weights after j·n updates)")
    axes[0][0].set_ylabel("divergence k = 1 vs k = 3 (dotted: machine epsilon)")
    axes[0][0].legend()
    fig.suptitle(f"Figure 2 in three floating-point formats — {config['fig2']['layer']}",
                 fontsize=10)
    save_figure(fig, pdf, png)

    st = precision_stats({k: d["divergence"] for k, d in data.items()}, dtypes, ns)
    write_claims(claims, precision_claims(st, tiny=FIG2_SCALE.tier(config) == TINY_TIER))


def precision_stats(divergence: dict, dtypes: Sequence[str], ns: Sequence[int]) -> dict:
    """Final divergence over machine epsilon per format at the smallest lr (largest n), and the
    final divergence per format at the largest lr; dtypes least to most precise."""
    small, large = max(ns), min(ns)
    fin = {key: float(np.mean(d[-3:])) if len(d) else float("nan")
           for key, d in divergence.items()}
    return dict(small=small, large=large,
                ratio_small={dt: fin[dt, small] / eps(dt) for dt in dtypes},
                final_large={dt: fin[dt, large] for dt in dtypes})


def precision_claims(st: dict, *, tiny: bool) -> list[Claim]:
    cs = ClaimSet("SI", "Figure 2 precision (extra)",
                  "beyond the paper: rounding-error amplification in bf16 / fp32 / fp64",
                  kind=EXTRA)
    small, large, ratio = st["small"], st["large"], st["ratio_small"]
    cs.holds("XP-1", f"smallest lr (n = {small}): every format ends within 10x its machine "
             "epsilon", finite(ratio) and all(r <= 10 for r in ratio.values()),
             {dt: f"{r:.2f}" for dt, r in ratio.items()}, "final / eps <= 10")
    finals = list(st["final_large"].values())
    ordered = finite(finals) and all(a > b for a, b in zip(finals, finals[1:]))
    cs.holds("XP-2", f"largest lr (n = {large}): the less precise the format, the larger the "
             "final divergence", ordered,
             {dt: f"{v:.2e}" for dt, v in st["final_large"].items()}, "strictly decreasing")
    growth = {dt: v / eps(dt) for dt, v in st["final_large"].items() if v < LINEAR}
    # One pair of runs per format: the run-to-run spread of a growth factor is unknown (and an
    # exponential growth over few updates turns a small change of rate into a large factor; the
    # quick run's float32 grew 3e4-fold, float64 900-fold), so these are measured, not banded.
    for dt, g in growth.items():
        cs.measure(f"XP-3[{dt}]", f"largest lr (n = {large}), {dt}: final divergence / machine "
                   f"epsilon (formats still below divergence {LINEAR:g})", g)
    if tiny:
        cs.only_evaluable(FIG2_SCALE.too_small, lambda cid: False)
    return cs.claims
