"""Generic LE-SDE trials of any model (vmap-batched or looped) and the LogWriter for one's own
training loop: the paper runs' schema, complete logs or none, the summary reads them."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

import traindyn.lesde
from traindyn.atomic import load_npz
from traindyn.data.images import load_images
from traindyn.lesde.ensemble import resample
from traindyn.lesde.logs import log_metadata, read_log
from traindyn.lesde.summary import summarize
from traindyn.lesde.trial_models import vmap_supported
from traindyn.lesde.trials import trial_samples, train_trials
from traindyn.lesde.writer import LogWriter
from traindyn.models.names import resolve_model

PAPER_COLUMNS = ["trial", "itr", "smp", "y", "true_class", "y_logit0", "y_logit1", "y_logit2",
                 "tr_loss"]
SIMPLE = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3})


@pytest.fixture(scope="module")
def geo():
    return load_images("geomnist", train_per_class=12, test_per_class=6, label_noise=0.25)


def _train(geo, tmp_path, name, **kw):
    args = dict(study="s", trials=range(4), iterations=24, lr=0.02, eval_every=8)
    return train_trials(SIMPLE, geo, tmp_path / name, **{**args, **kw})


def test_vmap_and_loop_give_the_one_model_at_a_time_result(geo, tmp_path):
    """Not bitwise: vmap runs the trials' convolutions as one grouped convolution and their
    linear layers as batched products, whose kernels sum in another order than M single-model
    calls; in float64 the two stay within 1e-12 over these steps."""
    vmap, loop = (_train(geo, tmp_path, s, strategy=s, momentum=0.5, weight_decay=1e-3)
                  for s in ("vmap", "loop"))
    assert (vmap.strategy, loop.strategy) == ("vmap", "loop")
    a, b = (read_log(r.steps_log).to_pandas() for r in (vmap, loop))
    assert a[["trial", "itr", "smp", "y", "true_class"]].equals(
        b[["trial", "itr", "smp", "y", "true_class"]])
    for col in ("y_logit0", "y_logit1", "y_logit2", "tr_loss"):
        np.testing.assert_allclose(a[col], b[col], rtol=0, atol=1e-12)
    for name in vmap.params:
        torch.testing.assert_close(vmap.params[name], loop.params[name], rtol=0, atol=1e-12)
    va, vb = (read_log(r.val_log).to_pandas() for r in (vmap, loop))
    np.testing.assert_allclose(va.val_loss, vb.val_loss, rtol=0, atol=1e-12)


def test_a_trial_does_not_depend_on_the_trials_sharing_its_batch(geo, tmp_path):
    """Bitwise: every trial's init and samples come from (seed, study, trial), and a vmapped
    trial's arithmetic is its own."""
    full = _train(geo, tmp_path, "full", strategy="vmap")
    part = _train(geo, tmp_path, "part", strategy="vmap", trials=[2, 3])
    for name in full.params:
        assert torch.equal(full.params[name][2:], part.params[name]), name
    a, b = (read_log(r.steps_log).to_pandas() for r in (full, part))
    assert a[a.trial >= 2].reset_index(drop=True).equals(b)
    assert np.array_equal(b[b.trial == 2].smp, trial_samples(0, "s", 2, 36, 24)[:, 0])


