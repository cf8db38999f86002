"""The SI deep-network family (SI Table 1, Figure 2 and its precision extra; config ``instab``,
target ``si_deep``): its rules across keys (the CIFAR ResNet's depths and layer names among
them), size estimates, tier tables, the runtime cost of its runs and the data they read
(:class:`traindyn.family.Family`)."""

from __future__ import annotations

import re

from ..budget import Work, resnet_job_cost, resnet_steps_cost
from ..data.registry import facts
from ..family import Config, DataUse, Family, Need, Scale

# Both on config["instab"].
TABLE1_SCALE = Scale(
    paper={"dataset": "cifar10", "network.depth": 56, "table1.seeds": 6,
           "table1.ks": [1, 3, 5, 7, 9, 11], "table1.lr": 0.1, "table1.batch": 128,
           "table1.epochs": 200, "table1.milestones": [40, 80, 120, 160],
           "table1.stat_epochs": 10},
    least={"table1.seeds": 3, "table1.epochs": 3},
    too_small="run too small to test the paper (needs >= 3 seeds and >= 3 epochs)")
FIG2_SCALE = Scale(
    paper={"network.depth": 56, "fig2.saves": 100, "fig2.ns": [2, 4, 8, 16, 32, 320, 3200, 32000],
           "fig2.layer": "layer2.5.conv1"},
    least={"fig2.saves": 10},
    too_small="run too small to test the paper (needs >= 10 saves)")


