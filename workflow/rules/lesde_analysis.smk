# LE-SDE analysis: per-setting summaries of the logs, then Figures 1, 3, 4, 5 and the
# neural-collapse extra, each with its claims. Their inputs: traindyn.lesde.plan.
from traindyn import scales
from traindyn.lesde import plan as lesde_plan

ANALYSIS = config["lesde"]["analysis"]
NOISE = config["lesde"]["geomnist_noise"]
LESDE_SCALE = scales.tier(
    "lesde", NOISE
)  # paper / quick / tiny: what the claims can test
# (summary, dataset) of the runs Figures 1, 3, 5 read
FIG_SUMMARIES = lesde_plan.figure_summaries(config)


rule lesde_summary:
    input:
        steps=lambda w: lesde_plan.setting_logs(config, w, "steps"),
        vals=lambda w: lesde_plan.setting_logs(config, w, "val"),
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
        kwargs=lambda w: dict(runs=lesde_plan.setting_runs(config, w)),
    script:
        STEP


rule lesde_fig1_separation:
    input:
        summaries=[s for s, _ in FIG_SUMMARIES],
        code=step_code("lesde.figures.dynamics:build_fig1"),
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
        step="lesde.figures.dynamics:build_fig1",
        kwargs=dict(datasets=[d for _, d in FIG_SUMMARIES], scale=LESDE_SCALE),
    script:
        STEP


rule lesde_fig3_impacts:
    input:
        summaries=[s for s, _ in FIG_SUMMARIES],
        code=step_code("lesde.figures.dynamics:build_fig3"),
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
        step="lesde.figures.dynamics:build_fig3",
        kwargs=dict(
            datasets=[d for _, d in FIG_SUMMARIES],
            windows=[
                ANALYSIS[
                    "fig3_window_geomnist" if d == "GeoMNIST" else "fig3_window_cifar"
                ]
                for _, d in FIG_SUMMARIES
            ],
            scale=LESDE_SCALE,
        ),
    script:
        STEP


rule lesde_fig4_phase_transition:
    input:
        summaries=lesde_plan.noise_summaries(config),
        code=step_code("lesde.figures.phase:build_fig4"),
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
        step="lesde.figures.phase:build_fig4",
        kwargs=dict(
            ps=lesde_plan.noise_levels(config),
            tail_n=ANALYSIS["tail_n"],
            scale=LESDE_SCALE,
            n_train=config["lesde"]["geomnist_noise"]["train_per_class"],
        ),
    script:
        STEP


rule lesde_fig5_leode:
    input:
        summaries=[s for s, _ in FIG_SUMMARIES],
        code=step_code("lesde.figures.leode:build_fig5"),
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
        step="lesde.figures.leode:build_fig5",
        kwargs=dict(
            datasets=[d for _, d in FIG_SUMMARIES],
            window=ANALYSIS["fig5_window"],
            n_trials=ANALYSIS["sim_trials"],
            seed=config["lesde"]["seed"],
            scale=LESDE_SCALE,
        ),
    script:
        STEP


rule lesde_neural_collapse:
    input:
        summaries=[s for s, _ in FIG_SUMMARIES],
        code=step_code("lesde.figures.dynamics:build_collapse"),
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
        step="lesde.figures.dynamics:build_collapse",
        kwargs=dict(datasets=[d for _, d in FIG_SUMMARIES], scale=LESDE_SCALE),
    script:
        STEP
