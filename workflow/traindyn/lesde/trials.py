"""Many LE-SDE-style trials of any small model: one-sample (or small-batch) SGD, each trial
with its own initialization and its own sequence of sampled examples, both pure functions of
(seed, study, trial) -- so a trial's numbers do not depend on which trials share its job -- and
the logits logged in the paper runs' Parquet schema through :class:`~.writer.LogWriter`.

What is logged every ``log_every`` iterations, before that iteration's update:
* ``probe_per_class = 0``: the sampled minibatch (one row per example; ``smp`` indexes the
  training set), as the paper runs log the sampled example;
* ``probe_per_class = P``: a fixed probe set, the first P test images of every class (one row
  per probe image; ``smp`` indexes the test set).
Validation loss and accuracy (on the test set, or its first ``eval_per_class`` images per class)
after the update at every ``eval_every``-th iteration and the last.

The trials train batched with ``torch.func`` (:class:`~.trial_models.VmapTrials`) or one after
another (:class:`~.trial_models.LoopTrials`); ``strategy="auto"`` takes vmap where it is correct.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..models.names import as_factory
from ..runtime import numerics, resolve_device, torch_dtype
from ..seeds import DRAWS, INIT, SAMPLE, numpy_rng, torch_seed
from .logs import eval_iterations
from .trial_models import Trials, make_trials
from .writer import LogWriter

__all__ = ["TrialsResult", "train_trials"]


@dataclass
class TrialsResult:
    strategy: str  # vmap | loop
    params: dict[str, torch.Tensor]  # final parameters, stacked (M, ...)
    steps_log: str
    val_log: str
    trial_steps_per_s: float


def trial_samples(seed: int, study: str, trial: int, n_train: int, iterations: int,
                  batch: int = 1) -> np.ndarray:
    """(iterations, batch) training indices of one trial, uniformly with replacement (for
    batch 1 the paper runs' sequence: :func:`traindyn.lesde.train.sample_indices`)."""
    return numpy_rng(seed, study, trial, SAMPLE).integers(0, n_train, size=(iterations, batch))


def first_per_class(y: torch.Tensor, per_class: int | None) -> torch.Tensor:
    """Indices of the first ``per_class`` images of every class (all when None)."""
    if per_class is None:
        return torch.arange(len(y), device=y.device)
    return torch.cat([torch.nonzero(y == c)[:per_class, 0] for c in torch.unique(y)])


def evaluate(trials: Trials, x: torch.Tensor, y: torch.Tensor, batch: int = 500):
    """Mean cross-entropy and accuracy (M,) of every trial on shared images."""
    loss = correct = 0.0
    for start in range(0, len(y), batch):
        logits = trials.shared_logits(x[start:start + batch]).double()  # (M, n, K)
        yb = y[start:start + batch].expand(logits.shape[0], -1)
        loss = loss + F.cross_entropy(logits.transpose(1, 2), yb, reduction="none").sum(dim=1)
        correct = correct + (logits.argmax(dim=2) == yb).sum(dim=1)
    return loss / len(y), correct / len(y)


def train_trials(model_factory, data, stem: str | os.PathLike, *, study: str,
                 trials: Sequence[int], iterations: int, lr: float, seed: int = 0,
                 batch: int = 1, momentum: float = 0.0, weight_decay: float = 0.0,
                 log_every: int = 1, probe_per_class: int = 0, eval_every: int | None = None,
                 eval_per_class: int | None = None, strategy: str = "auto",
                 dtype: str = "float64", device: str = "cpu", gpus: int = 0,
                 metadata: dict | None = None) -> TrialsResult:
    """Train ``trials`` of ``model_factory`` (a :class:`~traindyn.models.names.ModelFactory` or
    any callable returning a module) on ``data`` (an :class:`~traindyn.data.images.ImageSet`)
    and write ``<stem>.steps.parquet`` and ``<stem>.val.parquet``. Deterministic kernels and TF32
    off while it runs (the caller's torch settings come back afterwards)."""
    factory = as_factory(model_factory)
    trials = [int(t) for t in trials]
    dev = resolve_device(device, gpus)
    dt = torch_dtype(dtype)
    eval_every = eval_every or iterations
    with numerics(deterministic=True):
        x_train = data.x_train.to(device=dev, dtype=dt)
        y_train = data.y_train.to(dev)
        true_train = data.true_train.to(dev)
        val = first_per_class(data.y_test.to(dev), eval_per_class)
        x_val, y_val = data.x_test.to(device=dev, dtype=dt)[val], data.y_test.to(dev)[val]
        probes = first_per_class(data.y_test.to(dev), probe_per_class or None)
        x_probe = data.x_test.to(device=dev, dtype=dt)[probes]
        probe_smp = probes.expand(len(trials), -1)  # (M, P): the same images for every trial
        y_probe = data.y_test.to(dev)[probe_smp]
        rows = len(probes) if probe_per_class else batch
        samples = torch.as_tensor(np.stack([trial_samples(
            seed, study, t, len(y_train), iterations, batch) for t in trials], axis=1),
            device=dev)  # (iterations, M, batch)
        models = [factory.build(torch_seed(seed, study, t, INIT)).to(device=dev, dtype=dt)
                  for t in trials]
        engine = make_trials(models, strategy, lr, momentum, weight_decay,
                             sample=x_train[:2],
                             draw_seeds=[torch_seed(seed, study, t, DRAWS) for t in trials])
        meta = dict(metadata or {}, study=study, model=factory.name,
                    model_kwargs=dict(factory.kwargs), dataset=getattr(data, "name", None),
                    strategy=engine.strategy, lr=lr, batch=batch, momentum=momentum,
                    weight_decay=weight_decay, seed=seed, dtype=dtype, device=str(dev),
                    logged="probes" if probe_per_class else "sampled",
                    probe_per_class=probe_per_class, n_train=len(y_train), n_val=len(y_val))
        evals = set(eval_iterations(iterations, eval_every).tolist())
        print(f"study {study}: {factory.name} on {meta['dataset']} ({len(y_train)} training "
              f"images, {data.n_classes} classes); trials {trials[0]}..{trials[-1]} as "
              f"{engine.strategy}; {iterations} iterations of batch {batch}; device {dev}, "
              f"dtype {dtype}, {torch.get_num_threads()} threads", file=sys.stderr, flush=True)
        bar = tqdm(total=iterations, file=sys.stderr, mininterval=10, desc=study, unit="itr")
        t0 = time.perf_counter()
        with LogWriter(stem, n_classes=data.n_classes, trials=trials, iterations=iterations,
                       eval_every=eval_every, log_every=log_every, rows_per_step=rows,
                       metadata=meta) as log:
            for t in range(iterations):
                idx = samples[t]  # (M, batch)
                logged = t % log_every == 0
                if logged and probe_per_class:
                    log.steps(t, engine.shared_logits(x_probe), y_probe, smp=probe_smp)
                logits = engine.step(x_train[idx], y_train[idx])
                if logged and not probe_per_class:
                    log.steps(t, logits, y_train[idx], smp=idx, true_class=true_train[idx])
                if t in evals:
                    log.val(t, *evaluate(engine, x_val, y_val))
                bar.update(1)
        bar.close()
        elapsed = max(time.perf_counter() - t0, 1e-9)
    return TrialsResult(engine.strategy, engine.state(), str(log.steps_path),
                        str(log.val_path), len(trials) * iterations / elapsed)


def trials_run(steps: str, val: str, *, model: str, model_kwargs: dict, data: dict, study: str,
               trials: Sequence[int], iterations: int, lr: float, seed: int = 0,
               batch: int = 1, momentum: float = 0.0, weight_decay: float = 0.0,
               log_every: int = 1, probe_per_class: int = 0, eval_every: int | None = None,
               eval_per_class: int | None = None, strategy: str = "auto",
               dtype: str = "float64", device: str = "cpu", gpus: int = 0) -> None:
    """One job of a study's trials, with plain arguments (for a pipeline rule): ``model`` and
    ``model_kwargs`` as :func:`~traindyn.models.names.resolve_model` takes them, ``data`` the
    keyword arguments of :func:`~traindyn.data.images.load_images`, ``trials`` [start, stop).
    The job runs in the frame of :mod:`traindyn.jobs`: it owns ``<steps>.work`` (tied to its
    fingerprint: parameters, data and model files by content, library code); it does not
    checkpoint, so a rerun starts over and, being deterministic, ends with the same bytes."""
    # the arguments alone, before the imports below add their names to locals()
    params = {k: v for k, v in locals().items() if k not in ("steps", "val", "gpus")}
    from ..data.images import load_images
    from ..jobs import resumable_job
    from ..models.names import resolve_model
    from ..workdir import run_fingerprint

    stem = steps[: -len(".steps.parquet")]
    if not steps.endswith(".steps.parquet") or val != stem + ".val.parquet":
        raise ValueError(f"outputs must be <stem>.steps.parquet and <stem>.val.parquet, got "
                         f"{steps}, {val}")
    factory = resolve_model(model, model_kwargs, key=f"studies.{study}.model")
    dev = resolve_device(device, gpus)
    fingerprint = run_fingerprint(__name__, params, [data.get("root"), *factory.files],
                                  device=dev.type)
    # train_trials sets its own numerics
    with resumable_job(steps + ".work", dev, fingerprint, deterministic=None):
        images = load_images(**data, key=f"studies.{study}.data")
        train_trials(factory, images, stem, study=study, trials=range(*trials),
                     iterations=iterations, lr=lr, seed=seed, batch=batch, momentum=momentum,
                     weight_decay=weight_decay, log_every=log_every,
                     probe_per_class=probe_per_class, eval_every=eval_every,
                     eval_per_class=eval_per_class, strategy=strategy, dtype=dtype,
                     device=str(dev), gpus=gpus, metadata=dict(data=data))