def is_stage_conv(layer: str, depth: int) -> bool:
    """Whether ``layer`` names a convolution a Figure 2 run may watch in the depth-``depth``
    ResNet: conv1, or layer{1,2,3}.{block}.conv{1,2} with block < (depth - 2) / 6."""
    m = re.fullmatch(r"layer([123])\.(\d+)\.conv([12])", layer)
    return layer == "conv1" or bool(m and int(m.group(2)) < (depth - 2) // 6)


def checks(config: Config) -> list[str]:
    ins, errs = config["instab"], []
    if ins["device"] == "cpu" and ins["gpu"] > 0:
        errs.append("instab.device is cpu but instab.gpu asks the scheduler for GPUs")
    t1, depth = ins["table1"], ins["network"]["depth"]
    if (depth - 2) % 6:
        errs.append(f"instab.network.depth ({depth}) must be 6n+2 (8, 20, 32, 44, 56, 110, ...)")
    elif not is_stage_conv(ins["fig2"]["layer"], depth):
        errs.append(f"instab.fig2.layer {ins['fig2']['layer']!r} is not a convolution of the "
                    f"depth-{depth} ResNet (e.g. layer2.0.conv1; blocks per stage: "
                    f"{(depth - 2) // 6})")
    for key, noise in (("pixel_noise", ins["pixel_noise"]),
                       ("fig2.pixel_noise", ins["fig2"].get("pixel_noise"))):
        if noise and ins["dataset"] != "geomnist":
            errs.append(f"instab.{key} ({noise}) applies to GeoMNIST only: set it to 0 for "
                        f"{ins['dataset']}")
    errs += copies_schedule_errors(t1["ks"], t1["stat_epochs"], t1["epochs"], t1["milestones"],
                                   "instab.table1.", "")
    if t1["snapshot_every"] > t1["epochs"]:
        errs.append(f"instab.table1.snapshot_every ({t1['snapshot_every']}) is more than "
                    f"instab.table1.epochs ({t1['epochs']}): no snapshot would be written (0: "
                    "none)")
    if config["targets"]["si_deep"] and not errs:
        errs += fig2_snapshot_errors(config)
    return errs


def _state_numel(config: Config, layer: str | None = None) -> int:
    """Values of the runs' network (all parameters and buffers, or one layer's weight), counted
    on the meta device: a typo'd width must not allocate here."""
    import torch

    from ..models.builtin import cifar_resnet

    ins = config["instab"]
    net = ins["network"]
    with torch.device("meta"):
        model = cifar_resnet(net["depth"], net["width"], images(config)[0],
                             facts(ins["dataset"]).n_classes)
    state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    return state[f"{layer}.weight"].numel() if layer else sum(t.numel() for t in state.values())


def fig2_snapshot_bytes(config: Config) -> int:
    """Bytes of every Figure 2 run's snapshots (two copies, the first update and every save)."""
    from ..snapshots import snapshot_bytes
    from .plan import fig2_jobs

    f2 = config["instab"]["fig2"]
    numel = _state_numel(config, f2["layer"] if f2["snapshots"]["tensors"] == "watched"
                         else None)
    return sum(snapshot_bytes(numel, 2, f2["saves"] + 1, job.dtype) for job in fig2_jobs(config))


def table1_snapshot_bytes(config: Config) -> int:
    """Bytes of every Table 1 run's snapshots (every copy, every snapshot_every-th epoch)."""
    from ..snapshots import snapshot_bytes

    ins = config["instab"]
    t1 = ins["table1"]
    if not t1["snapshot_every"]:
        return 0
    runs = len(t1["seeds"]) * len(t1["activations"])
    return runs * snapshot_bytes(_state_numel(config), len(t1["ks"]) + 1,
                                 t1["epochs"] // t1["snapshot_every"], ins["dtype"])


def fig2_snapshot_errors(config: Config) -> list[str]:
    try:
        size = fig2_snapshot_bytes(config) + table1_snapshot_bytes(config)
    except (RuntimeError, OverflowError):  # a network too large to describe: sizes refuse it
        return []
    limit = config["budget"]["snapshot_gib"]
    if size <= limit * 1024**3:
        return []
    return [f"instab.fig2.saves, instab.fig2.ns, instab.precision, instab.table1.snapshot_every, "
            f"instab.network: the Figure 2 and Table 1 runs' weight snapshots would take about {size / 1024**3:.1f} GiB, more than "
            f"budget.snapshot_gib ({limit:g}); set instab.fig2.snapshots.tensors: watched (only "
            "the watched layer), fewer saves or runs, a larger instab.table1.snapshot_every (0: "
            "none), or raise budget.snapshot_gib"]


def copies_schedule_errors(ks, stat_epochs: int, epochs: int, milestones, ks_prefix: str,
                           epochs_prefix: str) -> list[str]:
    """The perturbed copies' k values and epoch schedule (SI Table 1, and a study's instability
    analysis): keys named ``<ks_prefix>ks``, ``<ks_prefix>stat_epochs`` and
    ``<epochs_prefix>epochs`` / ``milestones``."""
    errs = []
    epochs_key = f"{epochs_prefix or ks_prefix}epochs"
    if 1 not in ks:
        errs.append(f"{ks_prefix}ks must include 1: the k = 1 copy is plain SGD and the twin of "
                    "the null control")
    if stat_epochs > epochs:
        errs.append(f"{ks_prefix}stat_epochs ({stat_epochs}) exceeds "
                    f"{epochs_prefix}epochs ({epochs})")
    late = [m for m in milestones if m >= epochs]
    if late:
        errs.append(f"{epochs_prefix or ks_prefix}milestones {late} are not below {epochs_key} "
                    f"({epochs}): the learning-rate drop would never happen")
    return errs


def images(config: Config) -> tuple[int, int, int, int]:
    """(channels, training images, test images, image side) of the runs' data set."""
    ins = config["instab"]
    f = facts(ins["dataset"])
    if ins["dataset"] == "geomnist":  # the pipeline's cache: its sizes are config keys
        return (f.channels, f.n_classes * ins["train_per_class"],
                f.n_classes * ins["test_per_class"], config["data"]["geomnist"]["image_size"])
    return (f.channels, *f.split_sizes, f.image_size[0])


def table1_work(config: Config) -> Work:
    """One Table 1 run: every k and the null control for the table's epochs."""
    ins, t1 = config["instab"], config["instab"]["table1"]
    channels, n_train, n_test, _ = images(config)
    flops, steps = resnet_job_cost(ins["network"], channels, len(t1["ks"]) + 1, n_train, n_test,
                                   t1["epochs"], t1["batch"])
    return Work(flops, steps, "resnet", ins["gpu"] > 0, ins["dtype"])


def fig2_work(config: Config, n: int, dtype: str, batch: int) -> Work:
    """One Figure 2 run: two copies for saves x n minibatches of ``batch`` images."""
    ins = config["instab"]
    flops, steps = resnet_steps_cost(ins["network"], images(config)[0], 2,
                                     ins["fig2"]["saves"] * n, batch)
    return Work(flops, steps, "resnet", ins["gpu"] > 0, dtype)


def table1_minutes(config: Config, w=None) -> int:
    """The runtime a Table 1 run asks for."""
    return table1_work(config).minutes(config["budget"])


def fig2_minutes(config: Config, w) -> int:
    """The runtime the Figure 2 run of wildcards ``w`` (dtype, n) asks for."""
    return fig2_work(config, int(w.n), w.dtype, config["instab"]["fig2"]["batch"]).minutes(
        config["budget"])


def needs(config: Config) -> list[Need]:
    ins, budget = config["instab"], config["budget"]
    net = ins["network"]
    channels, n_train, n_test, side = images(config)
    data_keys = (("instab.train_per_class", "instab.test_per_class")
                 if ins["dataset"] == "geomnist" else ())
    net_keys = ("instab.network.depth", "instab.network.width")
    gpu, t1, f2 = ins["gpu"] > 0, ins["table1"], ins["fig2"]
    # per image and copy, the tensors a training step keeps for backward (three per conv, stage
    # s has width * 2^s channels on (side / 2^s)^2 pixels); on a GPU they are device memory,
    # which this host cannot see: only the data sets count there
    blocks = (net["depth"] - 2) // 6
    act = 0 if gpu else net["width"] * side * side * 1.75 * (2 * blocks + 1) * 3 * 4
    data = (n_train + n_test) * channels * side * side * 8
    copies = len(t1["ks"]) + 1
    out = [Need(("instab.table1.epochs", *net_keys, *data_keys),
                "a Table 1 run (instab_table1_run)",
                data + copies * act * max(min(t1["batch"], n_train),
                                          min(t1["test_batch"], n_test) / 3),
                table1_work(config).seconds(budget))]
    runs = [(n, ins["dtype"], "instab.fig2.ns") for n in f2["ns"]]
    runs += [(n, d, "instab.precision.ns") for n in ins["precision"]["ns"]
             for d in ins["precision"]["dtypes"]]
    for n, dtype, key in runs:
        work = fig2_work(config, n, dtype, min(f2["batch"], n_train))
        out.append(Need(("instab.fig2.saves", key, *net_keys, *data_keys),
                        f"a Figure 2 run (instab_fig2_run, n = {n}, {dtype})",
                        data + 2 * act * min(f2["batch"], n_train) + 8 * f2["saves"],
                        work.seconds(budget)))
    return out


def data(config: Config) -> list[DataUse]:
    ins = config["instab"]
    if ins["dataset"] == "geomnist":
        return [DataUse("geomnist", ("instab.train_per_class", "instab.test_per_class"),
                        (ins["train_per_class"], ins["test_per_class"]))]
    return [DataUse(ins["dataset"], ("instab.dataset",))]


FAMILY = Family(
    "instab",
    targets={"si_deep": ("si_table1_accuracy", "si_fig2_divergence", "si_fig2_precision")},
    rules=("instab.smk",), checks=checks, needs=needs, data=data,
    scales={"table1": TABLE1_SCALE, "fig2": FIG2_SCALE},
    not_sizes={
        "instab.table1.seeds": "seeds", "instab.fig2.seed": "a seed",
        "instab.table1.ks": "perturbation factors", "instab.fig2.ks": "perturbation factors",
        "instab.gpu": "GPUs asked of the scheduler", "instab.threads": "at most 1024 (schema)",
        "instab.table1.milestones": "below instab.table1.epochs (checked)",
        "instab.table1.stat_epochs": "at most instab.table1.epochs (checked)",
        "instab.table1.batch": "a minibatch holds at most the training set (in the run's need)",
        "instab.table1.test_batch": "a test pass holds at most the test set (in the run's need)",
        "instab.fig2.batch": "a minibatch holds at most the training set (in the run's need)",
        "instab.table1.snapshot_every": "epochs between snapshots (their bytes are refused above "
                                        "budget.snapshot_gib)",
    })
