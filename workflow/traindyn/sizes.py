"""Memory and time each job of a config would need, estimated from its size keys before any job.

One function per target family lists its jobs' needs (:class:`Need`: the config keys that set
the size, the job, bytes of its largest arrays, seconds of work); :func:`size_errors` refuses
a need above this machine's memory or above ``budget.max_job_hours``, with the estimate. The
estimates are rough (within a small factor): they exist to stop a typo (``iterations: 1.0e+12``)
at ``snakemake -n`` instead of as a 56 TB allocation, or a job that never ends, hours later.
Training jobs use the cost model of :mod:`traindyn.budget` (its rates are config keys); the numpy
and FFT tracks use :data:`CPU_GFLOPS` and :data:`LOOP_SECONDS` per interpreted iteration.

Every integer key of the schema is either a size some estimate covers, or listed in
:data:`NOT_SIZES` with the reason it needs none (``tests/test_config.py`` checks both).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import budget as cost

GIB = 1024**3
CPU_GFLOPS = 2.0  # sustained rate of the numpy / torch FFT tracks on one CPU core (conservative)
BLAS_GFLOPS = 20.0  # the same for matrix products
LOOP_SECONDS = 2e-5  # one iteration of an interpreted loop of a few array operations

# Integer keys that need no estimate of their own, and why.
NOT_SIZES = {
    "data.geomnist.seed": "a seed", "pde.image.seed": "a seed", "pde.kernel.seed": "a seed",
    "lesde.seed": "a seed", "instab.table1.seeds": "seeds", "instab.fig2.seed": "a seed",
    "pde.image.geomnist_class": "a class index (0-2)",
    "pde.amplification.k": "perturbation factors", "instab.table1.ks": "perturbation factors",
    "instab.fig2.ks": "perturbation factors",
    "lesde.gpu": "GPUs asked of the scheduler", "instab.gpu": "GPUs asked of the scheduler",
    "budget.min_minutes": "a floor of the runtime request",
    "lesde.cifar.n_classes": "at most 10 (schema)",
    "pde.threads": "at most 1024 (schema)", "instab.threads": "at most 1024 (schema)",
    "data.geomnist.image_size": "at most 1024 (schema); its cost is in the data and ResNet needs",
    "lesde.checkpoint_every": "a part holds at most `iterations` rows (in the training need)",
    "lesde.eval_batch": "a pass reads at most the validation images",
    "lesde.trial_block": "a call takes at most the job's trials",
    "lesde.analysis.fig3_window_geomnist": "clipped to the series length",
    "lesde.analysis.fig3_window_cifar": "clipped to the series length",
    "lesde.analysis.fig5_window": "clipped to the series length",
    "lesde.analysis.tail_n": "clipped to the series length",
    "instab.table1.milestones": "below instab.table1.epochs (checked)",
    "instab.table1.stat_epochs": "at most instab.table1.epochs (checked)",
    "pde.amplification.window": "at most pde.iterations (checked)",
    "lesde.geomnist_noise.replicates.runs": "more jobs, each the size of its noise level's",
    "cluster.max_runtime_minutes": "a cap on the runtime requests, not a size",
    "instab.table1.batch": "a minibatch holds at most the training set (in the run's need)",
    "instab.table1.test_batch": "a test pass holds at most the test set (in the run's need)",
    "instab.fig2.batch": "a minibatch holds at most the training set (in the run's need)",
    **{f"lesde.{e}.eval_subset": "at most val_per_class (checked)"
       for e in ("geomnist_noise", "geomnist_size", "cifar")},
    **{f"lesde.{e}.trials_per_job": "a job runs at most `trials` trials"
       for e in ("geomnist_noise", "geomnist_size", "cifar")},
    **{f"lesde.{e}.eval_every": "more of it means fewer evaluations"
       for e in ("geomnist_noise", "geomnist_size", "cifar")},
}


@dataclass(frozen=True)
class Need:
    keys: tuple[str, ...]  # the config keys that set this size
    what: str  # the job (or step) that would need it
    bytes: float = 0.0
    seconds: float = 0.0


def _fft(side: int) -> float:
    """FLOPs of one forward + adjoint pass of the one-layer CNN (four 2-D FFTs of side^2)."""
    return 20.0 * side * side * max(math.log2(side * side), 1.0)


# ---------------------------------------------------------------- one function per family


def heat_needs(config: Mapping[str, Any]) -> list[Need]:
    h = config["heat"]
    n, steps, panels, sw = h["n_points"], h["max_steps"], len(h["panels"]), h["sweep"]
    return [
        Need(("heat.max_steps", "heat.n_points"), "the heat panels (heat_simulate)",
             8 * (steps + 1) * (n + 1) * panels * 2,
             steps * (LOOP_SECONDS + 10 * panels * n / (CPU_GFLOPS * 1e9))),
        Need(("heat.sweep.steps", "heat.sweep.n", "heat.n_points"),
             "the dt sweep (heat_simulate)", 8 * sw["n"] * n * 4 + 24 * n * n,
             sw["steps"] * (LOOP_SECONDS + 20 * sw["n"] * n / (CPU_GFLOPS * 1e9))
             + 4 * n**3 / (CPU_GFLOPS * 1e9)),
    ]


def pde_needs(config: Mapping[str, Any]) -> list[Need]:
    p = config["pde"]
    side, k2, its = p["image"]["size"], p["kernel"]["size"] ** 2, p["iterations"]
    fft, rate = _fft(side), CPU_GFLOPS * 1e9
    image = ("pde.image.size", "pde.kernel.size")
    grid = 16 * side * side * 8  # the image, its spectrum and FFT buffers of one copy
    gram = Need(image, "the Gram matrix X^T X and its eigenvalues (every PDE step)",
                3 * 8 * k2 * k2, (k2 * fft + 4 * k2**3) / rate)
    lin, non = len(p["linear"]["alphas"]), len(p["nonlinear"]["lrs"])
    amp = 2 * len(p["amplification"]["lrs"])
    cols, b_its = 80 * len(p["linear"]["table_lrs"]), p["linear"]["bisection_iterations"]
    return [gram,
            Need(("pde.iterations", *image), "the linearized PDE run (pde_linear)",
                 lin * (24 * (its + 1) + grid),
                 its * (LOOP_SECONDS + lin * fft / rate)),
            Need(("pde.linear.bisection_iterations", "pde.kernel.size"),
                 "the stability bisection (pde_stability_table)", 24 * k2 * cols,
                 b_its * (LOOP_SECONDS + 2 * k2 * k2 * cols / (BLAS_GFLOPS * 1e9))),
            Need(("pde.iterations", *image), "the non-linear PDE run (pde_nonlinear)",
                 non * (8 * its + grid), its * (LOOP_SECONDS + 2 * non * fft / rate)),
            Need(("pde.iterations", *image), "the error amplification run (pde_amplification)",
                 amp * (8 * (its + 1) * k2 + 24 * its + grid),
                 its * (LOOP_SECONDS + 2 * amp * fft / rate))]


def geomnist_needs(config: Mapping[str, Any]) -> list[Need]:
    """Every GeoMNIST cache the enabled runs read (generated image by image)."""
    geo, side = config["data"]["geomnist"], config["data"]["geomnist"]["image_size"]
    caches = {("data.geomnist.train_per_class", "data.geomnist.val_per_class"):
              (geo["train_per_class"], geo["val_per_class"])}
    lesde, ins = config["lesde"], config["instab"]
    if lesde["geomnist_noise"]["enabled"]:
        e = lesde["geomnist_noise"]
        caches[("lesde.geomnist_noise.train_per_class", "lesde.geomnist_noise.val_per_class")] = (
            e["train_per_class"], e["val_per_class"])
    if lesde["geomnist_size"]["enabled"]:
        tr, va = (max(v) for v in zip(*lesde["geomnist_size"]["per_class"]))
        caches[("lesde.geomnist_size.per_class",)] = (tr, va)
    if ins["dataset"] == "geomnist":
        caches[("instab.train_per_class", "instab.test_per_class")] = (
            ins["train_per_class"], ins["test_per_class"])
    return [Need(keys, "a GeoMNIST cache (geomnist)", 3 * (tr + va) * side * side * 8 * 3,
                 3 * (tr + va) * (1e-4 + 400 * side * side / (CPU_GFLOPS * 1e9)))
            for keys, (tr, va) in caches.items()]


def lesde_needs(config: Mapping[str, Any]) -> list[Need]:
    lesde, needs = config["lesde"], []
    for key, exp in ((k, lesde[k]) for k in ("geomnist_noise", "geomnist_size", "cifar")):
        if not exp["enabled"]:
            continue
        name = f"lesde.{key}"
        channels, k = (3, max(exp["n_classes"])) if key == "cifar" else (1, 3)
        per_job = min(exp["trials_per_job"], exp["trials"])
        its, trials = exp["iterations"], exp["trials"]
        if key == "geomnist_size":
            n_train, n_val = (max(v) for v in zip(*exp["per_class"]))
            sizes = (f"{name}.per_class",)
        else:
            n_train, n_val = exp["train_per_class"], exp["val_per_class"]
            sizes = (f"{name}.train_per_class", f"{name}.val_per_class")
        n_eval = min(exp["eval_subset"] or n_val, n_val)  # validation images evaluated
        images = k * (n_train + n_val) * channels * 1024 * 8
        # training: the (iterations x trials) sample table, a part's logits, the images; the
        # summary: every logged row of a setting (trial, itr, smp, labels, K logits, loss) in
        # Arrow and in NumPy at once
        flops, steps = cost.lesde_job_cost(channels, k, its, exp["eval_every"], k * n_eval,
                                           per_job)
        seconds = cost.estimate_seconds(flops, steps, "lesde", lesde["gpu"] > 0,
                                        lesde["dtype"], config["budget"])
        needs += [Need((f"{name}.iterations", f"{name}.trials", *sizes),
                       f"a training job (lesde_train, {name})",
                       8 * its * per_job * (k + 3) * 2 + images, seconds),
                  Need((f"{name}.iterations", f"{name}.trials"),
                       f"the log summary of a setting (lesde_summary, {name})",
                       2 * its * trials * (8 * (k + 1) + 14))]
    sim = lesde["analysis"]["sim_trials"]
    its = lesde["geomnist_noise"]["iterations"]
    needs.append(Need(("lesde.analysis.sim_trials", "lesde.geomnist_noise.iterations"),
                      "the LE-ODE simulation (lesde_fig5_leode)", 8 * sim * 9 * 4 + 8 * its * 36,
                      its * (LOOP_SECONDS + 2 * sim * 81 * 3 / (CPU_GFLOPS * 1e9))))
    return needs


def instab_needs(config: Mapping[str, Any]) -> list[Need]:
    ins, budget = config["instab"], config["budget"]
    net, side = ins["network"], config["data"]["geomnist"]["image_size"]
    if ins["dataset"] == "cifar10":
        channels, n_train, n_test, side = 3, 50000, 10000, 32
        data_keys: tuple[str, ...] = ()
    else:
        channels = 1
        n_train, n_test = 3 * ins["train_per_class"], 3 * ins["test_per_class"]
        data_keys = ("instab.train_per_class", "instab.test_per_class")
    net_keys = ("instab.network.depth", "instab.network.width")
    gpu, t1, f2 = ins["gpu"] > 0, ins["table1"], ins["fig2"]
    # per image and copy, the tensors a training step keeps for backward (three per conv, stage
    # s has width * 2^s channels on (side / 2^s)^2 pixels); on a GPU they are device memory,
    # which this host cannot see: only the data sets count there
    blocks = (net["depth"] - 2) // 6
    act = 0 if gpu else net["width"] * side * side * 1.75 * (2 * blocks + 1) * 3 * 4
    data = (n_train + n_test) * channels * side * side * 8
    copies = len(t1["ks"]) + 1
    flops, steps = cost.resnet_job_cost(net, channels, copies, n_train, n_test, t1["epochs"],
                                        t1["batch"])
    needs = [Need(("instab.table1.epochs", *net_keys, *data_keys),
                  "a Table 1 run (instab_table1_run)",
                  data + copies * act * max(min(t1["batch"], n_train),
                                            min(t1["test_batch"], n_test) / 3),
                  cost.estimate_seconds(flops, steps, "resnet", gpu, ins["dtype"], budget))]
    runs = [(n, ins["dtype"], "instab.fig2.ns") for n in f2["ns"]]
    runs += [(n, d, "instab.precision.ns") for n in ins["precision"]["ns"]
             for d in ins["precision"]["dtypes"]]
    for n, dtype, key in runs:
        flops, steps = cost.resnet_steps_cost(net, channels, 2, f2["saves"] * n,
                                              min(f2["batch"], n_train))
        needs.append(Need(("instab.fig2.saves", key, *net_keys, *data_keys),
                          f"a Figure 2 run (instab_fig2_run, n = {n}, {dtype})",
                          data + 2 * act * min(f2["batch"], n_train) + 8 * f2["saves"],
                          cost.estimate_seconds(flops, steps, "resnet", gpu, dtype, budget)))
    return needs


def needs(config: Mapping[str, Any]) -> list[Need]:
    """The needs of the families the config's targets build."""
    t = config["targets"]
    out = []
    if t["si_heat"]:
        out += heat_needs(config)
    if t["si_pde"]:
        out += pde_needs(config)
    if t["lesde_logs"] or t["lesde_figures"] or t["si_deep"] or t["lesde_data"]:
        out += geomnist_needs(config)
    if t["lesde_logs"] or t["lesde_figures"]:
        out += [n for n in lesde_needs(config)
                if t["lesde_figures"] or "lesde_fig5" not in n.what]
    if t["si_deep"]:
        out += instab_needs(config)
    return out


