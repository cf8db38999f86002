# SI deep-network instabilities: perturbed-SGD copies of a CIFAR ResNet (Table 1, Figure 2). The
# runs and their inputs come from traindyn.instab.plan, their cost from the family spec.
from functools import partial

from traindyn.instab import plan as instab_plan
from traindyn.instab.family import fig2_minutes, images, table1_minutes


wildcard_constraints:
    activation="relu|swish",
    dtype="bfloat16|float32|float64",


INSTAB = config["instab"]
INSTAB_COMMON = dict(
    dataset=INSTAB["dataset"],
    pixel_noise=INSTAB["pixel_noise"],
    network=INSTAB["network"],
    device=INSTAB["device"],
    deterministic=INSTAB["deterministic"],
    root=config["data"]["cifar10_root"],
    download=config["data"]["cifar10_download"],
    gpus=INSTAB["gpu"],
)
TABLE1_NOT_RUN = (
    "seeds",
    "activations",
    "stat_epochs",
)  # table settings, not run arguments
TABLE1_RUNS = [
    f"results/instab/table1/{act}/seed{seed}.parquet"
    for act in INSTAB["table1"]["activations"]
    for seed in INSTAB["table1"]["seeds"]
]
TABLE1_MINUTES = partial(table1_minutes, config)
FIG2_MINUTES = partial(fig2_minutes, config)


rule instab_table1_run:
    input:
        unpack(partial(instab_plan.cache, config)),
        code=step_code("instab.steps:table1_run"),
    output:
        **(
            {
                "snapshots": "results/instab/table1/{activation}/seed{seed}.snapshots.safetensors"
            }
            if INSTAB["table1"]["snapshot_every"]
            else {}
        ),
        out="results/instab/table1/{activation}/seed{seed}.parquet",
    log:
        "results/logs/instab/table1/{activation}/seed{seed}.log",
    benchmark:
        "results/benchmarks/instab_table1_run/{activation}/seed{seed}.tsv"
    wildcard_constraints:
        seed=r"\d+",
    retries: retries(TABLE1_MINUTES, [None])
    conda:
        ENV
    threads: INSTAB["threads"]
    resources:
        **gpu_resources(INSTAB["gpu"]),
        runtime=capped(TABLE1_MINUTES),
    params:
        threads=INSTAB["threads"],
        step="instab.steps:table1_run",
        kwargs=lambda w: dict(
            seed=int(w.seed),
            activation=w.activation,
            **{k: v for k, v in INSTAB["table1"].items() if k not in TABLE1_NOT_RUN},
            dtype=INSTAB["dtype"],
            **INSTAB_COMMON,
        ),
    script:
        STEP


rule instab_fig2_run:
    input:
        unpack(partial(instab_plan.cache, config)),
        code=step_code("instab.steps:fig2_run"),
    output:
        out="results/instab/fig2/{dtype}/n{n}.snapshots.safetensors",
    log:
        "results/logs/instab/fig2/{dtype}/n{n}.log",
    benchmark:
        "results/benchmarks/instab_fig2_run/{dtype}/n{n}.tsv"
    wildcard_constraints:
        n=r"\d+",
        dtype="bfloat16|float32|float64",
    retries: retries(FIG2_MINUTES, instab_plan.fig2_jobs(config))
    conda:
        ENV
    threads: INSTAB["threads"]
    resources:
        **gpu_resources(INSTAB["gpu"]),
        runtime=capped(FIG2_MINUTES),
    params:
        threads=INSTAB["threads"],
        step="instab.steps:fig2_run",
        kwargs=lambda w: dict(
            n=int(w.n),
            dtype=w.dtype,
            **instab_plan.fig2_run_args(INSTAB["fig2"], INSTAB_COMMON),
        ),
    script:
        STEP


# An extraction step: the watched layer is read from the run's snapshots, so changing it
# reruns this and the figures, never the training.
rule instab_fig2_divergence:
    input:
        snapshots="results/instab/fig2/{dtype}/n{n}.snapshots.safetensors",
        code=step_code("instab.steps:fig2_divergence"),
    output:
        out="results/instab/fig2/{dtype}/n{n}.npz",
    log:
        "results/logs/instab/fig2/{dtype}/n{n}.divergence.log",
    wildcard_constraints:
        n=r"\d+",
        dtype="bfloat16|float32|float64",
    localrule: True
    conda:
        ENV
    params:
        step="instab.steps:fig2_divergence",
        kwargs=dict(layer=INSTAB["fig2"]["layer"]),
    script:
        STEP


rule si_table1_accuracy:
    input:
        runs=TABLE1_RUNS,
        code=step_code("instab.figures.deep:build_table1"),
    output:
        md=report(
            "figures/si/table1_accuracy.md",
            caption="../report/si_table1.rst",
            category="SI",
        ),
        tex="figures/si/table1_accuracy.tex",
        csv="figures/si/table1_accuracy.csv",
        pdf="figures/si/table1_accuracy.pdf",
        png="figures/si/table1_accuracy.png",
        claims="results/claims/si_table1_accuracy.json",
    log:
        "results/logs/si/table1_accuracy.log",
    localrule: True
    conda:
        ENV
    params:
        step="instab.figures.deep:build_table1",
        kwargs=dict(
            stat_epochs=INSTAB["table1"]["stat_epochs"],
            config=INSTAB,
            n_train=images(config)[1],  # training images per epoch (T4b's error)
        ),
    script:
        STEP


rule si_fig2_divergence:
    input:
        runs=instab_plan.fig2_runs(INSTAB["dtype"], INSTAB["fig2"]["ns"]),
        code=step_code("instab.figures.deep:build_fig2"),
    output:
        pdf="figures/si/fig2_divergence.pdf",
        png=report(
            "figures/si/fig2_divergence.png",
            caption="../report/si_fig2.rst",
            category="SI",
        ),
        claims="results/claims/si_fig2_divergence.json",
    log:
        "results/logs/si/fig2_divergence.log",
    localrule: True
    conda:
        ENV
    params:
        step="instab.figures.deep:build_fig2",
        kwargs=dict(config=INSTAB),
    script:
        STEP


rule si_fig2_precision:
    input:
        runs=[
            instab_plan.fig2_runs(d, INSTAB["precision"]["ns"])
            for d in INSTAB["precision"]["dtypes"]
        ],
        code=step_code("instab.figures.precision:build_precision"),
    output:
        pdf="figures/si/fig2_precision.pdf",
        png=report(
            "figures/si/fig2_precision.png",
            caption="../report/si_fig2_precision.rst",
            category="SI",
        ),
        claims="results/claims/si_fig2_precision.json",
    log:
        "results/logs/si/fig2_precision.log",
    localrule: True
    conda:
        ENV
    params:
        step="instab.figures.precision:build_precision",
        kwargs=dict(config=INSTAB),
    script:
        STEP
