"""One GPU per job on a multi-GPU workstation (traindyn.devices), on a simulated 4-GPU machine
(CUDA_VISIBLE_DEVICES=0,1,2,3 as Snakemake would be started with; no GPU needed): concurrent jobs
get distinct devices, a failed or killed job frees its GPU for a waiting one, and under SLURM the
scheduler's assignment is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import traindyn.runtime as runtime
from conftest import ROOT

# A GPU job in miniature: take one GPU, say which, then hold it until told to end or to fail.
JOB = """
import os, sys, time
from pathlib import Path
from traindyn.devices import claim_gpus
claim_gpus(1, job=sys.argv[1], poll=0.05)
print(os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
control = Path(sys.argv[2])
while not (control / "end").exists():
    if (control / f"fail-{sys.argv[1]}").exists():
        raise RuntimeError("the job fails")
    time.sleep(0.05)
"""


class Jobs:
    def __init__(self, tmp_path: Path) -> None:
        self.control = tmp_path / "control"
        self.control.mkdir()
        self.env = {**os.environ, "CUDA_VISIBLE_DEVICES": "0,1,2,3",
                    "TRAINDYN_GPU_POOL": str(tmp_path / "pool"),
                    "PYTHONPATH": str(ROOT / "workflow")}
        self.env.pop("SLURM_JOB_ID", None)
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-c", JOB, name, str(self.control)], env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self.procs[name]

    def device(self, name: str) -> str:
        return self.procs[name].stdout.readline().strip()  # blocks until the job has its GPU

    def end(self) -> None:
        (self.control / "end").touch()
        for proc in self.procs.values():
            proc.wait(timeout=60)


def test_concurrent_jobs_get_distinct_gpus_and_free_them_on_failure(tmp_path):
    jobs = Jobs(tmp_path)
    try:
        for name in ("a", "b", "c", "d"):
            jobs.start(name)
        got = {name: jobs.device(name) for name in "abcd"}
        print("4 concurrent jobs on a 4-GPU machine:", got)
        assert sorted(got.values()) == ["0", "1", "2", "3"]
        e = jobs.start("e")  # a fifth GPU job waits for a free device ...
        assert "waiting for a free GPU" in e.stderr.readline()
        (jobs.control / "fail-b").touch()  # ... which job b frees by failing
        assert jobs.procs["b"].wait(timeout=60) == 1
        assert jobs.device("e") == got["b"]
        f = jobs.start("f")
        jobs.procs["c"].send_signal(signal.SIGKILL)  # a killed job frees its GPU too
        assert jobs.device("f") == got["c"]
        held = {p.name: p.read_text() for p in (tmp_path / "pool").iterdir()}
        assert f"gpu-{got['a']}.lock" in held and " a since " in held[f"gpu-{got['a']}.lock"]
        assert f.poll() is None
    finally:
        jobs.end()


def test_slurm_assignment_and_cpu_jobs_are_left_alone(monkeypatch):
    from traindyn import devices

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    monkeypatch.setenv("SLURM_JOB_ID", "12")
    logs = []
    assert devices.claim_gpus(1, log=logs.append) is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3" and "assigned by SLURM" in logs[0]
    monkeypatch.delenv("SLURM_JOB_ID")
    assert devices.claim_gpus(0) is None and os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    with pytest.raises(ValueError, match="asks for 2 GPUs but 1 are visible"):
        devices.claim_gpus(2)


def test_a_gpu_job_takes_its_device_before_cuda_starts(monkeypatch):
    order = []
    monkeypatch.setattr(runtime, "claim_gpus", lambda n, job: order.append(("claim", n, job)))
    monkeypatch.setattr(runtime.torch.cuda, "is_available", lambda: order.append("cuda") or False)
    with pytest.raises(runtime.DeviceError):
        runtime.resolve_device("auto", gpus=1, job="results/x.parquet")
    assert order[0] == ("claim", 1, "results/x.parquet") and "cuda" in order
