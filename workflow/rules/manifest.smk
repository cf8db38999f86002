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
