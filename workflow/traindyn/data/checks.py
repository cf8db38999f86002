"""Checks of the config's ``data`` section and of the data sets the enabled families read
(:class:`traindyn.family.DataUse`): the GeoMNIST generator's ranges, the memory and time of
every GeoMNIST cache to generate, and CIFAR-10 present under its root when it may not be
downloaded. Run before any job by :mod:`traindyn.config_checks` and :mod:`traindyn.sizes`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..family import CPU_GFLOPS, Config, DataUse, Need
from .cifar import CIFAR_FILES, FOLDER, missing_cifar_message
from .registry import facts

# Integer keys of `data` that need no size estimate, and why.
NOT_SIZES = {
    "data.geomnist.seed": "a seed",
    "data.geomnist.image_size": "at most 1024 (schema); its cost is in the data and ResNet needs",
}


def cache_needs(config: Config, uses: Sequence[DataUse]) -> list[Need]:
    """Every GeoMNIST cache the uses read (generated image by image), one per set of keys."""
    side = config["data"]["geomnist"]["image_size"]
    k = facts("geomnist").n_classes
    caches = {u.keys: u.per_class for u in uses if u.dataset == "geomnist"}
    return [Need(keys, "a GeoMNIST cache (geomnist)", k * (tr + va) * side * side * 8 * 3,
                 k * (tr + va) * (1e-4 + 400 * side * side / (CPU_GFLOPS * 1e9)))
            for keys, (tr, va) in caches.items()]


def _cifar_errors(config: Config, users: Sequence[str]) -> list[str]:
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
    missing = [f for f in CIFAR_FILES if not (path / FOLDER / f).is_file()]
    if missing:
        return [f"data.cifar10_root {root!r} is not in the expected format {why}: missing "
                f"{', '.join(f'{FOLDER}/{m}' for m in missing)}. "
                f"{missing_cifar_message(root)}"]
    return []


def data_errors(config: Config, uses: Sequence[DataUse]) -> list[str]:
    errs = []
    blur = config["data"]["geomnist"]["blur_sigma"]
    if blur[0] > blur[1]:
        errs.append(f"data.geomnist.blur_sigma: low {blur[0]} above high {blur[1]}")
    users = [key for u in uses if u.dataset == "cifar10" for key in u.keys]
    return errs + _cifar_errors(config, users)
