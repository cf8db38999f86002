# SI single-layer PDE track: linearized PDE (Figure 3, Table 2), non-linear PDE (Figure 4 left),
# error amplification between rounding-perturbed copies (Figure 4 right).
PDE = config["pde"]
PROBLEM = {k: PDE[k] for k in ("image", "kernel", "swish_beta", "dtype")}


rule pde_linear:
    input:
        code=step_code("pde.pde_steps:linear_pde"),
    output:
        out="results/si/pde/linear.npz",
    log:
        "results/logs/si/pde_linear.log",
    benchmark:
        "results/benchmarks/pde_linear.tsv"
    conda:
        ENV
    threads: PDE["threads"]
    params:
        threads=PDE["threads"],
        step="pde.pde_steps:linear_pde",
        kwargs=dict(
            problem=PROBLEM,
            lr=PDE["linear"]["lr"],
            alphas=PDE["linear"]["alphas"],
            iterations=PDE["iterations"],
        ),
    script:
        STEP


rule pde_stability_table:
    input:
        code=step_code("pde.pde_steps:stability_table"),
    output:
        out="results/si/pde/stability_table.npz",
    log:
        "results/logs/si/pde_stability_table.log",
    benchmark:
        "results/benchmarks/pde_stability_table.tsv"
    conda:
        ENV
    threads: PDE["threads"]
    params:
        threads=PDE["threads"],
        step="pde.pde_steps:stability_table",
        kwargs=dict(
            problem=PROBLEM,
            lrs=PDE["linear"]["table_lrs"],
            iterations=PDE["linear"]["bisection_iterations"],
        ),
    script:
        STEP


rule pde_nonlinear:
    input:
        code=step_code("pde.pde_steps:nonlinear_pde"),
    output:
        out="results/si/pde/nonlinear.npz",
    log:
        "results/logs/si/pde_nonlinear.log",
    benchmark:
        "results/benchmarks/pde_nonlinear.tsv"
    conda:
        ENV
    threads: PDE["threads"]
    params:
        threads=PDE["threads"],
        step="pde.pde_steps:nonlinear_pde",
        kwargs=dict(
            problem=PROBLEM,
            weight_decay=PDE["nonlinear"]["weight_decay"],
            lrs=PDE["nonlinear"]["lrs"],
            iterations=PDE["iterations"],
        ),
    script:
        STEP


rule pde_amplification:
    input:
        code=step_code("pde.pde_steps:error_amplification"),
    output:
        out="results/si/pde/amplification.npz",
    log:
        "results/logs/si/pde_amplification.log",
    benchmark:
        "results/benchmarks/pde_amplification.tsv"
    conda:
        ENV
    threads: PDE["threads"]
    params:
        threads=PDE["threads"],
        step="pde.pde_steps:error_amplification",
        kwargs=dict(
            problem=PROBLEM,
            weight_decay=PDE["nonlinear"]["weight_decay"],
            iterations=PDE["iterations"],
            **PDE["amplification"],
        ),
    script:
        STEP


rule si_fig3_linear_pde:
    input:
        linear_npz=rules.pde_linear.output.out,
        code=step_code("pde.figures.linear:build_fig3"),
    output:
        pdf="figures/si/fig3_linear_pde.pdf",
        png=report(
            "figures/si/fig3_linear_pde.png",
            caption="../report/si_fig3_linear_pde.rst",
            category="SI",
        ),
        claims="results/claims/si_fig3_linear_pde.json",
    log:
        "results/logs/si/fig3_linear_pde.log",
    localrule: True
    conda:
        ENV
    params:
        step="pde.figures.linear:build_fig3",
        kwargs={},
    script:
        STEP


rule si_table2_stability_bounds:
    input:
        table_npz=rules.pde_stability_table.output.out,
        code=step_code("pde.figures.linear:build_table2"),
    output:
        md=report(
            "figures/si/table2_stability_bounds.md",
            caption="../report/si_table2.rst",
            category="SI",
        ),
        tex="figures/si/table2_stability_bounds.tex",
        csv="figures/si/table2_stability_bounds.csv",
        claims="results/claims/si_table2_stability_bounds.json",
    log:
        "results/logs/si/table2_stability_bounds.log",
    localrule: True
    conda:
        ENV
    params:
        step="pde.figures.linear:build_table2",
        kwargs={},
    script:
        STEP


rule si_fig4_nonlinear_pde:
    input:
        nonlinear_npz=rules.pde_nonlinear.output.out,
        code=step_code("pde.figures.nonlinear:build_fig4_left"),
    output:
        pdf="figures/si/fig4_nonlinear_pde.pdf",
        png=report(
            "figures/si/fig4_nonlinear_pde.png",
            caption="../report/si_fig4_nonlinear_pde.rst",
            category="SI",
        ),
        claims="results/claims/si_fig4_nonlinear_pde.json",
    log:
        "results/logs/si/fig4_nonlinear_pde.log",
    localrule: True
    conda:
        ENV
    params:
        step="pde.figures.nonlinear:build_fig4_left",
        kwargs={},
    script:
        STEP


rule si_fig4_error_amplification:
    input:
        amplification_npz=rules.pde_amplification.output.out,
        code=step_code("pde.figures.nonlinear:build_fig4_right"),
    output:
        pdf="figures/si/fig4_error_amplification.pdf",
        png=report(
            "figures/si/fig4_error_amplification.png",
            caption="../report/si_fig4_error_amplification.rst",
            category="SI",
        ),
        claims="results/claims/si_fig4_error_amplification.json",
    log:
        "results/logs/si/fig4_error_amplification.log",
    localrule: True
    conda:
        ENV
    params:
        step="pde.figures.nonlinear:build_fig4_right",
        kwargs={},
    script:
        STEP
