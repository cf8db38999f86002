"""Checks of a schema-valid, default-filled config that one key alone cannot express: values in
the schema's types (:mod:`.config_types`), sweep values that collide, rules across keys, the
memory and time the jobs would need, and external data that must be present. All run before any
job (the Snakefile calls :func:`check_filled_config`), and every problem names its key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import ConfigError
from .config_types import normalize
from .data.cifar import CIFAR_FILES, missing_cifar_message
from .lesde.noise import noise_name
from .sizes import size_errors

# ---------------------------------------------------------------- rules across keys


def _duplicates(values, name=lambda v: v) -> list[Any]:
    seen: dict[Any, Any] = {}
    dup = []
    for v in values:
        key = name(v)
        if key in seen:
            dup.append((seen[key], v, key))
        seen[key] = v
    return dup


def _is_stage_conv(layer: str, depth: int) -> bool:
    """Whether ``layer`` names a convolution a Figure 2 run may watch in the depth-``depth``
    ResNet: conv1, or layer{1,2,3}.{block}.conv{1,2} with block < (depth - 2) / 6."""
    m = re.fullmatch(r"layer([123])\.(\d+)\.conv([12])", layer)
    return layer == "conv1" or bool(m and int(m.group(2)) < (depth - 2) // 6)


def consistency_errors(config: Mapping[str, Any]) -> list[str]:
    """Rules between keys (the schema checks each key alone)."""
    errs = []
    targets, lesde, ins = config["targets"], config["lesde"], config["instab"]
    noise = lesde["geomnist_noise"]
    for a, b, name in _duplicates(noise["ps"], noise_name):
        errs.append(f"lesde.geomnist_noise.ps: {a!r} and {b!r} are the same noise setting "
                    f"'p{name}' (settings are named by p rounded to 2 decimals)")
    listed = {noise_name(p) for p in noise["ps"]}
    stray = [p for p in noise["replicates"]["ps"] if noise_name(p) not in listed]
    if stray:
        errs.append(f"lesde.geomnist_noise.replicates.ps {stray} are not noise levels of "
                    "lesde.geomnist_noise.ps: a replicate repeats a level of the sweep")
    if targets["lesde_figures"] and not (noise["enabled"] and 0.0 in noise["ps"]):
        errs.append("lesde.geomnist_noise.ps must include 0.0 (and the experiment be enabled) "
                    "while targets.lesde_figures is on: Figures 1, 3, 5 use the p = 0 run")
    for key in ("geomnist_noise", "geomnist_size", "cifar"):
        exp = lesde[key]
        per_class = exp.get("val_per_class")
        if exp["eval_subset"] is not None and per_class and exp["eval_subset"] > per_class:
            errs.append(f"lesde.{key}.eval_subset ({exp['eval_subset']}) exceeds "
                        f"val_per_class ({per_class}): use null to evaluate on all images")
    if lesde["device"] == "cpu" and lesde["gpu"] > 0:
        errs.append("lesde.device is cpu but lesde.gpu asks the scheduler for GPUs")
    if ins["device"] == "cpu" and ins["gpu"] > 0:
        errs.append("instab.device is cpu but instab.gpu asks the scheduler for GPUs")

    heat = config["heat"]["sweep"]
    if heat["dt_min"] >= heat["dt_max"]:
        errs.append(f"heat.sweep.dt_min ({heat['dt_min']}) must be below dt_max ({heat['dt_max']})")
    side = config["data"]["geomnist"]["image_size"]
    lesde_runs = targets["lesde_logs"] or targets["lesde_figures"]
    on = [f"lesde.{k}" for k in ("geomnist_noise", "geomnist_size") if lesde[k]["enabled"]]
    if side != 32 and lesde_runs and on:
        errs.append(f"data.geomnist.image_size ({side}) must be 32 while {' and '.join(on)} "
                    f"{'runs' if len(on) == 1 else 'run'}: the LE-SDE network (the paper's "
                    "SimpleConv) takes 32x32 images")
    amp = config["pde"]["amplification"]
    if amp["window"] > config["pde"]["iterations"]:
        errs.append(f"pde.amplification.window ({amp['window']}) exceeds pde.iterations "
                    f"({config['pde']['iterations']}): the moving average needs a full window")
    blur = config["data"]["geomnist"]["blur_sigma"]
    if blur[0] > blur[1]:
        errs.append(f"data.geomnist.blur_sigma: low {blur[0]} above high {blur[1]}")
    pde = config["pde"]
    if pde["kernel"]["size"] > pde["image"]["size"]:
        errs.append(f"pde.kernel.size ({pde['kernel']['size']}) is larger than pde.image.size "
                    f"({pde['image']['size']}): the valid convolution would be empty")

    t1, depth = ins["table1"], ins["network"]["depth"]
    if (depth - 2) % 6:
        errs.append(f"instab.network.depth ({depth}) must be 6n+2 (8, 20, 32, 44, 56, 110, ...)")
    elif not _is_stage_conv(ins["fig2"]["layer"], depth):
        errs.append(f"instab.fig2.layer {ins['fig2']['layer']!r} is not a convolution of the "
                    f"depth-{depth} ResNet (e.g. layer2.0.conv1; blocks per stage: "
                    f"{(depth - 2) // 6})")
    if ins["pixel_noise"] and ins["dataset"] != "geomnist":
        errs.append(f"instab.pixel_noise ({ins['pixel_noise']}) applies to GeoMNIST only: set it "
                    f"to 0 for {ins['dataset']}")
    if 1 not in t1["ks"]:
        errs.append("instab.table1.ks must include 1: the k = 1 copy is plain SGD and the twin of "
                    "the null control")
    if t1["stat_epochs"] > t1["epochs"]:
        errs.append(f"instab.table1.stat_epochs ({t1['stat_epochs']}) exceeds epochs "
                    f"({t1['epochs']})")
    late = [m for m in t1["milestones"] if m >= t1["epochs"]]
    if late:
        errs.append(f"instab.table1.milestones {late} are not below epochs ({t1['epochs']}): "
                    "the learning-rate drop would never happen")
    return errs


# ---------------------------------------------------------------- external data


def cifar_needed(config: Mapping[str, Any]) -> list[str]:
    """Config keys whose runs read CIFAR-10."""
    keys = []
    if config["lesde"]["cifar"]["enabled"]:
        keys.append("lesde.cifar.enabled")
    if config["instab"]["dataset"] == "cifar10":
        keys.append("instab.dataset")
    return keys


def external_data_errors(config: Mapping[str, Any]) -> list[str]:
    users = cifar_needed(config)
    data = config["data"]
    if not users or data["cifar10_download"]:
        return []
    root = data["cifar10_root"]
    why = f"(needed by {', '.join(users)})"
    if root is None:
        return [f"data.cifar10_root is not set {why}: {missing_cifar_message('<unset>')}"]
    path = Path(root)
    if not path.exists():
        return [f"data.cifar10_root {root!r} does not exist {why}: {missing_cifar_message(root)}"]
    if not path.is_dir():
        return [f"data.cifar10_root {root!r} is not a directory {why}: "
                f"{missing_cifar_message(root)}"]
    base = path / "cifar-10-batches-py"
    missing = [f for f in CIFAR_FILES if not (base / f).is_file()]
    if missing:
        return [f"data.cifar10_root {root!r} is not in the expected format {why}: missing "
                f"{', '.join(f'cifar-10-batches-py/{m}' for m in missing)}. "
                f"{missing_cifar_message(root)}"]
    return []


def check_filled_config(config: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Values in the schema's types, then raise :class:`ConfigError` listing every cross-key,
    size, external-data and study problem."""
    normalize(config, schema)
    problems = consistency_errors(config) + size_errors(config) + external_data_errors(config)
    if config.get("studies"):
        from .studies.checks import study_errors

        problems += study_errors(config["studies"])
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))

