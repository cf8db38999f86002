# LE-SDE training: one job per (experiment, setting, chunk of trials), logs in Parquet. The jobs
# are the runs the config defines (traindyn.lesde.plan), their cost the family spec's.
from functools import partial

from traindyn.lesde import plan as lesde_plan
from traindyn.lesde.family import train_minutes


wildcard_constraints:
    experiment="|".join(lesde_plan.EXPERIMENTS),


LESDE_MINUTES = partial(train_minutes, config)

# The threads each training job computes with, whatever --cores is: the native CPU kernels give
# the same bits at any count, the torch path that runs without them (no C++ compiler, a failed
# build) does not (its steps differ in the last bit between one and two threads).
LESDE_THREADS = 2


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
    threads: LESDE_THREADS
    resources:
        **gpu_resources(config["lesde"]["gpu"]),
        runtime=capped(LESDE_MINUTES),
    params:
        threads=LESDE_THREADS,  # what the job computes with (workflow/scripts/step.py)
        step="lesde.steps:train_run",
        kwargs=partial(lesde_plan.job_kwargs, config),
    script:
        STEP
