"""Snakemake steps of the deep-network instability track: Table 1 (one job per seed and
activation) and Figure 2 (one job per learning rate and format). Both run in the frame of
:mod:`traindyn.jobs` (an owned work directory tied to the run's fingerprint), checkpoint there,
stop before a time limit with their state saved, and check their output complete before
publishing it."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from itertools import islice

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ..atomic import atomic_path, save_npz
from ..data.cifar import FOLDER as CIFAR_FOLDER, check_cifar, read_cifar10
from ..data.geomnist import load_geomnist
from ..data.noise import pixel_noise as noisy_images
from ..data.registry import facts
from ..divergence import relative_l1_divergence
from ..extraction import divergences, tensor_name
from ..jobs import Job, resumable_job
from ..runtime import resolve_device, torch_dtype
from ..snapshots import SnapshotWriter, read_meta
from ..workdir import run_fingerprint
from .data import CIFAR_MEAN, CIFAR_STD, ImageData, minibatches, normalized
from .copies import copy_states
from .optimizer import PerturbedSGD
from .outputs import TABLE1_COLUMNS, check_table1_rows, epoch_rows
from .train import (NetSpec, accuracy, build, copies_identical, layer_weight, loss_and_step,
                    optimizer, progress, train_epoch)


def load_data(dataset: str, data: str | None, root: str | None, download: bool, dtype,
              device, pixel_noise: float = 0.0) -> ImageData:
    if dataset == "cifar10":
        check_cifar(root, download)
        parts = {}
        for split_name, train in (("train", True), ("test", False)):
            x, y = read_cifar10(root, train, download)
            x = x.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            parts[split_name] = (normalized(x, CIFAR_MEAN, CIFAR_STD, dtype, device),
                                 torch.as_tensor(y, device=device))
        return ImageData(*parts["train"], *parts["test"], n_classes=facts("cifar10").n_classes,
                         augment=True)
    d = load_geomnist(data)
    # Pixel noise makes the classes overlap, so test accuracy plateaus below 100% (reference tier)
    x_train = noisy_images(d["x_train"], pixel_noise, 0)
    x_test = noisy_images(d["x_val"], pixel_noise, 1)
    mean, std = float(x_train.mean()), float(x_train.std())
    return ImageData(normalized(x_train, (mean,), (std,), dtype, device),
                     torch.as_tensor(d["y_train"], device=device),
                     normalized(x_test, (mean,), (std,), dtype, device),
                     torch.as_tensor(d["y_val"], device=device),
                     n_classes=int(d["y_train"].max()) + 1, augment=True)


def _identity(step_locals: dict, dataset: str, data: str | None, root: str | None,
              device: torch.device) -> dict:
    """Run fingerprint of a step from its arguments (outputs and GPU count left out) and the
    thread count it computes with (a CPU run's bits depend on it: state saved under another
    count is never resumed)."""
    skip = ("out", "snapshots", "gpus", "checkpoint_seconds", "dev")
    params = {k: v for k, v in step_locals.items() if k not in skip}
    inputs = [f"{root}/{CIFAR_FOLDER}"] if dataset == "cifar10" else [data]
    return run_fingerprint(__name__, params, inputs, device=device.type,
                           threads=torch.get_num_threads())


def save_checkpoint(job: Job, model, opt: PerturbedSGD, progress: dict) -> None:
    """Model, optimizer and the job's own ``progress`` record (counters, rows so far)."""
    job.save_state({"model": model.state_dict(), "opt": opt.state_dict(), "progress": progress})


def load_checkpoint(job: Job, model, opt: PerturbedSGD) -> dict | None:
    """Restore model and optimizer from the job's saved state; its ``progress`` or None."""
    state = job.load_state()
    if state is None:
        return None
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    return state["progress"]


