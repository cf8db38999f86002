"""A resumable job never resumes another run's state, owns its work directory, and never publishes
a short output: interruptions (SIGINT, SIGKILL), a config change between interruption and rerun,
a deleted work directory and a second concurrent process each end in either the bytes of an
uninterrupted run or a clear error."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lesde_fixtures import geomnist_cache
from traindyn.lesde.logs import check_log_complete
from traindyn.lesde.summary import summarize
from traindyn.workdir import WorkDirBusy, WorkDirLost, owned_workdir, run_fingerprint

# ---------------------------------------------------------------- the work directory itself


def test_a_second_owner_fails_at_once_naming_the_holder(tmp_path):
    with owned_workdir(tmp_path / "w", {"a": 1}):
        with pytest.raises(WorkDirBusy, match=f"in use by pid {os.getpid()}"):
            with owned_workdir(tmp_path / "w", {"a": 1}):
                pass
    with owned_workdir(tmp_path / "w", {"a": 1}):  # released when the owner is done
        pass


def test_state_of_another_run_is_discarded_and_said(tmp_path):
    logs = []
    with owned_workdir(tmp_path / "w", {"lr": 0.1}, logs.append) as w:
        (w.path / "checkpoint.pt").write_text("state of lr 0.1")
    with owned_workdir(tmp_path / "w", {"lr": 0.1}, logs.append) as w:
        assert (w.path / "checkpoint.pt").exists()  # same run: resumed
    assert "resuming" in logs[-1]
    with owned_workdir(tmp_path / "w", {"lr": 0.2}, logs.append) as w:
        assert not (w.path / "checkpoint.pt").exists()
    assert "another run" in logs[-1] and "lr: 0.1 -> 0.2" in logs[-1]
    # state without any fingerprint (an older version's) is not trusted either
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "checkpoint.pt").write_text("?")
    with owned_workdir(tmp_path / "v", {"lr": 0.2}, logs.append) as w:
        assert not (w.path / "checkpoint.pt").exists()


def test_a_deleted_or_replaced_work_dir_is_noticed(tmp_path):
    with owned_workdir(tmp_path / "w", {}) as w:
        w.check()
        shutil.rmtree(w.path)
        with pytest.raises(WorkDirLost, match="disappeared"):
            w.check()
        w.path.mkdir()
        (w.path / ".lock").touch()  # a new directory by another process
        with pytest.raises(WorkDirLost):
            w.check()


def test_the_fingerprint_covers_params_input_content_and_code(tmp_path):
    data = tmp_path / "d.bin"
    data.write_bytes(b"one")
    a = run_fingerprint("lesde.steps", {"lr": 0.1}, [str(data)])
    assert a == run_fingerprint("lesde.steps", {"lr": 0.1}, [str(data)])
    assert a != run_fingerprint("lesde.steps", {"lr": 0.2}, [str(data)])
    assert a["code"] != run_fingerprint("instab.steps", {"lr": 0.1}, [str(data)])["code"]
    data.write_bytes(b"two")  # same path, other content (e.g. a regenerated data set)
    assert a != run_fingerprint("lesde.steps", {"lr": 0.1}, [str(data)])


# ---------------------------------------------------------------- LE-SDE training jobs

LESDE = """
import sys, json
from traindyn.lesde.steps import train_run
kw = dict(experiment="geomnist_noise", setting="p0.2", trials=[0, 4], dataset="geomnist", p=0.2,
          iterations=200, lr=0.01, eval_every=50, eval_subset=2, seed=0, dtype="float64",
          device="cpu", checkpoint_every=20)
