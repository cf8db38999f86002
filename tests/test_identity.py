"""Readers check that a file belongs where it is read: a log, summary or run copied over
another one, from another setting, trial chunk, seed or format, is an error naming the file and
every field that differs (Snakemake, which compares paths and times, would trust it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from lesde_fixtures import geomnist_cache
from traindyn.atomic import save_npz
from traindyn.data.geomnist import load_geomnist
from traindyn.lesde.figures.common import load
from traindyn.identity import IdentityError
from traindyn.instab.outputs import read_fig2_run, read_table1_run
from traindyn.lesde.steps import train_run
from traindyn.lesde.summary import summarize

RUN = dict(experiment="geomnist_noise", dataset="geomnist", iterations=20, lr=0.01,
           eval_every=10, eval_subset=None, seed=0, dtype="float64", device="cpu",
           checkpoint_every=10, eval_batch=None, trial_block=None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, dict]:
    """Two settings x two trial chunks of real training logs in the pipeline's layout."""
    root = tmp_path_factory.mktemp("lesde")
    data = geomnist_cache(root / "geomnist.npz")
    jobs = {}
    for setting, p in (("p0.0", 0.0), ("p0.67", 0.6666666666666666)):
        for lo, hi in ((0, 2), (2, 3)):
            stem = root / f"results/lesde/geomnist_noise/{setting}/trials{lo}-{hi}"
            stem.parent.mkdir(parents=True, exist_ok=True)
            job = dict(RUN, setting=setting, trials=[lo, hi], p=p, data=data)
            kw = {k: v for k, v in job.items() if k != "data"}
            train_run(f"{stem}.steps.parquet", f"{stem}.val.parquet", data, **kw)
            jobs[(setting, lo)] = job
    stem = root / "results/lesde/geomnist_noise/p0.0-r1/trials0-2"  # a replicate of p = 0
    stem.parent.mkdir(parents=True)
    job = dict(RUN, setting="p0.0-r1", trials=[0, 2], p=0.0, data=data, replicate=1)
    train_run(f"{stem}.steps.parquet", f"{stem}.val.parquet", data,
              **{k: v for k, v in job.items() if k != "data"})
    jobs[("p0.0-r1", 0)] = job
    return root, jobs


def _logs(root: Path, setting: str) -> tuple[list[str], list[str]]:
    stems = [root / f"results/lesde/geomnist_noise/{setting}/trials{c}" for c in ("0-2", "2-3")]
    return [f"{s}.steps.parquet" for s in stems], [f"{s}.val.parquet" for s in stems]


def _copy(runs, tmp_path) -> Path:
    root, _ = runs
    shutil.copytree(root / "results", tmp_path / "results")
    return tmp_path


def test_the_right_logs_summarize(runs, tmp_path):
    root, jobs = runs
    steps, vals = _logs(root, "p0.0")
    summarize(str(tmp_path / "summary.npz"), steps, vals,
              runs=[jobs[("p0.0", 0)], jobs[("p0.0", 2)]])
    rep = root / "results/lesde/geomnist_noise/p0.0-r1/trials0-2"  # streams "geomnist_noise/r1"
    summarize(str(tmp_path / "r1.npz"), [f"{rep}.steps.parquet"], [f"{rep}.val.parquet"],
              runs=[jobs[("p0.0-r1", 0)]])
    with pytest.raises(IdentityError, match="replicate: 1 in the file, 0 expected"):
        summarize(str(tmp_path / "r1.npz"), [f"{rep}.steps.parquet"], [f"{rep}.val.parquet"],
                  runs=[dict(jobs[("p0.0-r1", 0)], replicate=0)])


def test_logs_of_another_setting_copied_over_are_named(runs, tmp_path):
    root, jobs = runs
    work = _copy(runs, tmp_path)
    for kind in ("steps", "val"):
        for chunk in ("0-2", "2-3"):
            shutil.copy(work / f"results/lesde/geomnist_noise/p0.67/trials{chunk}.{kind}.parquet",
                        work / f"results/lesde/geomnist_noise/p0.0/trials{chunk}.{kind}.parquet")
    steps, vals = _logs(work, "p0.0")
    with pytest.raises(IdentityError) as err:
        summarize(str(work / "summary.npz"), steps, vals,
                  runs=[jobs[("p0.0", 0)], jobs[("p0.0", 2)]])
    msg = str(err.value)
    assert f"training log {steps[0]} belongs to another run" in msg
    assert "setting: 'p0.67' in the file, 'p0.0' expected" in msg
    with pytest.raises(IdentityError, match="setting: 'p0.67' in the file"):  # no config needed
        summarize(str(work / "summary.npz"), steps, vals)
    assert not (work / "summary.npz").exists()


