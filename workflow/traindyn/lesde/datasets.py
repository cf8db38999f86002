"""Training data of the LE-SDE runs: GeoMNIST from its cache, or the first K classes of CIFAR-10
read by torchvision from a local root (a subset drawn with replacement, as the authors do)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.geomnist import load_geomnist
from .seeds import SUBSET, numpy_rng


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


def missing_cifar_message(root: str) -> str:
    return (f"CIFAR-10 not found under {root!r} (expected {root}/cifar-10-batches-py). Put a copy "
            "of the python version of CIFAR-10 there (https://www.cs.toronto.edu/~kriz/cifar.html, "
            "cifar-10-python.tar.gz, unpacked) or set data.cifar10_download: true to let "
            "torchvision download it.")


def check_cifar(root: str | None, download: bool) -> None:
    """Fail at once, before any work, when the data are absent and may not be downloaded."""
    if root is None:
        raise FileNotFoundError("data.cifar10_root is not set: " + missing_cifar_message("<unset>"))
    if not download and not (Path(root) / "cifar-10-batches-py").is_dir():
        raise FileNotFoundError(missing_cifar_message(root))


def cifar10(root: str, n_classes: int, n_train: int, n_val: int, *, seed: int,
            download: bool = False) -> TrainData:
    """First ``n_classes`` classes; per class n_train training images drawn with replacement from
    its 5000 and n_val validation images from its 1000 test images (notes Q13)."""
    check_cifar(root, download)
    from torchvision.datasets import CIFAR10

    class LocalCIFAR10(CIFAR10):
        """torchvision's reader; a local copy is checked for completeness, not for the md5 sums
        of the official archive (so subsets and test fixtures in the same format load)."""

        def _check_integrity(self) -> bool:
            if download:
                return super()._check_integrity()
            base = Path(self.root) / self.base_folder
            missing = [f for f, _ in self.train_list + self.test_list if not (base / f).exists()]
            if missing:
                raise FileNotFoundError(f"incomplete CIFAR-10 copy under {base}: missing "
                                        f"{', '.join(missing)}. " + missing_cifar_message(root))
            return True

        def _load_meta(self) -> None:
            if download:
                return super()._load_meta()
            with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as fh:
                self.classes = pickle.load(fh, encoding="latin1")[self.meta["key"]]
            self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    rng = numpy_rng(seed, f"cifar10-K{n_classes}", 0, SUBSET)
    parts = {}
    for split, train, n in (("train", True, n_train), ("val", False, n_val)):
        ds = LocalCIFAR10(root, train=train, download=download)
        images = np.asarray(ds.data)  # (N, 32, 32, 3) uint8
        labels = np.asarray(ds.targets)
        xs, ys = [], []
        for c in range(n_classes):
            pick = rng.choice(np.flatnonzero(labels == c), size=n, replace=True)
            xs.append(images[pick])
            ys.append(np.full(n, c))
        x = np.concatenate(xs).transpose(0, 3, 1, 2).astype(np.float64) / 255.0
        parts[split] = ((x - CIFAR_MEAN) / CIFAR_STD, np.concatenate(ys))
    return TrainData(parts["train"][0], parts["train"][1], parts["val"][0], parts["val"][1],
                     n_classes)
