"""The LE-SDE training runs a config asks for: experiment -> settings -> trial chunks, and the
files the analysis reads (each setting's logs, the summaries each figure takes).

Pure functions of the config, shared by the Snakemake rules (targets, wildcards, parameters:
``rules/lesde*.smk`` hold rules only) and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from ..data.registry import facts, geomnist_path
from .noise import noise_name

EXPERIMENTS = ("geomnist_noise", "geomnist_size", "cifar")


@dataclass(frozen=True)
class Run:
    experiment: str
    setting: str  # p0.67 | n500-500 | K3
    trials: tuple[int, int]  # [start, stop)
    params: dict[str, Any]

    @property
    def stem(self) -> str:
        return f"results/lesde/{self.experiment}/{self.setting}/trials{self.trials[0]}-{self.trials[1]}"


def _chunks(n_trials: int, per_job: int) -> list[tuple[int, int]]:
    return [(a, min(a + per_job, n_trials)) for a in range(0, n_trials, per_job)]


def settings(lesde: dict, data: dict) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """experiment -> [(setting name, run parameters)] for every enabled experiment."""
    geo = data["geomnist"]
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    noise = lesde["geomnist_noise"]
    if noise["enabled"]:
        out["geomnist_noise"] = [
            (replicate_setting(p, r), dict(dataset="geomnist", p=p, replicate=r,
                                           data=geomnist_path(noise["train_per_class"],
                                                              noise["val_per_class"],
                                                              geo["seed"] + r)))
            for p in noise["ps"] for r in range(replicate_runs(noise, p))]
    size = lesde["geomnist_size"]
    if size["enabled"]:
        out["geomnist_size"] = [
            (f"n{tr}-{va}", dict(dataset="geomnist", p=0.0, data=geomnist_path(tr, va, geo["seed"])))
            for tr, va in size["per_class"]]
    cifar = lesde["cifar"]
    if cifar["enabled"]:
        out["cifar"] = [
            (f"K{k}", dict(dataset="cifar10", p=0.0, n_classes=k, root=data["cifar10_root"],
                           download=data["cifar10_download"],
                           train_per_class=cifar["train_per_class"],
                           val_per_class=cifar["val_per_class"]))
            for k in cifar["n_classes"]]
    return out


def replicate_setting(p: float, r: int) -> str:
    """Setting name of replicate r of noise level p: the main run is p0.8, its replicates
    p0.8-r1, p0.8-r2, ..."""
    return f"p{noise_name(p)}" + (f"-r{r}" if r else "")


def replicate_runs(noise: dict, p: float) -> int:
    """Independent runs of noise level p (1 unless the config lists p under replicates)."""
    rep = noise.get("replicates") or {}
    listed = {noise_name(q) for q in rep.get("ps", [])}
    return rep.get("runs", 1) if noise_name(p) in listed else 1


def runs(lesde: dict, data: dict) -> list[Run]:
    """Every training job: one per (experiment, setting, chunk of trials)."""
    jobs = []
    for experiment, items in settings(lesde, data).items():
        exp = lesde[experiment]
        common = dict(iterations=exp["iterations"], lr=exp["lr"], eval_every=exp["eval_every"],
                      eval_subset=exp["eval_subset"], seed=lesde["seed"], dtype=lesde["dtype"],
                      device=lesde["device"], checkpoint_every=lesde["checkpoint_every"],
                      eval_batch=lesde.get("eval_batch"), trial_block=lesde.get("trial_block"))
        for setting, params in items:
            for chunk in _chunks(exp["trials"], exp["trials_per_job"]):
                jobs.append(Run(experiment, setting, chunk, {**common, **params}))
    return jobs


def find_run(lesde: dict, data: dict, experiment: str, setting: str, lo: int, hi: int) -> Run:
    for run in runs(lesde, data):
        if (run.experiment, run.setting, run.trials) == (experiment, setting, (lo, hi)):
            return run
    raise KeyError(f"no LE-SDE run {experiment}/{setting}/trials{lo}-{hi} in the config")


def val_images(lesde: dict, run: Run) -> int:
    """Validation images one evaluation of the run's trials reads."""
    exp = lesde[run.experiment]
    if exp["eval_subset"] is not None:
        per_class = exp["eval_subset"]
    elif run.experiment == "geomnist_size":
        per_class = int(run.setting.split("-")[1])  # n{train}-{val}
    else:
        per_class = exp["val_per_class"]
    return per_class * run.params.get("n_classes", facts("geomnist").n_classes)


