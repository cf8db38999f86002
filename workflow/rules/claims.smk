# Claims: every figure/table rule writes results/claims/<target>.json; this gathers them.


rule claims:
    input:
        claim_files=all_claims(),
        code=step_code("claims:gather"),
    output:
        out_md=report(
            "figures/claims.md", caption="../report/claims.rst", category="Claims"
        ),
        out_json="figures/claims.json",
    log:
        "results/logs/claims.log",
    localrule: True
    conda:
        ENV
    params:
        step="claims:gather",
        kwargs={},
    script:
        STEP
