"""Analyses of a finished run's weight snapshots (:mod:`traindyn.snapshots`), as pipeline steps
that read snapshots only: the divergence of the copies' weights for any layers and metrics.
Changing the layers or the metric reruns these steps, never the training.

Metrics of copy c against the reference copy r (the first k = 1 copy), per save:

* ``relative_l1`` -- the SI paper's 2·mean(|w_c − w_r| / (|w_c| + |w_r|)) (the figures' metric);
* ``l2`` -- the Euclidean norm of w_c − w_r;
* ``over_first`` -- ``relative_l1`` divided by its value at the first save (growth over the
  rounding floor of the first step, where the run saves it).

A layer is a parameter or buffer name (``fc.weight``), a layer whose weight is meant (``fc``),
or ``*``: every floating-point parameter of the network taken together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .divergence import relative_l1_divergence
from .snapshots import load_snapshot, read_meta

__all__ = ["METRICS", "divergences", "divergence_step"]


def _l2(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.sqrt(((w - ref) ** 2).reshape(len(w), -1).sum(axis=1))


def _rel_l1(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return relative_l1_divergence(w, ref, axis=tuple(range(1, w.ndim)))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "relative_l1": _rel_l1, "l2": _l2}
DERIVED = ("over_first",)


def tensor_name(layer: str, names: Sequence[str]) -> str:
    """The snapshot tensor a layer name means (a parameter, or a layer's weight)."""
    if layer in names:
        return layer
    if f"{layer}.weight" in names:
        return f"{layer}.weight"
    raise KeyError(f"the snapshots hold no tensor {layer!r} or {layer + '.weight'!r} (they "
                   f"hold {len(names)} tensors, e.g. {list(names)[:4]})")


def _stack(path: str, save: int, copies: int, names: Sequence[str]) -> np.ndarray:
    """(copies, n) the named tensors of every copy at one save, flattened, float64."""
    rows = []
    for c in range(copies):
        t = load_snapshot(path, save, c, names)
        rows.append(np.concatenate([t[n].double().numpy().reshape(-1) for n in names]))
    return np.stack(rows)


def divergences(path: str, layers: Sequence[str], metrics: Sequence[str] = ("relative_l1",),
                ref: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {metric: (saves, copies)}} of a run's snapshot file; ``ref``: the reference copy
    (default the first k = 1 copy)."""
    meta = read_meta(path)
    names, ks = meta["tensors"], meta["ks"]
    ref = ks.index(1) if ref is None else ref
    unknown = sorted(set(metrics) - set(METRICS) - set(DERIVED))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}: {', '.join([*METRICS, *DERIVED])}")
    out: dict[str, dict[str, np.ndarray]] = {}
    for layer in layers:
        if layer == "*":
            chosen = [n for n in names if not n.endswith(("running_mean", "running_var",
                                                          "num_batches_tracked"))]
        else:
            chosen = [tensor_name(layer, names)]
        per: dict[str, list] = {m: [] for m in METRICS}
        for save in range(len(meta["saves"])):
            w = _stack(path, save, len(ks), chosen)
            for m, fn in METRICS.items():
                per[m].append(fn(w, w[ref][None]) if m == "relative_l1" else fn(w, w[ref]))
        series = {m: np.asarray(v) for m, v in per.items()}
        first = series["relative_l1"][:1]
        series["over_first"] = np.divide(series["relative_l1"], first,
                                         out=np.full_like(series["relative_l1"], np.nan),
                                         where=first > 0)
        out[layer] = {m: series[m] for m in metrics}
    return out


def divergence_step(snapshots: str, out: str, *, layers: Sequence[str],
                    metrics: Sequence[str] = ("relative_l1",)) -> None:
    """Snakemake step: a run's snapshots -> ``out`` (.npz): ``steps``, ``ks``, ``layers``,
    ``metrics``, ``layer_<i>`` (the first metric, (saves, copies)) and ``layer_<i>_<metric>``,
    with the run's end-of-training record (``n_classes``, ``n_test``, ``logit_zero``,
    ``logit_spread``) and provenance carried over."""
    from .atomic import save_npz

    meta = read_meta(snapshots)
    metrics = list(metrics)
    div = divergences(snapshots, layers, metrics)
    arrays = {f"layer_{i}": div[layer][metrics[0]] for i, layer in enumerate(layers)}
    arrays.update({f"layer_{i}_{m}": div[layer][m] for i, layer in enumerate(layers)
                   for m in metrics})
    end = meta.get("end", {})
    save_npz(out, steps=np.asarray([s["step"] for s in meta["saves"]], dtype=np.int64),
             ks=np.asarray(meta["ks"]), layers=np.asarray(list(layers), dtype=str),
             metrics=np.asarray(metrics, dtype=str),
             **{k: np.asarray(v) for k, v in end.items()}, **arrays,
             provenance=json.dumps(dict(meta.get("provenance", {}), snapshots=snapshots,
                                        layers=list(layers), metrics=metrics)))


def run_end(meta: Mapping) -> dict:
    return dict(meta.get("end", {}))
