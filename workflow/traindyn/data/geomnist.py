"""GeoMNIST: generated images of triangles, rectangles and ellipses (the LE-SDE paper's data).

Class order follows the paper's generator: 0 triangle, 1 rectangle, 2 ellipse. Within a class of
n images, image i is built in four steps:

1. a binary base shape is rasterised with ``skimage.draw`` on an ``image_size`` square, centred at
   (c, c) with c = size/2 in (row, column) pixel coordinates, exactly as the paper's generator draws it
   (sizes below are at 32 px and scale with ``image_size``):

   - triangle: ``skimage.draw.polygon`` through the vertices (row, col) = (c, c - 8*sqrt(3)),
     (c + 10, c + 8), (c - 10, c + 8), i.e. a base 20 px long at column c + 8 and an apex
     8*sqrt(3) ~ 13.9 px on the other side of the centre (21.9 px from base to apex); a pixel is
     in when its centre is inside. 209-230 pixels, 230 at whole-pixel shifts.
   - rectangle: ``skimage.draw.rectangle`` from corner (c - 4, c - 8) to (c + 4, c + 8), corners
     rounded to whole pixels and both ends included: always 9 rows x 17 columns = 153 pixels.
   - ellipse: ``skimage.draw.ellipse`` with semi-axes r (rows) and 2r (columns); a pixel is in when
     its centre is strictly inside.

   Triangle and rectangle are moved diagonally (the same shift added to row and column) by
   ``shift = linspace(-1, 1, n)[i]``; the ellipse's r is ``linspace(5, 7, n)[i]``.
2. rotation by ``max_angle_deg * i / n`` degrees about the image centre (cubic spline, zeros
   outside), so angles run from 0 up to (not including) ``max_angle_deg``;
3. Gaussian blur with its own sigma ~ U(blur_sigma);
4. the class is shuffled and split into the first ``n_train`` (train) and next ``n_val`` (val).

All randomness (blur sigmas, shuffles) comes from one generator seeded by (seed, "geomnist"):
the same seed gives bitwise-identical arrays.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage import draw

from ..atomic import load_npz, save_npz
from ..identity import check_identity, path_identity
from ..provenance import provenance
from .registry import facts

CLASS_NAMES = facts("geomnist").class_names
CACHE_PATH = (r"(?:^|/)results/data/geomnist/"
              r"ntr(?P<n_train>\d+)_nval(?P<n_val>\d+)_seed(?P<seed>\d+)\.npz$")
_STREAM = 0x6E0  # "geomnist" stream id inside the seed sequence
# Shape parameters at 32 px (half-sizes in pixels); they scale with image_size / 32.
TRIANGLE_HALF_BASE, TRIANGLE_RY = 10.0, 8.0  # base 20 px; apex TRIANGLE_RY*sqrt(3) past centre
RECTANGLE_HALF = (4.0, 8.0)  # (rows, columns)
ELLIPSE_RADII = (5.0, 7.0)  # range of the row semi-axis r; the column semi-axis is 2r
SHIFT_RANGE = (-1.0, 1.0)  # diagonal shift of triangle and rectangle


def _mask(size: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    img = np.zeros((size, size), dtype=np.float64)
    img[np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)] = 1.0
    return img


def triangle(size: int, shift: float) -> np.ndarray:
    """Binary triangle (float 0/1): base 20 px along the rows at column c+8, apex at column
    c - 8*sqrt(3) (sizes at 32 px), moved diagonally by ``shift`` px (at 32 px)."""
    s = size / 32
    c, d = size / 2, shift * s
    hb, ry = TRIANGLE_HALF_BASE * s, TRIANGLE_RY * s
    rows = np.array([c, c + hb, c - hb]) + d
    cols = np.array([c - ry * np.sqrt(3), c + ry, c + ry]) + d
    return _mask(size, *draw.polygon(rows, cols, shape=(size, size)))


def rectangle(size: int, shift: float) -> np.ndarray:
    """Binary rectangle (float 0/1) from corner (c-4, c-8) to (c+4, c+8) (at 32 px) moved
    diagonally by ``shift``; corners rounded, both ends included (9 x 17 pixels at 32 px)."""
    s = size / 32
    c, d = size / 2, shift * s
    hr, hc = RECTANGLE_HALF[0] * s, RECTANGLE_HALF[1] * s
    rows, cols = draw.rectangle((c - hr + d, c - hc + d), (c + hr + d, c + hc + d),
                                shape=(size, size))
    return _mask(size, rows, cols)


def ellipse(size: int, radius: float) -> np.ndarray:
    """Binary ellipse (float 0/1) centred at (size/2, size/2): semi-axes r along the rows and 2r
    along the columns (r given at 32 px), pixel centres strictly inside."""
    s = size / 32
    c, r = size / 2, radius * s
    return _mask(size, *draw.ellipse(c, c, r, 2 * r, shape=(size, size)))


def base_shapes(label: int, n: int, *, image_size: int = 32) -> np.ndarray:
    """The n binary base shapes of one class before rotation and blur, (n, size, size) float64.

    Image i has shift ``linspace(-1, 1, n)[i]`` (triangle, rectangle) or row semi-axis
    ``linspace(5, 7, n)[i]`` (ellipse); no randomness is involved.
    """
    if label == 0:
        return np.stack([triangle(image_size, d) for d in np.linspace(*SHIFT_RANGE, n)])
    if label == 1:
        return np.stack([rectangle(image_size, d) for d in np.linspace(*SHIFT_RANGE, n)])
    if label == 2:
        return np.stack([ellipse(image_size, r) for r in np.linspace(*ELLIPSE_RADII, n)])
    raise ValueError(f"GeoMNIST has 3 classes (0 triangle, 1 rectangle, 2 ellipse), got {label}")


def rotation_angles(n: int, max_angle_deg: float) -> np.ndarray:
    """Angle of image i: ``max_angle_deg * i / n`` (0 included, max_angle_deg not)."""
    return max_angle_deg / n * np.arange(n)  # as the authors' generator computes it


def generate_class(label: int, n: int, rng: np.random.Generator, *, image_size: int,
                   max_angle_deg: float, blur_sigma: Sequence[float]) -> np.ndarray:
    """n images of one class, in shuffled order, shape (n, image_size, image_size)."""
    base = base_shapes(label, n, image_size=image_size)
    angles = rotation_angles(n, max_angle_deg)
    sigmas = rng.uniform(blur_sigma[0], blur_sigma[1], size=n)
    out = np.empty((n, image_size, image_size))
    for i in range(n):
        img = ndimage.rotate(base[i], angles[i], reshape=False, order=3, mode="constant")
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
    save_npz(out, **arrays, class_names=np.array(CLASS_NAMES), params=json.dumps(params),
             provenance=json.dumps(provenance(params)))


def load_geomnist(path: str) -> dict[str, np.ndarray]:
    """Load a cached data set; a missing file names the rule that makes it."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"GeoMNIST cache {path} is missing: build it with `snakemake {path}`")
    data = load_npz(path)  # a damaged file is an error naming it
    where = path_identity(path, CACHE_PATH)
    if where is not None:  # a cache of other sizes (or, when it records it, seed) copied here
        found = {"n_train": int((data["y_train"] == 0).sum()),
                 "n_val": int((data["y_val"] == 0).sum()),
                 **(json.loads(str(data["params"])) if "params" in data else {})}
        if "seed" not in found:
            where.pop("seed")
        check_identity(path, found, where, "GeoMNIST cache")
    return data
