# Studies: your own model and data through both papers' analyses (config `studies`,
# docs/studies.md). Paths and job parameters come from traindyn.studies.spec; a user's model
# file (and the local files it imports) is a code input of the study's training jobs.
from functools import partial

from traindyn.studies import spec as study_spec
from traindyn.studies.budget import minutes as study_minutes

STUDIES = study_spec.enabled(config["studies"])


wildcard_constraints:
    study=r"[A-Za-z0-9][A-Za-z0-9_-]*",


STUDY_GPUS = max([s["train"]["gpu"] for s in STUDIES.values()], default=0)
STUDY_MODEL_FILES = partial(study_spec.model_code, STUDIES)
# the threads a study's jobs compute with: the bits follow it (a job parameter), not --cores
STUDY_THREADS = partial(study_spec.threads, STUDIES)


rule study_copies:
    input:
        code=step_code("instab.copies:copies_run"),
        code_model=STUDY_MODEL_FILES,
    output:
        out="results/studies/{study}/copies/seed{seed}.parquet",
        snapshots="results/studies/{study}/copies/seed{seed}.snapshots.safetensors",
    log:
        "results/logs/studies/{study}/copies/seed{seed}.log",
    benchmark:
        "results/benchmarks/study_copies/{study}/seed{seed}.tsv"
    conda:
        ENV
    threads: STUDY_THREADS
    resources:
        **gpu_resources(STUDY_GPUS),
        runtime=lambda w: study_minutes(STUDIES[w.study], "copies", BUDGET),
    params:
        threads=STUDY_THREADS,
        data=lambda w: study_spec.data_digest(STUDIES[w.study]),  # edited images rerun it
        step="instab.copies:copies_run",
        kwargs=lambda w: dict(
            study_spec.copies_kwargs(w.study, STUDIES[w.study], int(w.seed)),
            gpus=STUDIES[w.study]["train"]["gpu"],
        ),
    script:
        STEP


rule study_divisor:
    input:
        code=step_code("instab.copies:copies_run"),
        code_model=STUDY_MODEL_FILES,
    output:
        out="results/studies/{study}/lr/n{n}.parquet",
        snapshots="results/studies/{study}/lr/n{n}.snapshots.safetensors",
    log:
        "results/logs/studies/{study}/lr/n{n}.log",
    benchmark:
        "results/benchmarks/study_divisor/{study}/n{n}.tsv"
    conda:
        ENV
    threads: STUDY_THREADS
    resources:
        **gpu_resources(STUDY_GPUS),
        runtime=lambda w: study_minutes(STUDIES[w.study], "divisor", BUDGET),
    params:
        threads=STUDY_THREADS,
        data=lambda w: study_spec.data_digest(STUDIES[w.study]),  # edited images rerun it
        step="instab.copies:copies_run",
        kwargs=lambda w: dict(
            study_spec.divisor_kwargs(w.study, STUDIES[w.study], int(w.n)),
            gpus=STUDIES[w.study]["train"]["gpu"],
        ),
    script:
        STEP


# An extraction step: the watched layers and the metrics read the snapshots, so changing
# them reruns this and what is built on it, never the training.
rule study_divergence:
    input:
        snapshots="results/studies/{study}/{run}.snapshots.safetensors",
        code=step_code("extraction:divergence_step"),
        code_metrics=lambda w: study_spec.metric_code(STUDIES[w.study]),
    output:
        out="results/studies/{study}/{run}.divergence.npz",
    log:
        "results/logs/studies/{study}/{run}.divergence.log",
    wildcard_constraints:
        run=r"copies/seed\d+|lr/n\d+",
    localrule: True
    conda:
        ENV
    params:
        step="extraction:divergence_step",
        kwargs=lambda w: dict(
            layers=STUDIES[w.study]["instability"]["layers"],
            metrics=STUDIES[w.study]["instability"]["metrics"],
        ),
    script:
        STEP


# Logits of a fixed probe set at every snapshot, from the snapshots (no training).
rule study_probes:
    input:
        snapshots="results/studies/{study}/copies/seed{seed}.snapshots.safetensors",
        code=step_code("studies.probes:probe_step"),
        code_model=STUDY_MODEL_FILES,
    output:
        out="results/studies/{study}/copies/seed{seed}.probes.npz",
    log:
        "results/logs/studies/{study}/copies/seed{seed}.probes.log",
    conda:
        ENV
    threads: STUDY_THREADS
    params:
        threads=STUDY_THREADS,
        data=lambda w: study_spec.data_digest(STUDIES[w.study]),
        step="studies.probes:probe_step",
        kwargs=lambda w: study_spec.probe_kwargs(w.study, STUDIES[w.study]),
    script:
        STEP


rule study_trials:
    input:
        code=step_code("lesde.trials:trials_run"),
        code_model=STUDY_MODEL_FILES,
    output:
        steps="results/studies/{study}/lesde/{setting}/trials{lo}-{hi}.steps.parquet",
        val="results/studies/{study}/lesde/{setting}/trials{lo}-{hi}.val.parquet",
    log:
        "results/logs/studies/{study}/lesde/{setting}/trials{lo}-{hi}.log",
    benchmark:
        "results/benchmarks/study_trials/{study}/{setting}/trials{lo}-{hi}.tsv"
    conda:
        ENV
    threads: STUDY_THREADS
    resources:
        **gpu_resources(STUDY_GPUS),
        runtime=lambda w: study_minutes(
            STUDIES[w.study], "trials", BUDGET, int(w.hi) - int(w.lo)
        ),
    params:
        threads=STUDY_THREADS,
        data=lambda w: study_spec.data_digest(STUDIES[w.study]),  # edited images rerun it
        step="lesde.trials:trials_run",
        kwargs=lambda w: dict(
            study_spec.trials_kwargs(
                w.study,
                STUDIES[w.study],
                study_spec.setting_noise(STUDIES[w.study], w.setting),
                int(w.lo),
                int(w.hi),
            ),
            gpus=STUDIES[w.study]["train"]["gpu"],
        ),
    script:
        STEP