def test_logs_are_the_paper_schema_and_the_summary_reads_them(geo, tmp_path):
    r = _train(geo, tmp_path, "run")
    steps = read_log(r.steps_log)
    assert steps.column_names == PAPER_COLUMNS and steps.num_rows == 4 * 24
    df = steps.to_pandas()
    assert (df.true_class == df.smp // 12).all() and (df.y != df.true_class).any()  # label noise
    meta = log_metadata(r.steps_log)
    assert meta["spec"]["trials"] == [0, 1, 2, 3] and meta["run"]["model"] == "simpleconv"
    summarize(str(tmp_path / "s.npz"), [r.steps_log], [r.val_log])
    s = load_npz(tmp_path / "s.npz")
    assert s["means_y"].shape == (24, 3, 3) and s["val_itrs"].tolist() == [0, 8, 16, 23]


def test_probe_set_logged_every_n_iterations(geo, tmp_path):
    r = _train(geo, tmp_path, "probe", probe_per_class=2, log_every=6)
    df = read_log(r.steps_log).to_pandas()
    assert sorted(df.itr.unique()) == [0, 6, 12, 18] and len(df) == 4 * 4 * 6  # 6 probes
    assert df[df.trial == 0].smp.tolist()[:6] == [0, 1, 6, 7, 12, 13]  # first 2 test images
    summarize(str(tmp_path / "s.npz"), [r.steps_log], [r.val_log])
    s = load_npz(tmp_path / "s.npz")
    assert s["logged_itrs"].tolist() == [0, 6, 12, 18] and int(s["rows_per_trial"]) == 6
    assert s["trial_labels"].shape == (4, 24) and s["means_y"].shape == (4, 3, 3)
    # a bootstrap resample keeps a trial's probe rows together: all trials once = the data
    np.testing.assert_allclose(resample(s, np.arange(4))["means_y"], s["means_y"], atol=1e-5)


def test_a_model_with_buffers_falls_back_to_the_loop(tmp_path):
    data = load_images("geomnist", train_per_class=4, test_per_class=2)

    def net():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 5, stride=4), torch.nn.BatchNorm2d(2),
                                   torch.nn.Flatten(), torch.nn.Linear(98, 3))
    assert "buffers" in vmap_supported(net())
    r = train_trials(net, data, tmp_path / "bn", study="b", trials=[0, 1], iterations=3,
                     lr=0.01, batch=2, dtype="float32")
    assert r.strategy == "loop" and read_log(r.steps_log).num_rows == 2 * 3 * 2
    with pytest.raises(ValueError, match="buffers"):
        train_trials(net, data, tmp_path / "bn2", study="b", trials=[0], iterations=1, lr=0.01,
                     strategy="vmap")


def test_log_writer_checks_completeness_and_leaves_nothing_half_written(tmp_path):
    assert traindyn.lesde.LogWriter is LogWriter
    rng = np.random.default_rng(0)
    m, t_max, k = 3, 20, 3

    def write(stem, iterations):
        with LogWriter(stem, n_classes=k, trials=range(m), iterations=t_max, eval_every=5,
                       metadata={"dataset": "mine"}, flush_rows=7) as log:
            for t in iterations:
                log.steps(t, torch.randn(m, k), rng.integers(0, k, m), smp=rng.integers(0, 9, m))
            for t in sorted(log.eval_iterations):
                log.val(t, np.ones(m), np.full(m, 0.5))
        return log

    log = write(tmp_path / "ok", range(t_max))
    assert pq.read_table(log.steps_path).column_names == PAPER_COLUMNS
    assert log_metadata(log.steps_path)["run"] == {"dataset": "mine"}
    for stem, its, what in (("short", range(t_max - 3), "17-19"),
                            ("order", [*range(5), 6, 5, *range(7, t_max)], "out of order")):
        with pytest.raises(ValueError, match=what):
            write(tmp_path / stem, its)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.steps.parquet", "ok.val.parquet"]
    with pytest.raises(ValueError, match="nothing was logged"):
        write(tmp_path / "empty", [])
    shaped = LogWriter(tmp_path / "shape", n_classes=k, trials=range(m), iterations=1,
                       eval_every=1)
    with pytest.raises(ValueError, match="expected 3 trials x 1 rows x 3 classes"):
        shaped.steps(0, np.zeros((2, 3)), [0, 1], smp=[0, 1])
    with pytest.raises(RuntimeError, match="boom"):  # an error in the loop: no output either
        with LogWriter(tmp_path / "err", n_classes=k, trials=[0], iterations=2,
                       eval_every=1) as log:
            log.steps(0, np.zeros(k), [0], smp=[0])
            raise RuntimeError("boom")
    assert not list(tmp_path.glob("err*")) and not list(tmp_path.glob(".err*"))