# ---------------------------------------------------------------- a training job's wildcards


def job_run(config: Mapping[str, Any], w) -> Run:
    """The run the config defines for a job's wildcards (experiment, setting, lo, hi)."""
    return find_run(config["lesde"], config["data"], w.experiment, w.setting, int(w.lo),
                    int(w.hi))


def job_data(config: Mapping[str, Any], w) -> dict[str, str]:
    """The job's GeoMNIST cache as a named input (nothing for CIFAR-10)."""
    run = job_run(config, w)
    return {"data": run.params["data"]} if run.params["dataset"] == "geomnist" else {}


def job_kwargs(config: Mapping[str, Any], w) -> dict[str, Any]:
    """The arguments of :func:`traindyn.lesde.steps.train_run` (the data is an input)."""
    run = job_run(config, w)
    params = {k: v for k, v in run.params.items() if k != "data"}
    return dict(experiment=run.experiment, setting=run.setting, trials=list(run.trials),
                gpus=config["lesde"]["gpu"], **params)


def job_wildcards(config: Mapping[str, Any]) -> list[SimpleNamespace]:
    """Wildcards of every training job."""
    return [SimpleNamespace(experiment=r.experiment, setting=r.setting, lo=r.trials[0],
                            hi=r.trials[1]) for r in runs(config["lesde"], config["data"])]


# ---------------------------------------------------------------- what the analysis reads


def setting_jobs(config: Mapping[str, Any], w) -> list[Run]:
    """The training jobs (trial chunks) of one (experiment, setting)."""
    return [run for run in runs(config["lesde"], config["data"])
            if (run.experiment, run.setting) == (w.experiment, w.setting)]


def setting_logs(config: Mapping[str, Any], w, kind: str) -> list[str]:
    """Log files (``kind``: steps or val) of every trial chunk of one (experiment, setting)."""
    return [f"{run.stem}.{kind}.parquet" for run in setting_jobs(config, w)]


def setting_runs(config: Mapping[str, Any], w) -> list[dict[str, Any]]:
    """What those logs must record of their runs (checked by the summary step)."""
    return [dict(experiment=r.experiment, setting=r.setting, trials=list(r.trials), **r.params)
            for r in setting_jobs(config, w)]


def noise_settings(config: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return settings(config["lesde"], config["data"]).get("geomnist_noise", [])


def noise_summaries(config: Mapping[str, Any]) -> list[str]:
    """Summaries of every noise level and its replicates (main run first)."""
    return [f"results/lesde/geomnist_noise/{s}/summary.npz" for s, _ in noise_settings(config)]


def noise_levels(config: Mapping[str, Any]) -> list[float]:
    """The noise level p of each of :func:`noise_summaries`."""
    return [params["p"] for _, params in noise_settings(config)]


def figure_summaries(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(summary, dataset) of the runs Figures 1, 3, 5 use: GeoMNIST p = 0 (and its
    replicates), CIFAR K = 3."""
    out = [(f"results/lesde/geomnist_noise/{s}/summary.npz", facts("geomnist").title)
           for s, params in noise_settings(config) if params["p"] == 0.0]
    cifar = config["lesde"]["cifar"]
    if cifar["enabled"] and 3 in cifar["n_classes"]:
        out.append(("results/lesde/cifar/K3/summary.npz", facts("cifar10").title))
    return out
