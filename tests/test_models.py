"""Models by name: torchvision models, a user's own file (and the files it imports), built-in
networks; checks with clear errors naming the key; FLOPs from torch's flop counter."""

from __future__ import annotations

import re
import textwrap
from types import SimpleNamespace

import pytest
import torch

from traindyn import budget
from traindyn.instab.train import NetSpec, build
from traindyn.models.checks import check_model, model_errors
from traindyn.models.flops import forward_flops, step_flops
from traindyn.models.names import ModelError, model_files, resolve_model

GEO = dict(channels=1, n_classes=3, image_size=(32, 32))
RGB = dict(channels=3, n_classes=3, image_size=(32, 32))

USER_MODEL = '''
import torch
from helpers import width

class Net(torch.nn.Module):
    def __init__(self, n_classes=3, channels=1):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, width(), 3)
        self.fc = torch.nn.Linear(width(), n_classes)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))

def not_a_model():
    return {"weights": 1}
'''


@pytest.fixture
def user_dir(tmp_path):
    (tmp_path / "my_model.py").write_text(USER_MODEL)
    (tmp_path / "helpers.py").write_text("def width():\n    return 4\n")
    return tmp_path


def test_torchvision_model_by_name_and_its_checks():
    assert model_errors("torchvision.models:resnet18", {"num_classes": 3}, **RGB) == []
    (err,) = model_errors("torchvision.models:resnet18", {"num_classes": 3}, key="studies.a.model",
                          **GEO)
    assert err.startswith("studies.a.model:") and "takes 3 input channels, the data have 1" in err
    (err,) = model_errors("torchvision.models:resnet18", {}, **RGB)
    assert "output (2, 1000)" in err and "expected (2, 3)" in err
    assert model_files("torchvision.models:resnet18") == []  # an installed package


def test_a_users_file_in_the_working_directory(user_dir):
    factory = resolve_model("my_model:Net", {"n_classes": 3}, workdir=user_dir)
    assert factory.files == (str(user_dir / "helpers.py"), str(user_dir / "my_model.py"))
    assert model_files("my_model:Net", user_dir) == list(factory.files)  # without importing
    model = factory.build(0)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
    assert model_errors("my_model:Net", {}, workdir=user_dir, **GEO) == []
    by_path = resolve_model(str(user_dir / "my_model.py") + ":Net")
    assert type(by_path.build(0)).__name__ == "Net"
    errs = model_errors("my_model:not_a_model", workdir=user_dir, **GEO)
    assert errs == ["model: my_model:not_a_model() returned dict, not a torch.nn.Module"]
    (err,) = model_errors("my_model:Net", {"channels": 3}, workdir=user_dir, **GEO)
    assert "takes 3 input channels, the data have 1" in err
    (err,) = model_errors("my_model:Net", {"n_classes": 5}, workdir=user_dir, **GEO)
    assert "output (2, 5)" in err


def test_two_working_directories_do_not_share_a_module(tmp_path):
    for name, k in (("a", 2), ("b", 5)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "net.py").write_text(textwrap.dedent(f"""
            import torch
            def make():
                return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear({k}))
            """))
    outs = [resolve_model("net:make", workdir=tmp_path / d).build(0)(torch.zeros(1, 1, 2, 2))
            for d in ("a", "b")]
    assert [o.shape[1] for o in outs] == [2, 5]


def test_import_failures_name_the_key_and_the_error(tmp_path):
    (tmp_path / "broken.py").write_text("import torch\nraise ImportError('no cuda op here')\n")
    (tmp_path / "syntax.py").write_text("def f(:\n")
    (err,) = model_errors("broken:Net", key="studies.x.model", workdir=tmp_path, **GEO)
    assert err.startswith("studies.x.model: cannot import 'broken'") and "no cuda op here" in err
    assert "SyntaxError" in model_errors("syntax:f", workdir=tmp_path, **GEO)[0]
    assert "No module named 'nowhere_module'" in model_errors("nowhere_module:Net", **GEO)[0]
    assert "has no callable 'Nope'" in model_errors("torch.nn:Nope", **GEO)[0]
    assert "neither a built-in network" in model_errors("resnet", **GEO)[0]
    assert "no file" in model_errors("missing.py:Net", workdir=tmp_path, **GEO)[0]
    with pytest.raises(ModelError, match="cannot import"):
        check_model("broken:Net", workdir=tmp_path, **GEO)


def test_seeded_build_is_reproducible_and_leaves_torchs_generator_alone():
    factory = resolve_model("torchvision.models:resnet18", {"num_classes": 3})
    state = torch.get_rng_state()
    a, b, c = factory.build(1), factory.build(1), factory.build(2)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a.fc.weight, b.fc.weight) and not torch.equal(a.fc.weight, c.fc.weight)


