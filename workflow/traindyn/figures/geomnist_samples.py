"""A grid of GeoMNIST training images, one row per class (LE-SDE data)."""

from __future__ import annotations

import numpy as np

from ..data.geomnist import load_geomnist
from ..plots.style import plt, save_figure


def build_samples_figure(data: str, pdf: str, png: str, *, per_class: int = 10) -> None:
    ds = load_geomnist(data)
    x, y, names = ds["x_train"], ds["y_train"], ds["class_names"]
    classes = np.unique(y)
    fig, axes = plt.subplots(len(classes), per_class,
                             figsize=(1.0 * per_class, 1.1 * len(classes)), squeeze=False)
    for row, c in zip(axes, classes):
        idx = np.flatnonzero(y == c)[:per_class]
        for ax, i in zip(row, idx):
            ax.imshow(x[i, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        row[0].set_ylabel(f"{c}: {names[c]}", fontsize=8)
    fig.suptitle(f"GeoMNIST training samples ({x.shape[-1]}x{x.shape[-1]}, "
                 f"{len(y) // len(classes)} per class), rotated 0-176 deg and blurred")
    save_figure(fig, pdf, png)
