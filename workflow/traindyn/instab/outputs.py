"""The result files of the instability runs, checked complete when written and when read:
Table 1 runs (Parquet, one row per copy and epoch) and Figure 2 runs (npz, one divergence per
save). A short or damaged file is an error naming it, never a smaller table or curve."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import load_npz
from ..identity import check_identity, path_identity

# The identity each run's path spells (results/instab/...), checked against its metadata.
TABLE1_PATH = (r"(?:^|/)results/instab/table1/(?P<activation>[^/]+)/"
               r"seed(?P<seed>\d+)\.parquet$")
FIG2_PATH = r"(?:^|/)results/instab/fig2/(?P<dtype>[^/]+)/n(?P<n>\d+)\.npz$"

# train_acc: running accuracy on the epoch's (augmented) minibatches, before each step, as the
# authors log it; test_acc: the test set after the epoch.
TABLE1_COLUMNS = ["seed", "activation", "copy", "k", "control", "epoch", "test_acc",
                  "train_loss", "control_identical", "train_acc"]


def epoch_rows(seed: int, activation: str, ks: Sequence[int], epoch: int, test_acc, train_loss,
               control_identical: bool, train_acc) -> list[list]:
    """The rows of one epoch, one per copy (the last copy is the null control)."""
    last = len(ks) - 1
    return [[seed, activation, c, int(k), c == last, epoch, float(test_acc[c]),
             float(train_loss[c]), bool(control_identical), float(train_acc[c])]
            for c, k in enumerate(ks)]


def check_table1_rows(epochs_and_copies: Sequence[tuple[int, int]], ks: Sequence[int],
                      epochs: int, name: str | os.PathLike) -> None:
    """One row per copy (every k and the control) and epoch, epochs 0..epochs-1 in order."""
    want = [(e, c) for e in range(epochs) for c in range(len(ks) + 1)]
    got = [tuple(map(int, ec)) for ec in epochs_and_copies]
    if got != want:
        done = sorted({e for e, _ in got})
        raise ValueError(f"Table 1 run {name} is incomplete: {len(got)} rows, expected "
                         f"{len(want)} ({len(ks) + 1} copies x {epochs} epochs); epochs present: "
                         f"{_span(done)}. Delete it (and its .work folder) to rebuild it.")


def _span(values: list[int]) -> str:
    return "none" if not values else f"{values[0]}..{values[-1]} ({len(values)} of them)"


def read_table1_run(path: str | os.PathLike) -> pa.Table:
    """A Table 1 run: the one its path names (activation, seed), checked complete against the
    run parameters stored in its metadata."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"cannot read Table 1 run {path}: {err}") from err
    run = json.loads((table.schema.metadata or {}).get(b"traindyn", b"{}")).get("run")
    if not run:
        raise ValueError(f"Table 1 run {path} has no run metadata; delete it to rebuild it")
    where = path_identity(path, TABLE1_PATH)
    if where is not None:  # a run of another seed or activation copied here
        check_identity(path, run, where, "Table 1 run")
    pairs = zip(table["epoch"].to_pylist(), table["copy"].to_pylist())
    check_table1_rows(list(pairs), run["ks"], run["epochs"], path)
    return table


def read_fig2_run(path: str | os.PathLike) -> dict:
    """A Figure 2 run: the one its path names (format, n), every save present."""
    data = load_npz(path)
    where = path_identity(path, FIG2_PATH)
    if where is not None:  # a run of another n or format copied here
        meta = json.loads(str(data["provenance"])) if "provenance" in data else None
        found = None if meta is None else {"dtype": meta.get("dtype"), "n": int(data["n"])}
        check_identity(path, found, where, "Figure 2 run")
    saves = int(data["saves"])
    if data["divergence"].shape != (saves,):
        raise ValueError(f"Figure 2 run {path} is incomplete: {data['divergence'].shape[0]} of "
                         f"{saves} saves. Delete it (and its .work folder) to rebuild it.")
    return data
