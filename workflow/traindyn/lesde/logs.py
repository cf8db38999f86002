"""Parquet layout of the LE-SDE training logs (one row per trial and iteration; validation rows
every ``eval_every`` iterations), written part by part and merged at the end."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_path
from ..identity import check_identity, path_identity


def steps_schema(n_classes: int) -> pa.Schema:
    fields = [pa.field("trial", pa.int32()), pa.field("itr", pa.int32()),
              pa.field("smp", pa.int32()), pa.field("y", pa.int8()),
              pa.field("true_class", pa.int8())]
    fields += [pa.field(f"y_logit{k}", pa.float64()) for k in range(n_classes)]
    fields.append(pa.field("tr_loss", pa.float64()))
    return pa.schema(fields)


VAL_SCHEMA = pa.schema([pa.field("trial", pa.int32()), pa.field("itr", pa.int32()),
                        pa.field("val_loss", pa.float64()), pa.field("val_acc", pa.float64())])

STEPS_DOC = {
    "trial": "global trial id",
    "itr": "SGD iteration (0-based); one sample per iteration",
    "smp": "index of the sampled training example (class-ordered: true class = smp // n_train)",
    "y": "training label used (the corrupted one in label-noise runs)",
    "true_class": "true class of the sampled example",
    "y_logit{k}": "logits of the sampled example before the update",
    "tr_loss": "cross-entropy of the sampled example before the update",
}
VAL_DOC = {
    "val_loss": "mean cross-entropy on the validation set (or subset) after the update at itr",
    "val_acc": "accuracy on the same images",
}


def steps_table(trials: np.ndarray, itrs: np.ndarray, smp: np.ndarray, y: np.ndarray,
                true_class: np.ndarray, logits: np.ndarray, loss: np.ndarray) -> pa.Table:
    """Arrays indexed (iteration, trial) -> rows in iteration-major order."""
    n_itr, m = smp.shape
    cols = {
        "trial": np.tile(trials, n_itr).astype(np.int32),
        "itr": np.repeat(itrs, m).astype(np.int32),
        "smp": smp.reshape(-1).astype(np.int32),
        "y": y.reshape(-1).astype(np.int8),
        "true_class": true_class.reshape(-1).astype(np.int8),
    }
    for k in range(logits.shape[-1]):
        cols[f"y_logit{k}"] = logits[..., k].reshape(-1)
    cols["tr_loss"] = loss.reshape(-1)
    return pa.table(cols, schema=steps_schema(logits.shape[-1]))


def val_table(trials: np.ndarray, itrs: np.ndarray, loss: np.ndarray, acc: np.ndarray) -> pa.Table:
    n_itr, m = loss.shape
    return pa.table({"trial": np.tile(trials, n_itr).astype(np.int32),
                     "itr": np.repeat(itrs, m).astype(np.int32),
                     "val_loss": loss.reshape(-1), "val_acc": acc.reshape(-1)}, schema=VAL_SCHEMA)


def write_part(path: str | os.PathLike, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _by_window(tables, every: int):
    """The rows of consecutive tables, regrouped into one table per ``every`` iterations."""
    pending, window = [], None
    for table in tables:
        w = table["itr"].to_numpy() // every
        cuts = [0, *(np.flatnonzero(np.diff(w)) + 1), len(w)]
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            if hi > lo and window is not None and w[lo] != window:
                yield pa.concat_tables(pending).combine_chunks()
                pending = []
            if hi > lo:
                window = w[lo]
                pending.append(table.slice(lo, hi - lo))
    if pending:
        yield pa.concat_tables(pending).combine_chunks()


def merge_parts(parts: list[Path], out: str | os.PathLike, schema: pa.Schema,
                metadata: dict, check=None, group_every: int | None = None) -> None:
    """Stream the parts into one file with provenance metadata: one row group per part, or with
    ``group_every`` one per that many iterations (the same bytes however the parts were cut);
    ``check(path, name)`` vets the merged file before it replaces ``out``."""
    schema = schema.with_metadata({b"traindyn": json.dumps(metadata).encode()})
    tables = (pq.read_table(part).cast(schema) for part in parts)
    with atomic_path(out) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            for table in tables if group_every is None else _by_window(tables, group_every):
                writer.write_table(table)
        if check is not None:
            check(tmp, name=out)


def read_log(path: str | os.PathLike, columns: list[str] | None = None) -> pa.Table:
    """Read a log; a missing, truncated or corrupted file is an error naming it."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"cannot read training log {path}: {err}") from err


