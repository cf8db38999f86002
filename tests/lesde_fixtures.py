"""Small data sets for the LE-SDE tests: a GeoMNIST cache and a CIFAR-10 archive in the real
python format, written by the tests themselves."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from traindyn.data.geomnist import build_geomnist


def geomnist_cache(path: Path, n_train: int = 8, n_val: int = 4) -> str:
    build_geomnist(str(path), n_train=n_train, n_val=n_val, seed=0, image_size=32,
                   max_angle_deg=176, blur_sigma=[0.9, 1.1])
    return str(path)


def cifar_archive(root: Path, per_class_train: int = 6, per_class_test: int = 4) -> str:
    """cifar-10-batches-py with 5 train batches, a test batch and the meta file (str keys, as
    the official Python-2 pickles load with encoding="latin1")."""
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(n_per_class: int, name: str) -> dict:
        labels = np.repeat(np.arange(10), n_per_class)
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        data[:, :1024] = (labels[:, None] * 25).astype(np.uint8)  # red channel encodes the class
        return {"batch_label": name, "labels": labels.tolist(), "data": data,
                "filenames": [f"{i}.png" for i in range(len(labels))]}

    for i in range(1, 6):
        with open(base / f"data_batch_{i}", "wb") as fh:
            pickle.dump(batch(per_class_train, f"training batch {i} of 5"), fh)
    with open(base / "test_batch", "wb") as fh:
        pickle.dump(batch(per_class_test, "testing batch 1 of 1"), fh)
    with open(base / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)],
                     "num_cases_per_batch": 60, "num_vis": 3072}, fh)
    return str(root)
