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
from ..claims import DEGENERATE, FAIL, STUDY, ClaimSet, write_claims
from ..instab.outputs import read_table1_run
from ..lesde.ensemble import ensemble_estimates
from ..lesde.noise import noise_name
from ..plots.style import banner, plt, save_figure
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
                      stat_epochs: int, data_title: str = "",
                      probes: Sequence[str] = ()) -> None:
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
    panels = 1 + bool(layers) + bool(probes)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    accuracy_grid(fig, axes[0, 0], a, f"test accuracy (%), last {stat_epochs} epochs")
    if layers:
        ax = axes[0, 1]
        series = [(d, seed, k, c) for d, seed in zip(curves, grid.columns)
                  for c, k in enumerate(list(d["ks"])[:-1]) if c != list(d["ks"]).index(1)]
        # one colour per (seed, k), one line style per layer: no two series look alike
        colors = plt.cm.turbo(np.linspace(0.05, 0.95, max(len(series), 1)))
        for (d, seed, k, c), color in zip(series, colors):
            for i, layer in enumerate(layers):
                ax.semilogy(d["steps"], np.maximum(d[f"layer_{i}"][:, c], 1e-12), lw=1,
                            color=color, ls=("-", "--", ":", "-.")[i % 4],
                            label=f"seed {seed}, {layer}, k={k} vs k=1")
        ax.set(xlabel="optimizer step", ylabel="2·mean(|w1−w2| / (|w1|+|w2|))",
               title="weight divergence from the k = 1 copy")
        ax.legend(fontsize=6, ncol=1 + len(series) * len(layers) // 12)
    fig.suptitle(f"Study {name} — rounding perturbations (rows) vs seeds (columns), model "
                 f"{label}, {data_title}")
    probe_data = [load_npz(p) for p in probes]
    if probe_data:
        _disagreement_panel(axes[0, -1], probe_data, list(grid.columns))
    verdicts = instability_claims(a, name, health(curves, grid))
    verdicts += disagreement_claims(name, probe_data)
    banner(fig, [f"{c.id}: {c.reason}" for c in verdicts if c.verdict in (FAIL, DEGENERATE)])
    save_figure(fig, pdf, png)
    _write(claims, name, verdicts)


def _disagreement_panel(ax, probe_data: list[dict], seeds: list) -> None:
    series = [(d, seed, c, int(k)) for d, seed in zip(probe_data, seeds)
              for c, k in enumerate(d["ks"]) if c != list(d["ks"]).index(1)]
    colors = plt.cm.turbo(np.linspace(0.05, 0.95, max(len(series), 1)))
    for (d, seed, c, k), color in zip(series, colors):
        control = c == len(d["ks"]) - 1
        ax.plot(d["steps"], 100 * d["disagreement"][:, c], color=color, lw=1,
                ls=":" if control else "-",
                label=f"seed {seed}, {'null control' if control else f'k={k}'}")
    p = probe_data[0]["logits"].shape[2]
    ax.set(xlabel="optimizer step", ylabel="% of probe images",
           title=f"predictions differing from the k = 1 copy ({p} probe images)")
    ax.legend(fontsize=6)


def disagreement_claims(name: str, probe_data: list[dict]) -> list:
    """The copies' final prediction disagreement on the probe set (mean over seeds, with the
    standard error of that mean), per k."""
    if not probe_data:
        return []
    cs = _claims(name, "Instability (SI Table 1 style)")
    ks = [int(k) for k in probe_data[0]["ks"]]
    for c, k in enumerate(ks):
        if c == ks.index(1):
            continue
        vals = np.array([d["disagreement"][-1, c] for d in probe_data])
        label = "null control" if c == len(ks) - 1 else f"k={k}"
        se = float(vals.std(ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else math.nan
        cs.measure(f"disagreement[{label}]", f"final fraction of probe images the {label} copy "
                   "predicts differently from the k = 1 copy (mean over seeds)",
                   Estimate(float(vals.mean()), se, se * math.sqrt(len(vals)),
                            "standard error of the mean over seeds"), kind=STUDY)
    return cs.claims


def health(curves: Sequence[dict], grid) -> dict:
    """What the runs' ends say about the network (from the copies jobs' records): classes, test
    images, the best final accuracy, the largest fraction of exactly-zero logits of a copy, the
    smallest logit spread over the test images (0: the output ignores the input)."""
    return dict(n_classes=int(curves[0]["n_classes"]), n_test=int(curves[0]["n_test"]),
                best=float(np.nanmax(grid.to_numpy())),
                zero=max(float(np.max(d["logit_zero"])) for d in curves),
                spread=min(float(np.min(d["logit_spread"])) for d in curves))


def health_claims(cs: ClaimSet, h: dict) -> None:
    """The run trained a network whose statistics mean something, or it is named degenerate."""
    chance = 1 / h["n_classes"]
    se = math.sqrt(chance * (1 - chance) / h["n_test"])  # binomial, a classifier at chance
    statement = (f"the best copy's test accuracy is above chance (1/K = {chance:.4g}) by more "
                 f"than 2 binomial se on {h['n_test']} test images")
    if h["best"] <= chance + 2 * se:
        cs.degenerate("trained", statement, h["best"], f"every copy is at chance "
                      f"(best {h['best']:.4g} vs 1/K = {chance:.4g} ± {se:.2g}): the network "
                      "did not learn, its spreads measure nothing")
    else:
        cs.holds("trained", statement, True, h["best"], f"> {chance + 2 * se:.4g}", "2 se")
    statement = "every copy's logits depend on its input and are not mostly exactly 0"
    if h["spread"] == 0 or h["zero"] > 0.5:
        why = ("the logits are the same for every test image (the output ignores the input)"
               if h["spread"] == 0 else f"{100 * h['zero']:.0f} % of a copy's logits are "
               "exactly 0 (a dead head)")
        cs.degenerate("logits", statement, {"zero": h["zero"], "spread": h["spread"]}, why)
    else:
        cs.holds("logits", statement, True, {"zero": h["zero"], "spread": h["spread"]},
                 "spread > 0, zero <= 0.5", "exact")


def instability_claims(a: dict, name: str, h: dict) -> list:
    cs = _claims(name, "Instability (SI Table 1 style)")
    se = a["log_ratio_se"]
    ratio = a["ratio"]
    cs.holds("null-control", "a second k = 1 copy stays bit-identical to the first in every "
             "epoch (else the run is not deterministic)", a["control"],
             "identical" if a["control"] else "DIVERGED", "bitwise", "exact",
             reason="the two k = 1 copies differ: the run is not deterministic (or the model "
                    "draws randomness the copies do not share), so its spreads mean nothing")
    health_claims(cs, h)
    cs.measure("std-perturbations", "pooled std of test accuracy across perturbations k",
               a["pooled_pert"], kind=STUDY)
    cs.measure("std-seeds", "pooled std of test accuracy across seeds", a["pooled_seed"],
               kind=STUDY)
    ratio_est = (Estimate(ratio, ratio * se, ratio * se, "analytic (chi-square) se of the log "
                          "ratio, seeds as units") if math.isfinite(ratio * se) else ratio)
    statement = "std across perturbations / std across seeds (SI: 'comparable')"
    if a["pooled_seed"] == 0:
        cs.degenerate("std-ratio", statement, ratio, "every seed gives the same accuracy (std "
                      "over seeds 0): the ratio is undefined")
    else:
        cs.measure("std-ratio", statement, ratio_est, kind=STUDY)
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
                seed: int, class_names: Sequence[str] | None = None) -> None:
    """Figures 1, 3, 5 and the neural-collapse geometry of the first noise level, and the
    statistics of every level as measurements. Each number is computed once (the figure
    builders return the Estimates their legends show) and reported as shown. A run whose
    logits carry no signal is named degenerate, with a banner on every figure; a figure that
    cannot be drawn from such data says so on the figure instead of failing the job."""
    from ..lesde.figures import dynamics as lesde_dynamics, leode as lesde_leode
    from ..lesde.figures.phase import level_stats

    first = load_npz(summaries[0])
    window, tail_n = _window(first, window), _tail(first, tail_n)
    common = ([summaries[0]], [data_title])
    who = f"Study {name} ({data_title}): LE-SDE"
    cs = _claims(name, "LE-SDE analyses")
    p0 = noise_name(ps[0])
    levels = {}
    for p, path in zip(ps, summaries):
        s = first if path == summaries[0] else load_npz(path)
        # the label of Figure 4's bootstrap: the same resamples, the same standard errors
        levels[p] = ensemble_estimates(lambda s: level_stats(s, tail_n), [s],
                                       f"fig4/p{noise_name(p)}")
    reasons = lesde_health(cs, first, levels[ps[0]], p0)
    figs = {}
    with tempfile.TemporaryDirectory() as scratch:  # the builders' paper claims: not a study's
        junk = str(Path(scratch) / "paper_claims.json")
        figs["fig1"] = _drawn(lambda: lesde_dynamics.build_fig1(
            *common, fig1_pdf, fig1_png, junk, scale="quick", who=who,
            labels=[f"{c}: {n}" for c, n in enumerate(class_names)] if class_names else None),
            fig1_pdf, fig1_png, reasons)
        figs["fig3"] = _drawn(lambda: lesde_dynamics.build_fig3(
            *common, [window], fig3_pdf, fig3_png, junk, scale="quick", who=who),
            fig3_pdf, fig3_png, reasons)
        figs["collapse"] = _drawn(lambda: lesde_dynamics.build_collapse(
            *common, collapse_pdf, collapse_png, junk, scale="quick", who=who),
            collapse_pdf, collapse_png, reasons)
        figs["fig5"] = _drawn(lambda: lesde_leode.build_fig5(
            *common, fig5_pdf, fig5_png, junk, window=window, n_trials=sim_trials, seed=seed,
            scale="quick", who=who), fig5_pdf, fig5_png, reasons)
    for fig, st in figs.items():
        if isinstance(st, str):
            cs.degenerate(f"figure[{fig}]", f"LE-SDE {fig} drawn from the run", None, st)
    if isinstance(figs["fig1"], dict):
        for c, v in enumerate(figs["fig1"][data_title]):
            cs.measure(f"separation[{c}]", f"p={p0}: class mean {c} at T projected on the "
                       "class 0 - 1 direction (Figure 1)", v, kind=STUDY)
    if isinstance(figs["fig3"], dict):
        imp = figs["fig3"][data_title]
        for key, what in (("A", "A-hat(T), I estimator"), ("B", "B-hat(T), I estimator"),
                          ("dA", "A-hat(T) - early mean, I (normalization-free)"),
                          ("dB", "B-hat(T) - early mean, I (normalization-free)"),
                          ("A_L", "A-hat(T), L estimator"), ("B_L", "B-hat(T), L estimator"),
                          ("peak", "alpha-hat peak"),
                          ("peak_t", "iteration of the alpha-hat peak")):
            if imp.get(key) is not None:
                cs.measure(f"impact[{key}]", f"p={p0}: {what} (Figure 3)", imp[key],
                           kind=STUDY, conditions=lesde_dynamics.conditions(imp, key))
    if isinstance(figs["collapse"], dict):
        for j, cos in enumerate(figs["collapse"][data_title]["final_cos"]):
            cs.measure(f"collapse-cos[{j}]", f"p={p0}: cosine of centred class-mean pair {j} "
                       "at T", cos, kind=STUDY)
    for p, x in levels.items():
        for key, what in (("acc", "final validation accuracy"), ("loss", "final validation "
                          "loss"), ("r_alpha", f"tail index r-hat_alpha (last {tail_n})")):
            cs.measure(f"{key}[p={noise_name(p)}]", f"p={noise_name(p)}: {what}", x[key],
                       kind=STUDY)
    _write(claims, name, cs.claims)


def lesde_health(cs: ClaimSet, summary, level: dict, p0: str) -> list[str]:
    """Degenerate-run verdicts of the first level (logits that do not move, accuracy at
    chance); returns the reasons, for the figures' banners."""
    means = np.asarray(summary["means_y"], dtype=np.float64)
    k = means.shape[1]
    reasons = []
    moved = float(np.nanmax(np.abs(means - means[:1]))) if means.size else 0.0
    statement = f"p={p0}: the class-mean logits change during training"
    if not np.isfinite(moved) or moved == 0:
        why = "the logged logits never change (a dead or frozen network)" if moved == 0 else (
            "the logged logits are not finite (the training diverged)")
        cs.degenerate("lesde-logits-move", statement, moved, why)
        reasons.append(why)
    else:
        cs.holds("lesde-logits-move", statement, True, moved, "> 0", "exact")
    acc = level["acc"]
    chance = 1 / k
    statement = f"p={p0}: final validation accuracy above chance (1/K = {chance:.3g}) by 2 se"
    if not (math.isfinite(acc.value) and acc.value > chance + 2 * acc.se):
        why = (f"validation accuracy {acc.value:.3g} ± {acc.se:.2g} is at chance "
               f"(1/K = {chance:.3g}): the network did not learn")
        cs.degenerate("lesde-trained", statement, acc.value, why)
        reasons.append(why)
    else:
        cs.holds("lesde-trained", statement, True, acc.value, f"> {chance + 2 * acc.se:.3g}",
                 "2 se")
    return reasons


def _drawn(build, pdf: str, png: str, reasons: list[str]):
    """The builder's statistics, with the degenerate reasons as a banner on its figure; where
    the run's data cannot be drawn at all, a figure that says why and that reason (a string)."""
    try:
        stats = build()
    except Exception as err:  # a user's run can hold anything; the figure says what happened
        why = f"cannot be drawn from this run: {type(err).__name__}: {err}"
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.set_axis_off()
        banner(fig, [*reasons, why])
        save_figure(fig, pdf, png)
        return why
    if reasons:
        _add_banner(pdf, png, reasons)
    return stats


def _add_banner(pdf: str, png: str, reasons: list[str]) -> None:
    """Redraw a saved figure's PNG with the banner over it, and the PDF from the same page."""
    image = plt.imread(png)
    fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100))
    fig.figimage(image)
    banner(fig, reasons)
    save_figure(fig, pdf, png)


def build_lesde_phase(summaries: Sequence[str], pdf: str, png: str, *, ps: Sequence[float],
                      tail_n: int | None, n_train: int, name: str = "",
                      data_title: str = "") -> None:
    """Figure 4 (validation curves, tail index against the label-noise level) of a sweep, for
    the study's data: chance at 1/K, no paper reference points."""
    from ..lesde.figures.phase import build_fig4

    first = load_npz(summaries[0])
    with tempfile.TemporaryDirectory() as scratch:
        build_fig4(list(summaries), list(ps), pdf, png, str(Path(scratch) / "claims.json"),
                   tail_n=_tail(first, tail_n), scale="quick", n_train=n_train,
                   n_classes=first["means_y"].shape[1], data_title=data_title,
                   who=f"Study {name}: LE-SDE", reference=False)


def _window(summary, window: int | None) -> int:
    """The Savitzky-Golay window: as configured, else about a twentieth of the run (odd)."""
    return window or max(5, (len(summary["means_y"]) // 20) | 1)


def _tail(summary, tail_n: int | None) -> int:
    return tail_n or max(2, len(summary["means_y"]) // 2)
