"""Runtime requests of a study's jobs: FLOPs counted from the model itself (torch's flop
counter on one batch, :mod:`traindyn.models.flops`) times the steps and images a job runs,
through the same cost model as the paper runs (:mod:`traindyn.budget`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..budget import estimate_seconds, request_minutes
from ..family import Need
from .spec import per_class_counts, shape


@lru_cache(maxsize=None)
def _flops(model: str, kwargs: tuple, channels: int, classes: int, size: tuple,
           batch: int) -> tuple[float, float, int]:
    """(one training step on ``batch`` images, one forward image, parameters and buffers) of
    the model. Counted on a batch of at most 8 images and scaled: the count allocates the
    batch's activations, and a typo'd batch must not fill the memory of a dry run."""
    from ..models.flops import forward_flops, step_flops
    from ..models.names import resolve_model

    net = resolve_model(model, dict(kwargs)).build(0)
    common = dict(channels=channels, image_size=size, n_classes=classes)
    counted = min(max(batch, 2), 8)  # BatchNorm in training mode needs two images
    numel = sum(t.numel() for t in [*net.parameters(), *net.buffers()])
    return (step_flops(net, batch=counted, **common) * batch / counted,
            forward_flops(net, batch=1, **common), numel)


# Images per class of a split whose size only its files tell (a GeoMNIST cache read whole).
UNKNOWN_PER_CLASS = (5000, 1000)


def _images(study: Mapping[str, Any], classes: int) -> tuple[int, int]:
    """(training, test) images: the study's per-class counts, else the whole data set's (an
    ImageFolder tree's own counts)."""
    counts = per_class_counts(study)
    d = study["data"]
    if counts is None:
        counts = (d["train_per_class"] or UNKNOWN_PER_CLASS[0],
                  d["test_per_class"] or UNKNOWN_PER_CLASS[1])
    return counts[0] * classes, counts[1] * classes


def job_cost(study: Mapping[str, Any], kind: str, trials: int = 0) -> tuple[float, int] | None:
    """(FLOPs, optimizer steps) of one copies job (``kind`` "copies": every k and the control,
    or "divisor": two copies and the control) or one trials job; None when the data's shape is
    only known from its files."""
    channels, classes, size = shape(study)
    if None in (channels, classes, size):
        return None
    model = study["model"]
    key = (model["name"], tuple(sorted(model["kwargs"].items())), channels, classes, tuple(size))
    n_train, n_test = _images(study, classes)
    if kind == "trials":
        les = study["lesde"]
        step, fwd, _ = _flops(*key, les["batch"])
        evals = les["iterations"] // les["eval_every"] + 1
        per_eval = (les["eval_per_class"] * classes if les["eval_per_class"] else n_test)
        return trials * (les["iterations"] * step + evals * per_eval * fwd), les["iterations"]
    t = study["train"]
    copies = (len(study["instability"]["ks"]) if kind == "copies" else 2) + 1
    step, fwd, _ = _flops(*key, t["batch"])
    steps = t["epochs"] * math.ceil(n_train / t["batch"])
    return copies * (steps * step + t["epochs"] * n_test * fwd), steps


# Python's own time per copy and optimizer step of a small model on a CPU (forward, backward
# and update calls), which FLOPs do not count: a lower bound, so that a tiny model trained for
# a typo'd number of epochs is still refused.
CPU_STEP_SECONDS = 2e-4


def seconds(study: Mapping[str, Any], kind: str, budget: Mapping[str, Any],
            trials: int = 0) -> float | None:
    """Estimated seconds of one job (None when the data's shape is only known to the job)."""
    cost = job_cost(study, kind, trials)
    if cost is None:
        return None
    t = study["train"]
    models = (1 if kind == "trials" else  # trials batched with vmap: one call per step
              (len(study["instability"]["ks"]) if kind == "copies" else 2) + 1)
    overhead = 0.0 if t["gpu"] > 0 else cost[1] * models * CPU_STEP_SECONDS
    return estimate_seconds(*cost, "resnet", t["gpu"] > 0, t["dtype"], budget) + overhead


def minutes(study: Mapping[str, Any], kind: str, budget: Mapping[str, Any],
            trials: int = 0) -> int:
    """The runtime a study job asks for (the budget's generic torch rates, track ``resnet``)."""
    estimate = seconds(study, kind, budget, trials)
    return (int(budget["min_minutes"]) if estimate is None
            else request_minutes(estimate, budget))


# ---------------------------------------------------------------- sizes refused before any job

# A study's jobs in one Snakemake plan: beyond this the plan itself (one job object per chunk)
# is the problem, long before any job runs.
MAX_JOBS = 10_000


def _numel(study: Mapping[str, Any], batch: int) -> int:
    channels, classes, size = shape(study)
    model = study["model"]
    return _flops(model["name"], tuple(sorted(model["kwargs"].items())), channels, classes,
                  tuple(size), batch)[2]


def needs(name: str, study: Mapping[str, Any], budget: Mapping[str, Any]) -> list[Need]:
    """Memory and time of the study's largest jobs of each kind (before any job: sizes only,
    nothing per trial or per copy is allocated)."""
    key = f"studies.{name}"
    channels, classes, size = shape(study)
    if None in (channels, classes, size):
        return []  # a torchvision class: its shape is only known to its job
    n_train, n_test = _images(study, classes)
    pixels = channels * size[0] * size[1]
    data_bytes = (n_train + n_test) * pixels * 8 * 2  # float64 standardization, then the copy
    t, inst, les = study["train"], study["instability"], study["lesde"]
    out = []
    data_keys = (f"{key}.data.train_per_class", f"{key}.data.test_per_class")
    if inst["enabled"]:
        copies = len(inst["ks"]) + 1
        numel = _numel(study, t["batch"])
        act = t["batch"] * pixels * 4 * 8  # the forward's activations, a few per input value
        out.append(Need((f"{key}.train.epochs", f"{key}.instability.ks", *data_keys),
                        f"a copies job of study {name}",
                        data_bytes + copies * numel * 4 * 3 + act,
                        seconds(study, "copies", budget)))
    if les["enabled"]:
        per_job = min(les["trials_per_job"], les["trials"])
        numel = _numel(study, les["batch"])
        rows = les["iterations"] // les["log_every"] + 1
        logged = les["probe_per_class"] * classes if les["probe_per_class"] else les["batch"]
        log_bytes = per_job * rows * logged * (classes + 4) * 8
        out.append(Need((f"{key}.lesde.trials_per_job", f"{key}.lesde.iterations",
                         f"{key}.lesde.log_every"),
                        f"a trials job of study {name}",
                        data_bytes + per_job * numel * 8 * 3 + log_bytes,
                        seconds(study, "trials", budget, per_job)))
        # the summary holds every trial's logged class means over the whole run
        out.append(Need((f"{key}.lesde.trials", f"{key}.lesde.iterations",
                         f"{key}.lesde.log_every"),
                        f"the LE-SDE summary of study {name}",
                        les["trials"] * rows * (classes * classes + 2 * classes) * 8 * 2))
    return out


def plan_errors(name: str, study: Mapping[str, Any], cap: int | None,
                budget: Mapping[str, Any]) -> list[str]:
    """Counts that would plan too many jobs, and jobs longer than the partition's limit (a
    study job does not resume from a saved state, so a capped request would never finish)."""
    key = f"studies.{name}"
    les, inst = study["lesde"], study["instability"]
    errs = []
    jobs = 0
    if les["enabled"]:
        jobs += len(les["ps"]) * math.ceil(les["trials"] / les["trials_per_job"])
    if inst["enabled"]:
        jobs += len(inst["seeds"]) + len(inst["divisors"]["ns"])
    if jobs > MAX_JOBS:
        errs.append(f"{key}: lesde.trials / lesde.trials_per_job x lesde.ps, instability.seeds "
                    f"and divisors.ns plan {jobs:,} jobs, more than {MAX_JOBS:,}; raise "
                    "lesde.trials_per_job or lower the counts")
        return errs  # the runtime of each of so many jobs is beside the point
    errs += snapshot_errors(name, study, budget)
    if cap is None:
        return errs
    kinds = ([("copies", 0), *([("divisor", 0)] if inst["divisors"]["ns"] else [])]
             if inst["enabled"] else [])
    kinds += [("trials", min(les["trials_per_job"], les["trials"]))] if les["enabled"] else []
    for kind, trials in kinds:
        try:
            want = minutes(study, kind, budget, trials)
        except Exception:  # a broken model spec: the study's checks name it
            return errs
        if want > cap:
            errs.append(f"{key}: a {kind} job asks for {want} min, more than "
                        f"cluster.max_runtime_minutes ({cap}); a study job does not resume "
                        "from a saved state, so make it smaller (fewer epochs, iterations or "
                        "trials per job)")
    return errs


def snapshot_saves(study: Mapping[str, Any], kind: str) -> int | None:
    """Saves of one copies (or divisor) job's snapshots; None where the data's size is only
    known to the job."""
    inst, t = study["instability"], study["train"]
    cost = job_cost(study, kind)
    if cost is None:
        return None
    steps = cost[1]
    return steps // inst["divergence_every"] if inst["divergence_every"] else t["epochs"]


def snapshot_bytes_of(study: Mapping[str, Any]) -> int:
    """Bytes of every snapshot file of the study (its copies and divisor jobs)."""
    from ..snapshots import snapshot_bytes

    inst, t = study["instability"], study["train"]
    if not inst["enabled"]:
        return 0
    total = 0
    for kind, jobs, copies in (("copies", len(inst["seeds"]), len(inst["ks"]) + 1),
                               ("divisor", len(inst["divisors"]["ns"]), 3)):
        saves = snapshot_saves(study, kind) if jobs else 0
        if not saves:
            continue
        numel = _numel(study, t["batch"])
        if inst["snapshots"]["tensors"] == "watched":
            numel = min(numel, _watched_numel(study))
        total += jobs * snapshot_bytes(numel, copies, saves, t["dtype"])
    return total


def _watched_numel(study: Mapping[str, Any]) -> int:
    from ..models.names import resolve_model

    net = resolve_model(study["model"]["name"], study["model"]["kwargs"]).build(0)
    state = {**dict(net.named_parameters()), **dict(net.named_buffers())}
    total = 0
    for layer in study["instability"]["layers"]:
        if layer == "*":
            return sum(t.numel() for t in state.values())
        total += (state.get(layer) if layer in state else state[f"{layer}.weight"]).numel()
    return total


def snapshot_errors(name: str, study: Mapping[str, Any], budget: Mapping[str, Any]) -> list[str]:
    try:
        size = snapshot_bytes_of(study)
    except Exception:  # a broken model spec: the study's checks name it
        return []
    limit = budget["snapshot_gib"] * 1024**3
    if size <= limit:
        return []
    key = f"studies.{name}"
    return [f"{key}: the weight snapshots of its copies would take about {size / 1024**3:.1f} "
            f"GiB, more than budget.snapshot_gib ({budget['snapshot_gib']:g}); set "
            f"{key}.instability.snapshots.tensors: watched (only the layers), raise "
            f"{key}.instability.divergence_every, lower train.epochs or instability.seeds, or "
            "raise budget.snapshot_gib"]
