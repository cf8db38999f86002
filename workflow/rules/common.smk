# Shared helpers: the step runner, its code inputs (the import closure of the step's module, so
# editing any module a step imports reruns it), and the targets `rule all` builds.
from types import SimpleNamespace

from traindyn import budget as cost
from traindyn import scales
from traindyn.codedeps import step_code
from traindyn.lesde.plan import find_run, runs, val_images

STEP = "../scripts/step.py"
ENV = "../../envs/science.yaml"
GEOM = config["data"]["geomnist"]
GEOMNIST_DEFAULT = (
    f"results/data/geomnist/ntr{GEOM['train_per_class']}_nval{GEOM['val_per_class']}"
    f"_seed{GEOM['seed']}.npz"
)


# Values the wildcards of the rules can take (the paths are built from the config).
wildcard_constraints:
    experiment="geomnist_noise|geomnist_size|cifar",
    setting=r"p[0-9.]+|n\d+-\d+|K\d+",
    lo=r"\d+",
    hi=r"\d+",
    n=r"\d+",
    seed=r"\d+",
    n_train=r"\d+",
    n_val=r"\d+",
    activation="relu|swish",
    dtype="bfloat16|float32|float64",


# Each target family: the figure/table rules `rule all` asks for (their outputs, read from the
# rules themselves; each also writes a claims file), or plain files (the LE-SDE logs).
FAMILIES = {
    "si_heat": ["si_fig1_heat"],
    "si_pde": [
        "si_fig3_linear_pde",
        "si_fig4_nonlinear_pde",
        "si_fig4_error_amplification",
        "si_table2_stability_bounds",
    ],
    "lesde_data": ["geomnist_samples"],
    "lesde_figures": [
        "lesde_fig1_separation",
        "lesde_fig3_impacts",
        "lesde_fig4_phase_transition",
        "lesde_fig5_leode",
        "lesde_neural_collapse",
    ],
    "si_deep": ["si_table1_accuracy", "si_fig2_divergence", "si_fig2_precision"],
    "lesde_logs": [],
}


def enabled_families():
    """Families switched on in config["targets"] (LE-SDE figures need the p = 0 noise run)."""
    return [name for name, on in config["targets"].items() if on and name in FAMILIES]


def family_rules():
    return [getattr(rules, r) for name in enabled_families() for r in FAMILIES[name]]


def all_targets():
    files = [
        f for job in family_rules() for key, f in job.output.items() if key != "claims"
    ]
    if "lesde_logs" in enabled_families():
        files += [
            f"{run.stem}.{kind}.parquet"
            for run in runs(config["lesde"], config["data"])
            for kind in ("steps", "val")
        ]
    return files


def all_claims():
    return [
        job.output.claims for job in family_rules() if "claims" in job.output.keys()
    ]


# LE-SDE training jobs: wildcards -> the run the config defines.


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


# LE-SDE analysis inputs.
ANALYSIS = config["lesde"]["analysis"]
NOISE = config["lesde"]["geomnist_noise"]
LESDE_SCALE = scales.tier(
    "lesde", NOISE
)  # paper / quick / tiny: what the claims can test


def setting_logs(w, kind):
    """Log files of every trial chunk of one (experiment, setting)."""
    return [
        f"{run.stem}.{kind}.parquet"
        for run in runs(config["lesde"], config["data"])
        if (run.experiment, run.setting) == (w.experiment, w.setting)
    ]


def noise_summaries():
    return [
        f"results/lesde/geomnist_noise/{s}/summary.npz" for s, _ in noise_settings()
    ]


def noise_settings():
    from traindyn.lesde.plan import settings

    return settings(config["lesde"], config["data"]).get("geomnist_noise", [])


def fig_summaries():
    """(summary, dataset) of the runs Figures 1, 3, 5 use: GeoMNIST p = 0, CIFAR K = 3."""
    out = [("results/lesde/geomnist_noise/p0.0/summary.npz", "GeoMNIST")]
    if (
        config["lesde"]["cifar"]["enabled"]
        and 3 in config["lesde"]["cifar"]["n_classes"]
    ):
        out.append(("results/lesde/cifar/K3/summary.npz", "CIFAR-10"))
    return out


