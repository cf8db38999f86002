"""k perturbed copies of any model, trained on the same minibatches, with the null control:
the library entry point :func:`train_copies` (also ``traindyn.instab.train_copies``).

The copies start from one initialization and differ only in how the perturbed SGD rounds each
step, ``(lr*k) * (grad/k)`` (:class:`~traindyn.instab.optimizer.PerturbedSGD`); the last copy is
a second k = 1 copy, the null control, which must stay bit-identical to the first (else the run
is not deterministic and its spreads mean nothing). A built-in network with a layout of its own
(the SI ResNet: grouped on a GPU, channels-last sequential networks on a CPU) uses it; any other
model runs as sequential copies, one after another on each minibatch. The epoch loop is the SI
Table 1 runs' (:func:`traindyn.instab.train.train_epoch`)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..divergence import relative_l1_divergence
from ..models.names import ModelFactory, as_factory
from ..models.sequential import SequentialCopies
from ..runtime import numerics, resolve_device, torch_dtype
from .data import ImageData
from .outputs import TABLE1_COLUMNS, epoch_rows
from .train import (accuracy, copies_identical, layer_weight, logit_health, optimizer, progress,
                    train_epoch)

__all__ = ["CopiesResult", "train_copies"]


@dataclass
class CopiesResult:
    ks: list[int]  # one per copy; the last copy is the null control (a second k = 1)
    test_acc: np.ndarray  # (epochs, copies) after each epoch
    train_loss: np.ndarray  # (epochs, copies) mean over the epoch's minibatches
    train_acc: np.ndarray  # (epochs, copies) running, before each step
    control_identical: np.ndarray  # (epochs,) the control still equals the first k = 1 copy
    divergence_steps: np.ndarray  # (points,) optimizer steps after which divergence was taken
    divergence: dict[str, np.ndarray] = field(default_factory=dict)  # layer -> (points, copies)
    logit_zero: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (copies,) at the end
    logit_spread: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (copies,) at the end

    @property
    def control(self) -> int:
        return len(self.ks) - 1

    def table1_rows(self, seed: int, label: str) -> list[list]:
        """Rows in the SI Table 1 runs' layout (:data:`~traindyn.instab.outputs.TABLE1_COLUMNS`;
        ``label`` goes in the activation column), for :func:`traindyn.instab.figures.deep.table1_stats`."""
        rows = []
        for e in range(len(self.test_acc)):
            rows += epoch_rows(seed, label, self.ks, e, self.test_acc[e], self.train_loss[e],
                               bool(self.control_identical[e]), self.train_acc[e])
        return rows

    def table1_frame(self, seed: int, label: str):
        import pandas as pd

        return pd.DataFrame(self.table1_rows(seed, label), columns=TABLE1_COLUMNS)


def build_copies(model_factory: ModelFactory | Callable, ks: Sequence[int], seed: int,
                 dtype: torch.dtype, device: torch.device):
    """len(ks) copies of one initialization (drawn from ``seed``): the model's own copies layout
    where it has one, otherwise sequential copies."""
    factory = as_factory(model_factory)
    if factory.copies_layout is not None:
        return factory.copies_layout(list(ks), seed, dtype, device)
    base = factory.build(seed).to(device=device, dtype=dtype)
    return SequentialCopies([copy.deepcopy(base) for _ in ks], channels_last=False)


def copy_states(model) -> list[dict[str, torch.Tensor]]:
    """Every copy's named parameters and buffers (a grouped model's split along its copies),
    detached copies on the CPU, named as in one copy's network."""
    from ..snapshots import copy_tensors
    from .optimizer import split

    if isinstance(model, SequentialCopies):
        return [copy_tensors(net) for net in model.nets]
    named = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    return [{n: split(t, model.copies)[c].detach().to("cpu").clone().contiguous()
             if t.ndim > 0 else t.detach().to("cpu").clone() for n, t in named.items()}
            for c in range(model.copies)]


def _on(images: ImageData, device: torch.device, dtype: torch.dtype) -> ImageData:
    return ImageData(images.x_train.to(device=device, dtype=dtype), images.y_train.to(device),
                     images.x_test.to(device=device, dtype=dtype), images.y_test.to(device),
                     images.n_classes, images.augment)


