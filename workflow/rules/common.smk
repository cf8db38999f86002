# Shared helpers: library source paths (so editing a module reruns its stage), the step runner,
# and the list of targets `rule all` builds from config["targets"].
from pathlib import Path

from traindyn.lesde.plan import find_run, runs

LIB = Path(workflow.basedir) / "workflow" / "traindyn"
STEP = "../scripts/step.py"
ENV = "../../envs/science.yaml"
GEOM = config["data"]["geomnist"]
GEOMNIST_DEFAULT = (
    f"results/data/geomnist/ntr{GEOM['train_per_class']}_nval{GEOM['val_per_class']}"
    f"_seed{GEOM['seed']}.npz"
)


def lib(*modules):
    """Absolute paths of traindyn modules a rule depends on (plus the shared base modules)."""
    base = ("atomic.py", "provenance.py")
    return [str(LIB / m) for m in (*base, *modules)]


def figure(stem):
    """The PDF and PNG of one figure under figures/."""
    return [f"figures/{stem}.pdf", f"figures/{stem}.png"]


# Each target family: the files `rule all` asks for and the claims files it writes.
FAMILIES = {
    "si_heat": dict(
        files=figure("si/fig1_heat"), claims=["results/claims/si_fig1_heat.json"]
    ),
    "si_pde": dict(
        files=[
            *figure("si/fig3_linear_pde"),
            *figure("si/fig4_nonlinear_pde"),
            *figure("si/fig4_error_amplification"),
            *[f"figures/si/table2_stability_bounds.{e}" for e in ("md", "tex", "csv")],
        ],
        claims=[
            f"results/claims/si_{t}.json"
            for t in (
                "fig3_linear_pde",
                "table2_stability_bounds",
                "fig4_nonlinear_pde",
                "fig4_error_amplification",
            )
        ],
    ),
    "lesde_data": dict(files=figure("lesde/geomnist_samples"), claims=[]),
    "lesde_logs": dict(
        files=[
            f"{run.stem}.{kind}.parquet"
            for run in runs(config["lesde"], config["data"])
            for kind in ("steps", "val")
        ],
        claims=[],
    ),
}


def enabled_families():
    return [name for name, on in config["targets"].items() if on and name in FAMILIES]


def all_targets():
    return [f for name in enabled_families() for f in FAMILIES[name]["files"]]


def all_claims():
    return [f for name in enabled_families() for f in FAMILIES[name]["claims"]]


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
        **params,
    )
