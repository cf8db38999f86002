"""Run the LE-SDE authors' published training code (github.com/zjiayao/le_sde) on GeoMNIST p = 0
and analyse its logs with this project's functions (issue 29, item 1).

Nothing of the authors' code is copied here: ``--repo`` is an extracted work tree of their
repository, and ``src.utils.train``, ``src.models.SimpleConv`` (built by their
``src.models.gen_model``) and, with ``--data authors``, ``src.datasets.gen_geomnist_data`` are
imported from it. What it runs is their "label corruption" cell of ``LE-SDE Experiments.ipynb``
at p = 0 (the panels of their Figures 1 and 3): GeoMNIST K = 3, 500 training and 500 validation
images per class, SGD lr 0.005, momentum 0, one uniformly sampled training example per iteration
(``bs=None``), SimpleConv in float64 with torch's default initialization, 10,000 iterations per
trial (their notebook: 100 trials).

Data (``--data``):

- ``authors``: ``gen_geomnist_data(500, 500, (32, 32))`` from their ``src/datasets.py`` (the call
  their notebook makes), after ``np.random.seed(--seed)`` (their generator uses numpy's global
  RNG; they set no seed);
- ``project``: ``traindyn.data.geomnist.generate`` with config.yaml's ``data.geomnist`` settings
  and data seed ``--seed``, i.e. the data set the pipeline trains ``lesde.geomnist_noise`` p = 0
  on (``results/data/geomnist/ntr500_nval500_seed{seed}.npz``; replicate r uses seed + r).

Deviations from running their notebook, none of which changes a training step:

- ``DataFrame.append`` was removed in pandas 2; their loop calls it once per iteration. A shim,
  installed on ``pd.DataFrame`` by this script only (it is absent from pandas >= 2), does
  ``pd.concat([self, other])`` (returning ``other`` when ``self`` is empty, so the columns keep
  numeric dtypes instead of the empty frame's object dtype: the same values).
- Their loop evaluates the whole validation set after every step (1,500 float64 forward passes
  per iteration, ~40 min per trial on one core). Validation here is the first
  ``--val-per-class`` validation images of each class (default 1: even 10 per class more than
  doubles a trial's time). It cannot change training: SimpleConv has
  no dropout or batch norm, the evaluation runs under ``torch.no_grad()`` and draws no random
  numbers; only the logged ``val_loss`` / ``val_acc`` (unused below) refer to the subset.
- ``train`` is called once per trial (``n_trials=1, last_n_trial=t``) so its history, which the
  shim copies on every append, stays at one trial's 10,000 rows; before each call the global
  numpy and torch RNGs are seeded from (``--seed``, t), so a trial is reproducible and the run
  resumable (the authors seed nothing). Their CSV of the trial is read back and kept, per chunk
  of ``--chunk`` trials, as ``chunk{lo:04d}-{hi:04d}.npz`` (trial, itr, smp, y, logits float64,
  tr_loss, val_loss, val_acc); existing chunks with the same settings are not retrained.
- One CPU thread (torch.set_num_threads(1), OMP/MKL threads 1), device CPU.

Analysis (this project's functions, on the logged logits of the sampled examples): class means
(T, K, K) as the summary step builds them (``traindyn.lesde.summary.class_means``, the authors'
``groupby(['itr', 'y']).mean()``); Figure 1: ``fig1_stats`` (projection at T on
unit(Xbar_0 - Xbar_1) of the last two iterations) and the same projection averaged over the last
1,000 and 2,000 iterations; the L estimator's f-mode Xf(t) = (X0_0 + X1_1 + 2 (X2_0 + X2_1)) / 3
(the ``xf`` of ``estimate_ab_l``; checked against |Xf/Xf(0)| = exp((A_L + B_L/2)/3)) at T (mean
of the last 100 iterations) and its per-iteration sd over the last 1,000; Figure 3:
``fig3_stats(estimates(means, window))`` with config.yaml's ``fig3_window_geomnist``. Standard
errors: ``traindyn.lesde.ensemble.bootstrap_estimates`` (200 resamples of whole trials, the class
means rebuilt each time), plus the values on the two halves of the trials. Writes
``results.json`` and ``results.md`` to ``--out``.

    nice -n 5 .venv/bin/python workflow/scripts/authors_code_lesde.py --repo /path/to/le_sde \\
        --data authors --trials 64 --seed 0 --out /tmp/authors-a
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

from traindyn.lesde.ensemble import bootstrap_estimates  # noqa: E402
from traindyn.lesde.estimators import estimate_ab_l  # noqa: E402
from traindyn.lesde.figures.common import final  # noqa: E402
from traindyn.lesde.figures.dynamics import (_projection, estimates, fig1_stats,  # noqa: E402
                                             fig3_stats, projection_pair)
from traindyn.lesde.summary import class_means  # noqa: E402

K = 3
N_TRAIN = N_VAL = 500
LR = 0.005
SHAPE = (32, 32)
DATASET = "GeoMNIST"


def _append(self: pd.DataFrame, other: pd.DataFrame, *args, **kwargs) -> pd.DataFrame:
    """Shim for pandas < 2's DataFrame.append as the authors' loop calls it (no options)."""
    if len(self) == 0:
        return other.copy()
    return pd.concat([self, other])


def install_shim() -> None:
    if not hasattr(pd.DataFrame, "append"):
        pd.DataFrame.append = _append


def load_config() -> dict:
    import yaml

    with open(ROOT / "config.yaml") as f:
        return yaml.safe_load(f)


def make_data(kind: str, seed: int, cfg: dict) -> list:
    """[x_train, y_train, x_val, y_val], class-ordered, as their ``train`` takes it."""
    if kind == "authors":
        import src.datasets as datasets  # from --repo

        np.random.seed(seed)
        _, n_classes, data = datasets.gen_geomnist_data(N_TRAIN, N_VAL, SHAPE)
        assert n_classes == K
        return data
    from traindyn.data.geomnist import generate

    g = cfg["data"]["geomnist"]
    d = generate(N_TRAIN, N_VAL, seed, image_size=g["image_size"],
                 max_angle_deg=g["max_angle_deg"], blur_sigma=g["blur_sigma"], n_classes=K)
    return [d["x_train"][:, 0], d["y_train"], d["x_val"][:, 0], d["y_val"]]


def val_subset(data: list, per_class: int) -> list:
    x_tr, y_tr, x_va, y_va = data
    keep = np.concatenate([np.flatnonzero(np.asarray(y_va) == c)[:per_class] for c in range(K)])
    return [x_tr, y_tr, x_va[keep], np.asarray(y_va)[keep]]


def trial_seed(seed: int, trial: int) -> int:
    return int(np.random.SeedSequence([seed, trial, 0xA07]).generate_state(1)[0])


def train_chunk(utils, models, data: list, trials: range, iterations: int, seed: int,
                scratch: Path) -> dict:
    """Their ``train`` once per trial; their CSV read back into arrays."""
    cols = {k: [] for k in ("trial", "itr", "smp", "y", "tr_loss", "val_loss", "val_acc")}
    logits, seconds = [], []
    for t in trials:
        s = trial_seed(seed, t)
        np.random.seed(s)
        torch.manual_seed(s)
        csv = scratch / f"trial{t:04d}.csv"
        start = time.perf_counter()
        utils.train(data, 1, iterations, str(csv), LR, device=torch.device("cpu"),
                    n_channels=1, verbose=False, last_n_trial=t,
                    model_kws={"lr": LR, "model_func": models.SimpleConv, "n_classes": K,
                               "data_shape": SHAPE})
        seconds.append(time.perf_counter() - start)
        h = pd.read_csv(csv)
        csv.unlink()
        assert len(h) == iterations and (h["trial"] == t).all(), csv
        for k in cols:
            cols[k].append(h[k].to_numpy())
        logits.append(h[[f"y_logit{j}" for j in range(K)]].to_numpy(np.float64))
        print(f"trial {t}: {seconds[-1]:.1f} s", flush=True)
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out["logits"] = np.concatenate(logits)
    out["seconds"] = np.array(seconds)
    return out


def load_runs(out: Path, meta: dict) -> dict:
    chunks = sorted(out.glob("chunk*.npz"))
    parts = []
    for p in chunks:
        with np.load(p) as z:
            if json.loads(str(z["meta"])) != meta:
                raise SystemExit(f"{p}: written with other settings; use another --out")
            parts.append({k: z[k] for k in z.files if k != "meta"})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}


def summary_of(logs: dict, iterations: int) -> dict:
    """The arrays ``bootstrap_estimates`` resamples (as traindyn.lesde.summary writes them, but
    float64 logits), with the full-precision class means."""
    trials = np.unique(logs["trial"])
    col = np.searchsorted(trials, logs["trial"])
    itr = logs["itr"].astype(np.int64)
    labels = np.zeros((iterations, len(trials)), dtype=np.int8)
    logits = np.zeros((iterations, len(trials), K))
    labels[itr, col] = logs["y"]
    logits[itr, col] = logs["logits"]
    means, _ = class_means(itr, logs["y"].astype(np.int64), logs["logits"], iterations, K)
    val = np.zeros((len(trials), 1))  # unused by the statistics
    return dict(means_y=means, trial_labels=labels, trial_logits=logits, val_acc=val,
                val_loss=val)


def xf_mode(means: np.ndarray) -> np.ndarray:
    """The L estimator's f-mode (estimate_ab_l's ``xf``): (X0_0 + X1_1 + 2 (X2_0 + X2_1)) / 3,
    the project's own ``l_modes`` where this checkout has it."""
    try:
        from traindyn.lesde.estimators import l_modes
    except ImportError:
        return (means[:, 0, 0] + means[:, 1, 1] + 2 * (means[:, 2, 0] + means[:, 2, 1])) / 3
    return l_modes(means)[1]


