# Shared helpers: the step runner, its code inputs (the import closure of the step's module, so
# editing any module a step imports reruns it), the targets `rule all` builds (from the family
# registry, traindyn.families) and the training jobs' scheduler requests. A family's own helpers
# are in its package (its plan or spec module), called from its rules files.
from traindyn import budget as cost
from traindyn.codedeps import step_code
from traindyn.families import FAMILIES
from traindyn.lesde.fallback import training_logs

STEP = "../scripts/step.py"
ENV = "../../envs/science.yaml"


# Values the shared wildcards can take (the paths are built from the config).
wildcard_constraints:
    setting=r"p[0-9.]+(-r\d+)?|n\d+-\d+|K\d+",
    lo=r"\d+",
    hi=r"\d+",
    n=r"\d+",
    seed=r"\d+",
    n_train=r"\d+",
    n_val=r"\d+",


# Each target of config["targets"]: the figure/table rules `rule all` asks for (their outputs,
# read from the rules themselves; each also writes a claims file). Families also deliver files
# (the LE-SDE logs, the studies' figures) that are no single rule's outputs.
TARGET_RULES = {k: v for family in FAMILIES for k, v in family.targets.items()}


def family_rules():
    on = [k for k, v in config["targets"].items() if v and k in TARGET_RULES]
    return [getattr(rules, r) for k in on for r in TARGET_RULES[k]]


def family_files():
    """(deliverables, claim files) of each enabled family's file targets."""
    return [family.files(config) for family in FAMILIES if family.enabled(config)]


def all_targets():
    files = [
        f for job in family_rules() for key, f in job.output.items() if key != "claims"
    ]
    return files + [f for deliverables, _ in family_files() for f in deliverables]


def all_claims():
    return [
        job.output.claims for job in family_rules() if "claims" in job.output.keys()
    ] + [c for _, claims in family_files() for c in claims]


def deliverables():
    """Every file of figures/ the current config builds, the manifest itself aside: the
    targets, the claims and the config the run used."""
    return all_targets() + list(rules.claims.output) + list(rules.run_config.output)


# Runtime requests of the training jobs (minutes): each family's spec asks the cost model in
# traindyn.budget.
BUDGET = config["budget"]
# A partition's time limit caps every request; a longer job stops before it with its state saved
# (traindyn.deadline) and is resubmitted: retries enough for the rule's longest job.
CAP = config["cluster"]["max_runtime_minutes"]


def capped(minutes):
    return lambda w: cost.capped(minutes(w), CAP)


def retries(minutes, jobs):
    # None in a job's own Snakemake (inside its SLURM allocation): the submitting one resubmits
    if not workflow.is_main_process:
        return None
    return cost.retries(max((minutes(w) for w in jobs), default=0), CAP)


def gpu_resources(n):
    """Scheduler resources for n GPUs in the form the cluster accepts (config `cluster`)."""
    if n == 0:
        return {}
    model = config["cluster"]["gpu_model"]
    if config["cluster"]["gpu_request"] == "gres":
        return {"gres": f"gpu:{model}:{n}" if model else f"gpu:{n}"}
    return {"gpu": n, **({"gpu_model": model} if model else {})}
