"""The SI Figure 2 runs a config asks for (the figure's and the precision extra's: one per
format and lr divisor n) and the data every SI deep-network run reads: pure functions of the
config for the Snakemake rules (``rules/instab.smk`` holds rules only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from ..data.registry import geomnist_path


def fig2_runs(dtype: str, ns: Sequence[int]) -> list[str]:
    """The Figure 2 runs (one per n) in one floating-point format."""
    return [f"results/instab/fig2/{dtype}/n{n}.npz" for n in ns]


def fig2_run_args(fig2: Mapping[str, Any], common: Mapping[str, Any]) -> dict:
    """The training arguments of a Figure 2 run: the family's ``common`` ones, then Figure 2's
    own; not the watched layer (it is extracted from the snapshots), unless only the watched
    layer is kept. ``fig2.pixel_noise`` (None: the family's) replaces the family's noise."""
    args = {k: v for k, v in fig2.items() if k not in ("ns", "layer", "snapshots", "pixel_noise")}
    watched = fig2["snapshots"]["tensors"] == "watched"
    noise = fig2.get("pixel_noise")
    own = {} if noise is None else {"pixel_noise": noise}
    # the family's arguments last and in their order (a run's params keep their order)
    return dict(args, tensors=[fig2["layer"]] if watched else None,
                **{k: own.get(k, v) for k, v in common.items()})


def fig2_jobs(config: Mapping[str, Any]) -> list[SimpleNamespace]:
    """Wildcards of every Figure 2 run (the figure's format and the precision extra's)."""
    ins = config["instab"]
    pairs = [(ins["dtype"], n) for n in ins["fig2"]["ns"]]
    pairs += [(d, n) for d in ins["precision"]["dtypes"] for n in ins["precision"]["ns"]]
    return [SimpleNamespace(dtype=d, n=n) for d, n in pairs]


def cache(config: Mapping[str, Any], w=None) -> dict[str, str]:
    """The GeoMNIST cache the runs train on as a named input (nothing for CIFAR-10); the same
    for every run's wildcards ``w``."""
    ins = config["instab"]
    if ins["dataset"] != "geomnist":
        return {}
    seed = config["data"]["geomnist"]["seed"]
    return {"data": geomnist_path(ins["train_per_class"], ins["test_per_class"], seed)}
