"""Images and labels as tensors on the training device, and whether to augment them: what the
copies' training loops take (:mod:`traindyn.instab.data` batches and augments them). Here, below
the families, so that the generic loader's :meth:`~traindyn.data.images.ImageSet.instab_data`
can build one without importing a family."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ImageData:
    x_train: torch.Tensor  # (N, C, H, W), normalized
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    augment: bool
