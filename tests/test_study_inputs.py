"""Studies on models and folders a researcher might bring (beyond the built-in ones): randomness
shared by perturbed copies, every model-vs-data problem refused before any job for ImageFolder
trees, the folder's content as an input, sizes refused at -n, degenerate runs named."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
from snakemake.utils import validate

from conftest import SCHEMA
from image_fixtures import image_folder
from traindyn.claims import DEGENERATE, PASS, ClaimSet
from traindyn.instab.copies import train_copies
from traindyn.instab.data import ImageData
from traindyn.models.checks import model_errors
from traindyn.studies import spec
from traindyn.studies.checks import study_errors
from traindyn.studies.family import checks as family_checks

MODELS = '''import numpy as np
import torch
import torch.nn as nn


class Net(nn.Module):  # a small CNN with BatchNorm and a residual block
    def __init__(self, classes=3, channels=3):
        super().__init__()
        self.stem = nn.Conv2d(channels, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.res = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Linear(4, classes)

    def forward(self, x):
        h = self.bn(self.stem(x)).relu()
        h = h + self.res(h).relu()
        return self.head(h.mean(dim=(2, 3)))


class Mlp(nn.Module):  # LayerNorm and Dropout
    def __init__(self, classes=3, inputs=3 * 12 * 10, p=0.2):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(inputs, 16), nn.LayerNorm(16),
                                 nn.ReLU(), nn.Dropout(p), nn.Linear(16, classes))

    def forward(self, x):
        return self.net(x)


class NumpyNoise(Mlp):  # randomness the copies cannot share
    def forward(self, x):
        return super().forward(x) + torch.as_tensor(np.random.rand(), dtype=x.dtype)


class Pair(Mlp):  # a forward returning a tuple
    def forward(self, x):
        return super().forward(x), x


def broken(**kwargs):
    raise RuntimeError("no weights here")
'''


def study(root, **over):
    s = {"model": {"name": "models.py:Net"},
         "data": {"name": "imagefolder", "root": root, "train_per_class": 4,
                  "test_per_class": 2},
         "train": {"epochs": 2, "batch": 5, "device": "cpu"},
         "instability": {"enabled": True, "seeds": [1, 2], "ks": [1, 3]},
         "lesde": {"enabled": False}}
    for key, value in over.items():
        s[key] = {**s.get(key, {}), **value} if isinstance(value, dict) else value
    return s


def filled(studies: dict, **sections) -> dict:
    config = {"studies": copy.deepcopy(studies), **sections}
    validate(config, str(SCHEMA), set_default=True)
    return config


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- randomness shared by copies


class FunctionalDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(16, 24), nn.Linear(24, 3)

    def forward(self, x):
        h = nn.functional.dropout(self.a(x.flatten(1)).relu(), 0.3, self.training)
        return self.b(h + 0.01 * torch.randn_like(h) * self.training)  # a noise layer too


def _data(channels=1, side=4, n=40):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, channels, side, side, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    return ImageData(x, y, x[:12], y[:12], 3, False)


@pytest.mark.parametrize("make, data", [
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.Dropout(0.5), nn.ReLU(),
                           nn.Linear(32, 3)), _data()),
    (FunctionalDropout, _data()),
    (lambda: __import__("torchvision").models.squeezenet1_1(num_classes=3), _data(3, 32, 16)),
])
def test_dropout_copies_keep_the_null_control_bit_identical(make, data):
    def run():
        return train_copies(make, data, [1, 3], lr=0.05, epochs=2, batch=8, seed=1,
                            layers=[next(n for n, _ in make().named_parameters())])
    a, b = run(), run()
    assert a.control_identical.all()
    assert np.array_equal(a.test_acc, b.test_acc)  # and the run is reproducible
    (div,) = a.divergence.values()
    assert div[-1, a.control] == 0 and div[-1, 1] > 0  # k = 3 differs by rounding alone


def test_randomness_outside_torch_is_refused(workdir):
    errs = model_errors("models.py:NumpyNoise", {}, channels=3, n_classes=3,
                        image_size=(12, 10), workdir=workdir)
    assert any("outside torch's generators" in e for e in errs), errs
    assert model_errors("models.py:Mlp", {}, channels=3, n_classes=3, image_size=(12, 10),
                        workdir=workdir) == []


# ---------------------------------------------------------------- ImageFolder checks at -n


def _truncate(path):
    path.write_bytes(path.read_bytes()[:60])


@pytest.mark.parametrize("edit, over, message", [
    (None, dict(model={"name": "nomodule_xyz.py:Net"}), "cannot import"),
    (None, dict(model={"name": "models.py:broken"}), "RuntimeError: no weights here"),
    (None, dict(model={"name": "models.py:Net", "kwargs": {"classes": 5}}), "expected (2, 3)"),
    (None, dict(model={"name": "models.py:Pair"}), "output tuple"),
    (None, dict(model={"name": "models.py:NumpyNoise"}), "outside torch"),
    (lambda r: _truncate(r / "train/dog/1.png"), {}, "train/dog/1.png"),
    (lambda r: [__import__("shutil").rmtree(r / split / c) for split in ("train", "test")
                for c in ("dog", "owl")], {}, "holds 1 class folder"),
    (None, dict(data={"train_per_class": 9}), "train_per_class 9"),
    (None, dict(lesde={"enabled": True, "batch": 1}), "BatchNorm"),
    (None, dict(model={"name": "models.py:Mlp"}, lesde={"enabled": True, "strategy": "vmap"}),
     "vmap cannot train this model: it has random layers"),
    (None, dict(train={"batch": 11}), "last minibatch of one image"),
])
def test_imagefolder_problems_are_refused_before_any_job(workdir, edit, over, message):
    root = workdir / "imgs"
    image_folder(root)
    if edit is not None:
        edit(root)
    config = filled({"s": study(str(root), **over)})
    errs = study_errors(config["studies"], workdir)
    assert any(message in e for e in errs), errs


def test_images_of_different_sizes_need_image_size(workdir):
    root = workdir / "imgs"
    image_folder(root)
    from PIL import Image
    Image.new("RGB", (7, 9)).save(root / "train/cat/9.png")
    errs = study_errors(filled({"s": study(str(root))})["studies"], workdir)
    assert any("differ in size" in e for e in errs), errs
    over = dict(data={"image_size": 8}, model={"name": "models.py:Net"})
    assert study_errors(filled({"s": study(str(root), **over)})["studies"], workdir) == []


def test_a_good_folder_passes_and_its_shape_and_names_come_from_the_files(workdir):
    root = workdir / "imgs"
    image_folder(root, classes=("ant", "bee", "cow", "doe"), size=(6, 8), gray=True)
    s = filled({"s": study(str(root), model={"kwargs": {"classes": 4, "channels": 1}},
                           train={"batch": 6})})
    assert study_errors(s["studies"], workdir) == []
    one = s["studies"]["s"]
    assert spec.shape(one) == (1, 4, (6, 8))
    assert spec.class_names(one) == ["ant", "bee", "cow", "doe"]
    assert spec.data_title(one) == "ImageFolder imgs"


def test_the_folder_content_is_an_input(workdir):
    root = workdir / "imgs"
    image_folder(root)
    one = filled({"s": study(str(root))})["studies"]["s"]
    before = spec.data_digest(one)
    assert spec.data_digest(one) == before
    from PIL import Image
    Image.new("RGB", (10, 12), "red").save(root / "train/cat/0.png")  # same name, new pixels
    edited = spec.data_digest(one)
    assert edited != before
    (root / "train/cat/extra.png").write_bytes((root / "train/cat/0.png").read_bytes())
    assert spec.data_digest(one) not in (before, edited)


# ---------------------------------------------------------------- sizes refused before any job


@pytest.mark.parametrize("over, message", [
    (dict(lesde={"enabled": True, "trials": 10**9}), "plan 100,000,002 jobs"),
    (dict(lesde={"enabled": True, "iterations": 10**12, "trials": 10, "batch": 2}),
     "iterations"),
    (dict(train={"epochs": 10**9}), "studies.s.train.epochs"),
])
def test_study_sizes_are_refused(workdir, over, message):
    from traindyn.sizes import size_errors

    root = workdir / "imgs"
    image_folder(root)
    config = filled({"s": study(str(root), **over)}, budget={}, cluster={})
    errs = family_checks(config) + size_errors(config)
    assert any(message in e for e in errs), errs


def test_a_study_job_longer_than_the_partition_limit_is_refused(workdir):
    root = workdir / "imgs"
    image_folder(root)
    config = filled({"s": study(str(root), train={"epochs": 2_000_000})}, budget={},
                    cluster={"max_runtime_minutes": 30})
    assert any("cluster.max_runtime_minutes (30)" in e for e in family_checks(config))


# ---------------------------------------------------------------- degenerate runs named


def test_a_network_at_chance_with_a_dead_head_is_named_degenerate():
    from traindyn.studies.figures import health_claims

    cs = ClaimSet("study s", "x", "y", kind="study")
    health_claims(cs, dict(n_classes=3, n_test=300, best=0.34, zero=0.5, spread=0.0))
    assert [c.verdict for c in cs.claims] == [DEGENERATE, DEGENERATE]
    assert "chance" in cs.claims[0].reason and "same for every" in cs.claims[1].reason
    cs = ClaimSet("study s", "x", "y", kind="study")
    health_claims(cs, dict(n_classes=3, n_test=300, best=0.9, zero=0.0, spread=1.5))
    assert [c.verdict for c in cs.claims] == [PASS, PASS]


def test_frozen_lesde_logits_are_named_degenerate():
    from traindyn.stats import Estimate
    from traindyn.studies.figures import lesde_health

    cs = ClaimSet("study s", "x", "y", kind="study")
    frozen = {"means_y": np.zeros((50, 4, 4))}
    reasons = lesde_health(cs, frozen, {"acc": Estimate(0.25, 0.01, 0.01, "bootstrap")}, "0.0")
    assert len(reasons) == 2 and {c.verdict for c in cs.claims} == {DEGENERATE}


# ---------------------------------------------------------------- end to end on image folders


@pytest.mark.workflow
def test_two_and_four_class_folders_end_to_end_and_an_edited_image_replans_its_study(workdir):
    """Both analyses on a 2-class RGB tree and a 4-class gray tree (class names from the
    folders): every figure is drawn, every statistic reported; replacing one image of the
    2-class tree replans exactly that study's jobs."""
    import json

    import yaml

    from conftest import snakemake
    from test_studies import OFF
    from test_workflow import planned_jobs

    two = image_folder(workdir / "two", classes=("left", "right"), per_class_train=6,
                       per_class_test=3)
    four = image_folder(workdir / "four", classes=("ant", "bee", "cow", "doe"),
                        per_class_train=4, per_class_test=2, gray=True)
    lesde = {"enabled": True, "trials": 2, "trials_per_job": 2, "iterations": 30,
             "eval_every": 10, "lr": 0.05,
             "batch": 2}
    studies = {
        "k2": study(two, model={"name": "models.py:Mlp", "kwargs": {"classes": 2}},
                    data={"train_per_class": 6, "test_per_class": 3}, train={"batch": 4},
                    instability={"probe_per_class": 2}, lesde=lesde),
        "k4": study(four, model={"name": "models.py:Net", "kwargs": {"classes": 4,
                                                                      "channels": 1}},
                    train={"batch": 6}, lesde={**lesde, "ps": [0.0, 0.5]}),
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump({"targets": OFF, "studies": studies}))
    proc = snakemake(workdir, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-4000:]
    for name, figs in (("k2", ["table1_accuracy", "lesde_fig1", "lesde_fig3", "lesde_fig5",
                               "lesde_collapse"]),
                       ("k4", ["table1_accuracy", "lesde_fig1", "lesde_fig4"])):
        for fig in figs:
            assert (workdir / f"figures/studies/{name}/{fig}.png").stat().st_size > 1000
    ids = {r["id"]: r for r in json.loads((workdir / "figures/claims.json").read_text())}
    assert {f"k2/separation[{c}]" for c in range(2)} <= set(ids)
    assert {f"k4/separation[{c}]" for c in range(4)} <= set(ids)
    for name in ("k2", "k4"):  # every health row is judged, with a reason when degenerate
        for row in ("null-control", "trained", "logits", "lesde-trained", "lesde-logits-move"):
            r = ids[f"{name}/{row}"]
            assert r["verdict"] in ("pass", "degenerate") and (r["verdict"] == "pass"
                                                               or r["reason"])
    assert ids["k2/null-control"]["verdict"] == "pass"  # Dropout, and still bit-identical
    assert ids["k2/disagreement[null control]"]["measured"] == 0.0  # probe logits, snapshots
    assert "k2/disagreement[k=3]" in ids
    assert "figure[" not in " ".join(ids)  # every figure was drawn from the data
    assert planned_jobs(workdir) == {}
    from PIL import Image
    Image.new("RGB", (10, 12), "blue").save(workdir / "two/train/left/0.png")
    plan = planned_jobs(workdir)
    assert plan["study_copies"] == 2 and plan["study_trials"] == 1, plan
    assert plan["study_instability"] == 1 and plan.get("study_lesde_phase") is None, plan