def _divergences(model, layers: Sequence[str], ref: int) -> dict[str, np.ndarray]:
    """Per layer: the relative L1 divergence of every copy's weights from copy ``ref``'s."""
    out = {}
    for layer in layers:
        w = layer_weight(model, layer).detach().double().cpu().numpy()
        out[layer] = relative_l1_divergence(w, w[ref][None], axis=tuple(range(1, w.ndim)))
    return out


def train_copies(model_factory: ModelFactory | Callable[[], torch.nn.Module],
                 data, ks: Sequence[int], *, lr: float, epochs: int, batch: int = 128,
                 momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 milestones: Sequence[int] = (), seed: int = 0, layers: Sequence[str] = (),
                 divergence_every: int | None = None, test_batch: int = 1000,
                 augment: bool = False, dtype: str = "float32", device: str = "cpu",
                 gpus: int = 0, snapshot: Callable | None = None) -> CopiesResult:
    """Train one copy per k in ``ks`` (which must hold 1) plus the null control on the same
    seeded minibatches for ``epochs`` epochs (lr / 10 at each milestone). ``data``: an
    :class:`~traindyn.data.images.ImageSet` (``augment``: the CIFAR crop and flip) or the SI
    runs' :class:`~traindyn.instab.data.ImageData`. ``layers``: parameter or layer names whose
    weight divergence from the first k = 1 copy is recorded every ``divergence_every`` steps (by
    default after every epoch). ``snapshot(states, step, epoch)``, if given, is called at the
    same points with every copy's parameters and buffers ({name: tensor} per copy, on the
    CPU). Runs with deterministic kernels and TF32 off; the caller's torch settings are
    restored afterwards."""
    ks = [int(k) for k in ks]
    if 1 not in ks:
        raise ValueError(f"ks {ks} must include 1: the k = 1 copy is plain SGD and the twin of "
                         "the null control")
    copies, first_k1 = [*ks, 1], ks.index(1)
    dev = resolve_device(device, gpus)
    with numerics(deterministic=True):
        images = _on(data if isinstance(data, ImageData) else data.instab_data(augment), dev,
                     torch_dtype(dtype))
        model = build_copies(model_factory, copies, seed, torch_dtype(dtype), dev)
        opt = optimizer(model, copies, lr, momentum, weight_decay, nesterov)
        steps, now, div_steps, divs = [0], [0], [], {layer: [] for layer in layers}
        watch = bool(layers) or snapshot is not None

        def record():
            div_steps.append(steps[0])
            for layer, d in _divergences(model, layers, first_k1).items():
                divs[layer].append(d)
            if snapshot is not None:
                snapshot(copy_states(model), steps[0], now[0])

        def on_step():
            steps[0] += 1
            if watch and divergence_every and steps[0] % divergence_every == 0:
                record()

        per_epoch = []
        bar = progress(epochs, 0, f"{len(copies)} copies")
        for epoch in range(epochs):
            now[0] = epoch
            loss, train_acc = train_epoch(model, opt, images, batch, seed, epoch, lr,
                                          milestones, on_step)
            acc = accuracy(model, images.x_test, images.y_test, test_batch)
            per_epoch.append((acc, loss, train_acc,
                              copies_identical(model, first_k1, len(copies) - 1)))
            if watch and not divergence_every:
                record()
            bar.update()
            bar.set_postfix_str(f"test acc {np.round(acc, 4).tolist()}", refresh=False)
        bar.close()
        zero, spread = logit_health(model, images.x_test, test_batch)
    acc, loss, train_acc, twin = zip(*per_epoch) if per_epoch else ((), (), (), ())
    n = len(copies)
    return CopiesResult(copies, np.reshape(acc, (-1, n)), np.reshape(loss, (-1, n)),
                        np.reshape(train_acc, (-1, n)), np.asarray(twin, dtype=bool),
                        np.asarray(div_steps, dtype=np.int64),
                        {layer: np.reshape(v, (-1, n)) for layer, v in divs.items()},
                        zero, spread)


