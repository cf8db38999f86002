"""train_copies: k perturbed copies of any model with the null control, on the SI Table 1
runs' epoch loop."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

import traindyn.instab
from lesde_fixtures import geomnist_cache
from traindyn.data.images import load_images
from traindyn.instab.copies import train_copies
from traindyn.instab.steps import load_data, table1_run
from traindyn.models.names import resolve_model


class SmallNet(torch.nn.Module):
    """A user's model with BatchNorm buffers and a (B, K) output."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, stride=2)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4 * 15 * 15, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


@pytest.fixture(scope="module")
def geo():
    return load_images("geomnist", train_per_class=16, test_per_class=8, pixel_noise=0.3)


def test_null_control_stays_bit_identical_and_rounding_diverges(geo):
    kw = dict(lr=0.1, epochs=2, batch=8, momentum=0.9, nesterov=True, weight_decay=5e-4,
              seed=3, layers=["conv.weight", "fc"], divergence_every=3)
    r = train_copies(SmallNet, geo, [1, 3, 7], **kw)
    assert r.ks == [1, 3, 7, 1] and r.control == 3
    assert r.test_acc.shape == (2, 4) and r.control_identical.tolist() == [True, True]
    assert np.array_equal(r.test_acc[:, 0], r.test_acc[:, 3])
    assert r.divergence_steps.tolist() == [3, 6, 9, 12]  # 6 minibatches per epoch
    for layer, d in r.divergence.items():
        assert d.shape == (4, 4) and (d[:, [0, 3]] == 0).all(), layer
        assert (d[-1, 1:3] > 0).all(), layer  # k = 3, 7 round differently
    again = train_copies(SmallNet, geo, [1, 3, 7], **kw)  # deterministic
    assert np.array_equal(again.divergence["fc"], r.divergence["fc"])
    assert traindyn.instab.train_copies is train_copies  # the package-level name


def test_the_built_in_resnet_reproduces_a_table1_run(tmp_path):
    """Studies and the paper runs share the layout, the initialization and the epoch loop."""
    g = geomnist_cache(tmp_path / "g.npz", n_train=8, n_val=4)
    net = dict(depth=8, width=4, swish_beta=5.0)
    opt = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4, batch=8, epochs=2,
               milestones=[1])
    table1_run(str(tmp_path / "t1.parquet"), g, dataset="geomnist", seed=1, activation="relu",
               ks=[1, 3], network=net, test_batch=16, dtype="float32", device="cpu",
               deterministic=True, **opt)
    want = pq.read_table(tmp_path / "t1.parquet").to_pandas()
    factory = resolve_model("cifar_resnet", dict(depth=8, width=4, in_channels=1, n_classes=3))
    data = load_data("geomnist", g, None, False, torch.float32, torch.device("cpu"))
    got = train_copies(factory, data, [1, 3], seed=1, test_batch=16, **opt).table1_frame(1, "relu")
    assert got.equals(want[got.columns])


def test_ks_must_hold_the_null_controls_twin(geo):
    with pytest.raises(ValueError, match="must include 1"):
        train_copies(SmallNet, geo, [3, 5], lr=0.1, epochs=1)


def test_plain_argument_jobs_of_a_study_with_a_users_model_file(tmp_path, monkeypatch):
    """What a pipeline rule calls: names and dicts in, checked files out, the same bytes twice."""
    from lesde_fixtures import cifar_archive
    from traindyn.instab.copies import copies_run
    from traindyn.instab.outputs import read_table1_run
    from traindyn.lesde.logs import check_log_complete
    from traindyn.lesde.trials import trials_run

    (tmp_path / "user_net.py").write_text(
        "import torch\n\ndef make(k=3):\n    return torch.nn.Sequential(torch.nn.Flatten(), "
        "torch.nn.Linear(3 * 8 * 8, k))\n")
    monkeypatch.chdir(tmp_path)
    data = dict(name="cifar10", root=cifar_archive(tmp_path / "c", 3, 2), classes=[0, 1, 2],
                image_size=8)
    job = dict(model="user_net:make", model_kwargs={"k": 3}, data=data, study="mine")
    from traindyn.extraction import divergence_step

    copies_run("t.parquet", "s.safetensors", ks=[1, 3], seed=0, lr=0.1, epochs=2, batch=4,
               **job)
    divergence_step("s.safetensors", "d.npz", layers=["1.weight"])
    table = read_table1_run("t.parquet").to_pandas()
    assert len(table) == 2 * 3 and table.control_identical.all()
    assert table.activation.unique().tolist() == ["user_net:make"]
    d = np.load("d.npz")
    assert d["layer_0"].shape == (2, 3) and d["ks"].tolist() == [1, 3, 1]
    for run in (1, 2):
        trials_run(f"r{run}.steps.parquet", f"r{run}.val.parquet", trials=[0, 2], iterations=6,
                   lr=0.1, eval_every=3, dtype="float32", **job)
        check_log_complete(f"r{run}.steps.parquet")
    a, b = (pq.read_table(f"r{i}.steps.parquet") for i in (1, 2))
    assert a.equals(b) and not list(tmp_path.glob("*.work"))