def log_metadata(path: str | os.PathLike) -> dict:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"cannot read training log {path}: {err}") from err
    return json.loads(meta.get(b"traindyn", b"{}"))


def eval_iterations(iterations: int, every: int) -> np.ndarray:
    """Iterations after whose update the validation set is evaluated: 0, every, 2*every, ..., last."""
    return np.unique(np.r_[np.arange(0, iterations, every), iterations - 1])


def _ranges(values: np.ndarray) -> str:
    """[3, 4, 5, 9] -> '3-5, 9' (at most a few ranges)."""
    if len(values) == 0:
        return "none"
    breaks = np.flatnonzero(np.diff(values) != 1)
    starts, ends = np.r_[values[0], values[breaks + 1]], np.r_[values[breaks], values[-1]]
    parts = [f"{a}-{b}" if a != b else f"{a}" for a, b in zip(starts, ends)]
    return ", ".join(parts[:5]) + (f", ... ({len(parts)} ranges)" if len(parts) > 5 else "")


REBUILD = "Delete it (and its .work folder) to rebuild it."


def check_log_complete(path: str | os.PathLike, name: str | os.PathLike | None = None,
                       advice: str = REBUILD) -> None:
    """Fail, naming the file and the missing iterations, unless the log is complete.

    A log written by this pipeline's trainer (or :class:`traindyn.lesde.writer.LogWriter`) must
    have exactly ``rows_per_step`` rows (default 1; a probe set's images) per trial and logged
    iteration (every ``log_every``-th, default each) of the run its metadata describes, in
    iteration-major order, then trial, then row. A log from elsewhere
    (the documented schema, no run metadata) must have one row per trial and iteration, every
    trial the same iterations, and a steps log iterations 0..T-1 without gaps."""
    name = name or path
    spec = log_metadata(path).get("spec")
    table = read_log(path, columns=["trial", "itr"])
    got_itr = table["itr"].to_numpy().astype(np.int64)
    got_trial = table["trial"].to_numpy().astype(np.int64)
    is_val = "val_loss" in pq.read_schema(path).names
    kind = "validation" if is_val else "step"
    if not spec:
        _check_foreign(got_itr, got_trial, is_val, f"{kind} log {name}")
        return
    trials = np.asarray(spec["trials"], dtype=np.int64)
    rows = 1 if is_val else int(spec.get("rows_per_step", 1))
    itrs = (eval_iterations(spec["iterations"], spec["eval_every"]) if is_val
            else np.arange(0, spec["iterations"], spec.get("log_every", 1)))
    want_itr = np.repeat(itrs, len(trials) * rows)
    want_trial = np.tile(np.repeat(trials, rows), len(itrs))
    if (len(got_itr) == len(want_itr) and np.array_equal(got_itr, want_itr)
            and np.array_equal(got_trial, want_trial)):
        return
    present = {(i, t) for i, t in zip(got_itr.tolist(), got_trial.tolist())}
    missing = np.array([i for i in itrs.tolist() if any((i, t) not in present
                                                         for t in trials.tolist())], dtype=int)
    raise ValueError(
        f"{kind} log {name} is incomplete or out of order: {len(got_itr)} rows, expected "
        f"{len(want_itr)} ({len(trials)} trials x {len(itrs)} iterations"
        f"{f' x {rows} rows' if rows > 1 else ''}); iterations missing "
        f"for some trial: {_ranges(missing)}. {advice}")


def _check_foreign(itr: np.ndarray, trial: np.ndarray, is_val: bool, what: str) -> None:
    trials, itrs = np.unique(trial), np.unique(itr)
    pairs = np.unique(np.stack([itr, trial]), axis=1).shape[1] if len(itr) else 0
    if pairs != len(itr):
        raise ValueError(f"{what} has repeated (trial, itr) rows")
    if len(itr) != len(trials) * len(itrs):
        counts = {int(t): int((trial == t).sum()) for t in trials}
        raise ValueError(f"{what} is incomplete: trials have different numbers of iterations "
                         f"({counts}; {len(itrs)} distinct iterations)")
    if not is_val and not np.array_equal(itrs, np.arange(len(itrs))):
        gaps = np.setdiff1d(np.arange(itrs.max() + 1), itrs)
        raise ValueError(f"{what} is incomplete: iterations missing: {_ranges(gaps)}")