def _announce(study, model, images, dev, dtype, ks, epochs, batch, layout) -> None:
    """What the job's log says before training: the data, the device, the layout, threads."""
    import sys

    print(f"study {study}: {model} on {images.name} ({len(images.y_train)} training / "
          f"{len(images.y_test)} test images, {images.n_classes} classes, "
          f"{images.channels}x{images.image_size[0]}x{images.image_size[1]}); {len(ks) + 1} "
          f"copies (k = {list(ks)} and the null control) as {layout}; {epochs} epochs "
          f"of batch {batch}; device {dev}, dtype {dtype}, {torch.get_num_threads()} threads",
          file=sys.stderr, flush=True)


def copies_run(out: str, snapshots: str, *, model: str, model_kwargs: dict, data: dict,
               study: str, ks: Sequence[int], seed: int, lr: float, epochs: int,
               batch: int = 128, momentum: float = 0.0, weight_decay: float = 0.0,
               nesterov: bool = False, milestones: Sequence[int] = (),
               tensors: Sequence[str] | None = None, divergence_every: int | None = None,
               test_batch: int = 1000, augment: bool = False, dtype: str = "float32",
               device: str = "cpu", gpus: int = 0) -> None:
    """One seed of a study's copies, with plain arguments (for a pipeline rule): ``out`` in the
    SI Table 1 runs' Parquet layout (read back by
    :func:`traindyn.instab.outputs.read_table1_run`; the model's name in the activation column)
    and ``snapshots``: every copy's parameters and buffers (or only ``tensors``, names or layer
    names) every ``divergence_every`` steps or after every epoch, with the run's end record
    (classes, test images, logit health) in its metadata (:mod:`traindyn.snapshots`); the
    divergences are extracted from it (:mod:`traindyn.extraction`). The job runs in the frame of
    :mod:`traindyn.jobs` (it owns ``<out>.work``, tied to its fingerprint); it does not
    checkpoint (a rerun starts over and ends with the same bytes)."""
    # the arguments alone, before the imports below add their names to locals()
    params = {k: v for k, v in locals().items() if k not in ("out", "snapshots", "gpus")}
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..atomic import atomic_path
    from ..data.images import load_images
    from ..extraction import tensor_name
    from ..jobs import resumable_job
    from ..models.names import resolve_model
    from ..snapshots import SnapshotWriter
    from ..workdir import run_fingerprint
    from .outputs import check_table1_rows

    factory = resolve_model(model, model_kwargs, key=f"studies.{study}.model")
    dev = resolve_device(device, gpus)
    fingerprint = run_fingerprint(__name__, params, [data.get("root"), *factory.files],
                                  device=dev.type)
    # train_copies sets its own numerics
    with resumable_job(out + ".work", dev, fingerprint, deterministic=None) as job:
        images = load_images(**data, key=f"studies.{study}.data")
        _announce(study, model, images, dev, dtype, ks, epochs, batch,
                  "sequential copies" if factory.copies_layout is None
                  else "the network's own copies layout")
        meta = job.provenance(dict(study=study, model=model, ks=list(ks), epochs=epochs), dtype,
                              run=fingerprint["params"])
        writer = SnapshotWriter(snapshots, job.path, ks=[*ks, 1],
                                meta=dict(provenance=meta, seed=seed, lr=lr, dtype=dtype))
        saves = [0]

        def snapshot(states, step, epoch):
            if tensors is not None:
                names = [tensor_name(t, list(states[0])) for t in tensors]
                states = [{n: st[n] for n in names} for st in states]
            writer.add(saves[0], step, epoch, states)
            saves[0] += 1

        result = train_copies(factory, images, ks, lr=lr, epochs=epochs, batch=batch,
                              momentum=momentum, weight_decay=weight_decay, nesterov=nesterov,
                              milestones=milestones, seed=seed,
                              divergence_every=divergence_every, test_batch=test_batch,
                              augment=augment, dtype=dtype, device=str(dev), gpus=gpus,
                              snapshot=snapshot)
        rows = result.table1_rows(seed, model)
        check_table1_rows([(r[5], r[2]) for r in rows], ks, epochs, out)
        table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(TABLE1_COLUMNS)})
        writer.meta["end"] = dict(n_classes=images.n_classes, n_test=len(images.y_test),
                                  logit_zero=result.logit_zero.tolist(),
                                  logit_spread=result.logit_spread.tolist())
        job.check()
        writer.close(saves[0])
        with atomic_path(out) as tmp:
            pq.write_table(table.replace_schema_metadata({b"traindyn": json.dumps(meta).encode()}),
                           tmp)
