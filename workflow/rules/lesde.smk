# LE-SDE training: one job per (experiment, setting, chunk of trials), logs in Parquet.


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