rule study_lesde_summary:
    input:
        steps=lambda w: study_spec.lesde_logs(
            w.study, STUDIES[w.study], w.setting, "steps"
        ),
        vals=lambda w: study_spec.lesde_logs(
            w.study, STUDIES[w.study], w.setting, "val"
        ),
        code=step_code("lesde.summary:summarize"),
    output:
        out="results/studies/{study}/lesde/{setting}/summary.npz",
    log:
        "results/logs/studies/{study}/lesde/{setting}/summary.log",
    localrule: True
    conda:
        ENV
    params:
        step="lesde.summary:summarize",
        kwargs={},
    script:
        STEP


rule study_instability:
    input:
        runs=lambda w: study_spec.copies_outputs(w.study, STUDIES[w.study]),
        divergences=lambda w: study_spec.divergence_outputs(
            study_spec.copies_outputs(w.study, STUDIES[w.study])
        ),
        probes=lambda w: study_spec.probe_outputs(w.study, STUDIES[w.study]),
        code=step_code("studies.figures:build_instability"),
    output:
        md="figures/studies/{study}/table1_accuracy.md",
        tex="figures/studies/{study}/table1_accuracy.tex",
        csv="figures/studies/{study}/table1_accuracy.csv",
        pdf="figures/studies/{study}/table1_accuracy.pdf",
        png=report(
            "figures/studies/{study}/table1_accuracy.png",
            caption="../report/study_instability.rst",
            category="Studies",
            subcategory="{study}",
        ),
        claims="results/claims/studies/{study}/instability.json",
    log:
        "results/logs/studies/{study}/instability.log",
    localrule: True
    conda:
        ENV
    params:
        step="studies.figures:build_instability",
        kwargs=lambda w: dict(
            name=w.study,
            stat_epochs=STUDIES[w.study]["instability"]["stat_epochs"],
            data_title=study_spec.data_title(STUDIES[w.study]),
        ),
    script:
        STEP


rule study_divisors_figure:
    input:
        runs=lambda w: study_spec.divisor_outputs(w.study, STUDIES[w.study]),
        divergences=lambda w: study_spec.divergence_outputs(
            study_spec.divisor_outputs(w.study, STUDIES[w.study])
        ),
        code=step_code("studies.figures:build_divisors"),
    output:
        pdf="figures/studies/{study}/fig2_divergence.pdf",
        png=report(
            "figures/studies/{study}/fig2_divergence.png",
            caption="../report/study_divisors.rst",
            category="Studies",
            subcategory="{study}",
        ),
        claims="results/claims/studies/{study}/divisors.json",
    log:
        "results/logs/studies/{study}/divisors.log",
    localrule: True
    conda:
        ENV
    params:
        step="studies.figures:build_divisors",
        kwargs=lambda w: dict(name=w.study, ns=study_spec.divisors(STUDIES[w.study])),
    script:
        STEP


rule study_lesde:
    input:
        summaries=lambda w: study_spec.lesde_summaries(w.study, STUDIES[w.study]),
        code=step_code("studies.figures:build_lesde"),
    output:
        **{
            f"{fig}_pdf": f"figures/studies/{{study}}/lesde_{fig}.pdf"
            for fig in study_spec.LESDE_FIGURES
        },
        **{
            f"{fig}_png": report(
                f"figures/studies/{{study}}/lesde_{fig}.png",
                caption="../report/study_lesde.rst",
                category="Studies",
                subcategory="{study}",
            )
            for fig in study_spec.LESDE_FIGURES
        },
        claims="results/claims/studies/{study}/lesde.json",
    log:
        "results/logs/studies/{study}/lesde.log",
    localrule: True
    conda:
        ENV
    params:
        step="studies.figures:build_lesde",
        kwargs=lambda w: dict(
            ps=[p for _, p in study_spec.lesde_settings(STUDIES[w.study])],
            name=w.study,
            data_title=study_spec.data_title(STUDIES[w.study]),
            **{
                k: STUDIES[w.study]["lesde"][k]
                for k in ("window", "tail_n", "sim_trials")
            },
            seed=STUDIES[w.study]["train"]["seed"],
            class_names=study_spec.class_names(STUDIES[w.study]),
        ),
    script:
        STEP


rule study_lesde_phase:
    input:
        summaries=lambda w: study_spec.lesde_summaries(w.study, STUDIES[w.study]),
        code=step_code("studies.figures:build_lesde_phase"),
    output:
        pdf="figures/studies/{study}/lesde_fig4.pdf",
        png=report(
            "figures/studies/{study}/lesde_fig4.png",
            caption="../report/study_lesde.rst",
            category="Studies",
            subcategory="{study}",
        ),
    log:
        "results/logs/studies/{study}/lesde_phase.log",
    localrule: True
    conda:
        ENV
    params:
        step="studies.figures:build_lesde_phase",
        kwargs=lambda w: dict(
            ps=[p for _, p in study_spec.lesde_settings(STUDIES[w.study])],
            tail_n=STUDIES[w.study]["lesde"]["tail_n"],
            n_train=STUDIES[w.study]["data"]["train_per_class"] or 0,
            name=w.study,
            data_title=study_spec.data_title(STUDIES[w.study]),
        ),
    script:
        STEP
