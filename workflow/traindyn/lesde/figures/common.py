"""Shared pieces of the LE-SDE figures: loading summaries, the paper-scale switch, class names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...atomic import load_npz
from ..family import LESDE_SCALE
from ..logs import check_summary

CIFAR = "CIFAR-10"
NO_CIFAR = ("needs CIFAR-10: lesde.cifar is off (no data set can be downloaded on this machine; "
            "workflow/configs/paper.yaml runs it)")


def load(path: str) -> dict:
    data = load_npz(path)
    check_summary(path, data)  # a summary copied from another setting is an error naming it
    return data


def by_group(paths: Sequence[str], names: Sequence[Any]) -> dict[Any, list[dict]]:
    """Summaries grouped by data set or noise level, in order: the first of each group is the
    main run (the one plotted), the others its independent replicates."""
    if len(paths) != len(names):
        raise ValueError(f"{len(paths)} summaries but {len(names)} names")
    groups: dict[Any, list[dict]] = {}
    for path, name in zip(paths, names):
        groups.setdefault(name, []).append(load(path))
    return groups


def class_names(dataset: str, k: int) -> list[str]:
    """'c: name' per class, the names from the data-set table (by title), else the index."""
    from ...data.registry import TABLE

    known = {f.title: f.class_names for f in TABLE.values() if f.class_names}
    names = known.get(dataset, ())
    return [f"{c}: {names[c]}" if c < len(names) else str(c) for c in range(k)]


def final(x: np.ndarray, n: int = 100) -> float:
    """Mean over the last n iterations (paper's 'final')."""
    return float(np.nanmean(x[-n:]))

TINY = LESDE_SCALE.too_small


def cifar_not_run(cs, datasets, claims) -> None:
    """The CIFAR-10 claims as not applicable when the CIFAR-10 runs are off, so the verdict table
    says what it does not test. ``claims``: (id, statement, expected) rows."""
    if CIFAR not in datasets:
        for cid, statement, want in claims:
            cs.not_applicable(cid, statement, want, NO_CIFAR)


def scoped(cs, scale: str, keep=lambda cid: cid == "U1" or cid.startswith("U4")):
    """At tiny scale only the data-independent claims stay evaluated."""
    return cs.only_evaluable(TINY, keep) if scale == "tiny" else cs
