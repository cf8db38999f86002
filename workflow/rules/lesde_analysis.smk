# LE-SDE analysis: per-setting summaries of the logs, then Figures 1, 3, 4, 5 and the
# neural-collapse extra, each with its claims.
from traindyn import scales
from traindyn.lesde.plan import settings

ANALYSIS = config["lesde"]["analysis"]
NOISE = config["lesde"]["geomnist_noise"]
LESDE_SCALE = scales.tier(
    "lesde", NOISE
)  # paper / quick / tiny: what the claims can test


def setting_jobs(w):
    """The training jobs (trial chunks) of one (experiment, setting)."""
    return [
        run
        for run in runs(config["lesde"], config["data"])
        if (run.experiment, run.setting) == (w.experiment, w.setting)
    ]


def setting_logs(w, kind):
    """Log files of every trial chunk of one (experiment, setting)."""
    return [f"{run.stem}.{kind}.parquet" for run in setting_jobs(w)]


def setting_runs(w):
    """What those logs must record of their runs (checked by the summary step)."""
    return [
        dict(
            experiment=r.experiment,
            setting=r.setting,
            trials=list(r.trials),
            **r.params,
        )
        for r in setting_jobs(w)
    ]


def noise_settings():
    return settings(config["lesde"], config["data"]).get("geomnist_noise", [])


def noise_summaries():
    """Summaries of every noise level and its replicates (main run first)."""
    return [
        f"results/lesde/geomnist_noise/{s}/summary.npz" for s, _ in noise_settings()
    ]


def noise_levels():
    """The noise level p of each of noise_summaries()."""
    return [params["p"] for _, params in noise_settings()]


def fig_summaries():
    """(summary, dataset) of the runs Figures 1, 3, 5 use: GeoMNIST p = 0 (and its
    replicates), CIFAR K = 3."""
    out = [
        (f"results/lesde/geomnist_noise/{s}/summary.npz", "GeoMNIST")
        for s, params in noise_settings()
        if params["p"] == 0.0
    ]
    if (
        config["lesde"]["cifar"]["enabled"]
        and 3 in config["lesde"]["cifar"]["n_classes"]
    ):
        out.append(("results/lesde/cifar/K3/summary.npz", "CIFAR-10"))
    return out


rule lesde_summary:
    input:
        steps=lambda w: setting_logs(w, "steps"),
        vals=lambda w: setting_logs(w, "val"),
        code=step_code("lesde.summary:summarize"),
    output:
        out="results/lesde/{experiment}/{setting}/summary.npz",
    log:
        "results/logs/lesde/{experiment}/{setting}/summary.log",
    benchmark:
        "results/benchmarks/lesde_summary/{experiment}/{setting}.tsv"
    conda:
        ENV
    params:
        step="lesde.summary:summarize",
        kwargs=lambda w: dict(runs=setting_runs(w)),
    script:
        STEP


rule lesde_fig1_separation:
    input:
        summaries=[s for s, _ in fig_summaries()],
        code=step_code("figures.lesde_dynamics:build_fig1"),
    output:
        pdf="figures/lesde/fig1_separation.pdf",
        png=report(
            "figures/lesde/fig1_separation.png",
            caption="../report/lesde_fig1.rst",
            category="LE-SDE",
        ),
        claims="results/claims/lesde_fig1_separation.json",
    log:
        "results/logs/lesde/fig1_separation.log",
    localrule: True
    conda:
        ENV
    params:
        step="figures.lesde_dynamics:build_fig1",
        kwargs=dict(datasets=[d for _, d in fig_summaries()], scale=LESDE_SCALE),
    script:
        STEP


rule lesde_fig3_impacts:
    input:
        summaries=[s for s, _ in fig_summaries()],
        code=step_code("figures.lesde_dynamics:build_fig3"),
    output:
        pdf="figures/lesde/fig3_impacts.pdf",
        png=report(
            "figures/lesde/fig3_impacts.png",
            caption="../report/lesde_fig3.rst",
            category="LE-SDE",
        ),
        claims="results/claims/lesde_fig3_impacts.json",
    log:
        "results/logs/lesde/fig3_impacts.log",
    localrule: True
    conda:
        ENV
    params:
        step="figures.lesde_dynamics:build_fig3",
        kwargs=dict(
            datasets=[d for _, d in fig_summaries()],
            windows=[
                ANALYSIS[
                    "fig3_window_geomnist" if d == "GeoMNIST" else "fig3_window_cifar"
                ]
                for _, d in fig_summaries()
            ],
            scale=LESDE_SCALE,
        ),
    script:
        STEP


rule lesde_fig4_phase_transition:
    input:
        summaries=noise_summaries(),
        code=step_code("figures.lesde_phase:build_fig4"),
    output:
        pdf="figures/lesde/fig4_phase_transition.pdf",
        png=report(
            "figures/lesde/fig4_phase_transition.png",
            caption="../report/lesde_fig4.rst",
            category="LE-SDE",
        ),
        claims="results/claims/lesde_fig4_phase_transition.json",
    log:
        "results/logs/lesde/fig4_phase_transition.log",
    localrule: True
    conda:
        ENV
    params:
        step="figures.lesde_phase:build_fig4",
        kwargs=dict(
            ps=noise_levels(),
            tail_n=ANALYSIS["tail_n"],
            scale=LESDE_SCALE,
            n_train=config["lesde"]["geomnist_noise"]["train_per_class"],
        ),
    script:
        STEP


rule lesde_fig5_leode:
    input:
        summaries=[s for s, _ in fig_summaries()],
        code=step_code("figures.lesde_leode:build_fig5"),
    output:
        pdf="figures/lesde/fig5_leode.pdf",
        png=report(
            "figures/lesde/fig5_leode.png",
            caption="../report/lesde_fig5.rst",
            category="LE-SDE",
        ),
        claims="results/claims/lesde_fig5_leode.json",
    log:
        "results/logs/lesde/fig5_leode.log",
    localrule: True
    conda:
        ENV
    params:
        step="figures.lesde_leode:build_fig5",
        kwargs=dict(
            datasets=[d for _, d in fig_summaries()],
            window=ANALYSIS["fig5_window"],
            n_trials=ANALYSIS["sim_trials"],
            seed=config["lesde"]["seed"],
            scale=LESDE_SCALE,
        ),
    script:
        STEP


rule lesde_neural_collapse:
    input:
        summaries=[s for s, _ in fig_summaries()],
        code=step_code("figures.lesde_dynamics:build_collapse"),
    output:
        pdf="figures/lesde/neural_collapse.pdf",
        png=report(
            "figures/lesde/neural_collapse.png",
            caption="../report/lesde_collapse.rst",
            category="LE-SDE",
        ),
        claims="results/claims/lesde_neural_collapse.json",
    log:
        "results/logs/lesde/neural_collapse.log",
    localrule: True
    conda:
        ENV
    params:
        step="figures.lesde_dynamics:build_collapse",
        kwargs=dict(datasets=[d for _, d in fig_summaries()], scale=LESDE_SCALE),
    script:
        STEP
