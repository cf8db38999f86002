"""Tiny image data sets in real on-disk formats, written by the tests themselves (no downloads):
MNIST-layout idx files and an ImageFolder tree of PNGs. (CIFAR-10: lesde_fixtures.py.)"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def _class_images(labels: np.ndarray, shape: tuple[int, ...], rng) -> np.ndarray:
    """uint8 noise images whose top-left pixel encodes the class (20 * class)."""
    x = rng.integers(0, 256, size=(len(labels), *shape), dtype=np.uint8)
    x[:, 0, 0] = (labels * 20).astype(np.uint8).reshape(-1, *([1] * (len(shape) - 2)))
    return x


def mnist_idx(root: Path, folder: str = "MNIST", per_class_train: int = 3,
              per_class_test: int = 2, side: int = 28) -> str:
    """<root>/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte, 10 classes."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", per_class_train), ("t10k", per_class_test)):
        labels = np.tile(np.arange(10), n).astype(np.uint8)  # classes interleaved
        images = _class_images(labels, (side, side), rng)
        (raw / f"{split}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x803, len(labels), side, side) + images.tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x801, len(labels)) + labels.tobytes())
    return str(root)


def image_folder(root: Path, classes=("cat", "dog", "owl"), per_class_train: int = 4,
                 per_class_test: int = 2, size=(12, 10), gray: bool = False) -> str:
    """<root>/{train,test}/<class>/<i>.png (RGB, or grayscale)."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for split, n in (("train", per_class_train), ("test", per_class_test)):
        for c, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            shape = size if gray else (*size, 3)
            for i, image in enumerate(_class_images(np.full(n, c), shape, rng)):
                Image.fromarray(image).save(folder / f"{i}.png")
    return str(root)
