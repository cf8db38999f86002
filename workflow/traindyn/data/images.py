"""Any data set of :mod:`traindyn.data.registry` as tensors, from a local root: per-class
subsampling (seeded), class subsets, channel conversion, resizing, and the noise the paper runs
put in (label noise, fixed pixel noise).

:func:`data_errors` checks a root without reading it (a config check before any job);
:func:`load_images` checks the same and returns an :class:`ImageSet`. All randomness (the
subsample, the label corruption) comes from generators seeded by (seed, data-set name), so the
same arguments give the same tensors bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..seeds import NOISE, SUBSET, numpy_rng
from .noise import corrupt_labels, pixel_noise as add_pixel_noise
from .registry import DatasetFacts, facts
from .tensors import ImageData

__all__ = ["ImageSet", "data_errors", "load_images"]

NORMALIZE = ("standardize", "none")


@dataclass
class ImageSet:
    """Images (N, C, H, W) and labels of one data set, class-ordered within each split."""
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor  # the labels trained on (corrupted where label_noise > 0)
    x_test: torch.Tensor
    y_test: torch.Tensor
    true_train: torch.Tensor  # the true classes of the training images
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.x_train.shape[2]), int(self.x_train.shape[3])

    def instab_data(self, augment: bool = False):
        """The same tensors as the instability runs' :class:`~traindyn.data.tensors.ImageData`
        (``augment``: the CIFAR random crop and flip per minibatch)."""
        return ImageData(self.x_train, self.y_train, self.x_test, self.y_test, self.n_classes,
                         augment)


# ---------------------------------------------------------------- checks before any work


def _missing_root(key: str, f: DatasetFacts, root, why: str) -> str:
    fix = f" Put {f.source} there" + (f" or set {key}.download: true to let torchvision "
                                       "download it" if f.downloadable else "")
    return f"{key}.root {root!r} {why} ({f.title}).{fix}."


def _image_folder_errors(key: str, f: DatasetFacts, root: Path) -> list[str]:
    from .readers import class_folders, image_files

    errs, names = [], {}
    for split in f.files:
        path = root / split
        if not path.is_dir():
            errs.append(_missing_root(key, f, str(root), f"has no {split}/ folder ({path})"))
            continue
        folders = class_folders(path)
        empty = [str(p) for p in folders if not image_files(p)]
        if not folders:
            errs.append(f"{key}.root: {path} holds no class folders ({f.source})")
        elif empty:
            errs.append(f"{key}.root: class folders without images: {', '.join(empty)}")
        names[split] = [p.name for p in folders]
    if len(names) == 2 and names["train"] != names["test"]:
        errs.append(f"{key}.root {str(root)!r}: train/ and test/ hold different class folders "
                    f"({names['train']} vs {names['test']})")
    return errs


def _root_errors(key: str, f: DatasetFacts, root, download: bool,
                 torchvision_class: str | None) -> list[str]:
    if f.format == "geomnist":
        if root is not None and not Path(root).is_file():
            return [f"{key}.root {root!r} does not exist (GeoMNIST cache .npz; leave root unset "
                    "to generate the images)"]
        return []
    if f.format == "torchvision":
        from .readers import torchvision_class as find

        try:
            find(str(torchvision_class))
        except ValueError as err:
            return [f"{key}.torchvision_class: {err}"]
    if root is None:
        return [f"{key}.root is not set ({f.title}): name the local folder that holds "
                f"{f.source}"]
    if download:
        return []
    path = Path(root)
    if not path.exists():
        return [_missing_root(key, f, root, "does not exist")]
    if not path.is_dir():
        return [_missing_root(key, f, root, "is not a directory")]
    if f.format == "image-folder":
        return _image_folder_errors(key, f, path)
    base = path / f.folder if f.folder else path
    missing = [f"{f.folder}/{m}" if f.folder else m for m in f.files if not (base / m).is_file()]
    if missing:
        return [_missing_root(key, f, root, f"is not in the expected format: missing "
                                            f"{', '.join(missing)}")]
    return []


def _spec_errors(key: str, f: DatasetFacts, root, classes, train_per_class,
                 normalize: str) -> list[str]:
    errs = []
    if f.format == "geomnist" and root is None and train_per_class is None:
        errs.append(f"{key}.train_per_class must be set to generate GeoMNIST (or give a cache "
                    "as root)")
    if classes is not None:
        if len(set(classes)) != len(classes) or len(classes) < 2:
            errs.append(f"{key}.classes {list(classes)}: needs at least two distinct classes")
        elif f.n_classes is not None and not all(0 <= c < f.n_classes for c in classes):
            errs.append(f"{key}.classes {list(classes)}: {f.title} has classes "
                        f"0..{f.n_classes - 1}")
    if normalize not in NORMALIZE:
        errs.append(f"{key}.normalize {normalize!r}: one of {', '.join(NORMALIZE)}")
    return errs


def data_errors(name: str, root: str | None = None, *, download: bool = False,
                torchvision_class: str | None = None, classes: Sequence[int] | None = None,
                train_per_class: int | None = None, test_per_class: int | None = None,
                image_size=None, replace: bool = False, normalize: str = "standardize",
                key: str = "data", **_: object) -> list[str]:
    """Every problem of a data-set spec, one line each, naming ``key`` (the config key of the
    spec), the path and what is missing. Files are not read, except an ImageFolder tree's,
    which is scanned whole (:mod:`.folder_scan`: classes, every image decoded, sizes). Takes the
    arguments of :func:`load_images` (those it does not check are ignored)."""
    try:
        f = facts(name)
    except KeyError as err:
        return [f"{key}.name: {err.args[0]}"]
    errs = (_root_errors(key, f, root, download, torchvision_class)
            + _spec_errors(key, f, root, classes, train_per_class, normalize))
    if f.format == "image-folder" and not errs:
        from .folder_scan import folder_errors, scan_image_folder

        errs = folder_errors(key, scan_image_folder(root), classes, image_size, train_per_class,
                             test_per_class, replace)
    return errs


def check_data(name: str, root: str | None = None, **spec) -> None:
    """:func:`data_errors` as an exception: FileNotFoundError when the data are not where the
    spec says, ValueError for a bad spec."""
    errs = data_errors(name, root, **spec)
    if errs:
        key = spec.get("key", "data")
        f = facts(name)
        on_disk = _root_errors(key, f, root, spec.get("download", False),
                               spec.get("torchvision_class"))
        raise (FileNotFoundError if on_disk else ValueError)("; ".join(errs))


# ---------------------------------------------------------------- subsets


def per_class_indices(labels: np.ndarray, classes: Sequence[int], n: int | None,
                      rng: np.random.Generator | None, replace: bool = False,
                      what: str = "images") -> list[np.ndarray]:
    """For each class in turn, the indices of ``n`` of its images drawn by ``rng`` (all of them,
    in stored order, when ``n`` is None). Without replacement a class with fewer than ``n``
    images is an error naming it."""
    out = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if n is None:
            out.append(idx)
            continue
        if not replace and n > len(idx):
            raise ValueError(f"class {c} has {len(idx)} {what}, fewer than the {n} per class "
                             "asked for (or allow drawing with replacement)")
        out.append(rng.choice(idx, size=n, replace=replace))
    return out


def _read(f: DatasetFacts, root, train: bool, download: bool, torchvision_class, geomnist):
    """(images (N, H, W, C) uint8 or float, or a list of them; labels; class names)."""
    from . import readers

    if f.format == "geomnist":
        return geomnist[0 if train else 1]
    if f.format == "cifar-python":
        return readers.read_cifar(root, train, download)
    if f.format == "idx":
        return readers.read_idx(f.name, root, train, download)
    if f.format == "image-folder":
        return readers.read_image_folder(root, train)
    return readers.read_torchvision(torchvision_class, root, train, download)


def _geomnist_splits(root, train_per_class, test_per_class, seed, image_size, options):
    """Both GeoMNIST splits, (N, H, W, 1) float in [0, 1]: read from a cache or generated."""
    from .geomnist import generate, load_geomnist

    if root is not None:
        d = load_geomnist(root)
    else:
        size = image_size if isinstance(image_size, int) or image_size is None else image_size[0]
        d = generate(train_per_class, test_per_class or 0, seed,
                     **({"image_size": size} if size else {}), **(options or {}))
    names = facts("geomnist").class_names
    return ((d["x_train"].transpose(0, 2, 3, 1), d["y_train"], names),
            (d["x_val"].transpose(0, 2, 3, 1), d["y_val"], names))


def _as_float(images) -> list[np.ndarray] | np.ndarray:
    def one(a):
        return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return [one(a) for a in images] if isinstance(images, list) else one(images)


def _tensor(images, size, channels, where: str) -> torch.Tensor:
    """(N, C, H, W) float32 from (N, H, W, C) arrays: channels converted (1 -> 3 repeats the
    gray channel, 3 -> 1 averages), resized (bilinear, antialiased) to ``size``."""
    def convert(a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2)
        if channels is not None and t.shape[1] != channels:
            if (t.shape[1], channels) == (1, 3):
                t = t.expand(-1, 3, -1, -1)
            elif channels == 1:
                t = t.mean(dim=1, keepdim=True)
            else:
                raise ValueError(f"cannot make {t.shape[1]}-channel images {channels}-channel")
        if size is not None and tuple(t.shape[2:]) != size:
            t = torch.nn.functional.interpolate(t, size=size, mode="bilinear",
                                                align_corners=False, antialias=True)
        return t.contiguous()

    if isinstance(images, list):
        if size is None:
            raise ValueError(f"the images of {where} differ in size: set image_size")
        return torch.cat([convert(a[None]) for a in images]) if images else torch.empty(0)
    return convert(images)


def load_images(name: str, root: str | None = None, *, download: bool = False,
                torchvision_class: str | None = None, classes: Sequence[int] | None = None,
                train_per_class: int | None = None, test_per_class: int | None = None,
                replace: bool = False, image_size: int | Sequence[int] | None = None,
                channels: int | None = None, label_noise: float = 0.0, pixel_noise: float = 0.0,
                normalize: str = "standardize", seed: int = 0, geomnist: dict | None = None,
                dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu",
                key: str = "data") -> ImageSet:
    """A data set as tensors. ``classes``: original class indices kept, relabelled 0..K-1 in the
    order given; ``train_per_class`` / ``test_per_class``: images drawn per class (seeded; with
    ``replace`` as the LE-SDE CIFAR runs draw); ``image_size``: (H, W) or a side; ``channels``:
    1 or 3; ``label_noise``: the LE-SDE corruption of the training labels; ``pixel_noise``: the
    SI runs' fixed Gaussian noise (sigma, in units of the [0, 1] pixel scale, before
    normalization); ``normalize``: per-channel standardization by the training set's mean and
    std, or none (pixels in [0, 1]). GeoMNIST is generated (``train_per_class`` /
    ``test_per_class`` images, ``geomnist``: generator options) unless ``root`` is its cache."""
    check_data(name, root, download=download, torchvision_class=torchvision_class,
               classes=classes, train_per_class=train_per_class, test_per_class=test_per_class,
               image_size=image_size, replace=replace, normalize=normalize, key=key)
    f = facts(name)
    size = (image_size, image_size) if isinstance(image_size, int) else (
        tuple(image_size) if image_size is not None else None)
    gen = (_geomnist_splits(root, train_per_class, test_per_class, seed, size, geomnist)
           if f.format == "geomnist" else None)
    rng = numpy_rng(seed, f"data/{name}", 0, SUBSET)
    where = root or name
    splits, names = [], ()
    for train, n in ((True, train_per_class), (False, test_per_class)):
        images, labels, names = _read(f, root, train, download, torchvision_class, gen)
        names = tuple(names) or tuple(str(c) for c in range(int(labels.max()) + 1))
        keep = list(classes) if classes is not None else list(range(len(names)))
        if max(keep) >= len(names):
            raise ValueError(f"{key}.classes {keep}: {where} has {len(names)} classes")
        if f.format == "geomnist" and root is None:
            n = None  # generated at the asked size already
        picks = per_class_indices(labels, keep, n, rng, replace, f"{'train' if train else 'test'} "
                                  f"images in {where}")
        order = np.concatenate(picks)
        new_labels = np.repeat(np.arange(len(keep)), [len(p) for p in picks])
        chosen = ([images[i] for i in order] if isinstance(images, list) else images[order])
        x = _tensor(_as_float(chosen), size, channels, where)
        if pixel_noise:
            x = torch.from_numpy(add_pixel_noise(x.numpy(), pixel_noise, 0 if train else 1))
        splits.append((x, new_labels))
        names = tuple(names[c] for c in keep)
    (x_train, true_train), (x_test, y_test) = splits
    if normalize == "standardize":
        # per channel, from the training set (float64 statistics; the images keep their dtype)
        mean = x_train.double().mean(dim=(0, 2, 3), keepdim=True)
        std = x_train.double().std(dim=(0, 2, 3), keepdim=True, unbiased=False).clamp_min(1e-12)
        x_train, x_test = ((x.double() - mean) / std for x in (x_train, x_test))
    y_train = (corrupt_labels(true_train, label_noise, len(names),
                              numpy_rng(seed, f"data/{name}", 0, NOISE))
               if label_noise else true_train)
    images = [torch.as_tensor(x, dtype=dtype, device=device) for x in (x_train, x_test)]
    labels = [torch.as_tensor(y, dtype=torch.long, device=device)
              for y in (y_train, y_test, true_train)]
    return ImageSet(name, images[0], labels[0], images[1], labels[1], labels[2], names)