def _synthetic_logs(stem, p: float = 0.0, m: int = 6, t_max: int = 200, k: int = 3):
    """Logits of the sampled example drifting towards its label (label noise p)."""
    rng = np.random.default_rng(int(p * 10))
    with LogWriter(stem, n_classes=k, trials=range(m), iterations=t_max, eval_every=50,
                   metadata={"dataset": "geomnist"}) as log:
        for t in range(t_max):
            true = rng.integers(0, k, m)
            y = np.where(rng.random(m) < p, (true + 1) % k, true)
            logits = rng.normal(0, 0.1, (m, k)) + np.log1p(t) * (np.eye(k)[y] - 1 / k)
            log.steps(t, logits, y, true_class=true, smp=true * 10 + rng.integers(0, 10, m))
        for t in sorted(log.eval_iterations):
            log.val(t, np.full(m, 1.0 - t / 400), np.full(m, 0.4 + t / 500 - p / 2))


def test_analyses_and_figures_on_a_directory_of_logs(tmp_path):
    from traindyn.lesde.analysis import analyze_logs, analyze_noise_sweep

    _synthetic_logs(tmp_path / "logs" / "a")
    out = analyze_logs(tmp_path / "logs", tmp_path / "out", n_boot=10,
                       figures=["fig1_separation", "fig3_impacts"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "fig1_separation.pdf", "fig1_separation.png", "fig3_impacts.pdf", "fig3_impacts.png",
        "stats.json", "summary.npz"]
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["data"] == "GeoMNIST" and stats["logged_iterations"] == 200
    a = stats["impacts"]["A"]
    assert a["value"] > 0 and a["se"] > 0 and "bootstrap over 6 trials" in a["method"]
    assert out["stats"]["impacts"]["A"].value == a["value"]
    with pytest.raises(ValueError, match="unknown figures"):
        analyze_logs(tmp_path / "logs", tmp_path / "out", figures=["fig9"])
    with pytest.raises(FileNotFoundError, match="no \\*.steps.parquet"):
        analyze_logs(tmp_path / "out", tmp_path / "x")
    dirs = {}
    for p in (0.0, 0.5):
        dirs[p] = tmp_path / f"p{p}"
        _synthetic_logs(dirs[p] / "t", p=p)
    sweep = analyze_noise_sweep(dirs, tmp_path / "sweep", n_train=10, n_boot=10)
    assert (tmp_path / "sweep" / "fig4_phase_transition.png").is_file()
    assert sweep["stats"]["0"]["acc"].value > sweep["stats"]["0.5"]["acc"].value


def test_a_trial_with_dropout_does_not_depend_on_the_trials_beside_it(tmp_path):
    """Random draws inside forward (F.dropout, no Dropout layer to see) send auto to the loop,
    and each trial draws from its own per-step stream: trial 2 alone gives the bits it gives
    among trials 0..2."""
    data = load_images("geomnist", train_per_class=4, test_per_class=2)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(1024, 8), torch.nn.Linear(8, 3)

        def forward(self, x):
            return self.b(torch.nn.functional.dropout(self.a(x.flatten(1)), 0.5, self.training))

    assert vmap_supported(Net(), data.x_train[:2]) == "its forward draws random numbers"
    kw = dict(study="d", iterations=5, lr=0.05, batch=2, dtype="float32")
    both = train_trials(Net, data, tmp_path / "all", trials=[0, 1, 2], **kw)
    alone = train_trials(Net, data, tmp_path / "one", trials=[2], **kw)
    assert both.strategy == alone.strategy == "loop"
    logits = [read_log(r.steps_log).to_pandas() for r in (both, alone)]
    mine = logits[0][logits[0].trial == 2].reset_index(drop=True)
    assert mine[["y_logit0", "y_logit1", "y_logit2"]].equals(
        logits[1][["y_logit0", "y_logit1", "y_logit2"]])
    with pytest.raises(ValueError, match="draws random numbers"):
        train_trials(Net, data, tmp_path / "v", trials=[0], strategy="vmap", **kw)
