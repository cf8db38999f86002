# Claims: every figure/table rule writes results/claims/<target>.json; this gathers them.


rule claims:
    input:
        claim_files=all_claims(),
        # read for their kernel path only: claims.md names a torch-path fallback
        training_logs=training_logs(config),
        code=step_code("claims_report:gather"),
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
        step="claims_report:gather",
        kwargs={},
    script:
        STEP


# The config this run used (merged, validated, canonical): what `make compare` diffs.
rule run_config:
    input:
        code=step_code("compare:write_run_config"),
    output:
        out="figures/run_config.json",
    log:
        "results/logs/run_config.log",
    localrule: True
    conda:
        ENV
    params:
        step="compare:write_run_config",
        kwargs={"config": dict(config)},
    script:
        STEP
