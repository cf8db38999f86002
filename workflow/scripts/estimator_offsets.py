"""How much the LE-SDE estimators' t = 0 normalization moves their statistics, measured on a
run with replicates (the reference tier): the block of docs/estimators.md between its
``estimator-offsets`` markers.

  .venv/bin/python workflow/scripts/estimator_offsets.py [--dir reference] [--doc docs/estimators.md]

For every noise level with independent replicates: each statistic's sd over the replicates next
to the bootstrap sd over one run's trials (the median over the replicates); A-hat(T) on disjoint
subsets of the p = 0 main run's trials against the subset size (the offset grows with ln M); and
B-hat_L(T) when the estimators normalize at iteration t0 = 0..39 instead of 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

import numpy as np  # noqa: E402

from traindyn.atomic import load_npz  # noqa: E402
from traindyn.lesde.figures.dynamics import estimates, fig1_stats, fig3_stats  # noqa: E402
from traindyn.lesde.figures.phase import level_stats  # noqa: E402
from traindyn.lesde.ensemble import bootstrap_estimates, resample  # noqa: E402
from traindyn.lesde.estimators import estimate_ab_l  # noqa: E402
from traindyn.run_record import commit, machine, replace_marked  # noqa: E402

BLOCK = "estimator-offsets"
STATS = {"A_I(T)": ("f3", "A"), "B_I(T)": ("f3", "B"), "A_L(T)": ("f3", "A_L"),
         "B_L(T)": ("f3", "B_L"), "A_I(T) - early": ("f3", "dA"),
         "B_L(T) - early": ("f3", "dB_L"), "r-hat_alpha": ("lv", "r_alpha"),
         "final val. acc.": ("lv", "acc")}


def statistic(s) -> dict:
    f3 = fig3_stats(estimates(s["means_y"], 151))
    lv = level_stats(s, 1000)
    out = {name: (f3 if src == "f3" else lv)[key] for name, (src, key) in STATS.items()}
    for c, v in enumerate(fig1_stats(s["means_y"], "GeoMNIST")):
        out[f"projection class {c}"] = v
    return out


def replicated_levels(run: Path) -> dict[str, list[Path]]:
    base = run / "results/lesde/geomnist_noise"
    levels = {}
    for main in sorted(base.glob("p*/summary.npz")):
        name = main.parent.name
        if "-r" in name:
            continue
        reps = sorted(base.glob(f"{name}-r*/summary.npz"))
        if reps:
            levels[name] = [main, *reps]
    if not levels:
        raise SystemExit(f"no replicated noise levels under {base}: run `make reference` first")
    return levels


def spread_rows(levels: dict[str, list[Path]], n_boot: int) -> list[str]:
    rows = ["| level | statistic | mean over replicates | sd over replicates | bootstrap sd of "
            "one run (median) |", "|---|---|---|---|---|"]
    for name, paths in levels.items():
        runs = [load_npz(p) for p in paths]
        points = [statistic(s) for s in runs]
        boots = [bootstrap_estimates(statistic, s, f"offsets/{name}/{i}", n_boot)
                 for i, s in enumerate(runs)]
        for key in points[0]:
            x = np.array([p[key] for p in points], dtype=float)
            b = np.median([bt[key].se for bt in boots])
            rows.append(f"| {name[1:]} ({len(runs)} runs) | {key} | {np.mean(x):.3f} | "
                        f"{np.std(x, ddof=1):.3f} | {b:.3f} |")
    return rows


def subset_rows(main: Path) -> list[str]:
    """A-hat(T) and its normalization-free drop on disjoint trial subsets of size m."""
    s = load_npz(main)
    m_all = s["trial_labels"].shape[1]
    rows = ["| trials per subset m | subsets | mean A_I(T) | sd | mean A_I(T) - early | sd |",
            "|---|---|---|---|---|---|"]
    for m in (5, 10, 25, 50, m_all):
        if m > m_all:
            continue
        subsets = [np.arange(a, a + m) for a in range(0, m_all - m + 1, m)]
        vals = [fig3_stats(estimates(resample(s, idx)["means_y"], 151)) for idx in subsets]
        a = np.array([v["A"] for v in vals])
        d = np.array([v["dA"] for v in vals])
        sd = (lambda x: f"{np.std(x, ddof=1):.2f}" if len(x) > 1 else "-")
        rows.append(f"| {m} | {len(subsets)} | {a.mean():.2f} | {sd(a)} | {d.mean():.2f} | "
                    f"{sd(d)} |")
    return rows


def t0_rows(main: Path) -> list[str]:
    means = load_npz(main)["means_y"]
    b = np.array([np.nanmean(estimate_ab_l(means[t0:])[1][-100:]) for t0 in range(40)])
    return [f"B_L(T) normalized at t0 = 0: {b[0]:.2f}; over t0 = 0..39: min {b.min():.2f}, "
            f"max {b.max():.2f}, sd {b.std(ddof=1):.2f}."]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=str(ROOT / "reference"))
    ap.add_argument("--doc", default=str(ROOT / "docs" / "estimators.md"))
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    run = Path(args.dir)
    levels = replicated_levels(run)
    main_p0 = levels.get("p0.0", next(iter(levels.values())))[0]
    t_max, m = load_npz(main_p0)["trial_labels"].shape
    text = "\n".join([
        f"Measured by `workflow/scripts/estimator_offsets.py --dir {run.name}` (commit "
        f"{commit(ROOT)}, {machine()}) on the runs in `{run.name}`: {m} trials x {t_max} "
        "iterations per run; the replicates have new GeoMNIST seeds, initializations and "
        "sample orders.", "",
        "Single-run spread of each statistic, by replicates and by the bootstrap over trials:",
        "", *spread_rows(levels, args.n_boot), "",
        "A_I(T) and its normalization-free drop, on disjoint subsets of m trials of the p = 0 "
        "main run:", "",
        *subset_rows(main_p0), "", *t0_rows(main_p0)])
    doc = Path(args.doc)
    doc.write_text(replace_marked(doc.read_text(), BLOCK, text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
