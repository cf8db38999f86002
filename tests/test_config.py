import copy

import pytest
import yaml
from snakemake.utils import validate

from traindyn.config import ConfigError, check_config, key_path, load_schema

from conftest import ROOT, SCHEMA


@pytest.fixture(scope="module")
def schema():
    return load_schema(SCHEMA)


@pytest.fixture
def quick():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def _set(config, path, value):
    *parents, last = path
    node = config
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return config


def test_shipped_configs_are_valid(schema, quick):
    check_config(quick, schema)
    paper = yaml.safe_load((ROOT / "workflow/configs/paper.yaml").read_text())
    check_config(paper, schema)
    check_config(yaml.safe_load((ROOT / "tests/config.yaml").read_text()), schema)


def test_schema_defaults_fill_an_empty_config(schema):
    config = {}
    validate(config, str(SCHEMA), set_default=True)
    assert config["heat"]["panels"] == [0.4, 0.8]
    assert config["pde"]["linear"]["lr"] == pytest.approx(1e-8)
    assert config["pde"]["kernel"]["seed"] == 7
    assert config["data"]["geomnist"]["train_per_class"] == 500


def test_every_quick_key_is_in_the_schema_with_the_same_value(schema, quick):
    """config.yaml states the defaults explicitly: filling an empty config gives the same."""
    filled = {}
    validate(filled, str(SCHEMA), set_default=True)
    assert filled == quick


BAD = [
    (["foo"], 1, "unknown key foo"),
    (["heat", "sweep", "bogus"], 1, "unknown key heat.sweep.bogus"),
    (["pde", "linear", "lr"], 0, "pde.linear.lr: 0 is less than or equal to the minimum of 0"),
    (["pde", "linear", "lr"], -1e-8, "pde.linear.lr: -1e-08 is less than or equal"),
    (["pde", "nonlinear", "lrs"], [0.01, -0.1], "pde.nonlinear.lrs[1]: -0.1 is less than"),
    (["pde", "amplification", "k"], [0, 3], "pde.amplification.k[0]: 0 is less than the minimum of 1"),
    (["pde", "dtype"], "float16", "pde.dtype: 'float16' is not one of ['float32', 'float64']"),
    (["heat", "panels"], [0.4, -0.8], "heat.panels[1]: -0.8 is less than or equal"),
    (["data", "geomnist", "train_per_class"], 0, "data.geomnist.train_per_class: 0 is less than the minimum of 1"),
    (["data", "geomnist", "blur_sigma"], [1.0], "data.geomnist.blur_sigma: [1.0] is too short"),
    (["pde", "image", "kind"], "photo", "pde.image.kind: 'photo' is not one of"),
    (["heat", "max_steps"], "many", "heat.max_steps: 'many' is not of type 'integer'"),
    (["targets", "si_heat"], "yes", "targets.si_heat: 'yes' is not of type 'boolean'"),
    (["data", "geomnist", "seed"], 1.5, "data.geomnist.seed: 1.5 is not of type 'integer'"),
    (["pde", "kernel", "size"], 0, "pde.kernel.size: 0 is less than the minimum of 1"),
]


@pytest.mark.parametrize("path,value,message", BAD, ids=[".".join(map(str, b[0])) + f"={b[1]!r}" for b in BAD])
def test_bad_config_message_names_the_key(schema, quick, path, value, message):
    config = _set(copy.deepcopy(quick), path, value)
    with pytest.raises(ConfigError) as err:
        check_config(config, schema)
    assert message in str(err.value)


def test_all_violations_are_listed_at_once(schema, quick):
    config = _set(_set(copy.deepcopy(quick), ["pde", "dtype"], "half"), ["heat", "n_points"], 1)
    with pytest.raises(ConfigError) as err:
        check_config(config, schema)
    assert "pde.dtype" in str(err.value) and "heat.n_points" in str(err.value)


def test_key_path_formatting():
    assert key_path(["heat", "panels", 1]) == "heat.panels[1]"
    assert key_path([]) == "<top level>"