# ---------------------------------------------------------------- identity: whose log is it?

LOG_PATH = (r"(?:^|/)results/lesde/(?P<experiment>[^/]+)/(?P<setting>[^/]+)/"
            r"trials(?P<lo>\d+)-(?P<hi>\d+)\.(?:steps|val)\.parquet$")
SUMMARY_PATH = (r"(?:^|/)results/lesde/(?P<experiment>[^/]+)/(?P<setting>[^/]+)/"
                r"summary\.npz$")
# What a log's metadata records of its run (the trainer's spec and run fields).
RUN_FIELDS = ("experiment", "setting", "trials", "iterations", "lr", "eval_every", "seed",
              "dtype", "device", "eval_batch", "trial_block", "dataset", "p", "eval_subset",
              "data", "n_classes", "replicate")


def log_identity(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The run a pipeline log was written by (its spec and run fields), None without them."""
    if not meta.get("spec"):
        return None
    spec = dict(meta["spec"])
    # the spec names the random streams: "<experiment>/r<k>" for replicate k of a setting (a
    # study's or LogWriter's spec names no experiment: nothing to decode)
    if "experiment" in spec:
        experiment, _, replicate = str(spec["experiment"]).partition("/r")
        spec.update(experiment=experiment, replicate=int(replicate or 0))
    return {**meta.get("run", {}), **spec}


def expected_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """A training job's parameters as the config gives them (experiment, setting, trials
    ``[lo, hi]`` and the run parameters) -> the fields its log must record."""
    lo, hi = run["trials"]
    want = {**run, "trials": list(range(lo, hi))}
    return {k: want[k] for k in RUN_FIELDS if k in want}


def _chunk(path: str | os.PathLike) -> dict[str, Any] | None:
    where = path_identity(path, LOG_PATH)
    if where is None:
        return None
    lo, hi = where.pop("lo"), where.pop("hi")
    return {**where, "trials": list(range(lo, hi))}


def check_log_run(path: str | os.PathLike, expect: Mapping[str, Any] | None = None) -> None:
    """Fail, naming the file and each differing field, unless the log is the one its path names
    (``<experiment>/<setting>/trials<lo>-<hi>``) and, given ``expect`` (:func:`expected_run` of
    the job the config defines), written by that run. A log outside the pipeline's layout and
    without run metadata (the documented schema, written elsewhere) is not compared, unless an
    ``expect`` says what it must be."""
    found = log_identity(log_metadata(path))
    where = _chunk(path)
    if found is None and expect is None:
        return
    if where is not None:
        check_identity(path, found, where, "training log")
    if expect is not None:
        check_identity(path, found, expect, "training log")


def check_logs(steps: Sequence[str], vals: Sequence[str],
               runs: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Every log complete and the one its path and (given ``runs``: the config's training jobs
    of the setting) the config name; a short, reordered, swapped or copied log is an error
    naming it."""
    expect = {tuple(r["trials"]): expected_run(r) for r in runs or ()}
    for path in (*steps, *vals):
        check_log_complete(path)
        where = _chunk(path)
        want = None
        if runs is not None:
            key = (where["trials"][0], where["trials"][-1] + 1) if where else None
            if key not in expect:
                raise ValueError(f"training log {path} is not one of the config's trial chunks "
                                 f"{sorted(expect)}: delete it or fix the rule's inputs")
            want = expect[key]
        check_log_run(path, want)


def check_summary(path: str | os.PathLike, data: Mapping[str, Any]) -> None:
    """A setting's summary is the one its path names: its logs' experiment and setting."""
    where = path_identity(path, SUMMARY_PATH)
    meta = json.loads(str(data["log_metadata"])) if "log_metadata" in data else {}
    found = log_identity(meta)
    if where is not None and found is not None:
        check_identity(path, found, where, "LE-SDE summary")