# ---------------------------------------------------------------- snapshots


@pytest.mark.parametrize("model", ["dropout", "cifar_resnet"])
def test_divergence_from_snapshots_equals_the_inline_values_bit_for_bit(tmp_path, model):
    """The copies' weights written once (safetensors, training dtype) give the divergence that
    training computed inline, to the last bit; the library reads them back."""
    from traindyn import snapshots
    from traindyn.extraction import divergences
    from traindyn.models.names import resolve_model

    if model == "dropout":
        make, data, layers = (lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 32),
                                                    nn.Dropout(0.5), nn.ReLU(),
                                                    nn.Linear(32, 3))), _data(), ["1.weight", "4"]
    else:
        make = resolve_model("cifar_resnet", {"depth": 8, "width": 4, "in_channels": 1,
                                              "n_classes": 3})
        data, layers = _data(1, 8, 24), ["fc_w", "layer2.0.conv1"]
    path = tmp_path / "run.safetensors"
    writer = snapshots.SnapshotWriter(path, tmp_path / "work", ks=[1, 3, 1], meta={"seed": 1})
    saves = []

    def snapshot(states, step, epoch):
        writer.add(len(saves), step, epoch, states)
        saves.append(step)

    result = train_copies(make, data, [1, 3], lr=0.05, epochs=3, batch=8, seed=1,
                          layers=[layers[0], layers[1]], snapshot=snapshot)
    writer.close(len(saves))
    extracted = divergences(str(path), layers)
    for layer in layers:
        assert np.array_equal(extracted[layer]["relative_l1"], result.divergence[layer])
    assert [s["step"] for s in snapshots.list_snapshots(path)] == saves == list(
        result.divergence_steps)
    net = make()
    snapshots.load_into(net, path, save=-1, copy=1)
    name = "4.weight" if model == "dropout" else "fc_w"
    assert torch.equal(dict(net.named_parameters())[name],
                       snapshots.load_snapshot(path, -1, 1)[name])


def test_user_metrics_are_checked_before_any_job(workdir):
    from traindyn.extraction import metric_errors

    (workdir / "m.py").write_text("import numpy as np\n\n\ndef good(w, ref):\n"
                                  "    return np.abs(w - ref).max(axis=1)\n\n\n"
                                  "def scalar(w, ref):\n    return 1.0\n")
    assert metric_errors(["relative_l1", "m.py:good"], "k", str(workdir)) == []
    errs = metric_errors(["m.py:scalar", "m.py:nothing", "gone.py:f", "cosine"], "k",
                         str(workdir))
    assert len(errs) == 4 and "one value per copy" in errs[0] and "no function" in errs[1]
    assert "no file" in errs[2] and "unknown metric 'cosine'" in errs[3]
