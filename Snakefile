# traindyn: rebuild the figures and tables of LE-SDE (NeurIPS 2021) and Surprising Instabilities
# (NeurIPS 2022). Quick scale: `snakemake --cores all`; paper scale: add
# `--configfile workflow/configs/paper.yaml`. See README.md for targets and profiles.
import os
import sys
import time

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

# This checkout's library, before any installed copy: the rules' code inputs and the jobs
# (workflow/scripts/step.py does the same) must both be the files beside this Snakefile.
sys.path.insert(0, f"{workflow.basedir}/workflow")

import traindyn
from traindyn.config import canonicalize, check_config, load_schema
from traindyn.config_checks import check_filled_config
from traindyn.config_types import normalize
from traindyn.checkout import library_mismatch
from traindyn.configfile import build_config
from traindyn.families import FAMILIES

min_version("9.0")

# Nothing imports traindyn before this file; should anything ever, stop rather than plan with
# another checkout's code inputs (a second checkout sharing one environment).
_mismatch = library_mismatch(traindyn.__file__, f"{workflow.basedir}/workflow")
if _mismatch:
    raise WorkflowError(_mismatch)

# A config is data: config.yaml and every --configfile are read here by the project's strict
# reader (no YTE templates, no duplicate keys or aliases, a size limit; errors name the file and
# line), instead of the `configfile:` directive, and nothing Snakemake parsed from them is used.
# (Snakemake reads each --configfile itself before this file runs: docs/config_files.md.)
_default = None if workflow.config_settings.replace_workflow_config else "config.yaml"
_config = build_config(
    _default,
    workflow.overwrite_configfiles,
    workflow.config_settings.config,
)
config.clear()
config.update(_config)
# (listed by --report, as the directive's file was)
if _default and os.path.exists(_default):
    workflow.configfiles.insert(0, _default)

# Before any job: values in the schema's types (--config text, 0 vs 0.0), clear messages naming
# each bad key, schema defaults filled in, then the rules across keys, the memory and time the
# jobs would need and the external data they read.
SCHEMA = f"{workflow.basedir}/workflow/schemas/config.schema.yaml"
normalize(config, load_schema(SCHEMA))
check_config(config, SCHEMA)
validate(config, SCHEMA)
check_filled_config(config, load_schema(SCHEMA))
# Key order carries no meaning: params built from the config must not change with it.
canonicalize(config)

# A code edit that the clock hides from Snakemake (outputs dated after it) stops the plan. The
# variable lets the forced rebuild the message asks for run (and `make verify`, which compares
# code by content itself); Snakemake's --forcerun is not known while this file is read.
if not os.environ.get("TRAINDYN_NO_SKEW_CHECK"):
    from traindyn.skew import hidden_code_edits, skew_message

    _hidden = hidden_code_edits(f"{workflow.basedir}/workflow")
    if _hidden:
        raise WorkflowError(skew_message(_hidden))


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


# Each family's rules files (traindyn.families), then what gathers them.
for rules_file in (f for family in FAMILIES for f in family.rules):

    include: f"workflow/rules/{rules_file}"


include: "workflow/rules/claims.smk"
include: "workflow/rules/manifest.smk"


# Plotting, tables, gathering and claims are light: their rules say `localrule: True` (on a
# cluster they run on the submit host).
rule all:
    default_target: True
    input:
        all_targets(),
        rules.claims.output.out_md,
        rules.manifest.output.out,
        rules.run_config.output.out,
    localrule: True


# A run that (re)built the claims ends with its verdict: counts, FAILs with reasons, paths.
RUN_START = time.time()


onsuccess:
    from traindyn.claims import read_claims, verdict_summary
    from traindyn.deliverables import leftover_message, leftovers

    md = rules.claims.output.out_md
    if os.path.exists(md) and os.path.getmtime(md) >= RUN_START:
        print(verdict_summary(read_claims(all_claims()), md))
        report = "figures/report.html"
        print(f"Report: {report} (`make {report}`, or `make report-partial`)")
    # A torch-path fallback of any LE-SDE job is said at the end, whether or not claims ran.
    from traindyn.lesde.fallback import fallback_notice, torch_fallbacks

    notice = fallback_notice(torch_fallbacks(training_logs(config)))
    if notice:
        print(notice)
    # Files of figures/ that this config does not build are named, never passed off as current.
    extra = leftovers([*deliverables(), *rules.manifest.output])
    if extra:
        print(leftover_message(extra))
