# LE-SDE training: one job per (experiment, setting, chunk of trials), logs in Parquet. The jobs
# are the runs the config defines (traindyn.lesde.plan); their cost is the family spec's.
from types import SimpleNamespace

from traindyn.lesde.family import train_work
from traindyn.lesde.plan import EXPERIMENTS, find_run, runs


wildcard_constraints:
    experiment="|".join(EXPERIMENTS),


# Wildcards -> the run the config defines.


def lesde_run(w):
    return find_run(
        config["lesde"], config["data"], w.experiment, w.setting, int(w.lo), int(w.hi)
    )


def lesde_data(w):
    run = lesde_run(w)
    return {"data": run.params["data"]} if run.params["dataset"] == "geomnist" else {}


def lesde_kwargs(w):
    run = lesde_run(w)
    params = {k: v for k, v in run.params.items() if k != "data"}
    return dict(
        experiment=run.experiment,
        setting=run.setting,
        trials=list(run.trials),
        gpus=config["lesde"]["gpu"],
        **params,
    )


def lesde_jobs():
    """Wildcards of every LE-SDE training job."""
    return [
        SimpleNamespace(
            experiment=r.experiment, setting=r.setting, lo=r.trials[0], hi=r.trials[1]
        )
        for r in runs(config["lesde"], config["data"])
    ]


def lesde_minutes(w):
    return request(train_work(config, lesde_run(w)))


rule lesde_train:
    input:
        unpack(lesde_data),
        code=step_code("lesde.steps:train_run"),
    output:
        steps="results/lesde/{experiment}/{setting}/trials{lo}-{hi}.steps.parquet",
        val="results/lesde/{experiment}/{setting}/trials{lo}-{hi}.val.parquet",
    log:
        "results/logs/lesde/{experiment}/{setting}/trials{lo}-{hi}.log",
    benchmark:
        "results/benchmarks/lesde_train/{experiment}/{setting}/trials{lo}-{hi}.tsv"
    wildcard_constraints:
        lo=r"\d+",
        hi=r"\d+",
    retries: retries(lesde_minutes, lesde_jobs())
    conda:
        ENV
    threads: 2
    resources:
        **gpu_resources(config["lesde"]["gpu"]),
        runtime=capped(lesde_minutes),
    params:
        step="lesde.steps:train_run",
        kwargs=lesde_kwargs,
    script:
        STEP