def statistics(s: dict, window: int) -> dict:
    means = s["means_y"]
    a, b = projection_pair(DATASET, K)
    proj = means @ _projection(means, a, b)  # (T, K): the unit vector fig1_stats uses
    xf = xf_mode(means)
    f3 = fig3_stats(estimates(means, window))
    return {
        "fig1_T": fig1_stats(means, DATASET),
        "fig1_last1000": [float(v) for v in proj[-1000:].mean(axis=0)],
        "fig1_last2000": [float(v) for v in proj[-2000:].mean(axis=0)],
        "xf_T": final(xf),
        "xf_sd_last1000": float(np.std(xf[-1000:])),
        "xf_0": float(xf[0]),
        **{k: f3[k] for k in ("A_L", "B_L", "dA_L", "dB_L", "A", "B", "dA", "dB")},
    }


def check_xf(means: np.ndarray) -> float:
    """Worst |log|Xf/Xf(0)| - (A_L + B_L/2)/3| over t: 0 up to rounding when xf_mode is the
    f-mode estimate_ab_l uses."""
    a, b = estimate_ab_l(means)
    xf = xf_mode(means)
    with np.errstate(divide="ignore"):
        d = np.log(np.abs(xf / xf[0])) - (a + b / 2) / 3
    return float(np.nanmax(np.abs(d[np.isfinite(d)])))


