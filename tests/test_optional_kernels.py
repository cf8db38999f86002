"""The native LE-SDE kernels are optional: `make kernels` (the step of `make setup` that builds
them) finishes with one line when there is no compiler or the build fails, a LE-SDE job then
trains on the torch path and says so in its log, and the path is part of the run fingerprint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from lesde_fixtures import geomnist_cache
import traindyn.jobs as jobs
from traindyn.lesde import kernels
from traindyn.lesde.steps import train_run

RUN = dict(experiment="geomnist_noise", setting="p0.0", trials=[0, 2], dataset="geomnist", p=0.0,
           iterations=30, lr=0.01, eval_every=10, eval_subset=2, seed=0, dtype="float64",
           device="cpu", checkpoint_every=10)
JOB = """
import json, sys
from traindyn.lesde.steps import train_run
train_run(sys.argv[1], sys.argv[1] + ".val", sys.argv[2], **json.loads(sys.argv[3]))
"""


def _checkout_copy(tmp_path: Path) -> Path:
    """The Makefile and library in a fresh folder: no kernels built there yet."""
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "workflow", copy / "workflow",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Makefile", copy)
    return copy


def _env(copy: Path, **extra: str) -> dict[str, str]:
    """No compiler anywhere on PATH (an empty folder), the copy's library first."""
    (copy / "empty-bin").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "CXX"}
    return {**env, "PATH": str(copy / "empty-bin"), "PYTHONPATH": str(copy / "workflow"), **extra}


def _make_kernels(copy: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("make"), "-C", str(copy), "--no-print-directory",
                           "kernels", f"BIN={Path(sys.executable).parent}"],
                          env=env, capture_output=True, text=True, timeout=300)


def test_no_compiler_setup_succeeds_and_the_job_runs_the_torch_path(tmp_path):
    copy = _checkout_copy(tmp_path)
    env = _env(copy)
    setup = _make_kernels(copy, env)
    assert setup.returncode == 0, setup.stderr
    lines = [ln for ln in setup.stderr.splitlines() if ln.startswith("traindyn")]
    assert lines == ["traindyn: LE-SDE native CPU kernels not built: no C++ compiler (c++ is not "
                     "on PATH; set CXX to name another); LE-SDE jobs on a CPU will run the torch "
                     "path (same results to 1e-12, about 3x slower)"], setup.stderr
    out = tmp_path / "t.steps.parquet"
    job = subprocess.run([sys.executable, "-c", JOB, str(out),
                          geomnist_cache(tmp_path / "g.npz"), json.dumps(RUN)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stderr
    assert ("LE-SDE training on cpu: torch path; native kernels unavailable: no C++ compiler"
            in job.stderr), job.stderr
    assert pq.read_table(out).num_rows == 2 * 30
    meta = json.loads(pq.read_schema(out).metadata[b"traindyn"])
    assert meta["kernels"] == "torch"


def test_a_failed_build_is_one_line_and_not_retried_by_every_job(tmp_path):
    copy = _checkout_copy(tmp_path)
    env = _env(copy, CXX=shutil.which("false"))
    setup = _make_kernels(copy, env)
    assert setup.returncode == 0, setup.stderr
    assert "native CPU kernels not built: the build with /usr/bin/false failed (compiler " \
           "output in" in setup.stderr, setup.stderr
    assert "torch path" in setup.stderr
    # the next job reads the recorded failure instead of building again
    probe = subprocess.run([sys.executable, "-c", "from traindyn.lesde import kernels, train; "
                            "import torch; print(train.kernel_path(torch.device('cpu')), "
                            "kernels.unavailable_reason())"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert probe.stdout.startswith("torch the build with /usr/bin/false failed"), probe
    assert not list((copy / "build").rglob("*.so"))


def test_the_fingerprint_tells_the_native_and_torch_paths_apart(tmp_path, monkeypatch):
    """State saved by one path is never resumed by the other (they agree to 1e-12, not bitwise):
    the work directory's fingerprint differs exactly in `kernels`."""
    seen = []
    real = jobs.owned_workdir

    def spy(path, fingerprint, log=None):
        seen.append(dict(fingerprint))
        return real(path, fingerprint, log)

    monkeypatch.setattr(jobs, "owned_workdir", spy)
    data = geomnist_cache(tmp_path / "g.npz")
    if not kernels.available():
        pytest.skip(f"no native kernels here: {kernels.unavailable_reason()}")
    train_run(str(tmp_path / "a.parquet"), str(tmp_path / "a.val"), data, **RUN)
    monkeypatch.setattr(kernels, "available", lambda: False)
    train_run(str(tmp_path / "b.parquet"), str(tmp_path / "b.val"), data, **RUN)
    native, torch_path = seen
    assert (native.pop("kernels"), torch_path.pop("kernels")) == ("native", "torch")
    assert native == torch_path


@pytest.mark.workflow
def test_a_run_that_fell_back_to_the_torch_path_says_so_at_its_end(tmp_path):
    """A killed or failed kernel build (failed.json) makes every LE-SDE job on a CPU run the
    torch path: the run's closing summary and claims.md's header say so."""
    import yaml

    copy = _checkout_copy(tmp_path)  # no kernels built there
    shutil.copy(ROOT / "Snakefile", copy)
    shutil.copytree(ROOT / "envs", copy / "envs")
    work = tmp_path / "work"
    work.mkdir()
    off = dict.fromkeys(("si_heat", "si_pde", "lesde_data", "lesde_figures", "si_deep"), False)
    config = {"targets": {**off, "lesde_logs": True},
              "data": {"geomnist": {"train_per_class": 12, "val_per_class": 4}},
              "lesde": {"device": "cpu", "checkpoint_every": 20, "geomnist_noise": {
                  "ps": [0.0], "train_per_class": 12, "val_per_class": 4, "trials": 2,
                  "trials_per_job": 2, "iterations": 20, "lr": 0.01, "eval_every": 10,
                  "eval_subset": None}}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "CXX": shutil.which("false")}  # the build fails at once
    proc = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-s",
                           str(copy / "Snakefile"), "--directory", str(work), "--cores", "1"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    notice = ("NOTE: 1 LE-SDE training job(s) ran the torch path on a CPU because the native "
              "kernels were unavailable")
    assert notice in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-3000:]
    header = (work / "figures/claims.md").read_text().splitlines()[:3]
    assert header[2].startswith(f"> **{notice}"), header
    assert list((copy / "build").rglob("failed.json"))
    # the same run where the kernels load: no note
    if not kernels.available():
        pytest.skip(f"no native kernels here: {kernels.unavailable_reason()}")
    native = tmp_path / "native"
    native.mkdir()
    shutil.copy(work / "config.yaml", native)
    proc = subprocess.run([str(Path(sys.executable).with_name("snakemake")), "-s",
                           str(ROOT / "Snakefile"), "--directory", str(native), "--cores", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "torch path" not in proc.stdout + proc.stderr
    assert "NOTE" not in (native / "figures/claims.md").read_text()