# ---------------------------------------------------------------- refusals


def duration(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def size_errors(config: Mapping[str, Any], available: float | None = None) -> list[str]:
    """One line per need above this machine's memory or above ``budget.max_job_hours``."""
    if available is None:
        import psutil

        available = psutil.virtual_memory().total
    limit = config["budget"]["max_job_hours"] * 3600
    worst: dict[tuple, tuple[Need, int]] = {}  # one line per keys and kind: the largest need
    for need in needs(config):
        for kind, over in (("memory", need.bytes > available), ("time", need.seconds > limit)):
            if over:
                size = need.bytes if kind == "memory" else need.seconds
                old, count = worst.get((need.keys, kind), (None, 0))
                bigger = old is None or size > (old.bytes if kind == "memory" else old.seconds)
                worst[(need.keys, kind)] = (need if bigger else old, count + 1)
    errs = []
    for (keys, kind), (need, count) in worst.items():
        more = f" (the largest of {count} such jobs)" if count > 1 else ""
        if kind == "memory":
            errs.append(f"{', '.join(keys)}: {need.what}{more} would need about "
                        f"{need.bytes / GIB:.1f} GiB of memory, more than this machine's "
                        f"{available / GIB:.1f} GiB; reduce them (or run on a larger node)")
        else:
            errs.append(f"{', '.join(keys)}: {need.what}{more} would run for about "
                        f"{duration(need.seconds)}, more than budget.max_job_hours "
                        f"({limit / 3600:g} h); reduce them, or raise budget.max_job_hours if "
                        "the run is meant to be that long")
    return errs