LABELS = {
    "fig1_T": "Fig. 1b projection at T (fig1_stats), class {c}",
    "fig1_last1000": "projection, mean of last 1,000 its, class {c}",
    "fig1_last2000": "projection, mean of last 2,000 its, class {c}",
    "xf_T": "Xf(T) (mean of last 100)",
    "xf_sd_last1000": "sd of Xf(t) over last 1,000 its",
    "xf_0": "Xf(0)",
    "A_L": "A_L(T)", "B_L": "B_L(T)", "dA_L": "A_L drop (normalization-free)",
    "dB_L": "B_L drop (normalization-free)", "A": "A_I(T)", "B": "B_I(T)",
    "dA": "A_I drop (normalization-free)", "dB": "B_I drop (normalization-free)",
}


def rows(result: dict) -> list[tuple[str, str]]:
    def cell(est, h1, h2):
        return f"{est['value']:.3f} ± {est['se']:.3f} (halves {h1:.3f}, {h2:.3f})"

    out = []
    for key, label in LABELS.items():
        est, h1, h2 = result["bootstrap"][key], result["half1"][key], result["half2"][key]
        if isinstance(est, list):
            out += [(label.format(c=c), cell(est[c], h1[c], h2[c])) for c in range(len(est))]
        else:
            out.append((label, cell(est, h1, h2)))
    return out


