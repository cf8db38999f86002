"""Analyses of a finished run's weight snapshots (:mod:`traindyn.snapshots`), as pipeline steps
that read snapshots only: the divergence of the copies' weights for any layers and metrics.
Changing the layers or the metric reruns these steps, never the training.

Metrics of copy c against the reference copy r (the first k = 1 copy), per save:

* ``relative_l1`` -- the SI paper's 2·mean(|w_c − w_r| / (|w_c| + |w_r|)) (the figures' metric);
* ``l2`` -- the Euclidean norm of w_c − w_r;
* ``over_first`` -- ``relative_l1`` divided by its value at the first save (growth over the
  rounding floor of the first step, where the run saves it).

* ``path/to/file.py:name`` -- your own metric: a function of ``(w, ref)`` (float64 arrays:
  every copy's weights, shape (copies, n), and the reference copy's, shape (n,)) returning one
  value per copy. The file is code you run, like a study's model file; it is a code input of
  the extraction step, so editing it reruns that step (and nothing before it).

A layer is a parameter or buffer name (``fc.weight``), a layer whose weight is meant (``fc``),
or ``*``: every floating-point parameter of the network taken together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
from safetensors import safe_open

from .divergence import relative_l1_divergence
from .snapshots import read_meta

__all__ = ["METRICS", "divergences", "divergence_step", "user_metric"]


def _l2(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.sqrt(((w - ref) ** 2).reshape(len(w), -1).sum(axis=1))


def _rel_l1(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return relative_l1_divergence(w, ref, axis=tuple(range(1, w.ndim)))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "relative_l1": _rel_l1, "l2": _l2}
DERIVED = ("over_first",)


def user_metric(spec: str, workdir: str | None = None) -> Callable:
    """The function a ``file.py:name`` metric names (relative to ``workdir``, by default the
    working directory); a missing file or name is a ValueError naming the spec."""
    from pathlib import Path

    from .models.names import _load_file

    file, _, name = spec.rpartition(":")
    path = Path(file) if Path(file).is_absolute() else Path(workdir or Path.cwd()) / file
    if not file.endswith(".py") or not path.is_file():
        raise ValueError(f"metric {spec!r}: no file {path} (a metric is one of "
                         f"{', '.join([*METRICS, *DERIVED])} or 'file.py:function')")
    fn = getattr(_load_file(path.resolve()), name, None)
    if not callable(fn) or isinstance(fn, type):
        raise ValueError(f"metric {spec!r}: {path} has no function {name!r}")
    return fn


def metric_errors(metrics: Sequence[str], key: str, workdir: str | None = None) -> list[str]:
    """Problems of the metric names before any job: unknown names, user metrics that do not
    load or do not give one finite value per copy on a small example."""
    errs = []
    w = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    for m in metrics:
        if m in METRICS or m in DERIVED:
            continue
        if ":" not in m:
            errs.append(f"{key}: unknown metric {m!r} (one of {', '.join([*METRICS, *DERIVED])} "
                        "or 'file.py:function')")
            continue
        try:
            out = np.asarray(user_metric(m, workdir)(w, w[0]), dtype=np.float64)
        except Exception as err:  # the user's code may raise anything
            errs.append(f"{key}: metric {m!r} failed on a (3 copies, 4 values) example: "
                        f"{type(err).__name__}: {err}")
            continue
        if out.shape != (3,):
            errs.append(f"{key}: metric {m!r} returned shape {out.shape} for 3 copies; it must "
                        "return one value per copy")
    return errs


def tensor_name(layer: str, names: Sequence[str]) -> str:
    """The snapshot tensor a layer name means (a parameter, or a layer's weight)."""
    if layer in names:
        return layer
    if f"{layer}.weight" in names:
        return f"{layer}.weight"
    raise KeyError(f"the snapshots hold no tensor {layer!r} or {layer + '.weight'!r} (they "
                   f"hold {len(names)} tensors, e.g. {list(names)[:4]})")


def _stack(f, save: int, copies: int, names: Sequence[str]) -> np.ndarray:
    """(copies, n) the named tensors of every copy at one save, flattened, float64 (``f``: the
    snapshot file, opened once for the whole extraction)."""
    return np.stack([np.concatenate([f.get_tensor(f"s{save}/c{c}/{n}").double().numpy()
                                     .reshape(-1) for n in names]) for c in range(copies)])


def divergences(path: str, layers: Sequence[str], metrics: Sequence[str] = ("relative_l1",),
                ref: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {metric: (saves, copies)}} of a run's snapshot file; ``ref``: the reference copy
    (default the first k = 1 copy)."""
    meta = read_meta(path)
    names, ks = meta["tensors"], meta["ks"]
    ref = ks.index(1) if ref is None else ref
    unknown = sorted(m for m in set(metrics) - set(METRICS) - set(DERIVED) if ":" not in m)
    if unknown:
        raise ValueError(f"unknown metrics {unknown}: {', '.join([*METRICS, *DERIVED])} or "
                         "'file.py:function'")
    fns = dict(METRICS, **{m: user_metric(m) for m in metrics if ":" in m})
    out: dict[str, dict[str, np.ndarray]] = {}
    for layer in layers:
        if layer == "*":
            chosen = [n for n in names if not n.endswith(("running_mean", "running_var",
                                                          "num_batches_tracked"))]
        else:
            chosen = [tensor_name(layer, names)]
        per: dict[str, list] = {m: [] for m in fns}
        with safe_open(str(path), framework="pt") as f:
            stacks = [_stack(f, save, len(ks), chosen) for save in range(len(meta["saves"]))]
        for w in stacks:
            for m, fn in fns.items():
                per[m].append(fn(w, w[ref][None]) if m == "relative_l1" else
                              np.asarray(fn(w, w[ref]), dtype=np.float64))
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
    arrays.update({f"layer_{i}_{_key(m)}": div[layer][m] for i, layer in enumerate(layers)
                   for m in metrics})
    end = meta.get("end", {})
    save_npz(out, steps=np.asarray([s["step"] for s in meta["saves"]], dtype=np.int64),
             ks=np.asarray(meta["ks"]), layers=np.asarray(list(layers), dtype=str),
             metrics=np.asarray(metrics, dtype=str),
             **{k: np.asarray(v) for k, v in end.items()}, **arrays,
             provenance=json.dumps(dict(meta.get("provenance", {}), snapshots=snapshots,
                                        layers=list(layers), metrics=metrics)))


def _key(metric: str) -> str:
    """A metric's name in an .npz key: a user metric by its function's name."""
    return metric.rpartition(":")[2]

