"""A study's figures, tables and statistics: the papers' analyses on your model and data.

The statistics go into the claims file as measurements with their uncertainty (kind
``study``, verdict ``measured``): a study has no paper to agree with. The one exception is the
null control -- a second k = 1 copy must stay bit-identical to the first, or the run is not
deterministic and its spreads mean nothing -- which is a check that can fail.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..atomic import load_npz
from ..claims import STUDY, ClaimSet, write_claims
from ..instab.outputs import read_table1_run
from ..lesde.ensemble import ensemble_estimates
from ..lesde.noise import noise_name
from ..plots.style import plt, save_figure
from ..stats import Estimate
from ..tables import write_table


def _claims(name: str, figure: str) -> ClaimSet:
    return ClaimSet(f"study {name}", figure, f"study {name} (your model and data)",
                    kind=STUDY)


def _write(path: str, name: str, claims: list) -> None:
    """The study's rows, their ids prefixed with the study's name (unique across studies)."""
    write_claims(path, [replace(c, id=f"{name}/{c.id}") for c in claims])


# ---------------------------------------------------------------- instability (SI Table 1 style)


def _divergence_curves(paths: Sequence[str]) -> list[dict]:
    return [load_npz(p) for p in paths]


def build_instability(runs: Sequence[str], divergences: Sequence[str], md: str, tex: str,
                      csv: str, pdf: str, png: str, claims: str, *, name: str,
                      stat_epochs: int) -> None:
    """Seeds x perturbations k: the accuracy grid, the spreads across k and across seeds, the
    null control, the convergence, and the weight divergence of the watched layers."""
    from ..instab.figures.deep import accuracy_grid, table1_stats

    df = pa.concat_tables([read_table1_run(p) for p in runs]).to_pandas()
    st = table1_stats(df, stat_epochs)
    (label, a), = st.items()  # one model per study
    grid = a["grid"]
    rows = [[f"k={k}", *[round(100 * v, 2) for v in row], round(100 * a["std_seed"][k], 3)]
            for k, row in grid.iterrows()]
    rows.append(["std over k", *[round(100 * v, 3) for v in a["std_pert"]], ""])
    write_table(["row", *[f"seed {s}" for s in grid.columns], "std over seeds"], rows, md=md,
                tex=tex, csv_path=csv,
                caption=f"Study {name} — test accuracy (%) of copies differing only by rounding "
                        f"(k) and by seed; mean over the last {stat_epochs} epochs")
    curves = _divergence_curves(divergences)
    layers = [str(x) for x in curves[0]["layers"]] if curves else []
    fig, axes = plt.subplots(1, 1 + bool(layers), figsize=(5.5 * (1 + bool(layers)), 4),
                             squeeze=False)
    accuracy_grid(fig, axes[0, 0], a, f"test accuracy (%), last {stat_epochs} epochs")
    if layers:
        ax = axes[0, 1]
        for d, seed in zip(curves, grid.columns):
            ks = list(d["ks"])
            for i, layer in enumerate(layers):
                div = d[f"layer_{i}"]
                for c, k in enumerate(ks[:-1]):
                    if c == ks.index(1):
                        continue
                    ax.semilogy(d["steps"], np.maximum(div[:, c], 1e-12), lw=1,
                                label=f"seed {seed}, {layer}, k={k} vs k=1")
        ax.set(xlabel="optimizer step", ylabel="2·mean(|w1−w2| / (|w1|+|w2|))",
               title="weight divergence from the k = 1 copy")
        ax.legend(fontsize=6)
    fig.suptitle(f"Study {name} — rounding perturbations (rows) vs seeds (columns), model "
                 f"{label}")
    save_figure(fig, pdf, png)
    _write(claims, name, instability_claims(a, name))


def instability_claims(a: dict, name: str) -> list:
    cs = _claims(name, "Instability (SI Table 1 style)")
    se = a["log_ratio_se"]
    ratio = a["ratio"]
    cs.holds("null-control", "a second k = 1 copy stays bit-identical to the first in every "
             "epoch (else the run is not deterministic)", a["control"],
             "identical" if a["control"] else "DIVERGED", "bitwise", "exact")
    cs.measure("std-perturbations", "pooled std of test accuracy across perturbations k",
               a["pooled_pert"], kind=STUDY)
    cs.measure("std-seeds", "pooled std of test accuracy across seeds", a["pooled_seed"],
               kind=STUDY)
    ratio_est = (Estimate(ratio, ratio * se, ratio * se, "analytic (chi-square) se of the log "
                          "ratio, seeds as units") if math.isfinite(ratio * se) else ratio)
    cs.measure("std-ratio", "std across perturbations / std across seeds (SI: 'comparable')",
               ratio_est, kind=STUDY)
    cs.measure("distinct", "fewest distinct final accuracies among the copies of a seed",
               min(a["distinct"]), kind=STUDY)
    cs.measure("plateau", f"largest change of a copy's test accuracy over the last "
               f"{a['window']} epochs", a["plateau"], kind=STUDY)
    cs.measure("train-acc", "lowest final training accuracy of any copy", a["train_acc"],
               kind=STUDY)
    return cs.claims


# ---------------------------------------------------------------- lr divisors (SI Figure 2 style)


def build_divisors(runs: Sequence[str], divergences: Sequence[str], ns: Sequence[int], pdf: str,
                   png: str, claims: str, *, name: str) -> None:
    """The weight divergence of the k = 1 and k copies against the learning rate lr / n."""
    for r in runs:
        read_table1_run(r)  # complete runs only
    curves = _divergence_curves(divergences)
    layers = [str(x) for x in curves[0]["layers"]]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    cs = _claims(name, "Divergence vs learning rate (SI Figure 2 style)")
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(ns)))
    for n, d, color in zip(ns, curves, colors):
        ks = list(d["ks"])
        other = next(c for c, k in enumerate(ks) if k != 1)
        for i, layer in enumerate(layers):
            div = d[f"layer_{i}"][:, other]
            ax.semilogy(d["steps"], np.maximum(div, 1e-12), color=color,
                        ls=("-", "--", ":", "-.")[i % 4], label=f"lr/{n}, {layer}")
            cs.measure(f"divergence[n={n},{layer}]", f"final weight divergence of {layer}, "
                       f"k = {ks[other]} vs k = 1, at lr / {n}",
                       float(div[-1]) if len(div) else math.nan, kind=STUDY)
    ax.set(xlabel="optimizer step", ylabel="2·mean(|w1−w2| / (|w1|+|w2|))",
           title=f"Study {name} — divergence of rounding-perturbed copies vs lr")
    ax.legend(fontsize=6)
    save_figure(fig, pdf, png)
    _write(claims, name, cs.claims)


# ---------------------------------------------------------------- LE-SDE analyses


def build_lesde(summaries: Sequence[str], fig1_pdf: str, fig1_png: str, fig3_pdf: str,
                fig3_png: str, collapse_pdf: str, collapse_png: str, fig5_pdf: str,
                fig5_png: str, claims: str, *, ps: Sequence[float], name: str,
                data_title: str, window: int | None, tail_n: int | None, sim_trials: int,
                seed: int) -> None:
    """Figures 1, 3, 5 and the neural-collapse geometry of the first noise level, and the
    statistics of every level as measurements (bootstrap over trials)."""
    from ..lesde.figures import dynamics as lesde_dynamics, leode as lesde_leode
    from ..lesde.figures.phase import level_stats
    from ..lesde.analysis import summary_stats

    first = load_npz(summaries[0])
    window, tail_n = _window(first, window), _tail(first, tail_n)
    common = ([summaries[0]], [data_title])
    with tempfile.TemporaryDirectory() as scratch:  # the builders' paper claims: not a study's
        junk = str(Path(scratch) / "paper_claims.json")
        lesde_dynamics.build_fig1(*common, fig1_pdf, fig1_png, junk, scale="quick")
        lesde_dynamics.build_fig3(*common, [window], fig3_pdf, fig3_png, junk, scale="quick")
        lesde_dynamics.build_collapse(*common, collapse_pdf, collapse_png, junk, scale="quick")
        lesde_leode.build_fig5(*common, fig5_pdf, fig5_png, junk, window=window,
                               n_trials=sim_trials, seed=seed, scale="quick")
    cs = _claims(name, "LE-SDE analyses")
    stats = summary_stats(first, data_title, window=window, tail_n=tail_n)
    p0 = noise_name(ps[0])
    for c, v in enumerate(stats["separation"]):
        cs.measure(f"separation[{c}]", f"p={p0}: class mean {c} at T projected on the class 0 - 1 "
                   "direction (Figure 1)", v, kind=STUDY)
    imp = stats["impacts"]
    for key, what in (("A", "A-hat(T), I estimator"), ("B", "B-hat(T), I estimator"),
                      ("dA", "A-hat(T) - early mean, I (normalization-free)"),
                      ("dB", "B-hat(T) - early mean, I (normalization-free)"),
                      ("A_L", "A-hat(T), L estimator"), ("B_L", "B-hat(T), L estimator"),
                      ("peak", "alpha-hat peak"), ("peak_t", "iteration of the alpha-hat peak")):
        if imp.get(key) is not None:
            cs.measure(f"impact[{key}]", f"p={p0}: {what} (Figure 3)", imp[key], kind=STUDY)
    for j, cos in enumerate(stats["collapse"]["final_cos"]):
        cs.measure(f"collapse-cos[{j}]", f"p={p0}: cosine of centred class-mean pair {j} at T",
                   cos, kind=STUDY)
    for p, path in zip(ps, summaries):
        s = first if path == summaries[0] else load_npz(path)
        x = ensemble_estimates(lambda s: level_stats(s, tail_n), [s], f"study/{name}/p{p:g}")
        for key, what in (("acc", "final validation accuracy"), ("loss", "final validation "
                          "loss"), ("r_alpha", f"tail index r-hat_alpha (last {tail_n})")):
            cs.measure(f"{key}[p={noise_name(p)}]", f"p={noise_name(p)}: {what}", x[key],
                       kind=STUDY)
    _write(claims, name, cs.claims)


def build_lesde_phase(summaries: Sequence[str], pdf: str, png: str, *, ps: Sequence[float],
                      tail_n: int | None, n_train: int) -> None:
    """Figure 4 (validation curves, tail index against the label-noise level) of a sweep."""
    from ..lesde.figures.phase import build_fig4

    with tempfile.TemporaryDirectory() as scratch:
        build_fig4(list(summaries), list(ps), pdf, png, str(Path(scratch) / "claims.json"),
                   tail_n=_tail(load_npz(summaries[0]), tail_n), scale="quick",
                   n_train=n_train)


def _window(summary, window: int | None) -> int:
    """The Savitzky-Golay window: as configured, else about a twentieth of the run (odd)."""
    return window or max(5, (len(summary["means_y"]) // 20) | 1)


def _tail(summary, tail_n: int | None) -> int:
    return tail_n or max(2, len(summary["means_y"]) // 2)