def as_json(x):
    if isinstance(x, dict):
        return {k: as_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [as_json(v) for v in x]
    if hasattr(x, "se"):
        return {"value": x.value, "se": x.se}
    return x


def analyse(logs: dict, iterations: int, window: int, meta: dict) -> dict:
    trials = np.unique(logs["trial"])
    s = summary_of(logs, iterations)
    stat = lambda x: statistics(x, window)  # noqa: E731
    boot = bootstrap_estimates(stat, s, f"authors-code/{meta['data']}/{meta['seed']}")
    half = len(trials) // 2
    halves = [statistics(summary_of({k: v[np.isin(logs["trial"], part)] for k, v in logs.items()
                                     if k != "seconds"}, iterations), window)
              for part in (trials[:half], trials[half:])]
    return dict(meta=meta, trials=int(len(trials)), window=window,
                xf_identity_max_error=check_xf(s["means_y"]),
                seconds_per_trial=float(np.mean(logs["seconds"])),
                bootstrap=as_json(boot), half1=halves[0], half2=halves[1],
                half_trials=[int(half), int(len(trials) - half)])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, help="extracted work tree of zjiayao/le_sde")
    ap.add_argument("--data", choices=("authors", "project"), default="authors")
    ap.add_argument("--trials", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0, help="data seed; trial t's RNGs: (seed, t)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--chunk", type=int, default=4, help="trials per saved log chunk")
    ap.add_argument("--val-per-class", type=int, default=1,
                    help="validation images per class evaluated each iteration (their loop: all)")
    ap.add_argument("--no-train", action="store_true", help="analyse the chunks already in --out")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    install_shim()
    sys.path.insert(0, str(Path(args.repo).resolve()))
    import src.models as models  # noqa: E402  (the authors')
    import src.utils as utils  # noqa: E402

    cfg = load_config()
    window = int(cfg["lesde"]["analysis"]["fig3_window_geomnist"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(data=args.data, seed=args.seed, iterations=args.iterations,
                val_per_class=args.val_per_class, lr=LR, n_train=N_TRAIN, n_val=N_VAL)
    if not args.no_train:
        data = val_subset(make_data(args.data, args.seed, cfg), args.val_per_class)
        for lo in range(0, args.trials, args.chunk):
            hi = min(lo + args.chunk, args.trials)
            path = out / f"chunk{lo:04d}-{hi - 1:04d}.npz"
            if path.exists():
                continue
            logs = train_chunk(utils, models, data, range(lo, hi), args.iterations, args.seed,
                               out)
            tmp = out / (path.name + ".tmp.npz")
            np.savez_compressed(tmp, meta=json.dumps(meta), **logs)
            os.replace(tmp, path)
    logs = load_runs(out, meta)
    if not logs or len(np.unique(logs["trial"])) < 2:
        raise SystemExit(f"{out}: the analysis needs at least 2 trials (a bootstrap over trials)")
    result = analyse(logs, args.iterations, window, meta)
    result["torch"], result["pandas"] = torch.__version__, pd.__version__
    (out / "results.json").write_text(json.dumps(result, indent=1))
    lines = [f"# Authors' code, data {args.data}, seed {args.seed}: {result['trials']} trials x "
             f"{args.iterations} iterations ({result['seconds_per_trial']:.1f} s per trial)", "",
             "value ± bootstrap se over trials (values on the two halves of the trials)", "",
             "| statistic | value |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows(result)]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
