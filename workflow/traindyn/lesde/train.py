"""Training of an ensemble of LE-SDE trials: one-sample SGD, momentum 0, for M trials
at once, streamed to Parquet, resumable.

Each trial has its own initialization and its own sequence of sampled examples, both pure
functions of (seed, experiment, trial), so its numbers do not depend on which other trials share
the job. Every ``checkpoint_every`` iterations the logged rows go to a part file and the stacked
parameters to a checkpoint (atomically, in that order); a killed job resumes from the last
checkpoint, drops any later part, and ends with the same bytes as an uninterrupted run. Under a
time limit (:mod:`traindyn.deadline`) the job also ends a part early, saves its state and stops
before the limit; the merged log is laid out by iteration, not by part, so its bytes do not
depend on where the attempts stopped. The job runs in the frame of :mod:`traindyn.jobs`: its
work directory is owned by it and tied to its run fingerprint, state of another run is never
resumed, and the logs are checked complete before they are published.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..jobs import Job, resumable_job
from ..runtime import resolve_device, torch_dtype
from ..seeds import SAMPLE, numpy_rng
from .datasets import TrainData
from .logs import (VAL_SCHEMA, check_log_complete, eval_iterations, merge_parts, steps_schema,
                   steps_table, val_table, write_part)
from . import kernels
from .model import head, init_params, logits_shared, sgd_step


@dataclass(frozen=True)
class RunSpec:
    experiment: str  # names the random streams, e.g. "geomnist_noise"
    setting: str  # e.g. "p0.67"
    trials: tuple[int, ...]  # global trial ids of this job
    iterations: int
    lr: float
    eval_every: int
    seed: int
    dtype: str = "float64"
    device: str = "auto"
    checkpoint_every: int = 1000
    eval_batch: int | None = None  # validation images per forward pass (None: device default)
    trial_block: int | None = None  # trials per batched call (None: device default)


def launch_sizes(spec: RunSpec, device: torch.device, n_val: int) -> tuple[int, int]:
    """(validation images per pass, trials per call). On a GPU the whole validation set and every
    trial go in one call, so a pass is a few kernels, not thousands of launches for a few
    milliseconds of arithmetic. On a CPU the native kernels (:mod:`.kernels`) take every trial
    at once and validate 100 images per call (their features, M x 100 x 400, stay in the L3
    cache for the fully connected layers' matrix products)."""
    m = len(spec.trials)
    if device.type == "cuda":
        return spec.eval_batch or n_val, spec.trial_block or m
    return spec.eval_batch or 100, spec.trial_block or m


def sample_indices(spec: RunSpec, n_train: int) -> np.ndarray:
    """(iterations, M): the example each trial draws at each step, uniformly with replacement."""
    return np.stack([numpy_rng(spec.seed, spec.experiment, t, SAMPLE).integers(
        0, n_train, size=spec.iterations) for t in spec.trials], axis=1)


def blocks(params: dict[str, torch.Tensor], size: int):
    """Views of consecutive blocks of trials (in-place updates reach the stacked tensors)."""
    m = params["conv1_w"].shape[0]
    for start in range(0, m, size):
        yield slice(start, start + size), {k: v[start:start + size] for k, v in params.items()}


def _native(x: torch.Tensor, native: bool | None) -> bool:
    """Whether the native CPU kernels run (by default: on a CPU, when they are available)."""
    return kernel_path(x.device) == "native" if native is None else native


def kernel_path(device: torch.device) -> str:
    """'native' (the C++ kernels: a CPU where they build or load) or 'torch' (a GPU, or a CPU
    without them). The two agree to 1e-12, not bitwise, so the path is part of the run's
    fingerprint."""
    return "native" if device.type == "cpu" and kernels.available() else "torch"


def describe_path(path: str, device: torch.device) -> str:
    """The job log's line naming the code that trains."""
    threads = f"{torch.get_num_threads()} threads"
    if path == "native":
        return (f"LE-SDE training on {device}: native CPU kernels "
                f"({kernels.build_dir()}), {threads}")
    why = f"; native kernels unavailable: {kernels.unavailable_reason()}" if (
        device.type == "cpu") else ""
    return f"LE-SDE training on {device}: torch path{why}, {threads}"


def train_step(params, x: torch.Tensor, y: torch.Tensor, lr: float, block: int,
               native: bool | None = None):
    """One-sample SGD of every trial: (M, K) pre-update logits, (M,) losses. On a CPU the native
    kernel; elsewhere (or with ``native=False``) ``sgd_step`` over blocks of trials."""
    if _native(x, native):
        return kernels.sgd_step(params, x, y, lr)
    out = [sgd_step(p, x[sl], y[sl], lr) for sl, p in blocks(params, block)]
    return torch.cat([o[0] for o in out]), torch.cat([o[1] for o in out])


def shared_logits(params, x: torch.Tensor, native: bool | None = None) -> torch.Tensor:
    """Logits (M, N, K) of shared images x (N, C, H, W) for every trial (native conv features
    on a CPU)."""
    if _native(x, native):
        return head(params, kernels.shared_features(params, x))
    return logits_shared(params, x)


@torch.no_grad()
def evaluate(params, x_val: torch.Tensor, y_val: torch.Tensor, batch: int, block: int = 25,
             native: bool | None = None):
    """Mean cross-entropy and accuracy of every trial on the validation images: (M,), (M,)."""
    m = params["conv1_w"].shape[0]
    loss = torch.zeros(m, dtype=torch.float64, device=x_val.device)
    correct = torch.zeros(m, dtype=torch.float64, device=x_val.device)
    for sl, p in blocks(params, block):
        for start in range(0, len(x_val), batch):
            logits = shared_logits(p, x_val[start:start + batch], native)  # (m, n, K)
            y = y_val[start:start + batch].expand(logits.shape[0], -1)
            loss[sl] += F.cross_entropy(logits.transpose(1, 2), y, reduction="none").sum(dim=1)
            correct[sl] += (logits.argmax(dim=2) == y).sum(dim=1)
    return loss / len(x_val), correct / len(x_val)


def train_trials(data: TrainData, y_used: np.ndarray, spec: RunSpec, steps_out: str,
                 val_out: str, work_dir: str, metadata: dict, fingerprint: dict,
                 gpus: int = 0) -> None:
    """Train, log and merge. ``y_used`` are the training labels fed to SGD (maybe corrupted);
    ``fingerprint`` identifies the run (:func:`traindyn.workdir.run_fingerprint`)."""
    device = resolve_device(spec.device, gpus, job=steps_out)
    path = kernel_path(device)
    print(describe_path(path, device), file=sys.stderr, flush=True)
    # state is never resumed across the native and torch paths (equal to 1e-12, not bitwise)
    with resumable_job(work_dir, device,
                       {**fingerprint, "device": device.type, "kernels": path}) as job:
        _train(data, y_used, spec, steps_out, val_out, job, metadata, path == "native")


def _train(data: TrainData, y_used: np.ndarray, spec: RunSpec, steps_out: str, val_out: str,
           job: Job, metadata: dict, native: bool) -> None:
    dtype, device = torch_dtype(spec.dtype), job.device
    work = job.path
    (work / "parts").mkdir(parents=True, exist_ok=True)
    trials = np.asarray(spec.trials)
    m, k = len(trials), data.n_classes
    samples = sample_indices(spec, len(data.y_train))
    evals = eval_iterations(spec.iterations, spec.eval_every)
    x_train = torch.as_tensor(data.x_train, dtype=dtype, device=device)
    y_train = torch.as_tensor(y_used, dtype=torch.long, device=device)
    x_val = torch.as_tensor(data.x_val, dtype=dtype, device=device)
    y_val = torch.as_tensor(data.y_val, dtype=torch.long, device=device)
    eval_batch, block = launch_sizes(spec, device, len(y_val))

    state = job.load_state()
    if state is None:
        params = init_params(spec.trials, seed=spec.seed, experiment=spec.experiment,
                             channels=data.x_train.shape[1], n_classes=k, dtype=dtype,
                             device=device)
        start, n_parts = 0, 0
    else:
        params, start, n_parts = state["params"], int(state["itr"]), int(state["parts"])
        print(f"resuming at iteration {start} of {spec.iterations}", file=sys.stderr, flush=True)
    for stale in sorted((work / "parts").glob("part-*")):  # written after the checkpoint
        if int(stale.name.split("-")[1].split(".")[0]) >= n_parts:
            stale.unlink()

    bar = tqdm(total=spec.iterations, initial=start, file=sys.stderr, mininterval=10,
               desc=f"{spec.experiment}/{spec.setting}", unit="itr")
    t0 = time.perf_counter()
    while start < spec.iterations:
        stop = min(start + spec.checkpoint_every, spec.iterations)
        n = stop - start
        logits = torch.empty((n, m, k), dtype=torch.float64, device=device)
        losses = torch.empty((n, m), dtype=torch.float64, device=device)
        part_evals = evals[(evals >= start) & (evals < stop)]
        # results stay on the device until the part is written: no host sync in the loop
        val_loss = torch.empty((len(part_evals), m), dtype=torch.float64, device=device)
        val_acc = torch.empty((len(part_evals), m), dtype=torch.float64, device=device)
        idx = torch.as_tensor(samples[start:stop], device=device)
        j, cut = 0, False
        for i, t in enumerate(range(start, stop)):
            if job.reached():  # the part ends here (the merged log's layout does not move)
                stop, cut = t, True
                break
            lg, ls = train_step(params, x_train[idx[i]], y_train[idx[i]], spec.lr, block, native)
            logits[i], losses[i] = lg, ls
            if j < len(part_evals) and part_evals[j] == t:
                val_loss[j], val_acc[j] = evaluate(params, x_val, y_val, eval_batch, block,
                                                   native)
                j += 1
        if stop == start:  # the limit came before any step of this part: the state is saved
            raise job.stop(f"iteration {start} of {spec.iterations}")
        n, part_evals = stop - start, part_evals[:j]
        job.check()  # never write a part into a directory that is no longer this job's
        smp = samples[start:stop]
        steps = steps_table(trials, np.arange(start, stop), smp, y_used[smp], data.y_train[smp],
                            logits[:n].cpu().numpy(), losses[:n].cpu().numpy())
        write_part(work / "parts" / f"part-{n_parts:05d}.steps.parquet", steps)
        write_part(work / "parts" / f"part-{n_parts:05d}.val.parquet",
                   val_table(trials, part_evals, val_loss[:j].cpu().numpy(),
                             val_acc[:j].cpu().numpy()))
        n_parts += 1
        start = stop
        job.save_state({"itr": start, "parts": n_parts,
                        "params": {name: p.cpu() for name, p in params.items()}})
        bar.update(n)
        bar.set_postfix(trial_steps_per_s=f"{m * bar.n / max(time.perf_counter() - t0, 1e-9):.0f}")
        if cut:
            raise job.stop(f"iteration {start} of {spec.iterations}")
    bar.close()
    meta = job.provenance({**metadata, "spec": asdict(spec)}, spec.dtype, spec=asdict(spec),
                          run=metadata, kernels="native" if native else "torch")
    job.check()
    parts = sorted((work / "parts").glob("part-*.steps.parquet"))
    # Each merged log is checked complete (every trial x iteration, every evaluation) before it
    # replaces the output: a short log is an error naming the missing range, never an output.
    # one row group per checkpoint_every iterations, wherever a time limit cut the parts
    merge_parts(parts, steps_out, steps_schema(k), meta, check=check_log_complete,
                group_every=spec.checkpoint_every)
    merge_parts([p.with_name(p.name.replace(".steps.", ".val.")) for p in parts], val_out,
                VAL_SCHEMA, meta, check=check_log_complete, group_every=spec.checkpoint_every)
