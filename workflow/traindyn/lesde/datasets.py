"""Training data of the LE-SDE runs: GeoMNIST from its cache, or the first K classes of CIFAR-10
read by torchvision from a local root (a subset drawn with replacement, as the authors do)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.cifar import check_cifar, read_cifar10
from ..data.geomnist import load_geomnist
from ..data.images import per_class_indices
from ..seeds import SUBSET, numpy_rng


@dataclass
class TrainData:
    x_train: np.ndarray  # (N, C, H, W) float
    y_train: np.ndarray  # (N,) true classes, class-ordered: sample i has class i // n_train
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int


def geomnist(path: str) -> TrainData:
    d = load_geomnist(path)
    return TrainData(d["x_train"], d["y_train"], d["x_val"], d["y_val"], int(d["y_train"].max()) + 1)


CIFAR_MEAN, CIFAR_STD = 0.5, 0.5  # ToTensor + Normalize(0.5, 0.5): values in [-1, 1]


def cifar10(root: str, n_classes: int, n_train: int, n_val: int, *, seed: int,
            download: bool = False) -> TrainData:
    """First ``n_classes`` classes; per class n_train training images drawn with replacement from
    its 5000 and n_val validation images from its 1000 test images (as the authors do)."""
    check_cifar(root, download)
    rng = numpy_rng(seed, f"cifar10-K{n_classes}", 0, SUBSET)
    parts = {}
    for split, train, n in (("train", True, n_train), ("val", False, n_val)):
        images, labels = read_cifar10(root, train, download)  # (N, 32, 32, 3) uint8
        picks = per_class_indices(labels, range(n_classes), n, rng, replace=True)
        x = images[np.concatenate(picks)].transpose(0, 3, 1, 2).astype(np.float64) / 255.0
        parts[split] = ((x - CIFAR_MEAN) / CIFAR_STD, np.repeat(np.arange(n_classes), n))
    return TrainData(parts["train"][0], parts["train"][1], parts["val"][0], parts["val"][1],
                     n_classes)
