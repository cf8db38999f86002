"""Snakemake steps of the deep-network instability track: Table 1 (one job per seed and
activation) and Figure 2 (one job per learning rate)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ..atomic import atomic_path, save_npz
from ..data.cifar import check_cifar, read_cifar10
from ..data.geomnist import load_geomnist
from ..divergence import relative_l1_divergence
from ..lesde.train import resolve_device
from ..provenance import provenance
from .data import CIFAR_MEAN, CIFAR_STD, ImageData, minibatches, normalized
from .optimizer import PerturbedSGD, split
from .train import (NetSpec, accuracy, build, copies_identical, load_checkpoint, loss_and_step,
                    numerics, progress, save_checkpoint)

DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


def load_data(dataset: str, data: str | None, root: str | None, download: bool, dtype,
              device) -> ImageData:
    if dataset == "cifar10":
        check_cifar(root, download)
        parts = {}
        for split_name, train in (("train", True), ("test", False)):
            x, y = read_cifar10(root, train, download)
            x = x.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            parts[split_name] = (normalized(x, CIFAR_MEAN, CIFAR_STD, dtype, device),
                                 torch.as_tensor(y, device=device))
        return ImageData(*parts["train"], *parts["test"], n_classes=10, augment=True)
    d = load_geomnist(data)
    mean, std = float(d["x_train"].mean()), float(d["x_train"].std())
    return ImageData(normalized(d["x_train"], (mean,), (std,), dtype, device),
                     torch.as_tensor(d["y_train"], device=device),
                     normalized(d["x_val"], (mean,), (std,), dtype, device),
                     torch.as_tensor(d["y_val"], device=device),
                     n_classes=int(d["y_train"].max()) + 1, augment=True)


def _setup(dtype: str, device: str, deterministic: bool):
    numerics(deterministic)
    return DTYPES[dtype], resolve_device(device)


def table1_run(out: str, data: str | None = None, *, dataset: str, seed: int, activation: str,
               ks: Sequence[int], network: dict, lr: float, momentum: float, nesterov: bool,
               weight_decay: float, batch: int, epochs: int, milestones: Sequence[int],
               test_batch: int, dtype: str, device: str, deterministic: bool,
               root: str | None = None, download: bool = False) -> None:
    """All perturbed copies of one seed plus a second k = 1 copy (the null control), trained on
    the same minibatches; per-epoch test accuracy of every copy, and whether the control is still
    bit-identical to the k = 1 copy."""
    torch_dtype, dev = _setup(dtype, device, deterministic)
    images = load_data(dataset, data, root, download, torch_dtype, dev)
    copies = [*ks, 1]  # last copy: the null control, twin of the first k = 1 copy
    first_k1 = list(ks).index(1)
    net = NetSpec(network["depth"], network["width"], activation, network["swish_beta"])
    model = build(net, images, copies, seed, torch_dtype, dev)
    opt = PerturbedSGD(list(model.parameters()), copies, lr, momentum, 0.0, weight_decay, nesterov)
    ckpt = out + ".ckpt"
    start, rows = load_checkpoint(ckpt, model, opt, dev)
    bar = progress(epochs, start, f"table1 {activation} seed {seed}")
    for epoch in range(start, epochs):
        opt.lr = lr * 0.1 ** sum(epoch >= m for m in milestones)
        losses = [loss_and_step(model, opt, x, y)
                  for x, y in minibatches(images, batch, seed, epoch)]
        train_loss = torch.stack(losses).mean(dim=0).cpu().numpy()
        acc = accuracy(model, images.x_test, images.y_test, test_batch)
        twin = copies_identical(model, first_k1, len(copies) - 1)
        for c, k in enumerate(copies):
            rows.append([seed, activation, c, int(k), c == len(copies) - 1, epoch,
                         float(acc[c]), float(train_loss[c]), bool(twin)])
        save_checkpoint(ckpt, model, opt, epoch + 1, rows)
        bar.update(1)
    bar.close()
    cols = ["seed", "activation", "copy", "k", "control", "epoch", "test_acc", "train_loss",
            "control_identical"]
    table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    meta = provenance(dict(dataset=dataset, seed=seed, ks=list(ks), network=network, lr=lr,
                           epochs=epochs), torch=torch.__version__, dtype=dtype, device=str(dev))
    table = table.replace_schema_metadata({b"traindyn": json.dumps(meta).encode()})
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp)
    os.remove(ckpt)


def layer_weight(model, layer: str) -> torch.Tensor:
    """The (copies, ...) view of a named conv layer's weight, e.g. 'layer2.5.conv1'."""
    module = model.get_submodule(layer)
    return split(module.weight, model.copies)


def copy_divergence(model, layer: str, a: int = 0, b: int = 1) -> float:
    """Relative L1 divergence of copy a's and copy b's weights of one layer (float64)."""
    w = layer_weight(model, layer).detach().double().cpu().numpy()
    return float(relative_l1_divergence(w[a], w[b]))


def fig2_run(out: str, data: str | None = None, *, dataset: str, n: int, base_lr: float,
             saves: int, layer: str, ks: Sequence[int], seed: int, network: dict,
             weight_decay: float, batch: int, dtype: str, device: str, deterministic: bool,
             root: str | None = None, download: bool = False) -> None:
    """Two copies (k = ks[0], ks[1]) with plain SGD at lr = base_lr / n; the configured layer's
    weights after every n updates, for ``saves`` saves (saves * n updates, not n epochs)."""
    torch_dtype, dev = _setup(dtype, device, deterministic)
    images = load_data(dataset, data, root, download, torch_dtype, dev)
    net = NetSpec(network["depth"], network["width"], "swish", network["swish_beta"])
    model = build(net, images, list(ks), seed, torch_dtype, dev)
    lr = base_lr / n
    opt = PerturbedSGD(list(model.parameters()), list(ks), lr, 0.0, 0.0, weight_decay, False)
    total = saves * n
    div = np.empty(saves)
    floor = None
    step, epoch = 0, 0
    bar = progress(total, 0, f"fig2 n={n}")
    while step < total:
        for x, y in minibatches(images, batch, seed, epoch):
            loss_and_step(model, opt, x, y)
            step += 1
            if floor is None:
                floor = copy_divergence(model, layer)
            if step % n == 0:
                div[step // n - 1] = copy_divergence(model, layer)
            if step == total:
                break
        bar.update(min(step, total) - bar.n)
        epoch += 1
    bar.close()
    meta = provenance(dict(dataset=dataset, n=n, base_lr=base_lr, saves=saves, layer=layer,
                           ks=list(ks), seed=seed, network=network), torch=torch.__version__,
                      dtype=dtype, device=str(dev))
    save_npz(out, divergence=div, floor=floor, lr=lr, n=n, saves=saves,
             provenance=json.dumps(meta))
