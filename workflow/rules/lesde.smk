# LE-SDE training: one job per (experiment, setting, chunk of trials), logs in Parquet. The jobs
# are the runs the config defines (traindyn.lesde.plan), their cost the family spec's.
from functools import partial

from traindyn.lesde import plan as lesde_plan
from traindyn.lesde.family import train_minutes


wildcard_constraints:
    experiment="|".join(lesde_plan.EXPERIMENTS),


LESDE_MINUTES = partial(train_minutes, config)


rule lesde_train:
    input:
        unpack(partial(lesde_plan.job_data, config)),
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
    retries: retries(LESDE_MINUTES, lesde_plan.job_wildcards(config))
    conda:
        ENV
    threads: 2
    resources:
        **gpu_resources(config["lesde"]["gpu"]),
        runtime=capped(LESDE_MINUTES),
    params:
        step="lesde.steps:train_run",
        kwargs=partial(lesde_plan.job_kwargs, config),
    script:
        STEP
