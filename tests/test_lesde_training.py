"""LE-SDE trainer: label noise, Parquet logs, resume after SIGKILL, CIFAR input."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from traindyn.lesde.datasets import cifar10
from traindyn.lesde.logs import log_metadata, read_log
from traindyn.data.noise import corrupt_labels
from traindyn.lesde.plan import runs
from traindyn.lesde.steps import train_run
from traindyn.lesde.train import eval_iterations

from lesde_fixtures import cifar_archive, geomnist_cache

COUNTS = {0.1: 50, 0.2: 100, 0.3: 150, 0.4: 200, 0.5: 250, 0.6: 300, 2 / 3: 333, 0.7: 350,
          0.8: 400}


@pytest.mark.parametrize("p,flipped", sorted(COUNTS.items()))
def test_label_corruption_counts(p, flipped):
    y = np.repeat(np.arange(3), 500)
    noisy = corrupt_labels(y, p, 3, np.random.default_rng(0))
    for c in range(3):
        got = noisy[y == c]
        others = [k for k in range(3) if k != c]
        assert (got != c).sum() == flipped
        assert (got == others[0]).sum() == flipped // 2
        assert (got == others[1]).sum() == flipped - flipped // 2
    if p == 2 / 3:
        assert (noisy[y == 0] == 0).sum() == 167  # 500 - 333 kept (33.4 %)
    assert corrupt_labels(y, 0.0, 3, np.random.default_rng(0)).tolist() == y.tolist()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        corrupt_labels(y, 1.5, 3, np.random.default_rng(0))


def _kwargs(**over):
    kw = dict(experiment="geomnist_noise", setting="p0.2", trials=[0, 3], dataset="geomnist",
              p=0.2, iterations=30, lr=0.01, eval_every=10, eval_subset=2, seed=0,
              dtype="float64", device="cpu", checkpoint_every=10)
    kw.update(over)
    return kw


def test_logs_have_the_documented_schema(tmp_path):
    data = geomnist_cache(tmp_path / "g.npz")
    train_run(str(tmp_path / "s.parquet"), str(tmp_path / "v.parquet"), data, **_kwargs())
    steps = read_log(tmp_path / "s.parquet")
    assert steps.column_names == ["trial", "itr", "smp", "y", "true_class", "y_logit0",
                                  "y_logit1", "y_logit2", "tr_loss"]
    assert steps.num_rows == 3 * 30
    df = steps.to_pandas()
    assert sorted(df.trial.unique()) == [0, 1, 2] and df.itr.max() == 29
    assert (df.true_class == df.smp // 8).all()  # class-ordered training set, 8 per class
    val = read_log(tmp_path / "v.parquet").to_pandas()
    assert sorted(val.itr.unique()) == [0, 10, 20, 29]
    assert val.val_acc.between(0, 1).all() and (val.val_loss > 0).all()
    meta = log_metadata(tmp_path / "s.parquet")
    assert {"config_hash", "git_sha", "torch", "dtype", "device"} <= set(meta)
    assert not (tmp_path / "s.parquet.work").exists()  # checkpoints cleaned up


def test_eval_iterations():
    assert eval_iterations(10, 4).tolist() == [0, 4, 8, 9]
    assert eval_iterations(5, 1).tolist() == [0, 1, 2, 3, 4]


def test_trials_do_not_depend_on_their_job(tmp_path):
    data = geomnist_cache(tmp_path / "g.npz")
    train_run(str(tmp_path / "a.parquet"), str(tmp_path / "av.parquet"), data, **_kwargs())
    train_run(str(tmp_path / "b.parquet"), str(tmp_path / "bv.parquet"), data,
              **_kwargs(trials=[1, 2]))
    a = read_log(tmp_path / "a.parquet").to_pandas()
    b = read_log(tmp_path / "b.parquet").to_pandas()
    a1 = a[a.trial == 1].reset_index(drop=True)
    assert a1.equals(b.reset_index(drop=True))


RUNNER = """
import sys
from traindyn.lesde.steps import train_run
train_run(sys.argv[1], sys.argv[2], sys.argv[3], experiment="geomnist_noise", setting="p0.2",
          trials=[0, 4], dataset="geomnist", p=0.2, iterations=400, lr=0.01, eval_every=50,
          eval_subset=2, seed=0, dtype="float64", device="cpu", checkpoint_every=20)
