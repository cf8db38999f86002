"""The pipeline on a real (single-node, localhost) SLURM cluster through the workflow profile.

Skips only where root or apt-get is unavailable, saying so; under CI (CI=true) it must run."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from conftest import ROOT, SNAKEMAKE
from slurm_cluster import available, local_cluster

pytestmark = pytest.mark.workflow

TARGETS = ["results/si/heat/heat.npz",
           "results/lesde/geomnist_noise/p0.0/trials0-2.steps.parquet"]


def _jobs() -> list[dict[str, str]]:
    out = subprocess.run(["squeue", "-t", "all", "-h", "-o", "%i|%j|%T"], capture_output=True,
                         text=True, check=True).stdout
    return [dict(zip(("id", "name", "state"), line.split("|"))) for line in out.splitlines()]


@pytest.mark.parametrize("form", ["gpus", "gres"])
def test_pipeline_runs_as_slurm_jobs(tmp_path, form):
    """CPU jobs run to completion; the training job asks for a (fake) GPU in the configured form,
    and, finding no CUDA on its node, stops at once with the reason instead of training on the
    CPU."""
    reason = available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the SLURM integration test cannot run in CI: {reason}")
        pytest.skip(reason)
    work = tmp_path / "work"
    work.mkdir()
    config = yaml.safe_load((ROOT / "tests/config.yaml").read_text())
    config["lesde"]["gpu"] = 1  # the training job asks for a (fake) GPU
    config["cluster"] = {"gpu_request": form}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    with local_cluster(tmp_path / "slurm"):
        before = {j["id"] for j in _jobs()}
        proc = subprocess.run(
            ["timeout", "-s", "INT", "900", SNAKEMAKE, "-s", str(ROOT / "Snakefile"),
             "--directory", str(work), "--workflow-profile", str(ROOT / "workflow/profiles/slurm"),
             "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "1",
             "--jobs", "4", "--keep-going", *TARGETS],
            capture_output=True, text=True)
        assert proc.returncode != 0, proc.stdout[-3000:] + proc.stderr[-5000:]
        jobs = [j for j in _jobs() if j["id"] not in before]
        details = {j["id"]: subprocess.run(["scontrol", "show", "job", j["id"]],
                                           capture_output=True, text=True).stdout for j in jobs}
    heat, train_target = TARGETS
    assert (work / heat).stat().st_size > 0 and not (work / train_target).exists()
    states = [j["state"] for j in jobs]  # the CPU jobs completed, the training job (retried) failed
    assert len(jobs) >= 2 and "COMPLETED" in states and "FAILED" in states, jobs
    train_log = work / "results/logs/lesde/geomnist_noise/p0.0/trials0-2.log"
    assert "asks for a GPU" in train_log.read_text() and "CUDA is not usable" in train_log.read_text()
    comments = " ".join(details.values())
    assert "lesde_train" in comments and ("heat_simulate" in comments or "small_data" in comments)
    train = [d for d in details.values() if "lesde_train" in d]
    assert train and re.search(r"gres/gpu[:=]1|gpu:1", train[0]), train[0]
    logs = list((work / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert any("lesde_train" in str(p) for p in logs), logs
    assert "submitted" in (proc.stdout + proc.stderr).lower()
