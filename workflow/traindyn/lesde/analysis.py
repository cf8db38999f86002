"""The LE-SDE analyses on logs written anywhere (by :class:`~.writer.LogWriter`, a study's
trials, or the pipeline): one call from a directory of logs to the summary, the statistics with
their sampling uncertainty, and the paper's figures.

The statistics are those the figure builders compute (:mod:`traindyn.lesde.figures.dynamics`,
:mod:`traindyn.lesde.figures.phase`), each an Estimate (a bootstrap over trials:
:mod:`traindyn.lesde.ensemble`), written to ``stats.json`` as measurements -- no paper
expectation. The figures are the builders' own; the claims they also write are the papers'
numbers checked on the papers' data sets and are left out (``paper_claims=True`` keeps them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import load_npz, write_json
from ..stats import N_BOOT, Estimate
from .ensemble import ensemble_estimates
from .logs import log_metadata
from .summary import summarize

__all__ = ["analyze_logs"]

FIGURES = ("fig1_separation", "fig3_impacts", "neural_collapse", "fig5_leode")


def find_logs(log_dir: str | os.PathLike) -> tuple[list[str], list[str]]:
    """Every ``*.steps.parquet`` under ``log_dir`` and its ``*.val.parquet``; a steps log without
    its validation log is an error naming it."""
    steps = sorted(str(p) for p in Path(log_dir).glob("*.steps.parquet"))
    if not steps:
        raise FileNotFoundError(f"no *.steps.parquet logs in {log_dir}")
    vals = [s[: -len(".steps.parquet")] + ".val.parquet" for s in steps]
    missing = [v for v in vals if not Path(v).is_file()]
    if missing:
        raise FileNotFoundError(f"validation logs missing beside their steps logs: "
                                f"{', '.join(missing)}")
    return steps, vals


def summarize_dir(log_dir: str | os.PathLike, out: str | os.PathLike) -> str:
    """The summary ``.npz`` of every log in ``log_dir`` (one setting; its trial chunks)."""
    summarize(str(out), *find_logs(log_dir))
    return str(out)


def data_name(log_dir: str | os.PathLike) -> str:
    """The data set's title from the logs' metadata (``run.dataset``), else "my data"."""
    from ..data.registry import TABLE

    run = log_metadata(find_logs(log_dir)[0][0]).get("run", {})
    name = run.get("dataset") if isinstance(run, Mapping) else None
    return TABLE[name].title if name in TABLE else (name or "my data")


def plain(tree: Any) -> Any:
    """Estimates as {value, se, spread, method} for JSON."""
    if isinstance(tree, Estimate):
        return dict(value=tree.value, se=tree.se, spread=tree.spread, method=tree.method)
    if isinstance(tree, Mapping):
        return {str(k): plain(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [plain(v) for v in tree]
    return tree


def summary_stats(summary: Mapping, name: str, *, window: int, tail_n: int,
                  n_boot: int = N_BOOT) -> dict:
    """The statistics of one setting, each with its bootstrap uncertainty: class-mean logits
    at T projected as in Figure 1, Figure 3's impacts (I and, for K = 3, L estimators), the
    neural-collapse geometry at T, final validation loss/accuracy and the tail indices."""
    from .figures.dynamics import collapse_stats, estimates, fig1_stats, fig3_stats
    from .figures.phase import level_stats

    def collapse(s):
        st = collapse_stats(s["means_y"])
        return dict(final_cos=st["final_cos"], final_ratio=st["final_ratio"])

    statistics = dict(
        separation=lambda s: fig1_stats(s["means_y"], name),
        impacts=lambda s: fig3_stats(estimates(s["means_y"], window)),
        collapse=collapse,
        validation_and_tail=lambda s: level_stats(s, tail_n))
    return {key: ensemble_estimates(fn, [summary], f"study/{name}/{key}", n_boot)
            for key, fn in statistics.items()}


def analyze_logs(log_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                 name: str | None = None, figures: Sequence[str] = FIGURES,
                 window: int | None = None, tail_n: int | None = None,
                 sim_trials: int = 100, seed: int = 0, n_boot: int = N_BOOT,
                 paper_claims: bool = False) -> dict:
    """Summary, statistics and figures of the logs in ``log_dir``, into ``out_dir``:
    ``summary.npz``, ``stats.json`` and ``<figure>.{pdf,png}`` for each of ``figures``
    (default all of :data:`FIGURES`). ``window``: the Savitzky-Golay window of the rates (default
    about a twentieth of the logged iterations, odd); ``tail_n``: iterations of the tail index
    (default the last half). Returns {"summary", "stats", "figures": {name: png}}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(figures) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figures {unknown}; known: {', '.join(FIGURES)}")
    summary_path = summarize_dir(log_dir, out / "summary.npz")
    summary = load_npz(summary_path)
    t_max = len(summary["means_y"])
    name = name or data_name(log_dir)
    window = window or max(5, (t_max // 20) | 1)
    tail_n = tail_n or max(2, t_max // 2)
    stats = summary_stats(summary, name, window=window, tail_n=tail_n, n_boot=n_boot)
    write_json(out / "stats.json", dict(data=name, logged_iterations=t_max, window=window,
                                        tail_n=tail_n, **plain(stats)))
    made = {}
    with tempfile.TemporaryDirectory() as scratch:
        claims_dir = out / "paper_claims" if paper_claims else Path(scratch)
        for fig in figures:
            pdf, png, claims = str(out / f"{fig}.pdf"), str(out / f"{fig}.png"), str(
                claims_dir / f"{fig}.json")
            _build(fig, summary_path, name, pdf, png, claims, window=window,
                   sim_trials=sim_trials, seed=seed)
            made[fig] = png
    return dict(summary=summary_path, stats=stats, figures=made)


def _build(fig: str, summary: str, name: str, pdf: str, png: str, claims: str, *, window: int,
           sim_trials: int, seed: int) -> None:
    """One figure by its builder, on one summary."""
    from .figures import dynamics as lesde_dynamics, leode as lesde_leode

    common = ([summary], [name])
    if fig == "fig1_separation":
        lesde_dynamics.build_fig1(*common, pdf, png, claims, scale="quick")
    elif fig == "fig3_impacts":
        lesde_dynamics.build_fig3(*common, [window], pdf, png, claims, scale="quick")
    elif fig == "neural_collapse":
        lesde_dynamics.build_collapse(*common, pdf, png, claims, scale="quick")
    else:
        lesde_leode.build_fig5(*common, pdf, png, claims, window=window, n_trials=sim_trials,
                               seed=seed, scale="quick")


def analyze_noise_sweep(log_dirs: Mapping[float, str | os.PathLike],
                        out_dir: str | os.PathLike, *, tail_n: int | None = None,
                        n_train: int, n_boot: int = N_BOOT) -> dict:
    """Figure 4 (validation curves and tail index against the label-noise level p) of one log
    directory per p, with every level's statistics: ``fig4_phase_transition.{pdf,png}`` and
    ``stats.json`` in ``out_dir``. ``n_train``: training images per class."""
    from .figures.phase import build_fig4, level_stats

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ps = sorted(log_dirs)
    summaries = [summarize_dir(log_dirs[p], out / f"summary_p{p:g}.npz") for p in ps]
    t_max = len(load_npz(summaries[0])["means_y"])
    tail_n = tail_n or max(2, t_max // 2)
    levels = {f"{p:g}": ensemble_estimates(lambda s: level_stats(s, tail_n), [load_npz(path)],
                                           f"study/sweep/p{p:g}", n_boot)
              for p, path in zip(ps, summaries)}
    with tempfile.TemporaryDirectory() as scratch:
        build_fig4(summaries, ps, str(out / "fig4_phase_transition.pdf"),
                   str(out / "fig4_phase_transition.png"), str(Path(scratch) / "claims.json"),
                   tail_n=tail_n, scale="quick", n_train=n_train)
    write_json(out / "stats.json", dict(tail_n=tail_n, levels=plain(levels)))
    return dict(summaries=summaries, stats=levels, figure=str(out / "fig4_phase_transition.png"))
