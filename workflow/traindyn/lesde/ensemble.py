"""Sampling uncertainty of the LE-SDE statistics: the trials are the ensemble's independent
units, so a bootstrap resamples whole trials (each one's sampled labels and logits at every
iteration, and its validation curve) and recomputes the statistic from scratch -- class means,
the estimators and their t = 0 normalization included. Independent replicate runs (a new data
seed and new initializations) give the spread the bootstrap cannot see: that of the data set.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..stats import (N_BOOT, bootstrap, replicate_estimates, side_by_side, tree_estimates,
                     values)
from .summary import means_from_sums


def resample(summary: Mapping[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    """The summary of the trials ``idx`` (with repeats): class means rebuilt from every trial's
    sampled label and logits, validation curves of those trials."""
    labels, logits = summary["trial_labels"], summary["trial_logits"]
    rows = int(summary.get("rows_per_trial", 1))  # a probe set's rows stay with their trial
    weights = np.repeat(np.bincount(idx, minlength=labels.shape[1] // rows), rows).astype(
        np.float64)
    k = logits.shape[2]
    sums = np.empty((labels.shape[0], k, k))
    counts = np.empty((labels.shape[0], k))
    for c in range(k):
        w = (labels == c) * weights[None, :]  # (T, M): how often each trial counts for class c
        counts[:, c] = w.sum(axis=1)
        sums[:, c] = np.einsum("tm,tmj->tj", w, logits, optimize=True)
    return dict(summary, means_y=means_from_sums(sums, counts),
                val_acc=summary["val_acc"][idx], val_loss=summary["val_loss"][idx])


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def bootstrap_estimates(statistic: Callable[[Mapping[str, np.ndarray]], Any],
                        summary: Mapping[str, np.ndarray], name: str,
                        n_boot: int = N_BOOT) -> Any:
    """``statistic(summary)`` with every number an Estimate: se = sd over ``n_boot`` resamples
    of the trials (seeded by ``name``, so a rerun gives the same bits)."""
    m = summary["trial_labels"].shape[1] // int(summary.get("rows_per_trial", 1))
    draws = bootstrap(lambda idx: statistic(resample(summary, idx)), m, n_boot, _seed(name))
    return tree_estimates(statistic(summary), draws, f"bootstrap over {m} trials ({n_boot} draws)")


def ensemble_estimates(statistic: Callable[[Mapping[str, np.ndarray]], Any],
                       summaries: Sequence[Mapping[str, np.ndarray]], name: str,
                       n_boot: int = N_BOOT) -> Any:
    """The statistic of one setting with its uncertainty. One run: the bootstrap over its trials.
    Several independent replicates: their mean, se = sd / sqrt(R), single-run spread = sd; the
    method says the main run's bootstrap sd beside the replicates' sd (two views of the same
    spread)."""
    boot = bootstrap_estimates(statistic, summaries[0], name, n_boot)
    if len(summaries) == 1:
        return boot
    points = [values(boot)] + [statistic(s) for s in summaries[1:]]
    rep = replicate_estimates(points, f"mean of {len(summaries)} independent replicate runs "
                                      f"(se = sd/sqrt({len(summaries)}))")
    return side_by_side(rep, boot)