def test_built_in_networks_are_the_papers_networks():
    simple = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3})
    assert model_errors("simpleconv", {"in_channels": 1, "n_classes": 3}, **GEO) == []
    assert sum(p.numel() for p in simple.build(0).parameters()) == 61111
    kw = dict(depth=8, width=4, in_channels=1, n_classes=3, activation="swish")
    resnet = resolve_model("cifar_resnet", kw).build(5)
    assert model_errors("cifar_resnet", kw, **GEO) == []
    shape = SimpleNamespace(x_train=torch.empty(1, 1, 32, 32), n_classes=3)
    copies = build(NetSpec(8, 4, "swish", 5.0), shape, [1, 3], 5, torch.float32, "cpu")
    for name, p in resnet.named_parameters():  # the SI runs' initialization for that seed
        assert torch.equal(p, dict(copies.nets[1].named_parameters())[name]), name


def test_flops_from_the_flop_counter_match_the_cost_model():
    simple = resolve_model("simpleconv", {"in_channels": 1, "n_classes": 3}).build(0)
    assert forward_flops(simple, **GEO) == budget.simpleconv_flops(1, 3)
    assert step_flops(simple, **GEO) == pytest.approx(budget.SIMPLECONV_STEP_FLOPS, rel=1e-3)
    assert step_flops(simple, batch=4, **GEO) == pytest.approx(4 * step_flops(simple, **GEO))
    assert simple.conv1.weight.grad is None  # counted on a copy
    resnet = resolve_model("cifar_resnet", dict(depth=8, width=4)).build(0)
    assert forward_flops(resnet, channels=3, image_size=(32, 32), n_classes=10) == \
        budget.resnet_flops(8, 4, 3)


# ------------------------------------------- a model spec names a network builder, nothing else

@pytest.mark.parametrize("name, kwargs, message", [
    ("os:system", {"command": "touch {canary}"}, "'os:system' is not a network builder (a builtin_function_or_method"),
    ("builtins:eval", {"source": "open({canary!r}, 'w')"}, "'builtins:eval' is not a network builder (a builtin"),
    ("subprocess:call", {"args": ["touch", "{canary}"]}, "'subprocess:call' is not a network builder (a function call of subprocess;"),
    ("subprocess:Popen", {"args": ["touch", "{canary}"]}, "'subprocess:Popen' is not a network builder (a class subprocess.Popen, not a torch"),
    ("evil.py:system", {"command": "touch {canary}"}, "'evil.py:system' is not a network builder (a builtin"),
    ("evil.py:run", {"args": ["touch", "{canary}"]}, "'evil.py:run' is not a network builder (a function run of subprocess;"),
])
def test_a_spec_that_is_not_a_model_builder_is_refused_before_any_call(tmp_path, name, kwargs,
                                                                       message):
    """`studies.x.model: {name: os:system, kwargs: {command: ...}}` ran the command at `-n`: now
    what the name resolves to is checked first, and nothing is called."""
    canary = tmp_path / "canary"
    (tmp_path / "evil.py").write_text("from os import system\nfrom subprocess import run\n")
    fill = {k: (v.format(canary=canary) if isinstance(v, str)
                else [x.format(canary=canary) for x in v]) for k, v in kwargs.items()}
    with pytest.raises(ModelError, match=re.escape(f"studies.x.model: {message}")):
        resolve_model(name, fill, key="studies.x.model", workdir=tmp_path)
    (err,) = model_errors(name, fill, key="studies.x.model", workdir=tmp_path, **GEO)
    assert "never called" in err
    assert not canary.exists()


def test_model_classes_and_builder_functions_still_resolve(user_dir):
    assert resolve_model("torch.nn:Linear", {"in_features": 2, "out_features": 3}).build(0)
    assert resolve_model("torchvision.models:resnet18").fn.__module__.startswith("torchvision")
    assert resolve_model("my_model:Net", workdir=user_dir).build(0)
    # a function defined in the user's own file is called (and its result checked)
    assert resolve_model("my_model:not_a_model", workdir=user_dir)() == {"weights": 1}


@pytest.mark.workflow
def test_os_system_in_a_study_is_refused_at_dry_run_and_runs_nothing(tmp_path):
    import yaml

    from conftest import snakemake
    from test_studies import OFF, study

    canary = tmp_path / "canary"
    spec = study(model={"name": "os:system", "kwargs": {"command": f"touch {canary}"}})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"targets": OFF, "studies": {"x": spec}}))
    proc = snakemake(tmp_path, "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "studies.x.model: 'os:system' is not a network builder" in out
    assert not canary.exists()
