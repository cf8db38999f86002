"""Write the LE-SDE logit log from one's own training loop, in the paper runs' Parquet schema
(README "LE-SDE training logs") with their metadata, so the analyses
(:func:`traindyn.lesde.analysis.analyze_logs`, :func:`traindyn.lesde.summary.summarize`) read it
like a log of this pipeline.

    with LogWriter("run/trials0-8", n_classes=3, trials=range(8), iterations=T,
                   eval_every=100) as log:
        for t in range(T):
            log.steps(t, logits, y, smp=idx)         # every trial's pre-update logits at t
            if t in log.eval_iterations:
                log.val(t, val_loss, val_acc)        # every trial, after the update at t

Rows are streamed to part files beside the output; at close the two logs are merged and checked
complete (every trial at every logged iteration, in order; every evaluation) by the same check
the pipeline's trainer and the analysis use. A short or out-of-order log is an error naming what
is missing, and nothing is left behind: no output, no parts. A ``probe set`` (``rows_per_step``
images logged per trial and iteration instead of the sampled example) and logging every
``log_every``-th iteration are recorded in the metadata, which the check and the summary read.
"""

from __future__ import annotations

import os
import shutil
from functools import partial
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..provenance import provenance
from .logs import (VAL_SCHEMA, check_log_complete, eval_iterations, merge_parts, steps_schema,
                   steps_table, val_table, write_part)

__all__ = ["LogWriter"]


def _array(x: Any, dtype=None) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, on any device
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]


class LogWriter:
    """The steps log ``<stem>.steps.parquet`` and the validation log ``<stem>.val.parquet`` of
    one chunk of trials; see the module docstring. ``metadata``: anything JSON-able about the
    run (dataset, model, lr, ...), stored beside the run's shape under the key ``traindyn``."""

    def __init__(self, stem: str | os.PathLike, *, n_classes: int, trials: Sequence[int],
                 iterations: int, eval_every: int, log_every: int = 1, rows_per_step: int = 1,
                 metadata: Mapping[str, Any] | None = None, flush_rows: int = 200_000) -> None:
        self.steps_path = Path(f"{stem}.steps.parquet")
        self.val_path = Path(f"{stem}.val.parquet")
        self.trials = np.asarray(list(trials), dtype=np.int64)
        self.k, self.rows = int(n_classes), int(rows_per_step)
        if len(self.trials) == 0 or self.k < 2 or self.rows < 1 or iterations < 1:
            raise ValueError("a log needs trials, >= 2 classes, >= 1 row per step and iteration")
        self.spec = dict(trials=self.trials.tolist(), iterations=int(iterations),
                         eval_every=int(eval_every), log_every=int(log_every),
                         rows_per_step=self.rows)
        self.eval_iterations = set(eval_iterations(iterations, eval_every).tolist())
        self.logged_iterations = range(0, iterations, log_every)
        self.metadata = dict(metadata or {})
        self._flush_rows = flush_rows
        self._buf: dict[str, list] = {"steps": [], "val": []}
        self._parts: dict[str, list[Path]] = {"steps": [], "val": []}
        self._dir: Path | None = None
        self._closed = False

    # ------------------------------------------------------------ rows

    def steps(self, itr: int, logits, y, *, smp, true_class=None, loss=None) -> None:
        """One logged iteration of every trial: ``logits`` (M, K) (or (M, R, K) for R rows per
        step), the training labels ``y`` and sampled indices ``smp`` (M,) (or (M, R)),
        ``true_class`` (default: ``y``), ``loss`` (default: the cross-entropy of the logits)."""
        m, r = len(self.trials), self.rows
        logits = _array(logits, np.float64)
        if logits.size != m * r * self.k:
            raise ValueError(f"logits of iteration {itr}: shape {logits.shape}, expected {m} "
                             f"trials x {r} rows x {self.k} classes")
        logits = logits.reshape(m, r, self.k)
        y = _array(y, np.int64).reshape(m, r)
        smp = _array(smp, np.int64).reshape(m, r)
        true = y if true_class is None else _array(true_class, np.int64).reshape(m, r)
        loss = (_cross_entropy(logits, y) if loss is None
                else _array(loss, np.float64).reshape(m, r))
        flat = (1, m * r)
        self._add("steps", steps_table(np.repeat(self.trials, r), np.asarray([itr]),
                                       smp.reshape(flat), y.reshape(flat), true.reshape(flat),
                                       logits.reshape(*flat, self.k), loss.reshape(flat)))

    def val(self, itr: int, loss, acc) -> None:
        """Validation loss and accuracy (M,) of every trial after the update at ``itr``."""
        m = len(self.trials)
        self._add("val", val_table(self.trials, np.asarray([itr]),
                                   _array(loss, np.float64).reshape(1, m),
                                   _array(acc, np.float64).reshape(1, m)))

    def _add(self, kind: str, table) -> None:
        if self._closed:
            raise ValueError(f"log {self.steps_path} is already closed")
        self._buf[kind].append(table)
        if sum(t.num_rows for t in self._buf[kind]) >= self._flush_rows:
            self._flush(kind)

    def _flush(self, kind: str) -> None:
        if not self._buf[kind]:
            return
        import pyarrow as pa

        if self._dir is None:
            self.steps_path.parent.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix=f".{self.steps_path.name}.parts-",
                                              dir=self.steps_path.parent))
        part = self._dir / f"{kind}-{len(self._parts[kind]):05d}.parquet"
        write_part(part, pa.concat_tables(self._buf[kind]))
        self._parts[kind].append(part)
        self._buf[kind] = []

    # ------------------------------------------------------------ close

    def close(self) -> tuple[Path, Path]:
        """Merge, check complete, publish both logs; on any problem remove everything."""
        if self._closed:
            return self.steps_path, self.val_path
        try:
            self._flush("steps")
            self._flush("val")
            import torch

            meta = provenance({**self.metadata, "spec": self.spec}, torch=torch.__version__,
                              writer="traindyn.lesde.LogWriter", spec=self.spec,
                              run=self.metadata)
            for kind, path, schema in (("steps", self.steps_path, steps_schema(self.k)),
                                       ("val", self.val_path, VAL_SCHEMA)):
                if not self._parts[kind]:
                    raise ValueError(f"{kind} log {path}: nothing was logged")
                merge_parts(self._parts[kind], path, schema, meta,
                            check=partial(check_log_complete, advice="Nothing was written."))
        except BaseException:
            self.abort()
            raise
        self._discard_parts()
        self._closed = True
        return self.steps_path, self.val_path

    def abort(self) -> None:
        """Drop everything written so far: no output stays, no parts."""
        self._closed = True
        self._discard_parts()
        for path in (self.steps_path, self.val_path):
            path.unlink(missing_ok=True)

    def _discard_parts(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._buf = {"steps": [], "val": []}

    def __enter__(self) -> "LogWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