kw.update(json.loads(sys.argv[4]))
train_run(sys.argv[1], sys.argv[2], sys.argv[3], **kw)
"""


class Job(subprocess.Popen):
    """A step in a subprocess; its stderr (the job log) goes to a file, read by ``.log``."""

    counter = 0

    def __init__(self, cmd: list[str], log_dir: Path) -> None:
        Job.counter += 1
        self.log_path = log_dir / f"job{Job.counter}.stderr"
        # the subprocess imports this checkout's library, not whichever one is installed
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "workflow"))
        with open(self.log_path, "w") as fh:
            # SIGINT back to its default in the child, so Python turns it into KeyboardInterrupt
            # even when this test runs with SIGINT ignored (a shell's background job)
            super().__init__(cmd, stderr=fh, env=env,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    @property
    def log(self) -> str:
        return self.log_path.read_text()


def _lesde(out: Path, data: str, wait: bool = True, **over) -> Job:
    job = Job([sys.executable, "-c", LESDE, str(out), str(out) + ".val", data, json.dumps(over)],
              out.parent)
    if wait:
        job.wait()
    return job


def _wait_for(path: Path, proc: Job, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.log
        assert time.time() < deadline
        time.sleep(0.01)


def _same_logs(a: Path, b: Path) -> bool:
    return all(pq.read_table(f"{a}{s}").equals(pq.read_table(f"{b}{s}")) for s in ("", ".val"))


@pytest.fixture(scope="module")
def lesde_data(tmp_path_factory) -> dict:
    """The GeoMNIST cache and uninterrupted reference runs at lr 0.01 and lr 0.02."""
    base = tmp_path_factory.mktemp("lesde")
    data = geomnist_cache(base / "g.npz")
    refs = {}
    for lr in (0.01, 0.02):
        refs[lr] = base / f"ref{lr}.parquet"
        assert _lesde(refs[lr], data, lr=lr).returncode == 0
    return dict(data=data, refs=refs)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_then_changed_config_starts_over(lesde_data, tmp_path, sig):
    out = tmp_path / "out.parquet"
    proc = _lesde(out, lesde_data["data"], wait=False)
    _wait_for(out.with_name("out.parquet.work") / "checkpoint.pt", proc)
    proc.send_signal(sig)
    assert proc.wait() != 0 and not out.exists()
    rerun = _lesde(out, lesde_data["data"], lr=0.02)  # the config changed in between
    assert rerun.returncode == 0
    assert "belongs to another run" in rerun.log and "lr: 0.01 -> 0.02" in rerun.log
    assert _same_logs(out, lesde_data["refs"][0.02])


def test_changed_input_data_starts_over(lesde_data, tmp_path):
    """train_per_class changes the data file, not the iteration count: still another run."""
    out = tmp_path / "out.parquet"
    data = tmp_path / "g.npz"
    geomnist_cache(data, n_train=10)
    proc = _lesde(out, str(data), wait=False)
    _wait_for(out.with_name("out.parquet.work") / "checkpoint.pt", proc)
    proc.kill()
    proc.wait()
    shutil.copy(lesde_data["data"], data)  # same path, the data of the reference run
    rerun = _lesde(out, str(data))
    assert rerun.returncode == 0 and "inputs." in rerun.log
    assert _same_logs(out, lesde_data["refs"][0.01])


def test_a_deleted_work_dir_fails_the_job(lesde_data, tmp_path):
    out = tmp_path / "out.parquet"
    proc = _lesde(out, lesde_data["data"], wait=False)
    work = out.with_name("out.parquet.work")
    _wait_for(work / "checkpoint.pt", proc)
    shutil.rmtree(work)
    assert proc.wait() != 0
    assert "disappeared or was replaced" in proc.log
    assert not out.exists() and not Path(f"{out}.val").exists()


def test_a_second_process_on_the_same_job_fails_at_once(lesde_data, tmp_path):
    out = tmp_path / "out.parquet"
    first = _lesde(out, lesde_data["data"], wait=False, iterations=20000)  # long enough
    _wait_for(out.with_name("out.parquet.work") / "run.json", first)
    second = _lesde(out, lesde_data["data"], iterations=20000)
    assert second.returncode != 0 and f"in use by pid {first.pid}" in second.log
    assert first.poll() is None  # the owner carries on undisturbed
    first.kill()
    first.wait()
    assert not out.exists()


def test_an_incomplete_log_is_an_error_naming_the_file_and_range(lesde_data, tmp_path):
    ref = lesde_data["refs"][0.01]
    check_log_complete(ref)
    check_log_complete(f"{ref}.val")
    table = pq.read_table(ref)
    short = tmp_path / "short.parquet"
    keep = pa.compute.less(table["itr"], 120)  # iterations 120-199 lost
    pq.write_table(table.filter(keep), short)
    with pytest.raises(ValueError, match=r"short\.parquet is incomplete.*missing.*120-199"):
        check_log_complete(short)
    # a downstream reader checks the same and names the file
    with pytest.raises(ValueError, match=r"short\.parquet is incomplete"):
        summarize(str(tmp_path / "s.npz"), [str(short)], [f"{ref}.val"])
    assert not (tmp_path / "s.npz").exists()
    # rows of one trial swapped: complete in count, wrong in order
    idx = np.arange(table.num_rows)
    idx[[0, 1]] = idx[[1, 0]]
    pq.write_table(table.take(idx), short)
    with pytest.raises(ValueError, match="out of order"):
        check_log_complete(short)


# ---------------------------------------------------------------- SI Table 1 and Figure 2 jobs

INSTAB = """
import sys, json
from traindyn.instab import steps
net = dict(depth=8, width=4, swish_beta=5.0)
common = dict(dataset="geomnist", network=net, dtype="float32", device="cpu", deterministic=True)
if sys.argv[4] == "table1":
    kw = dict(seed=1, activation="relu", ks=[1, 3], lr=0.05, momentum=0.9, nesterov=True,
              weight_decay=5e-4, batch=16, epochs=4, milestones=[3], test_batch=64)
    run = steps.table1_run
