# SI Figure 1: heat equation, explicit Euler, stable vs unstable dt and the stability bound.


rule heat_simulate:
    input:
        code=step_code("pde.heat_step:run_heat"),
    output:
        out="results/si/heat/heat.npz",
    log:
        "results/logs/si/heat_simulate.log",
    benchmark:
        "results/benchmarks/heat_simulate.tsv"
    conda:
        ENV
    params:
        step="pde.heat_step:run_heat",
        kwargs={
            k: config["heat"][k] for k in ("n_points", "panels", "max_steps", "sweep")
        },
    script:
        STEP


rule si_fig1_heat:
    input:
        sim_npz=rules.heat_simulate.output.out,
        code=step_code("pde.figures.heat:build_heat_figure"),
    output:
        pdf="figures/si/fig1_heat.pdf",
        png=report(
            "figures/si/fig1_heat.png",
            caption="../report/si_fig1_heat.rst",
            category="SI",
        ),
        claims="results/claims/si_fig1_heat.json",
    log:
        "results/logs/si/fig1_heat.log",
    localrule: True
    conda:
        ENV
    params:
        step="pde.figures.heat:build_heat_figure",
        kwargs=dict(snapshot_times=config["heat"]["snapshot_times"]),
    script:
        STEP
