"""The single-layer problem from config: input image, initial kernel, model; checked up front."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.geomnist import generate_class
from ..runtime import DTYPES as ALL_DTYPES
from .family import PDE_SCALE
from .one_layer import OneLayer, authors_kernel, checkerboard

IMAGE_KINDS = ("checkerboard", "random", "geomnist")
DTYPES = {k: ALL_DTYPES[k] for k in ("float32", "float64")}  # the PDE track's formats

def make_image(kind: str, size: int, seed: int = 0, geomnist_class: int = 2) -> np.ndarray:
    if kind == "checkerboard":
        return checkerboard(size)
    if kind == "random":
        return np.random.default_rng(np.random.SeedSequence([seed, 0x1A7])).standard_normal((size, size))
    if kind == "geomnist":
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E0]))
        img = generate_class(geomnist_class, 1, rng, image_size=size, max_angle_deg=0.0,
                             blur_sigma=(1.0, 1.0))[0]
        return 2.0 * img - 1.0  # shape +1 on a -1 background, like the checkerboard's range
    raise ValueError(f"unknown pde.image.kind {kind!r}; expected one of {', '.join(IMAGE_KINDS)}")


@dataclass
class Problem:
    model: OneLayer
    w0: np.ndarray
    settings: dict[str, Any]

    @property
    def is_paper_setup(self) -> bool:
        return PDE_SCALE.is_paper(self.settings)


def check_lrs(lrs, name: str) -> None:
    bad = [lr for lr in np.atleast_1d(lrs) if not lr > 0]
    if bad:
        raise ValueError(f"{name}: learning rates must be > 0, got {bad}")


def build_problem(image: dict, kernel: dict, swish_beta: float, dtype: str) -> Problem:
    """Validate the settings and build the model; every error comes before any computation."""
    if image["kind"] not in IMAGE_KINDS:
        raise ValueError(f"unknown pde.image.kind {image['kind']!r}; expected one of "
                         f"{', '.join(IMAGE_KINDS)}")
    if kernel["size"] > image["size"]:
        raise ValueError(f"pde.kernel.size {kernel['size']} is larger than pde.image.size "
                         f"{image['size']}: the valid convolution would be empty")
    if dtype not in DTYPES:
        raise ValueError(f"pde.dtype {dtype!r} not in {sorted(DTYPES)}")
    img = make_image(image["kind"], image["size"], image.get("seed", 0),
                     image.get("geomnist_class", 2))
    model = OneLayer(img, kernel["size"], beta=swish_beta, dtype=DTYPES[dtype])
    w0 = authors_kernel(kernel["size"], kernel["seed"])
    settings = dict(image=dict(image), kernel=dict(kernel), swish_beta=swish_beta, dtype=dtype)
    return Problem(model, w0, settings)