# SI deep-network runs.
TABLE1_NOT_RUN = (
    "seeds",
    "activations",
    "stat_epochs",
)  # table settings, not run arguments
TABLE1_RUNS = [
    f"results/instab/table1/{act}/seed{seed}.parquet"
    for act in config["instab"]["table1"]["activations"]
    for seed in config["instab"]["table1"]["seeds"]
]


def instab_data(w):
    """The GeoMNIST cache the instability runs train on (nothing for CIFAR-10)."""
    from traindyn.lesde.plan import geomnist_path

    ins = config["instab"]
    if ins["dataset"] != "geomnist":
        return {}
    seed = config["data"]["geomnist"]["seed"]
    return {"data": geomnist_path(ins["train_per_class"], ins["test_per_class"], seed)}


def fig2_runs(dtype, ns):
    """The Figure 2 runs (one per n) in one floating-point format."""
    return [f"results/instab/fig2/{dtype}/n{n}.npz" for n in ns]


# Runtime requests of the training jobs (minutes), from the cost model in traindyn.budget.
BUDGET = config["budget"]
# A partition's time limit caps every request; a longer job stops before it with its state saved
# (traindyn.deadline) and is resubmitted: retries enough for the rule's longest job.
CAP = config["cluster"]["max_runtime_minutes"]


def capped(minutes):
    return lambda w: cost.capped(minutes(w), CAP)


def retries(minutes, jobs):
    # None in a job's own Snakemake (inside its SLURM allocation): the submitting one resubmits
    if not workflow.is_main_process:
        return None
    return cost.retries(max((minutes(w) for w in jobs), default=0), CAP)


def lesde_jobs():
    """Wildcards of every LE-SDE training job."""
    return [
        SimpleNamespace(
            experiment=r.experiment, setting=r.setting, lo=r.trials[0], hi=r.trials[1]
        )
        for r in runs(config["lesde"], config["data"])
    ]


def fig2_jobs():
    """Wildcards of every Figure 2 run (the figure's format and the precision extra's)."""
    pairs = [(config["instab"]["dtype"], n) for n in config["instab"]["fig2"]["ns"]]
    pairs += [
        (d, n)
        for d in config["instab"]["precision"]["dtypes"]
        for n in config["instab"]["precision"]["ns"]
    ]
    return [SimpleNamespace(dtype=d, n=n) for d, n in pairs]


def request(flops_steps, track, gpus, dtype):
    seconds = cost.estimate_seconds(*flops_steps, track, gpus > 0, dtype, BUDGET)
    return cost.request_minutes(seconds, BUDGET)


def lesde_minutes(w):
    run = lesde_run(w)
    work = cost.lesde_job_cost(
        3 if run.params["dataset"] == "cifar10" else 1,
        run.params.get("n_classes", 3),
        run.params["iterations"],
        run.params["eval_every"],
        val_images(config["lesde"], run),
        run.trials[1] - run.trials[0],
    )
    return request(work, "lesde", config["lesde"]["gpu"], config["lesde"]["dtype"])


def instab_images():
    """(channels, training images, test images) of the instability runs' data set."""
    ins = config["instab"]
    if ins["dataset"] == "cifar10":
        return 3, 50000, 10000
    return 1, 3 * ins["train_per_class"], 3 * ins["test_per_class"]


def table1_minutes(w):
    channels, n_train, n_test = instab_images()
    t1 = config["instab"]["table1"]
    work = cost.resnet_job_cost(
        config["instab"]["network"],
        channels,
        len(t1["ks"]) + 1,
        n_train,
        n_test,
        t1["epochs"],
        t1["batch"],
    )
    return request(work, "resnet", config["instab"]["gpu"], config["instab"]["dtype"])


def fig2_minutes(w):
    f2 = config["instab"]["fig2"]
    work = cost.resnet_steps_cost(
        config["instab"]["network"],
        instab_images()[0],
        2,
        f2["saves"] * int(w.n),
        f2["batch"],
    )
    return request(work, "resnet", config["instab"]["gpu"], w.dtype)


def gpu_resources(n):
    """Scheduler resources for n GPUs in the form the cluster accepts (config `cluster`)."""
    if n == 0:
        return {}
    model = config["cluster"]["gpu_model"]
    if config["cluster"]["gpu_request"] == "gres":
        return {"gres": f"gpu:{model}:{n}" if model else f"gpu:{n}"}
    return {"gpu": n, **({"gpu_model": model} if model else {})}
