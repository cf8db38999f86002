def deliverables():
    """Every file of figures/ the current config builds, the manifest itself aside: the
    targets, the claims and the config the run used."""
    return all_targets() + list(rules.claims.output) + list(rules.run_config.output)


# The manifest of the current config's deliverables (figures/manifest.json): each with its content
# hash, and the files of figures/ that are none of them (leftovers of an earlier config).
rule manifest:
    input:
        deliverables=deliverables(),
        code=step_code("deliverables:write_manifest"),
    output:
        out="figures/manifest.json",
    log:
        "results/logs/manifest.log",
    localrule: True
    conda:
        ENV
    params:
        step="deliverables:write_manifest",
        kwargs=dict(targets=config["targets"]),
    script:
        STEP
