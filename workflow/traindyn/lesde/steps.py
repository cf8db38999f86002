"""Snakemake step: train one chunk of LE-SDE trials into its two Parquet logs."""

from __future__ import annotations

import numpy as np

from ..data.cifar import FOLDER as CIFAR_FOLDER, check_cifar
from ..data.noise import corrupt_labels
from ..seeds import NOISE, numpy_rng
from ..workdir import run_fingerprint
from .datasets import TrainData, cifar10, geomnist
from .train import RunSpec, train_trials


def balanced_subset(y: np.ndarray, per_class: int | None) -> np.ndarray:
    """Indices of the first ``per_class`` images of every class (all when None)."""
    if per_class is None:
        return np.arange(len(y))
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])


def train_run(steps: str, val: str, data: str | None = None, *, experiment: str, setting: str,
              trials: list[int], dataset: str, p: float, iterations: int, lr: float,
              eval_every: int, eval_subset: int | None, seed: int, dtype: str, device: str,
              checkpoint_every: int, n_classes: int | None = None, root: str | None = None,
              download: bool = False, train_per_class: int | None = None,
              val_per_class: int | None = None, eval_batch: int | None = None,
              trial_block: int | None = None, replicate: int = 0, gpus: int = 0) -> None:
    run = {k: v for k, v in locals().items() if k not in ("steps", "val", "data", "gpus")}
    if dataset == "cifar10":
        check_cifar(root, download)  # before any work
        ds = cifar10(root, n_classes, train_per_class, val_per_class, seed=seed, download=download)
    else:
        ds = geomnist(data)
    rng = numpy_rng(seed, f"{experiment}/{setting}", 0, NOISE)
    y_used = corrupt_labels(ds.y_train, p, ds.n_classes, rng)
    keep = balanced_subset(ds.y_val, eval_subset)
    ds = TrainData(ds.x_train, ds.y_train, ds.x_val[keep], ds.y_val[keep], ds.n_classes)
    # A replicate draws its own initializations and sample orders (and, through its setting
    # name above, its own label corruption); the main run (replicate 0) keeps the plain streams.
    streams = experiment if replicate == 0 else f"{experiment}/r{replicate}"
    spec = RunSpec(experiment=streams, setting=setting, trials=tuple(range(*trials)),
                   iterations=iterations, lr=lr, eval_every=eval_every, seed=seed, dtype=dtype,
                   device=device, checkpoint_every=checkpoint_every, eval_batch=eval_batch,
                   trial_block=trial_block)
    meta = dict(dataset=dataset, p=p, eval_subset=eval_subset, n_train=len(ds.y_train),
                n_val=len(ds.y_val), n_classes=ds.n_classes, data=data)
    # The run's identity: its parameters, its input data (by content) and its code.
    inputs = [f"{root}/{CIFAR_FOLDER}"] if dataset == "cifar10" else [data]
    fingerprint = run_fingerprint(__name__, run, inputs)
    train_trials(ds, y_used, spec, steps, val, steps + ".work", meta, fingerprint, gpus)
