"""Snakemake step: the logs of one LE-SDE setting (all trial chunks) -> an npz of what the
figures need: trial-averaged class-mean logits per iteration, sampled logits at a few iterations,
the validation curves of every trial, the label corruption counted from the logs, and every
trial's sampled label and logits per iteration (float32), from which
:mod:`traindyn.lesde.ensemble` recomputes the class means of a resample of the trials."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..atomic import save_npz
from .logs import check_logs, log_metadata, read_log

__all__ = ["summarize"]


def class_means(itr: np.ndarray, label: np.ndarray, logits: np.ndarray, t_max: int,
                k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean logits of the examples with each label sampled at each iteration, averaged over trials
    (the authors' groupby(['itr', 'y']).mean()): (T, K, K), and the counts (T, K). A cell no trial
    sampled is filled with the last earlier value (the first later one at the start)."""
    sums = np.zeros((t_max, k, logits.shape[1]))
    counts = np.zeros((t_max, k))
    np.add.at(sums, (itr, label), logits)
    np.add.at(counts, (itr, label), 1)
    return means_from_sums(sums, counts), counts


def means_from_sums(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(T, K, K) sums and (T, K) counts of sampled logits -> class means, an empty cell filled
    with the last earlier value of its class (the first later one at the start)."""
    k = counts.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, :, None]
    t_max = len(counts)
    for c in range(k):
        empty = counts[:, c] == 0
        if empty.all():
            raise ValueError(f"label {c} is never sampled: cannot form its class mean")
        idx = np.where(~empty, np.arange(t_max), 0)
        np.maximum.accumulate(idx, out=idx)
        first = np.flatnonzero(~empty)[0]
        idx[:first] = first
        means[:, c] = means[idx, c]
    return means


def label_counts(smp: np.ndarray, true: np.ndarray, label: np.ndarray, k: int) -> np.ndarray:
    """(K, K) number of distinct sampled training examples by (true class, training label): the
    label corruption as the logs record it (each example keeps one label within a setting)."""
    pairs = np.unique(np.stack([smp, true, label], axis=1), axis=0)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (pairs[:, 1], pairs[:, 2]), 1)
    return counts


def row_in_step(itr: np.ndarray, trial: np.ndarray) -> np.ndarray:
    """Each row's index among the consecutive rows of its (iteration, trial): 0 for a log of
    sampled examples, 0..P-1 for a probe set's P images."""
    start = np.r_[True, (itr[1:] != itr[:-1]) | (trial[1:] != trial[:-1])]
    first = np.maximum.accumulate(np.where(start, np.arange(len(itr)), 0))
    return np.arange(len(itr)) - first


def summarize(out: str, steps: Sequence[str], vals: Sequence[str], *, n_samples: int = 50,
              runs: Sequence[dict] | None = None) -> None:
    check_logs(steps, vals, runs)  # a short, reordered, swapped or copied log: an error naming it
    table = pa.concat_tables([read_log(p) for p in steps])
    k = sum(name.startswith("y_logit") for name in table.column_names)
    logged = np.unique(table["itr"].to_numpy())  # 0..T-1, or every log_every-th iteration
    itr = np.searchsorted(logged, table["itr"].to_numpy())  # the row's place in the log
    trial = table["trial"].to_numpy()
    y = table["y"].to_numpy().astype(np.int64)
    true = table["true_class"].to_numpy().astype(np.int64)
    logits = np.stack([table[f"y_logit{j}"].to_numpy() for j in range(k)], axis=1)
    t_max = len(logged)
    means_y, counts_y = class_means(itr, y, logits, t_max, k)
    means_true, _ = class_means(itr, true, logits, t_max, k)
    counts = label_counts(table["smp"].to_numpy(), true, y, k)
    trials = np.unique(trial)
    pick = np.unique(np.linspace(0, t_max - 1, n_samples).astype(int))
    rows = np.isin(itr, pick)
    order = np.lexsort((trial[rows], itr[rows]))
    shape = (len(pick), int(rows.sum()) // len(pick))  # trials (x probe rows)
    sample_logits = logits[rows][order].reshape(*shape, k)
    sample_labels = y[rows][order].reshape(shape)
    per_trial = len(itr) // (t_max * len(trials))  # rows per trial and iteration (checked)
    cell = (itr, np.searchsorted(trials, trial) * per_trial + row_in_step(itr, trial))
    trial_labels = np.zeros((t_max, len(trials) * per_trial), dtype=np.int8)
    trial_labels[cell] = y
    trial_logits = np.zeros((t_max, len(trials) * per_trial, k), dtype=np.float32)
    trial_logits[cell] = logits
    val = pa.concat_tables([read_log(p) for p in vals]).to_pandas()
    loss = val.pivot(index="trial", columns="itr", values="val_loss")
    acc = val.pivot(index="trial", columns="itr", values="val_acc")
    meta = log_metadata(steps[0])
    # only logs with probe rows or gaps carry these (the paper runs' summaries are unchanged)
    extra = ({} if per_trial == 1 else {"rows_per_trial": per_trial}) | (
        {} if np.array_equal(logged, np.arange(t_max)) else {"logged_itrs": logged})
    save_npz(out, means_y=means_y, counts_y=counts_y, means_true=means_true, trials=trials,
             label_counts=counts,
             sample_itrs=logged[pick].astype(np.int64), sample_logits=sample_logits, sample_labels=sample_labels,
             val_itrs=loss.columns.to_numpy(), val_loss=loss.to_numpy(), val_acc=acc.to_numpy(),
             trial_labels=trial_labels, trial_logits=trial_logits,
             log_metadata=json.dumps(meta), **extra)