"""


def test_sigkill_then_resume_gives_identical_logs(tmp_path):
    data = geomnist_cache(tmp_path / "g.npz")
    ref = (tmp_path / "ref.parquet", tmp_path / "refv.parquet")
    subprocess.run([sys.executable, "-c", RUNNER, *map(str, ref), data], check=True)
    out = (tmp_path / "out.parquet", tmp_path / "outv.parquet")
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, *map(str, out), data])
    ckpt = tmp_path / "out.parquet.work" / "checkpoint.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out[0].exists(), "the job finished before it could be killed"
    assert ckpt.exists()
    subprocess.run([sys.executable, "-c", RUNNER, *map(str, out), data], check=True)
    for a, b in zip(ref, out):
        assert pq.read_table(a).equals(pq.read_table(b))


def test_cifar_path_reads_a_cifar10_archive(tmp_path):
    root = cifar_archive(tmp_path / "cifar")
    ds = cifar10(root, 3, 5, 2, seed=0)
    assert ds.x_train.shape == (15, 3, 32, 32) and ds.x_val.shape == (6, 3, 32, 32)
    assert ds.y_train.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert ds.x_train.min() >= -1 and ds.x_train.max() <= 1
    # the red channel encodes the class in the fixture: the images belong to their labels
    red = (ds.x_train[:, 0, 0, 0] * 0.5 + 0.5) * 255
    np.testing.assert_allclose(red, ds.y_train * 25, atol=1e-9)
    train_run(str(tmp_path / "s.parquet"), str(tmp_path / "v.parquet"), None,
              **_kwargs(experiment="cifar", setting="K3", dataset="cifar10", p=0.0, n_classes=3,
                        root=root, download=False, train_per_class=5, val_per_class=2))
    assert read_log(tmp_path / "s.parquet").num_rows == 90


def test_missing_cifar_fails_at_once_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "none")) as err:
        train_run(str(tmp_path / "s.parquet"), str(tmp_path / "v.parquet"), None,
                  **_kwargs(experiment="cifar", setting="K3", dataset="cifar10", p=0.0,
                            n_classes=3, root=str(tmp_path / "none"), download=False,
                            train_per_class=5, val_per_class=2))
    assert "cifar10_download" in str(err.value)
    assert not (tmp_path / "s.parquet.work").exists()


def test_corrupted_log_is_an_error_naming_the_file(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="bad.parquet"):
        read_log(bad)


def test_plan_names_chunks_and_the_two_thirds_setting():
    lesde = {"seed": 0, "dtype": "float64", "device": "cpu", "checkpoint_every": 10,
             "geomnist_noise": dict(enabled=True, ps=[0.0, 2 / 3], train_per_class=5,
                                    val_per_class=2, trials=5, trials_per_job=2, iterations=3,
                                    lr=0.1, eval_every=1, eval_subset=None),
             "geomnist_size": dict(enabled=False), "cifar": dict(enabled=False)}
    data = {"geomnist": {"seed": 0}, "cifar10_root": None, "cifar10_download": False}
    stems = [r.stem for r in runs(lesde, data)]
    assert stems == [f"results/lesde/geomnist_noise/{s}/trials{a}-{b}" for s in ("p0.0", "p0.67")
                     for a, b in ((0, 2), (2, 4), (4, 5))]
    # replicates of p = 2/3: new settings, each with its own GeoMNIST seed and streams
    lesde["geomnist_noise"]["replicates"] = dict(runs=3, ps=[0.67])
    reps = [r for r in runs(lesde, data) if r.setting.startswith("p0.67")]
    assert sorted({r.setting for r in reps}) == ["p0.67", "p0.67-r1", "p0.67-r2"]
    assert {r.params["replicate"]: r.params["data"] for r in reps} == {
        r: f"results/data/geomnist/ntr5_nval2_seed{r}.npz" for r in range(3)}


def test_a_replicate_draws_new_initializations_and_samples(tmp_path):
    data = geomnist_cache(tmp_path / "g.npz")
    train_run(str(tmp_path / "a.parquet"), str(tmp_path / "av.parquet"), data, **_kwargs())
    train_run(str(tmp_path / "b.parquet"), str(tmp_path / "bv.parquet"), data,
              **_kwargs(setting="p0.2-r1", replicate=1))
    a, b = (read_log(tmp_path / f).to_pandas() for f in ("a.parquet", "b.parquet"))
    assert (a.smp != b.smp).mean() > 0.5 and not np.allclose(a.y_logit0[:3], b.y_logit0[:3])
