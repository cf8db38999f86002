# SI deep-network instabilities: perturbed-SGD copies of a CIFAR ResNet (Table 1, Figure 2). The
# runs' cost is the family spec's (traindyn.instab.family).
from types import SimpleNamespace

from traindyn.data.registry import geomnist_path
from traindyn.instab.family import fig2_work, table1_work


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


def instab_data(w):
    """The GeoMNIST cache the instability runs train on (nothing for CIFAR-10)."""
    if INSTAB["dataset"] != "geomnist":
        return {}
    seed = config["data"]["geomnist"]["seed"]
    return {
        "data": geomnist_path(INSTAB["train_per_class"], INSTAB["test_per_class"], seed)
    }


def fig2_runs(dtype, ns):
    """The Figure 2 runs (one per n) in one floating-point format."""
    return [f"results/instab/fig2/{dtype}/n{n}.npz" for n in ns]


def fig2_jobs():
    """Wildcards of every Figure 2 run (the figure's format and the precision extra's)."""
    pairs = [(INSTAB["dtype"], n) for n in INSTAB["fig2"]["ns"]]
    pairs += [
        (d, n) for d in INSTAB["precision"]["dtypes"] for n in INSTAB["precision"]["ns"]
    ]
    return [SimpleNamespace(dtype=d, n=n) for d, n in pairs]


def table1_minutes(w):
    return request(table1_work(config))


def fig2_minutes(w):
    return request(fig2_work(config, int(w.n), w.dtype, INSTAB["fig2"]["batch"]))


rule instab_table1_run:
    input:
        unpack(instab_data),
        code=step_code("instab.steps:table1_run"),
    output:
        out="results/instab/table1/{activation}/seed{seed}.parquet",
    log:
        "results/logs/instab/table1/{activation}/seed{seed}.log",
    benchmark:
        "results/benchmarks/instab_table1_run/{activation}/seed{seed}.tsv"
    wildcard_constraints:
        seed=r"\d+",
    retries: retries(table1_minutes, [None])
    conda:
        ENV
    threads: INSTAB["threads"]
    resources:
        **gpu_resources(INSTAB["gpu"]),
        runtime=capped(table1_minutes),
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
        unpack(instab_data),
        code=step_code("instab.steps:fig2_run"),
    output:
        out="results/instab/fig2/{dtype}/n{n}.npz",
    log:
        "results/logs/instab/fig2/{dtype}/n{n}.log",
    benchmark:
        "results/benchmarks/instab_fig2_run/{dtype}/n{n}.tsv"
    wildcard_constraints:
        n=r"\d+",
        dtype="bfloat16|float32|float64",
    retries: retries(fig2_minutes, fig2_jobs())
    conda:
        ENV
    threads: INSTAB["threads"]
    resources:
        **gpu_resources(INSTAB["gpu"]),
        runtime=capped(fig2_minutes),
    params:
        threads=INSTAB["threads"],
        step="instab.steps:fig2_run",
        kwargs=lambda w: dict(
            n=int(w.n),
            dtype=w.dtype,
            **{k: v for k, v in INSTAB["fig2"].items() if k != "ns"},
            **INSTAB_COMMON,
        ),
    script:
        STEP


rule si_table1_accuracy:
    input:
        runs=TABLE1_RUNS,
        code=step_code("figures.si_deep:build_table1"),
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
        step="figures.si_deep:build_table1",
        kwargs=dict(stat_epochs=INSTAB["table1"]["stat_epochs"], config=INSTAB),
    script:
        STEP


rule si_fig2_divergence:
    input:
        runs=fig2_runs(INSTAB["dtype"], INSTAB["fig2"]["ns"]),
        code=step_code("figures.si_deep:build_fig2"),
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
        step="figures.si_deep:build_fig2",
        kwargs=dict(config=INSTAB),
    script:
        STEP


rule si_fig2_precision:
    input:
        runs=[
            fig2_runs(d, INSTAB["precision"]["ns"])
            for d in INSTAB["precision"]["dtypes"]
        ],
        code=step_code("figures.si_precision:build_precision"),
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
        step="figures.si_precision:build_precision",
        kwargs=dict(config=INSTAB),
    script:
        STEP