else:
    kw = dict(n=3, base_lr=0.1, saves=8, ks=[1, 3], seed=7, weight_decay=5e-4, batch=8,
              checkpoint_seconds=0)
    run = steps.fig2_run
kw.update(json.loads(sys.argv[3]))
run(sys.argv[1], sys.argv[2], **common, **kw)
"""


def _instab(kind: str, out: Path, data: str, wait: bool = True, **over) -> Job:
    job = Job([sys.executable, "-c", INSTAB, str(out), data, json.dumps(over), kind], out.parent)
    if wait:
        job.wait()
    return job


def _same_output(a: Path, b: Path) -> bool:
    if a.suffix == ".safetensors":  # a Figure 2 run's snapshots
        return a.read_bytes() == b.read_bytes()
    if a.suffix == ".npz":
        with np.load(a) as x, np.load(b) as y:
            return all(np.array_equal(x[k], y[k]) for k in ("divergence", "floor", "lr"))
    return pq.read_table(a).to_pandas().equals(pq.read_table(b).to_pandas())


@pytest.mark.parametrize("kind,suffix,change", [("table1", ".parquet", {"lr": 0.02}),
                                                 ("fig2", ".snapshots.safetensors",
                                                  {"weight_decay": 1e-3})])
def test_instab_runs_resume_only_their_own_state(tmp_path, kind, suffix, change):
    data = geomnist_cache(tmp_path / "g.npz", n_train=16, n_val=8)
    ref, ref_changed = tmp_path / f"ref{suffix}", tmp_path / f"refc{suffix}"
    assert _instab(kind, ref, data).returncode == 0
    assert _instab(kind, ref_changed, data, **change).returncode == 0
    for config, expected in (({}, ref), (change, ref_changed)):
        out = tmp_path / f"out{suffix}"
        out.unlink(missing_ok=True)
        proc = _instab(kind, out, data, wait=False)  # always interrupted with the first config
        _wait_for(Path(f"{out}.work") / "checkpoint.pt", proc)
        proc.kill()
        proc.wait()
        assert not out.exists(), "the run finished before it could be killed"
        rerun = _instab(kind, out, data, **config)
        assert rerun.returncode == 0, rerun.log
        log = rerun.log
        assert ("resuming" in log) == (config == {}) and ("another run" in log) == bool(config)
        assert _same_output(out, expected)
        assert not Path(f"{out}.work").exists()


def test_a_truncated_npz_is_an_error_naming_the_file(tmp_path):
    from traindyn.atomic import load_npz, save_npz

    path = tmp_path / "r.npz"
    save_npz(path, a=np.arange(1000.0))
    assert np.array_equal(load_npz(path)["a"], np.arange(1000.0))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"cannot read result file .*r\.npz"):
        load_npz(path)


def test_instab_readers_reject_short_outputs(tmp_path):
    from traindyn.atomic import save_npz
    from traindyn.instab.outputs import read_fig2_run, read_table1_run

    rows = [(e, c) for e in range(3) for c in range(3)]  # 3 epochs x (k = 1, 3 and the control)
    table = pa.table({"epoch": [e for e, _ in rows], "copy": [c for _, c in rows]})
    meta = {b"traindyn": json.dumps({"run": {"ks": [1, 3], "epochs": 3}}).encode()}
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "t.parquet")
    assert read_table1_run(tmp_path / "t.parquet").num_rows == 9
    pq.write_table(table.slice(0, 6).replace_schema_metadata(meta), tmp_path / "s.parquet")
    with pytest.raises(ValueError, match=r"s\.parquet is incomplete: 6 rows, expected 9"):
        read_table1_run(tmp_path / "s.parquet")
    save_npz(tmp_path / "f.npz", divergence=np.ones(4), saves=5)
    with pytest.raises(ValueError, match=r"f\.npz is incomplete: 4 of 5 saves"):
        read_fig2_run(tmp_path / "f.npz")
