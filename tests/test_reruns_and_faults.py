"""Only stale steps rerun; interrupted or corrupted work never turns into wrong results.

These tests run the workflow from a private copy of the repository (so a library module can be
edited) on a small configuration: heat equation, GeoMNIST and a short LE-SDE run."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import ROOT, SNAKEMAKE
from test_workflow import planned_jobs_cmd

pytestmark = pytest.mark.workflow

SMALL = {
    "targets": {"si_heat": True, "si_pde": False, "lesde_data": True, "lesde_logs": True,
                "lesde_figures": False, "si_deep": False},
    "data": {"geomnist": {"train_per_class": 12, "val_per_class": 4}},
    "heat": {"max_steps": 1000, "sweep": {"dt_min": 0.4, "dt_max": 0.6, "n": 11, "steps": 500}},
    "lesde": {"checkpoint_every": 20, "geomnist_noise": {
        "ps": [0.0], "train_per_class": 12, "val_per_class": 4, "trials": 2,
        "trials_per_job": 2, "iterations": 200, "lr": 0.01, "eval_every": 20,
        "eval_subset": None}},
}


def _repo_copy(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(ROOT / "Snakefile", dest / "Snakefile")
    shutil.copytree(ROOT / "envs", dest / "envs")
    shutil.copytree(ROOT / "workflow", dest / "workflow",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def _smk(repo: Path, work: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    cmd = ["timeout", "-s", "INT", "600", SNAKEMAKE, "-s", str(repo / "Snakefile"),
           "--directory", str(work), *args]
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("small")
    repo = _repo_copy(base / "repo")
    work = base / "work"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump(SMALL))
    proc = _smk(repo, work, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return repo, work


@pytest.fixture
def small_copy(small_run, tmp_path) -> tuple[Path, Path]:
    """A private copy of the finished small run (repository and results, mtimes kept)."""
    repo, work = small_run
    new_repo = tmp_path / "repo"
    shutil.copytree(repo, new_repo)
    new_work = tmp_path / "work"
    shutil.copytree(work, new_work)
    # the copy's metadata refers to the first repository: re-point by running once (no work)
    proc = _smk(new_repo, new_work, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return new_repo, new_work


def plan(repo: Path, work: Path) -> dict[str, int]:
    return planned_jobs_cmd(["-s", str(repo / "Snakefile"), "--directory", str(work)])


def test_nothing_to_do_after_a_complete_run(small_copy):
    assert plan(*small_copy) == {}


def test_editing_a_library_module_reruns_its_stage_only(small_copy):
    repo, work = small_copy
    heat = repo / "workflow/traindyn/pde/heat.py"
    heat.write_text(heat.read_text() + "\n# edited\n")
    assert plan(repo, work) == {"heat_simulate": 1, "si_fig1_heat": 1, "claims": 1, "manifest": 1,
                                "all": 1}


def test_editing_the_lesde_model_reruns_training_only(small_copy):
    repo, work = small_copy
    model = repo / "workflow/traindyn/lesde/model.py"
    model.write_text(model.read_text() + "\n# edited\n")
    # claims reads the training logs (the torch-path note of claims.md): rewritten after them
    assert plan(repo, work) == {"lesde_train": 1, "claims": 1, "manifest": 1, "all": 1}


def test_changing_one_experiment_parameter_reruns_its_jobs_only(small_copy):
    repo, work = small_copy
    config = yaml.safe_load((work / "config.yaml").read_text())
    config["lesde"]["geomnist_noise"]["lr"] = 0.02
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    # (figures/run_config.json records the config, so it is rewritten too)
    assert plan(repo, work) == {"lesde_train": 1, "run_config": 1, "claims": 1, "manifest": 1,
                                "all": 1}


def test_deleting_a_figure_rebuilds_only_that_figure(small_copy):
    repo, work = small_copy
    (work / "figures/si/fig1_heat.png").unlink()
    assert plan(repo, work) == {"si_fig1_heat": 1, "claims": 1, "manifest": 1, "all": 1}


def test_corrupted_parquet_fails_naming_the_file_and_leaves_no_output(small_copy):
    repo, work = small_copy
    log = work / "results/lesde/geomnist_noise/p0.0/trials0-2.steps.parquet"
    log.write_bytes(log.read_bytes()[:200])  # truncated
    target = "results/lesde/geomnist_noise/p0.0/summary.npz"
    proc = _smk(repo, work, "--cores", "1", target)
    assert proc.returncode != 0
    err = (work / "results/logs/lesde/geomnist_noise/p0.0/summary.log").read_text()
    # the step runner checks every input against its job's record before the reader runs
    assert (f"damaged input, not read:\n  {log.relative_to(work)}: its bytes changed after its "
            "job (lesde_train) wrote it") in err, err
    assert not (work / target).exists()


def _digest(work: Path) -> dict[str, str]:
    """Content hashes of every result file (arrays of npz files, tables of Parquet files)."""
    out = {}
    for path in sorted((work / "results").rglob("*")):
        if path.suffix not in (".npz", ".parquet") or "logs" in path.parts:
            continue
        h = hashlib.sha256()
        if path.suffix == ".npz":
            with np.load(path) as data:
                for key in sorted(data.files):
                    h.update(key.encode() + data[key].tobytes())
        else:
            h.update(pq.read_table(path).to_pandas().to_csv().encode())
        out[str(path.relative_to(work))] = h.hexdigest()
    return out


def test_same_config_twice_gives_identical_results(small_run, tmp_path):
    repo, work = small_run
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(work / "config.yaml", again / "config.yaml")
    proc = _smk(repo, again, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = _digest(work), _digest(again)
    assert len(first) >= 4 and first == second


def _kill_training(snakemake: subprocess.Popen, checkpoint: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not checkpoint.exists():
        assert time.time() < deadline and snakemake.poll() is None, "no checkpoint appeared"
        time.sleep(0.05)
    for child in psutil.Process(snakemake.pid).children(recursive=True):
        if any("step.py" in part for part in child.cmdline()):
            child.send_signal(signal.SIGKILL)
            return
    raise AssertionError("training process not found")


def test_sigkilled_training_resumes_to_identical_logs(small_run, tmp_path):
    repo, work = small_run
    config = yaml.safe_load((work / "config.yaml").read_text())
    config["lesde"]["geomnist_noise"]["iterations"] = 600
    runs = {}
    for name in ("reference", "killed"):
        w = tmp_path / name
        w.mkdir()
        (w / "config.yaml").write_text(yaml.safe_dump(config))
        runs[name] = w
    target = "results/lesde/geomnist_noise/p0.0/trials0-2.steps.parquet"
    assert _smk(repo, runs["reference"], "--cores", "2", target).returncode == 0
    w = runs["killed"]
    cmd = ["timeout", "-s", "INT", "600", SNAKEMAKE, "-s", str(repo / "Snakefile"),
           "--directory", str(w), "--cores", "2", target]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_training(proc, w / f"{target}.work" / "checkpoint.pt")
    assert proc.wait(timeout=120) != 0
    assert not (w / target).exists() and (w / f"{target}.work" / "checkpoint.pt").exists()
    resumed = _smk(repo, w, "--cores", "2", target)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = (w / "results/logs/lesde/geomnist_noise/p0.0/trials0-2.log").read_text()
    assert "itr" in log  # the progress bar of the resumed job
    for suffix in (".steps.parquet", ".val.parquet"):
        a = pq.read_table(runs["reference"] / target.replace(".steps.parquet", suffix))
        b = pq.read_table(w / target.replace(".steps.parquet", suffix))
        assert a.equals(b)
