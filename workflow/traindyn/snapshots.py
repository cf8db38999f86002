"""Weight snapshots of training copies: what a training job writes once, so that every analysis
of the weights (divergence of any layer by any metric, logits of a probe set) is an extraction
step that reads them and never a new training run.

One file per run, in the safetensors format (no pickle: safe to load from someone else), the
tensors in their training dtype bit for bit (a divergence at the rounding level survives).
Tensor ``s<i>/c<c>/<name>`` is copy ``c``'s parameter or buffer ``name`` at save ``i``; the
file's metadata (``traindyn``, JSON) lists the saves (optimizer step, epoch), the copies (their
k), the tensor names and the run's own description (seed, lr, fingerprint...).

A job writes each save into its work directory as it goes (:class:`SnapshotWriter`), so a
resumed job keeps the saves it made, and joins them into the run's file at the end.

    from traindyn import snapshots
    saves = snapshots.list_snapshots("results/studies/mine/copies/seed1.snapshots.safetensors")
    weights = snapshots.load_snapshot(path, save=-1, copy=0)   # {name: tensor}
    snapshots.load_into(model, path, save=-1, copy=0)          # an nn.Module of the run
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

__all__ = ["SnapshotWriter", "copy_tensors", "list_snapshots", "load_into", "load_snapshot",
           "read_meta", "snapshot_bytes"]

META_KEY = "traindyn"


def copy_tensors(net: torch.nn.Module, names: Sequence[str] | None = None) -> dict[str, Any]:
    """One network's parameters and buffers by name (all, or ``names``), detached on the CPU."""
    state = dict(net.named_parameters())
    state.update(net.named_buffers())
    keep = state if names is None else {n: state[n] for n in names}
    return {n: t.detach().to("cpu").clone().contiguous() for n, t in keep.items()}


class SnapshotWriter:
    """Saves of a run's copies into ``work`` (one file per save), joined into ``path``."""

    def __init__(self, path: str | os.PathLike, work: str | os.PathLike, *,
                 ks: Sequence[int], meta: Mapping[str, Any]) -> None:
        self.path, self.work = Path(path), Path(work) / "snapshots"
        self.work.mkdir(parents=True, exist_ok=True)
        self.ks, self.meta = [int(k) for k in ks], dict(meta)

    def _part(self, index: int) -> Path:
        return self.work / f"save{index:06d}.safetensors"

    def add(self, index: int, step: int, epoch: int,
            copies: Sequence[Mapping[str, torch.Tensor]]) -> None:
        from safetensors.torch import save_file

        if len(copies) != len(self.ks):
            raise ValueError(f"{len(copies)} copies, expected {len(self.ks)}")
        tensors = {f"c{c}/{n}": t for c, state in enumerate(copies) for n, t in state.items()}
        part = self._part(index)
        tmp = part.with_suffix(".tmp")
        save_file(tensors, str(tmp), metadata={"step": str(step), "epoch": str(epoch)})
        os.replace(tmp, part)  # a save is there whole or not at all

    def close(self, saves: int) -> None:
        """Join the ``saves`` saves into the run's file (atomic)."""
        from safetensors import safe_open
        from safetensors.torch import save_file

        from .atomic import atomic_path

        tensors, listed, names = {}, [], None
        for i in range(saves):
            with safe_open(str(self._part(i)), framework="pt") as f:
                m = f.metadata()
                listed.append({"step": int(m["step"]), "epoch": int(m["epoch"])})
                keys = list(f.keys())
                names = names or sorted({k.split("/", 1)[1] for k in keys})
                for key in keys:
                    tensors[f"s{i}/{key}"] = f.get_tensor(key)
        meta = dict(self.meta, saves=listed, ks=self.ks, tensors=names or [])
        with atomic_path(str(self.path)) as tmp:
            mode = os.stat(tmp).st_mode  # the usual permissions, which safetensors' writer drops
            save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta, sort_keys=True)})
            os.chmod(tmp, mode)


def read_meta(path: str | os.PathLike) -> dict:
    """The run's description: ``saves`` [{step, epoch}], ``ks``, ``tensors`` and its own keys.
    A file that is missing, truncated or not a snapshot file is an error naming it."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except Exception as err:  # safetensors raises its own error types for a damaged header
        raise ValueError(f"cannot read snapshot file {path}: {err}") from err
    if raw is None:
        raise ValueError(f"{path} is not a traindyn snapshot file (no '{META_KEY}' metadata)")
    return json.loads(raw)


def list_snapshots(path: str | os.PathLike) -> list[dict]:
    """The saves of a run: [{"save": i, "step": ..., "epoch": ...}]."""
    return [dict(save=i, **s) for i, s in enumerate(read_meta(path)["saves"])]


def _index(saves: int, save: int) -> int:
    i = save + saves if save < 0 else save
    if not 0 <= i < saves:
        raise IndexError(f"save {save} of a run with {saves} saves")
    return i


def load_snapshot(path: str | os.PathLike, save: int = -1, copy: int = 0,
                  names: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """Copy ``copy``'s tensors at save ``save`` (negative: from the end), all or ``names``."""
    from safetensors import safe_open

    meta = read_meta(path)
    i = _index(len(meta["saves"]), save)
    if not 0 <= copy < len(meta["ks"]):
        raise IndexError(f"copy {copy} of a run with {len(meta['ks'])} copies")
    wanted = list(names) if names is not None else meta["tensors"]
    missing = sorted(set(wanted) - set(meta["tensors"]))
    if missing:
        raise KeyError(f"{path} holds no tensors {missing} (it has {meta['tensors'][:6]}...)")
    with safe_open(str(path), framework="pt") as f:
        return {n: f.get_tensor(f"s{i}/c{copy}/{n}") for n in wanted}


def load_into(model: torch.nn.Module, path: str | os.PathLike, save: int = -1,
              copy: int = 0) -> torch.nn.Module:
    """``model`` (of the run's architecture) with copy ``copy``'s weights at save ``save``; a
    snapshot of only some tensors loads those and leaves the rest (strict=False)."""
    tensors = load_snapshot(path, save, copy)
    model.load_state_dict(tensors, strict=read_meta(path)["tensors"] == sorted(
        {**dict(model.named_parameters()), **dict(model.named_buffers())}))
    return model


def snapshot_bytes(numel: int, copies: int, saves: int, dtype: str) -> int:
    """Bytes of a run's snapshot file: every save of every copy's ``numel`` values."""
    size = {"float64": 8, "float32": 4, "bfloat16": 2}[dtype]
    return numel * copies * saves * size
