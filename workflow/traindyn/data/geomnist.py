"""GeoMNIST (LE-SDE notes §3.1): generated images of triangles, rectangles and ellipses.

Class order follows the generator of the paper: 0 triangle, 1 rectangle, 2 ellipse. Within a class
of n images the rotation angle runs linearly from 0 to ``max_angle_deg`` and the size (ellipse) or
the diagonal shift (rectangle, triangle) varies linearly; each image is then Gaussian-blurred with
its own sigma ~ U(blur_sigma). Images are shuffled per class and split into the first ``n_train``
(train) and the next ``n_val`` (validation). Shape sizes are given for 32x32 and scale with
``image_size``. All randomness comes from one generator seeded by (seed, "geomnist").
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ..atomic import save_npz
from ..provenance import provenance

CLASS_NAMES = ("triangle", "rectangle", "ellipse")
_STREAM = 0x6E0  # "geomnist" stream id inside the seed sequence


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    c = np.arange(size, dtype=np.float64) - size / 2
    return np.meshgrid(c, c, indexing="xy")  # x to the right, y downwards


def triangle(size: int, shift: float) -> np.ndarray:
    """Isosceles triangle, base 2*rx wide, 2*ry tall (rx=10, ry=8 at 32 px), moved diagonally."""
    s = size / 32
    x, y = _grid(size)
    x, y = x - shift * s, y - shift * s
    rx, ry = 10 * s, 8 * s
    inside = (y <= ry) & (y >= -ry + 2 * ry * np.abs(x) / rx)
    return inside.astype(np.float64)


def rectangle(size: int, shift: float) -> np.ndarray:
    """Axis-aligned 2*rx x 2*ry rectangle (rx=4, ry=8 at 32 px), moved diagonally."""
    s = size / 32
    x, y = _grid(size)
    x, y = x - shift * s, y - shift * s
    return ((np.abs(x) <= 4 * s) & (np.abs(y) <= 8 * s)).astype(np.float64)


def ellipse(size: int, radius: float) -> np.ndarray:
    """Ellipse with semi-axes (r, 2r), r given at 32 px."""
    s = size / 32
    x, y = _grid(size)
    r = radius * s
    return ((x / r) ** 2 + (y / (2 * r)) ** 2 <= 1.0).astype(np.float64)


def generate_class(label: int, n: int, rng: np.random.Generator, *, image_size: int,
                   max_angle_deg: float, blur_sigma: Sequence[float]) -> np.ndarray:
    """n images of one class, in shuffled order, shape (n, image_size, image_size)."""
    angles = np.linspace(0.0, max_angle_deg, n)
    shifts = np.linspace(-1.0, 1.0, n)
    radii = np.linspace(5.0, 7.0, n)
    sigmas = rng.uniform(blur_sigma[0], blur_sigma[1], size=n)
    out = np.empty((n, image_size, image_size))
    for i in range(n):
        if label == 0:
            img = triangle(image_size, shifts[i])
        elif label == 1:
            img = rectangle(image_size, shifts[i])
        else:
            img = ellipse(image_size, radii[i])
        img = ndimage.rotate(img, angles[i], reshape=False, order=3, mode="constant")
        out[i] = ndimage.gaussian_filter(img, sigmas[i] * image_size / 32)
    return out[rng.permutation(n)]


def generate(n_train: int, n_val: int, seed: int, *, image_size: int = 32,
             max_angle_deg: float = 176.0, blur_sigma: Sequence[float] = (0.9, 1.1),
             n_classes: int = 3) -> dict[str, np.ndarray]:
    """Class-ordered train/val arrays: x_* (N, 1, H, W) float32, y_* (N,) int64.

    Training sample ``i`` has true class ``i // n_train`` (the LE-SDE logs rely on this order).
    """
    if not 1 <= n_classes <= 3:
        raise ValueError(f"GeoMNIST has 3 classes, asked for {n_classes}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, _STREAM]))
    per_class = [
        generate_class(c, n_train + n_val, rng, image_size=image_size,
                       max_angle_deg=max_angle_deg, blur_sigma=blur_sigma)
        for c in range(n_classes)
    ]
    x_train = np.concatenate([p[:n_train] for p in per_class])[:, None].astype(np.float32)
    x_val = np.concatenate([p[n_train:] for p in per_class])[:, None].astype(np.float32)
    return {
        "x_train": x_train,
        "y_train": np.repeat(np.arange(n_classes), n_train),
        "x_val": x_val,
        "y_val": np.repeat(np.arange(n_classes), n_val),
    }


def build_geomnist(out: str, *, n_train: int, n_val: int, seed: int, image_size: int,
                   max_angle_deg: float, blur_sigma: Sequence[float]) -> None:
    """Snakemake step: generate and cache one GeoMNIST data set with its provenance."""
    params = dict(n_train=n_train, n_val=n_val, seed=seed, image_size=image_size,
                  max_angle_deg=max_angle_deg, blur_sigma=list(blur_sigma))
    arrays = generate(n_train, n_val, seed, image_size=image_size, max_angle_deg=max_angle_deg,
                      blur_sigma=blur_sigma)
    save_npz(out, **arrays, class_names=np.array(CLASS_NAMES),
             provenance=json.dumps(provenance(params)))


def load_geomnist(path: str) -> dict[str, np.ndarray]:
    """Load a cached data set; a missing file names the rule that makes it."""
    try:
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise FileNotFoundError(
            f"GeoMNIST cache {path} is missing: build it with `snakemake {path}`") from None
