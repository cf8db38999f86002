"""CIFAR-10 read by torchvision from a local root (a user may let torchvision download it)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .registry import facts

# The files of the python version of CIFAR-10, inside <root>/cifar-10-batches-py.
CIFAR_FILES = facts("cifar10").files
FOLDER = facts("cifar10").folder  # cifar-10-batches-py


def missing_cifar_message(root: str) -> str:
    return (f"CIFAR-10 not found under {root!r} (expected {root}/{FOLDER}). Put a copy "
            "of the python version of CIFAR-10 there (https://www.cs.toronto.edu/~kriz/cifar.html, "
            "cifar-10-python.tar.gz, unpacked) or set data.cifar10_download: true to let "
            "torchvision download it.")


def check_cifar(root: str | None, download: bool) -> None:
    """Fail at once, before any work, when the data are absent and may not be downloaded."""
    if root is None:
        raise FileNotFoundError("data.cifar10_root is not set: " + missing_cifar_message("<unset>"))
    if not download and not (Path(root) / FOLDER).is_dir():
        raise FileNotFoundError(missing_cifar_message(root))


def read_cifar10(root: str, train: bool, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 32, 32, 3) uint8, labels (N,)) of one split."""
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

    ds = LocalCIFAR10(root, train=train, download=download)
    return np.asarray(ds.data), np.asarray(ds.targets)
