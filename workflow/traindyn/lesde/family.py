"""The LE-SDE family (config ``lesde``; targets ``lesde_data``, ``lesde_logs``,
``lesde_figures``): its rules across keys, size estimates, tier table, the runtime cost of a
training job, the data its jobs read and its log files as deliverables
(:class:`traindyn.family.Family`)."""

from __future__ import annotations

from typing import Any

from ..budget import Work, lesde_job_cost
from ..data.registry import facts
from ..family import CPU_GFLOPS, LOOP_SECONDS, Config, DataUse, Family, Need, Scale
from .noise import noise_name
from .plan import EXPERIMENTS, Run, job_run, runs, val_images

# On config["lesde"]["geomnist_noise"]: the run every LE-SDE figure reads.
LESDE_SCALE = Scale(
    paper={"trials": 100, "iterations": 10000, "lr": 0.005},
    least={"trials": 10, "iterations": 1000},
    too_small="run too small to test the paper (needs >= 10 trials and >= 1000 iterations)")

SIMPLECONV_SIDE = 32  # the paper's SimpleConv takes 32x32 images


def _duplicates(values, name) -> list[tuple[Any, Any, Any]]:
    seen: dict[Any, Any] = {}
    dup = []
    for v in values:
        key = name(v)
        if key in seen:
            dup.append((seen[key], v, key))
        seen[key] = v
    return dup


def _runs_on(config: Config) -> bool:
    """The training jobs run (their logs or the figures reading them are targets)."""
    return config["targets"]["lesde_logs"] or config["targets"]["lesde_figures"]


def checks(config: Config) -> list[str]:
    errs = []
    targets, lesde = config["targets"], config["lesde"]
    noise = lesde["geomnist_noise"]
    for a, b, name in _duplicates(noise["ps"], noise_name):
        errs.append(f"lesde.geomnist_noise.ps: {a!r} and {b!r} are the same noise setting "
                    f"'p{name}' (settings are named by p rounded to 2 decimals)")
    listed = {noise_name(p) for p in noise["ps"]}
    stray = [p for p in noise["replicates"]["ps"] if noise_name(p) not in listed]
    if stray:
        errs.append(f"lesde.geomnist_noise.replicates.ps {stray} are not noise levels of "
                    "lesde.geomnist_noise.ps: a replicate repeats a level of the sweep")
    if targets["lesde_figures"] and not (noise["enabled"] and 0.0 in noise["ps"]):
        errs.append("lesde.geomnist_noise.ps must include 0.0 (and the experiment be enabled) "
                    "while targets.lesde_figures is on: Figures 1, 3, 5 use the p = 0 run")
    for key in EXPERIMENTS:
        exp = lesde[key]
        per_class = exp.get("val_per_class")
        if exp["eval_subset"] is not None and per_class and exp["eval_subset"] > per_class:
            errs.append(f"lesde.{key}.eval_subset ({exp['eval_subset']}) exceeds "
                        f"val_per_class ({per_class}): use null to evaluate on all images")
    if lesde["device"] == "cpu" and lesde["gpu"] > 0:
        errs.append("lesde.device is cpu but lesde.gpu asks the scheduler for GPUs")
    side = config["data"]["geomnist"]["image_size"]
    on = [f"lesde.{k}" for k in ("geomnist_noise", "geomnist_size") if lesde[k]["enabled"]]
    if side != SIMPLECONV_SIDE and _runs_on(config) and on:
        errs.append(f"data.geomnist.image_size ({side}) must be {SIMPLECONV_SIDE} while "
                    f"{' and '.join(on)} {'runs' if len(on) == 1 else 'run'}: the LE-SDE "
                    f"network (the paper's SimpleConv) takes {SIMPLECONV_SIDE}x{SIMPLECONV_SIDE} "
                    "images")
    return errs


def _work(lesde: Config, dataset: str, n_classes: int, iterations: int, eval_every: int,
          val_images: int, n_trials: int) -> Work:
    flops, steps = lesde_job_cost(facts(dataset).channels, n_classes, iterations, eval_every,
                                  val_images, n_trials)
    return Work(flops, steps, "lesde", lesde["gpu"] > 0, lesde["dtype"])


def train_work(config: Config, run: Run) -> Work:
    """The work of one training job (its chunk of trials)."""
    p = run.params
    return _work(config["lesde"], p["dataset"], p.get("n_classes", facts(p["dataset"]).n_classes),
                 p["iterations"], p["eval_every"], val_images(config["lesde"], run),
                 run.trials[1] - run.trials[0])


def train_minutes(config: Config, w) -> int:
    """The runtime the training job of wildcards ``w`` asks for."""
    return train_work(config, job_run(config, w)).minutes(config["budget"])


