"""Studies (config ``studies``): the config checks before any job, the job plan, and one tiny
study of a model defined in a user's file run end to end through both analyses, whose model file
edit replans exactly that study's jobs."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from snakemake.utils import validate

from conftest import ROOT, SCHEMA, snakemake
from image_fixtures import mnist_idx
from lesde_fixtures import cifar_archive
from test_workflow import planned_jobs
from traindyn.studies import spec
from traindyn.studies.budget import job_cost
from traindyn.studies.checks import study_errors

OFF = {k: False for k in ("si_heat", "si_pde", "lesde_data", "lesde_logs", "lesde_figures",
                          "si_deep")}
MODEL = '''import torch.nn as nn


class Net(nn.Module):
    def __init__(self, classes=3, channels=1):
        super().__init__()
        self.conv = nn.Conv2d(channels, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x).relu()).flatten(1))


def not_a_module():
    return 3
'''


METRIC = '''import numpy as np


def cosine(w, ref):
    return (w @ ref) / (np.linalg.norm(w, axis=1) * np.linalg.norm(ref))
'''


def study(**over):
    s = {"model": {"name": "my_model.py:Net"}, "data": {"name": "geomnist", "train_per_class": 8,
                                                          "test_per_class": 4},
         "train": {"epochs": 2, "batch": 8, "device": "cpu"},
         "instability": {"enabled": True, "seeds": [1, 2], "ks": [1, 3],
                         "layers": ["conv.weight"], "divisors": {"ns": [2]}},
         "lesde": {"enabled": True, "trials": 3, "trials_per_job": 2, "iterations": 30,
                   "lr": 0.05, "eval_every": 10, "ps": [0.0, 0.5]}}
    for key, value in over.items():
        s[key] = {**s.get(key, {}), **value} if isinstance(value, dict) else value
    return s


def filled(studies: dict) -> dict:
    config = {"studies": copy.deepcopy(studies)}
    validate(config, str(SCHEMA), set_default=True)
    return config["studies"]


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "my_model.py").write_text(MODEL)
    return tmp_path


def test_a_good_study_has_no_problems_and_its_jobs_are_planned(workdir, monkeypatch):
    monkeypatch.chdir(workdir)  # the pipeline's working directory, where the model file is
    studies = filled({"s": study()})
    assert study_errors(studies, workdir) == []
    s = studies["s"]
    assert spec.copies_outputs("s", s) == [f"results/studies/s/copies/seed{i}.parquet"
                                           for i in (1, 2)]
    assert spec.lesde_chunks(s) == [(0, 2), (2, 3)]
    assert spec.lesde_settings(s) == [("p0.0", 0.0), ("p0.5", 0.5)]
    kw = spec.divisor_kwargs("s", s, 2)
    assert kw["ks"] == [1, 3] and kw["lr"] == pytest.approx(0.025) and kw["seed"] == 1
    assert spec.trials_kwargs("s", s, 0.5, 2, 3)["data"]["label_noise"] == 0.5
    flops, steps = job_cost(s, "copies")
    assert flops > 0 and steps == 2 * 3  # 2 epochs of ceil(24 / 8) minibatches


@pytest.mark.parametrize("over, message", [
    (dict(model={"name": "no_such_module_xyz:Net"}), "studies.s.model: cannot import"),
    (dict(model={"name": "my_model.py:not_a_module"}), "not a torch.nn.Module"),
    (dict(model={"name": "my_model.py:Net", "kwargs": {"classes": 5}}), "expected (2, 3)"),
    (dict(model={"name": "my_model.py:Net", "kwargs": {"channels": 3}}), "input channels"),
    (dict(data={"name": "mnist", "root": "/nonexistent/mnist"}), "/nonexistent/mnist"),
    (dict(instability={"layers": ["fc2.weight"]}), "are not parameters"),
    (dict(instability={"ks": [2, 3]}), "must include 1"),
    (dict(instability={"enabled": False}, lesde={"enabled": False}), "no analysis enabled"),
])
def test_config_problems_name_the_key(workdir, over, message):
    errs = study_errors(filled({"s": study(**over)}), workdir)
    assert any(message in e for e in errs), errs


def test_colliding_names_and_schema_errors(workdir):
    errs = study_errors(filled({"Run": study(), "run": study()}), workdir)
    assert any("collide" in e for e in errs)
    with pytest.raises(Exception, match="analysis_x|additional"):
        filled({"s": study(instability={"analysis_x": 1})})


def test_torchvision_model_on_mnist_is_checked_against_the_data(workdir):
    root = mnist_idx(workdir / "m")
    good = study(model={"name": "torchvision.models:resnet18", "kwargs": {"num_classes": 10}},
                 data={"name": "mnist", "root": root, "channels": 3, "train_per_class": 2},
                 instability={"layers": ["layer1.0.conv1.weight"]}, lesde={"batch": 2})
    assert study_errors(filled({"r": good}), workdir) == []
    bad = study(model={"name": "torchvision.models:resnet18", "kwargs": {"num_classes": 3}},
                data={"name": "mnist", "root": root, "channels": 3})
    assert any("expected (2, 10)" in e for e in study_errors(filled({"r": bad}), workdir))


@pytest.mark.workflow
def test_a_study_runs_end_to_end_and_replans_only_itself(workdir):
    """A user's model on GeoMNIST and on a CIFAR-format archive, both analyses: every figure,
    table and statistic is built; editing the user's model file replans that file's study only."""
    cifar = cifar_archive(workdir / "cifar")
    (workdir / "other.py").write_text(MODEL)
    other = study(model={"name": "other.py:Net", "kwargs": {"classes": 10, "channels": 3}},
                  data={"name": "cifar10", "root": cifar, "train_per_class": 4,
                        "test_per_class": 2},
                  instability={"layers": ["fc.weight"], "divisors": {"ns": []}},
                  lesde={"ps": [0.0], "trials": 2})
    config = {"targets": OFF, "studies": {"geo": study(), "cifar": other}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(workdir, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-4000:]
    for name, figs in (("geo", ["table1_accuracy", "fig2_divergence", "lesde_fig1", "lesde_fig3",
                                "lesde_fig4", "lesde_fig5", "lesde_collapse"]),
                       ("cifar", ["table1_accuracy", "lesde_fig1", "lesde_fig5"])):
        for fig in figs:
            assert (workdir / f"figures/studies/{name}/{fig}.png").stat().st_size > 1000
    rows = json.loads((workdir / "figures/claims.json").read_text())
    ids = {r["id"]: r for r in rows}
    assert ids["geo/null-control"]["verdict"] == "pass" and ids["cifar/null-control"]
    assert ids["geo/impact[A]"]["uncertainty"] is not None
    # the estimators' conditioning is reported with each impact row (docs/claims.md)
    assert "Xf(T)" in ids["geo/impact[A_L]"]["reason"], ids["geo/impact[A_L]"]
    assert "Xbar0(T)" in ids["geo/impact[A]"]["reason"]
    assert ids["geo/impact[A_L]"]["verdict"] in ("measured", "ill-conditioned")
    assert {r["kind"] for r in rows} == {"study"}
    assert "## Studies" in (workdir / "figures/claims.md").read_text()
    assert planned_jobs(workdir) == {}
    # the watched layers and the metrics are read from the snapshots: no training job
    (workdir / "mine.py").write_text(METRIC)
    config["studies"]["geo"]["instability"].update(
        layers=["*", "fc"], metrics=["l2", "relative_l1", "mine.py:cosine"])
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    plan = planned_jobs(workdir)
    assert plan.get("study_divergence") == 3 and plan.get("study_instability") == 1, plan
    assert not {"study_copies", "study_divisor", "study_trials"} & set(plan), plan
    assert snakemake(workdir, "--cores", "2").returncode == 0
    d = np.load(workdir / "results/studies/geo/copies/seed1.divergence.npz")
    assert d["layer_0"].shape == d["layer_0_l2"].shape == (2, 3) and (d["layer_0"] >= 0).all()
    assert np.allclose(d["layer_1_cosine"][:, 0], 1.0)  # the reference copy against itself
    (workdir / "mine.py").write_text(METRIC + "\n# edited\n")  # a code input of extraction
    plan = planned_jobs(workdir)
    assert plan.get("study_divergence") == 3 and "study_copies" not in plan, plan
    (workdir / "mine.py").write_text(METRIC)
    (workdir / "other.py").write_text(MODEL + "\n# edited\n")
    plan = planned_jobs(workdir)
    assert plan["study_copies"] == 2 and plan["study_trials"] == 1  # the cifar study's only
    assert "study_divisor" not in plan and plan.get("study_lesde") == 1
