"""Time limits: the job reads its deadline from SLURM, saves its state and stops before it, and the
attempts that follow end with the bytes of an uninterrupted run (the LE-SDE log, SI Table 1, SI
Figure 2). The clock is simulated here (no timing); tests/test_slurm.py does it on a real
scheduler."""

from __future__ import annotations

import time

import pytest

import traindyn.deadline as dl
import traindyn.instab.steps as instab
import traindyn.jobs as jobs
from lesde_fixtures import geomnist_cache
from traindyn import budget
from traindyn.deadline import Deadline, TimeLimitReached, job_deadline, slurm_seconds
from traindyn.lesde.steps import train_run


@pytest.mark.parametrize("text,seconds", [("59:30", 3570), ("1:00:00", 3600), ("0:05", 5),
                                          ("2-03:04:05", 2 * 86400 + 3 * 3600 + 245),
                                          ("UNLIMITED", None), ("NOT_SET", None), ("", None)])
def test_squeue_times(text, seconds):
    assert slurm_seconds(text) == seconds


def test_the_deadline_comes_from_slurm_or_is_absent(monkeypatch):
    logs = []
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert job_deadline(logs.append).end is None and not logs  # not a SLURM job: no limit
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "2")
    now = time.time()
    monkeypatch.setenv("SLURM_JOB_START_TIME", str(int(now - 60)))
    monkeypatch.setenv("SLURM_JOB_END_TIME", str(int(now + 3540)))  # a 60-minute limit
    d = job_deadline(logs.append)
    assert d.margin == 180 and 3500 < d.left() <= 3540 and not d.reached(next_step=3000)
    assert d.reached(next_step=3400)
    assert "SLURM job 42 (2 CPUs per task): 59.0 min left of 60.0" in logs[-1]
    monkeypatch.delenv("SLURM_JOB_END_TIME")  # SLURM before 23.02: squeue says
    monkeypatch.setattr(dl, "_squeue", lambda job: (50.0, 60.0))
    assert job_deadline(logs.append).margin == 15 and job_deadline(logs.append).left() <= 50
    monkeypatch.setattr(dl, "_squeue", lambda job: (None, None))
    assert job_deadline(logs.append).end is None and "time limit unknown" in logs[-1]


def test_the_margin_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv(dl.MARGIN_ENV, "40")
    assert dl.stop_margin(60.0) == 40 and dl.stop_margin(None) == 40
    for bad in ("0", "-3", "sixty", "60"):  # not a number, or no time left to train at all
        monkeypatch.setenv(dl.MARGIN_ENV, bad)
        with pytest.raises(ValueError, match=dl.MARGIN_ENV):
            dl.stop_margin(60.0)
    monkeypatch.delenv(dl.MARGIN_ENV)
    assert dl.stop_margin(60.0) == 15 and dl.stop_margin(3600.0) == 180


def test_requests_are_capped_and_retries_cover_the_estimate():
    assert budget.capped(2221, None) == 2221 and budget.capped(2221, 240) == 240
    assert budget.retries(2221, None) is None  # no cap: the profile's retries
    assert budget.retries(2221, 240) == 10  # 10 x 240 min >= 2221: 9 resubmissions + 1 spare
    assert budget.retries(30, 240) == 1


class Stops(Deadline):
    """A deadline that is 'reached' at the given calls of ``reached`` (counted over attempts)."""

    def __init__(self, at: set[int]) -> None:
        super().__init__(end=None, source="simulated limit")
        self.calls, self.at = 0, at

    def reached(self, next_step: float = 0.0) -> bool:
        self.calls += 1
        return self.calls in self.at

    def left(self) -> float:
        return 1.0


def _attempts(monkeypatch, run, module, stops: set[int]) -> int:
    """Run ``run()`` as a scheduler would resubmit it: until it no longer stops at its limit."""
    deadline = Stops(stops)
    monkeypatch.setattr(module, "job_deadline", lambda: deadline)
    for attempt in range(1, 20):
        try:
            run()
            return attempt
        except TimeLimitReached as err:
            assert "state is saved" in str(err)
    raise AssertionError("never finished")


LESDE = dict(experiment="geomnist_noise", setting="p0.2", trials=[0, 3], dataset="geomnist",
             p=0.2, iterations=60, lr=0.01, eval_every=7, eval_subset=2, seed=0, dtype="float64",
             device="cpu", checkpoint_every=20)


def test_lesde_stopped_mid_part_ends_with_the_uninterrupted_bytes(tmp_path, monkeypatch):
    data = geomnist_cache(tmp_path / "g.npz")
    ref = tmp_path / "ref.parquet"
    assert _attempts(monkeypatch, lambda: train_run(str(ref), f"{ref}.val", data, **LESDE), jobs,
                     set()) == 1
    out = tmp_path / "out.parquet"
    # stops at iteration 13 (inside the first part of 20), at 47 (call 49: inside the third)
    # and at once when the third attempt starts (call 50)
    attempts = _attempts(monkeypatch, lambda: train_run(str(out), f"{out}.val", data, **LESDE), jobs,
                         {14, 49, 50})
    assert attempts == 4
    for suffix in ("", ".val"):
        assert (tmp_path / f"out.parquet{suffix}").read_bytes() == \
               (tmp_path / f"ref.parquet{suffix}").read_bytes()


NET = dict(dataset="geomnist", network=dict(depth=8, width=4, swish_beta=5.0), dtype="float32",
           device="cpu", deterministic=True)
TABLE1 = dict(seed=1, activation="relu", ks=[1, 3], lr=0.05, momentum=0.9, nesterov=True,
              weight_decay=5e-4, batch=16, epochs=2, milestones=[1], test_batch=64)
FIG2 = dict(n=2, base_lr=0.1, saves=3, ks=[1, 3], seed=7, weight_decay=5e-4, batch=8)


@pytest.mark.parametrize("kind,stops", [("table1", {1}), ("fig2", {2, 4})])
def test_instab_runs_stopped_early_end_with_the_uninterrupted_bytes(tmp_path, monkeypatch, kind,
                                                                    stops):
    data = geomnist_cache(tmp_path / "g.npz", n_train=16, n_val=8)
    run, kw, suffix = ((instab.table1_run, TABLE1, ".parquet") if kind == "table1"
                       else (instab.fig2_run, FIG2, ".snapshots.safetensors"))
    ref, out = tmp_path / f"ref{suffix}", tmp_path / f"out{suffix}"
    assert _attempts(monkeypatch, lambda: run(str(ref), data, **NET, **kw), jobs, set()) == 1
    assert _attempts(monkeypatch, lambda: run(str(out), data, **NET, **kw), jobs, stops) == len(stops) + 1
    assert out.read_bytes() == ref.read_bytes()