def needs(config: Config) -> list[Need]:
    if not _runs_on(config):
        return []
    lesde, out = config["lesde"], []
    pixels = SIMPLECONV_SIDE * SIMPLECONV_SIDE
    for key in (k for k in EXPERIMENTS if lesde[k]["enabled"]):
        exp, name = lesde[key], f"lesde.{key}"
        dataset = "cifar10" if key == "cifar" else "geomnist"
        channels = facts(dataset).channels
        k = max(exp["n_classes"]) if key == "cifar" else facts(dataset).n_classes
        per_job = min(exp["trials_per_job"], exp["trials"])
        its, trials = exp["iterations"], exp["trials"]
        if key == "geomnist_size":
            n_train, n_val = (max(v) for v in zip(*exp["per_class"]))
            sizes = (f"{name}.per_class",)
        else:
            n_train, n_val = exp["train_per_class"], exp["val_per_class"]
            sizes = (f"{name}.train_per_class", f"{name}.val_per_class")
        n_eval = min(exp["eval_subset"] or n_val, n_val)  # validation images evaluated
        images = k * (n_train + n_val) * channels * pixels * 8
        # training: the (iterations x trials) sample table, a part's logits, the images; the
        # summary: every logged row of a setting (trial, itr, smp, labels, K logits, loss) in
        # Arrow and in NumPy at once
        work = _work(lesde, dataset, k, its, exp["eval_every"], k * n_eval, per_job)
        out += [Need((f"{name}.iterations", f"{name}.trials", *sizes),
                     f"a training job (lesde_train, {name})",
                     8 * its * per_job * (k + 3) * 2 + images, work.seconds(config["budget"])),
                Need((f"{name}.iterations", f"{name}.trials"),
                     f"the log summary of a setting (lesde_summary, {name})",
                     2 * its * trials * (8 * (k + 1) + 14))]
    if config["targets"]["lesde_figures"]:
        sim = lesde["analysis"]["sim_trials"]
        its = lesde["geomnist_noise"]["iterations"]
        out.append(Need(("lesde.analysis.sim_trials", "lesde.geomnist_noise.iterations"),
                        "the LE-ODE simulation (lesde_fig5_leode)",
                        8 * sim * 9 * 4 + 8 * its * 36,
                        its * (LOOP_SECONDS + 2 * sim * 81 * 3 / (CPU_GFLOPS * 1e9))))
    return out


def data(config: Config) -> list[DataUse]:
    """The GeoMNIST caches (the samples figure's and each experiment's) and CIFAR-10."""
    geo, lesde, uses = config["data"]["geomnist"], config["lesde"], []
    if config["targets"]["lesde_data"]:
        uses.append(DataUse("geomnist", ("data.geomnist.train_per_class",
                                         "data.geomnist.val_per_class"),
                            (geo["train_per_class"], geo["val_per_class"])))
    if not _runs_on(config):
        return uses
    if lesde["geomnist_noise"]["enabled"]:
        e = lesde["geomnist_noise"]
        uses.append(DataUse("geomnist", ("lesde.geomnist_noise.train_per_class",
                                         "lesde.geomnist_noise.val_per_class"),
                            (e["train_per_class"], e["val_per_class"])))
    if lesde["geomnist_size"]["enabled"]:
        tr, va = (max(v) for v in zip(*lesde["geomnist_size"]["per_class"]))
        uses.append(DataUse("geomnist", ("lesde.geomnist_size.per_class",), (tr, va)))
    if lesde["cifar"]["enabled"]:
        uses.append(DataUse("cifar10", ("lesde.cifar.enabled",)))
    return uses


def log_files(config: Config) -> tuple[list[str], list[str]]:
    """The training logs, when they are a target themselves (they carry no claims)."""
    if not config["targets"]["lesde_logs"]:
        return [], []
    return [f"{run.stem}.{kind}.parquet" for run in runs(config["lesde"], config["data"])
            for kind in ("steps", "val")], []


_PER_EXPERIMENT = {
    "eval_subset": "at most val_per_class (checked)",
    "trials_per_job": "a job runs at most `trials` trials",
    "eval_every": "more of it means fewer evaluations",
}

FAMILY = Family(
    "lesde",
    targets={"lesde_data": ("geomnist_samples",),
             "lesde_figures": ("lesde_fig1_separation", "lesde_fig3_impacts",
                               "lesde_fig4_phase_transition", "lesde_fig5_leode",
                               "lesde_neural_collapse"),
             "lesde_logs": ()},
    rules=("lesde.smk", "lesde_analysis.smk"), checks=checks, needs=needs, data=data,
    scales={"lesde": LESDE_SCALE}, files=log_files,
    not_sizes={
        "lesde.seed": "a seed", "lesde.gpu": "GPUs asked of the scheduler",
        "lesde.cifar.n_classes": "at most 10 (schema)",
        "lesde.checkpoint_every": "a part holds at most `iterations` rows (in the training need)",
        "lesde.eval_batch": "a pass reads at most the validation images",
        "lesde.trial_block": "a call takes at most the job's trials",
        "lesde.analysis.fig3_window_geomnist": "clipped to the series length",
        "lesde.analysis.fig3_window_cifar": "clipped to the series length",
        "lesde.analysis.fig5_window": "clipped to the series length",
        "lesde.analysis.tail_n": "clipped to the series length",
        "lesde.geomnist_noise.replicates.runs": "more jobs, each the size of its noise level's",
        **{f"lesde.{e}.{key}": why for e in EXPERIMENTS for key, why in _PER_EXPERIMENT.items()},
    })
