"""Image data for the instability runs as tensors on the training device, with the CIFAR
augmentation (random crop with 4-pixel padding, horizontal flip) done as batched tensor
operations from generators seeded by (seed, epoch): no per-image workers, and a resumed epoch
sees the same minibatches."""

from __future__ import annotations

import numpy as np
import torch

# defined below the families (the generic loader builds one); the instability code imports it here
from ..data.tensors import ImageData


CIFAR_MEAN = (0.507, 0.487, 0.441)  # the authors' normalization (Table 1 code)
CIFAR_STD = (0.267, 0.256, 0.276)


def normalized(x: np.ndarray, mean, std, dtype, device) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=dtype, device=device)
    mean = torch.as_tensor(mean, dtype=dtype, device=device).reshape(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=dtype, device=device).reshape(1, -1, 1, 1)
    return (t - mean) / std


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    state = np.random.SeedSequence([seed, epoch, 0x51]).generate_state(1, np.uint64)[0]
    return torch.Generator(device=device).manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


def augment(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of every image, batched."""
    b, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen, device=x.device)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen, device=x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    out = padded[bi, ci, rows, cols]
    flip = torch.rand(b, generator=gen, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def minibatches(data: ImageData, batch: int, seed: int, epoch: int):
    """(x, y) minibatches of one epoch: a seeded permutation, the last batch possibly smaller."""
    gen = epoch_generator(seed, epoch, data.x_train.device)
    order = torch.randperm(len(data.y_train), generator=gen, device=data.x_train.device)
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        x = data.x_train[idx]
        yield (augment(x, gen) if data.augment else x), data.y_train[idx]
