"""Checks of the config's studies before any job (the Snakefile's config checks, so also
``snakemake -n``): names that would share a folder, a data set whose root is missing or in the
wrong format, a model that does not import, is not an ``nn.Module``, or does not fit the data
(input channels, one logit per class), layers the model does not have, and recipes that cannot
run. Every problem names its key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..instab.family import copies_schedule_errors
from .spec import data_kwargs, enabled, shape


def name_errors(studies: Mapping[str, Any]) -> list[str]:
    """Two studies whose names differ only in case would write into one folder on a
    case-insensitive file system."""
    seen: dict[str, str] = {}
    errs = []
    for name in studies:
        low = name.lower()
        if low in seen:
            errs.append(f"studies: {seen[low]!r} and {name!r} collide (output folders "
                        "results/studies/<name> differ only in case)")
        seen[low] = name
    return errs


def recipe_errors(name: str, study: Mapping[str, Any]) -> list[str]:
    key = f"studies.{name}"
    inst, les, t = study["instability"], study["lesde"], study["train"]
    errs = []
    if not (inst["enabled"] or les["enabled"]):
        errs.append(f"{key}: no analysis enabled (set instability.enabled or lesde.enabled)")
    if inst["enabled"]:
        errs += copies_schedule_errors(inst["ks"], inst["stat_epochs"], t["epochs"],
                                       t["milestones"], f"{key}.instability.", f"{key}.train.")
    elif late := [m for m in t["milestones"] if m >= t["epochs"]]:
        errs.append(f"{key}.train.milestones {late} are not below {key}.train.epochs "
                    f"({t['epochs']})")
    if inst["enabled"] and inst["probe_per_class"] and inst["snapshots"]["tensors"] != "all":
        errs.append(f"{key}.instability.probe_per_class needs snapshots.tensors: all (the probe "
                    "logits load every copy's whole network from its snapshots)")
    if les["enabled"] and les["trials_per_job"] > les["trials"]:
        errs.append(f"{key}.lesde.trials_per_job ({les['trials_per_job']}) exceeds trials "
                    f"({les['trials']})")
    if t["device"] == "cpu" and t["gpu"] > 0:
        errs.append(f"{key}.train.device is cpu but train.gpu asks the scheduler for GPUs")
    return errs


def model_and_data_errors(name: str, study: Mapping[str, Any], workdir: Path) -> list[str]:
    from ..data.images import data_errors

    key = f"studies.{name}"
    errs = data_errors(**data_kwargs(name, study), key=f"{key}.data")
    if errs:
        return errs  # the model cannot be checked against data that are not there
    channels, classes, size = shape(study)
    if None in (channels, classes, size):
        return []  # only the files tell (a torchvision class): checked in the job
    from ..models.checks import model_errors

    model = study["model"]
    errs = model_errors(model["name"], model["kwargs"], channels=channels, n_classes=classes,
                        image_size=size, key=f"{key}.model", workdir=workdir,
                        sample=sample_images(study, channels, size))
    if not errs:
        errs = batch_errors(name, study, workdir) + strategy_errors(name, study, workdir,
                                                                     channels, size)
    if not errs and study["instability"]["enabled"]:
        errs = layer_errors(name, study, workdir)
    return errs


def sample_images(study: Mapping[str, Any], channels: int, size) -> "torch.Tensor | None":
    """Two real training images of an ImageFolder study (the first of its first two classes),
    converted as its jobs convert them; None for other data (a forward on zeros checks them)."""
    from ..data.registry import facts

    d = study["data"]
    if facts(d["name"]).format != "image-folder":
        return None
    import numpy as np
    from PIL import Image

    from ..data.images import _tensor
    from ..data.readers import class_folders, image_files

    keep = d["classes"] or [0, 1]
    folders = class_folders(Path(d["root"]) / "train")
    arrays = []
    for c in keep[:2]:
        with Image.open(image_files(folders[c])[0]) as im:
            a = np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.float32) / 255
        arrays.append(a[..., None] if a.ndim == 2 else a)
    return _tensor(arrays, tuple(size), channels, d["root"])


def strategy_errors(name: str, study: Mapping[str, Any], workdir: Path, channels: int,
                    size) -> list[str]:
    """``lesde.strategy: vmap`` for a model that vmap cannot train (buffers, random draws)."""
    les = study["lesde"]
    if not (les["enabled"] and les["strategy"] == "vmap"):
        return []
    import torch

    from ..lesde.trial_models import vmap_supported
    from ..models.names import resolve_model

    model = resolve_model(study["model"]["name"], study["model"]["kwargs"],
                          workdir=workdir).build(0)
    sample = torch.zeros(2, channels, *size, dtype=next(model.parameters()).dtype)
    why = vmap_supported(model, sample)
    return [f"studies.{name}.lesde.strategy vmap cannot train this model: {why} (use loop or "
            "auto)"] if why else []


def batch_errors(name: str, study: Mapping[str, Any], workdir: Path) -> list[str]:
    """A model with BatchNorm cannot train on a minibatch of one image (its batch statistics
    are undefined): refused for LE-SDE batches of 1 and an epoch whose last minibatch is one."""
    from ..models.checks import has_batchnorm
    from ..models.names import resolve_model
    from .spec import per_class_counts

    model = resolve_model(study["model"]["name"], study["model"]["kwargs"], workdir=workdir)
    if not has_batchnorm(model.build(0)):
        return []
    key, errs = f"studies.{name}", []
    if study["lesde"]["enabled"] and study["lesde"]["batch"] == 1:
        errs.append(f"{key}.lesde.batch is 1 and the model has BatchNorm layers, which need at "
                    "least 2 images per step: set lesde.batch: 2 or more")
    counts = per_class_counts(study)
    classes = shape(study)[1]
    batch = study["train"]["batch"]
    if study["instability"]["enabled"] and counts and classes:
        n_train = counts[0] * classes
        if n_train % batch == 1:
            errs.append(f"{key}.train.batch {batch}: the {n_train} training images leave a last "
                        "minibatch of one image, which the model's BatchNorm layers cannot "
                        "train on; change train.batch or data.train_per_class")
    return errs


def layer_errors(name: str, study: Mapping[str, Any], workdir: Path) -> list[str]:
    """Watched layers must be parameters (or modules with a weight) of the model."""
    from ..models.names import resolve_model

    layers = study["instability"]["layers"]
    if not layers:
        return []
    model = resolve_model(study["model"]["name"], study["model"]["kwargs"],
                          workdir=workdir).build(0)
    params = {n for n, _ in model.named_parameters()}
    params |= {n for n, m in model.named_modules() if getattr(m, "weight", None) is not None}
    missing = [layer for layer in layers if layer not in params and layer != "*"]
    if missing:
        return [f"studies.{name}.instability.layers {missing} are not parameters or weighted "
                f"layers of the model (e.g. {sorted(params)[:4]})"]
    return []


def study_errors(studies: Mapping[str, Any], workdir: str | Path = ".") -> list[str]:
    """Every problem of the config's studies, one line each."""
    workdir = Path(workdir).resolve()
    errs = name_errors(studies)
    from ..extraction import metric_errors

    for name, study in enabled(studies).items():
        errs += recipe_errors(name, study)
        if study["instability"]["enabled"]:
            errs += metric_errors(study["instability"]["metrics"],
                                  f"studies.{name}.instability.metrics", str(workdir))
        errs += model_and_data_errors(name, study, workdir)
    return errs