def test_trials_copied_over_another_chunk_are_named(runs, tmp_path):
    work = _copy(runs, tmp_path)
    d = work / "results/lesde/geomnist_noise/p0.0"
    for kind in ("steps", "val"):
        shutil.copy(d / f"trials2-3.{kind}.parquet", d / f"trials0-2.{kind}.parquet")
    steps, vals = _logs(work, "p0.0")
    with pytest.raises(IdentityError, match=r"trials0-2.steps.parquet belongs to another run "
                                            r"\(trials: \[2\] in the file, \[0, 1\] expected"):
        summarize(str(work / "summary.npz"), steps, vals)


def test_a_log_of_another_config_is_named(runs, tmp_path):
    """Same path, other parameters (the config changed while the file's timestamp did not)."""
    root, jobs = runs
    steps, vals = _logs(root, "p0.0")
    other = [dict(jobs[("p0.0", 0)], lr=0.02), jobs[("p0.0", 2)]]
    with pytest.raises(IdentityError, match="lr: 0.01 in the file, 0.02 expected"):
        summarize(str(tmp_path / "summary.npz"), steps, vals, runs=other)


def test_a_summary_copied_from_another_setting_is_named(runs, tmp_path):
    root, _ = runs
    out = {}
    for setting in ("p0.0", "p0.67"):
        out[setting] = tmp_path / f"results/lesde/geomnist_noise/{setting}/summary.npz"
        out[setting].parent.mkdir(parents=True)
        summarize(str(out[setting]), *_logs(root, setting))
    load(str(out["p0.0"]))
    shutil.copy(out["p0.67"], out["p0.0"])
    with pytest.raises(IdentityError, match=r"LE-SDE summary .*p0.0/summary.npz belongs to "
                                            r"another run \(setting: 'p0.67' in the file"):
        load(str(out["p0.0"]))


def test_instab_runs_and_caches_are_the_ones_their_paths_name(tmp_path):
    meta = {"run": {"seed": 1, "activation": "relu", "ks": [1, 3], "epochs": 1}}
    import pyarrow as pa

    rows = {"epoch": [0, 0, 0], "copy": [0, 1, 2]}
    table = pa.table(rows).replace_schema_metadata({b"traindyn": json.dumps(meta).encode()})
    run = tmp_path / "results/instab/table1/relu/seed1.parquet"
    run.parent.mkdir(parents=True)
    pq.write_table(table, run)
    read_table1_run(run)
    shutil.copy(run, run.with_name("seed2.parquet"))
    with pytest.raises(IdentityError, match="seed2.parquet belongs to another run "
                                            r"\(seed: 1 in the file, 2 expected"):
        read_table1_run(run.with_name("seed2.parquet"))
    fig2 = tmp_path / "results/instab/fig2/float32/n1.npz"
    save_npz(fig2, divergence=np.zeros(3), saves=3, n=1, provenance=json.dumps({"dtype": "float32"}))
    read_fig2_run(fig2)
    (fig2.parent.parent / "float64").mkdir()
    shutil.copy(fig2, fig2.parent.parent / "float64/n2.npz")
    with pytest.raises(IdentityError, match=r"dtype: 'float32' in the file, 'float64' expected; "
                                            r"n: 1 in the file, 2 expected"):
        read_fig2_run(fig2.parent.parent / "float64/n2.npz")
    cache = tmp_path / "results/data/geomnist/ntr8_nval4_seed0.npz"
    cache.parent.mkdir(parents=True)
    geomnist_cache(cache)
    load_geomnist(str(cache))
    shutil.copy(cache, cache.with_name("ntr12_nval4_seed0.npz"))
    with pytest.raises(IdentityError, match=r"n_train: 8 in the file, 12 expected"):
        load_geomnist(str(cache.with_name("ntr12_nval4_seed0.npz")))