def table1_run(out: str, data: str | None = None, *, dataset: str, seed: int, activation: str,
               ks: Sequence[int], network: dict, lr: float, momentum: float, nesterov: bool,
               weight_decay: float, batch: int, epochs: int, milestones: Sequence[int],
               test_batch: int, dtype: str, device: str, deterministic: bool,
               root: str | None = None, download: bool = False, gpus: int = 0,
               pixel_noise: float = 0.0, snapshots: str | None = None,
               snapshot_every: int = 0) -> None:
    """All perturbed copies of one seed plus a second k = 1 copy (the null control), trained on
    the same minibatches; per-epoch test accuracy of every copy, and whether the control is still
    bit-identical to the k = 1 copy. ``snapshots``: every copy's parameters and buffers after
    every ``snapshot_every``-th epoch (:mod:`traindyn.snapshots`), for later analyses."""
    dev = resolve_device(device, gpus, job=out)
    fingerprint = _identity(dict(locals()), dataset, data, root, dev)
    with resumable_job(out + ".work", dev, fingerprint, deterministic) as job:
        torch_dt = torch_dtype(dtype)
        images = load_data(dataset, data, root, download, torch_dt, dev, pixel_noise)
        copies = [*ks, 1]  # last copy: the null control, twin of the first k = 1 copy
        first_k1 = list(ks).index(1)
        net = NetSpec(network["depth"], network["width"], activation, network["swish_beta"],
                      network.get("shortcut", "B"))
        model = build(net, images, copies, seed, torch_dt, dev)
        opt = optimizer(model, copies, lr, momentum, weight_decay, nesterov)
        state = load_checkpoint(job, model, opt) or {"epoch": 0, "rows": []}
        start, rows = int(state["epoch"]), list(state["rows"])
        writer = snapshots and SnapshotWriter(snapshots, job.path, ks=copies,
                                              meta=dict(seed=seed, activation=activation,
                                                        dtype=dtype, lr=lr))
        steps_per_epoch = -(-len(images.y_train) // batch)
        bar = progress(epochs, start, f"table1 {activation} seed {seed}")
        for epoch in range(start, epochs):
            began = time.monotonic()
            train_loss, train_acc = train_epoch(model, opt, images, batch, seed, epoch, lr,
                                                milestones)
            acc = accuracy(model, images.x_test, images.y_test, test_batch)
            twin = copies_identical(model, first_k1, len(copies) - 1)
            rows += epoch_rows(seed, activation, copies, epoch, acc, train_loss, twin, train_acc)
            if writer and (epoch + 1) % snapshot_every == 0:  # before the checkpoint: kept
                writer.add((epoch + 1) // snapshot_every - 1, (epoch + 1) * steps_per_epoch,
                           epoch, copy_states(model))
            save_checkpoint(job, model, opt, {"epoch": epoch + 1, "rows": rows})
            bar.update(1)
            # under a time limit: stop now if the next epoch might not end before it
            if epoch + 1 < epochs and job.reached(next_step=2 * (time.monotonic() - began)):
                raise job.stop(f"epoch {epoch + 1} of {epochs}")
        bar.close()
        check_table1_rows([(r[5], r[2]) for r in rows], ks, epochs, out)
        table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(TABLE1_COLUMNS)})
        meta = job.provenance(dict(dataset=dataset, seed=seed, ks=list(ks), network=network,
                                   lr=lr, epochs=epochs), dtype,
                              threads=fingerprint["threads"], run=fingerprint["params"])
        table = table.replace_schema_metadata({b"traindyn": json.dumps(meta).encode()})
        job.check()
        if writer:
            writer.meta["provenance"] = meta
            writer.close(epochs // snapshot_every)
        with atomic_path(out) as tmp:
            pq.write_table(table, tmp)


def copy_divergence(model, layer: str, a: int = 0, b: int = 1) -> float:
    """Relative L1 divergence of copy a's and copy b's weights of one layer (float64)."""
    w = layer_weight(model, layer).detach().double().cpu().numpy()
    return float(relative_l1_divergence(w[a], w[b]))


def fig2_run(out: str, data: str | None = None, *, dataset: str, n: int, base_lr: float,
             saves: int, ks: Sequence[int], seed: int, network: dict, weight_decay: float,
             batch: int, dtype: str, device: str, deterministic: bool,
             root: str | None = None, download: bool = False, gpus: int = 0,
             pixel_noise: float = 0.0, tensors: Sequence[str] | None = None,
             checkpoint_seconds: float = 300.0) -> None:
    """Two copies (k = ks[0], ks[1]) with plain SGD at lr = base_lr / n, for saves * n updates
    (not n epochs). ``out``: the run's weight snapshots (:mod:`traindyn.snapshots`): both
    copies' parameters and buffers (or only ``tensors``) after the first update (the rounding
    floor) and after every n updates; the divergence of any layer is extracted from them
    (:func:`fig2_divergence`). A checkpoint is written at a save point once
    ``checkpoint_seconds`` have passed since the last; the saves made so far stay in the work
    directory, so a resumed run ends with the same bytes."""
    dev = resolve_device(device, gpus, job=out)
    fingerprint = _identity(dict(locals()), dataset, data, root, dev)
    with resumable_job(out + ".work", dev, fingerprint, deterministic) as job:
        torch_dt = torch_dtype(dtype)
        images = load_data(dataset, data, root, download, torch_dt, dev, pixel_noise)
        net = NetSpec(network["depth"], network["width"], "swish", network["swish_beta"],
                      network.get("shortcut", "B"))
        model = build(net, images, list(ks), seed, torch_dt, dev)
        lr = base_lr / n
        opt = optimizer(model, list(ks), lr, 0.0, weight_decay, False)
        total = saves * n
        writer = SnapshotWriter(out, job.path, ks=list(ks),
                                meta=dict(n=n, lr=lr, base_lr=base_lr, n_saves=saves,
                                          seed=seed, dtype=dtype))
        state = load_checkpoint(job, model, opt) or {
            "step": 0, "epoch": 0, "in_epoch": 0, "saved": 0}
        step, epoch, in_epoch = state["step"], state["epoch"], state["in_epoch"]
        saved = state["saved"]
        bar = progress(total, step, f"fig2 n={n}")
        last_save = time.monotonic()

        def progress_now() -> dict:
            return {"step": step, "epoch": epoch, "in_epoch": in_epoch, "saved": saved}

        def snapshot() -> int:
            # the weights leave the device only here, at the first step and the saves
            states = copy_states(model)
            if tensors is not None:
                names = [tensor_name(t, list(states[0])) for t in tensors]
                states = [{k: st[k] for k in names} for st in states]
            writer.add(saved, step, epoch, states)
            return saved + 1

        while step < total:
            for x, y in islice(minibatches(images, batch, seed, epoch), in_epoch, None):
                loss_and_step(model, opt, x, y)
                step, in_epoch = step + 1, in_epoch + 1
                if step == 1:
                    saved = snapshot()  # the rounding floor
                if step % n == 0:
                    saved = snapshot()
                    if time.monotonic() - last_save >= checkpoint_seconds and step < total:
                        save_checkpoint(job, model, opt, progress_now())
                        last_save = time.monotonic()
                if step == total:
                    break
                if job.reached():  # any step is a resume point: save and stop
                    save_checkpoint(job, model, opt, progress_now())
                    raise job.stop(f"update {step} of {total}")
            else:
                epoch, in_epoch = epoch + 1, 0
            bar.update(step - bar.n)
        bar.close()
        if saved != saves + 1:
            raise ValueError(f"Figure 2 run {out} is incomplete: {saved - 1} of {saves} saves")
        writer.meta["provenance"] = job.provenance(
            dict(dataset=dataset, n=n, base_lr=base_lr, saves=saves, ks=list(ks), seed=seed,
                 network=network), dtype, threads=fingerprint["threads"],
            run=fingerprint["params"])
        job.check()
        writer.close(saved)


def fig2_divergence(snapshots: str, out: str, *, layer: str) -> None:
    """Extraction step: a Figure 2 run's snapshots -> ``out`` (.npz): the relative L1 divergence
    of the two copies' ``layer`` at the first update (``floor``) and at every save
    (``divergence``), with ``lr``, ``n``, ``saves`` and the run's provenance."""
    meta = read_meta(snapshots)
    div = divergences(snapshots, [layer], ["relative_l1"], ref=0)[layer]["relative_l1"][:, 1]
    save_npz(out, divergence=div[1:], floor=float(div[0]), lr=meta["lr"], n=meta["n"],
             saves=meta["n_saves"], provenance=json.dumps(dict(meta["provenance"],
                                                               layer=layer)))
