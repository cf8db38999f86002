"""Seeded random streams: every stream is a pure function of (seed, experiment, trial, purpose),
so a trial's numbers do not depend on which other trials share its job, and a resumed job can
regenerate them instead of restoring generator state. Shared: the LE-SDE trials draw their
initializations, samples and dropout from them, the data loader its subsamples and label noise."""

from __future__ import annotations

import zlib

import numpy as np
import torch

INIT, SAMPLE, NOISE, SUBSET, DRAWS = 1, 2, 3, 4, 5  # DRAWS: dropout and other draws in a step


def seed_sequence(seed: int, experiment: str, trial: int, stream: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([seed, zlib.crc32(experiment.encode()), trial, stream])


def numpy_rng(seed: int, experiment: str, trial: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, experiment, trial, stream))


def torch_seed(seed: int, experiment: str, trial: int, stream: int) -> int:
    """A seed for torch's generators (63 bits) from the stream's seed sequence."""
    state = seed_sequence(seed, experiment, trial, stream).generate_state(1, np.uint64)[0]
    return int(state) & 0x7FFF_FFFF_FFFF_FFFF


def torch_generator(seed: int, experiment: str, trial: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(torch_seed(seed, experiment, trial, stream))
