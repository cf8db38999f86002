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


# ---------------------------------------------------------------- after defaults: the whole config

from traindyn.config import check_yaml  # noqa: E402
from traindyn.config_checks import check_filled_config, memory_estimates  # noqa: E402


def _filled(config):
    validate(config, str(SCHEMA), set_default=True)
    return config


def _problems(schema, config) -> str:
    check_config(config, schema)  # each case passes the per-key schema ...
    with pytest.raises(ConfigError) as err:  # ... and is stopped by the rules across keys
        check_filled_config(_filled(config), schema)
    return str(err.value)


CROSS = [
    ({"lesde": {"geomnist_noise": {"ps": [0.0, 0.666, 0.67]}}},
     "0.666 and 0.67 are the same noise setting 'p0.67'"),
    ({"lesde": {"geomnist_noise": {"ps": [0.1, 0.2]}}}, "ps must include 0.0"),
    ({"lesde": {"geomnist_noise": {"enabled": False}}}, "ps must include 0.0"),
    ({"lesde": {"geomnist_noise": {"eval_subset": 600}}}, "eval_subset (600) exceeds"),
    ({"lesde": {"device": "cpu", "gpu": 1}}, "lesde.device is cpu but lesde.gpu"),
    ({"instab": {"device": "cpu", "gpu": 2}}, "instab.device is cpu but instab.gpu"),
    ({"heat": {"sweep": {"dt_min": 0.7, "dt_max": 0.3}}}, "heat.sweep.dt_min (0.7) must be below"),
    ({"data": {"geomnist": {"blur_sigma": [1.2, 0.9]}}}, "blur_sigma: low 1.2 above high 0.9"),
    ({"pde": {"kernel": {"size": 64}, "image": {"size": 32}}}, "pde.kernel.size (64) is larger"),
    ({"instab": {"network": {"depth": 10}}}, "instab.network.depth (10) must be 6n+2"),
    ({"instab": {"fig2": {"layer": "layer2.5.conv1"}}}, "'layer2.5.conv1' is not a convolution"),
    ({"instab": {"fig2": {"layer": "fc"}}}, "'fc' is not a convolution"),
    ({"instab": {"table1": {"ks": [3, 5]}}}, "instab.table1.ks must include 1"),
    ({"instab": {"dataset": "cifar10", "pixel_noise": 0.5}}, "applies to GeoMNIST only"),
    ({"instab": {"table1": {"stat_epochs": 5, "epochs": 4}}}, "stat_epochs (5) exceeds epochs (4)"),
    ({"instab": {"table1": {"milestones": [4], "epochs": 4}}}, "milestones [4] are not below"),
    ({"lesde": {"geomnist_noise": {"iterations": 10**12}}}, "lesde.geomnist_noise: the sizes"),
    ({"heat": {"max_steps": 10**11}}, "heat: the sizes asked for need about"),
    ({"pde": {"image": {"size": 10**6}}}, "pde: the sizes asked for"),
    ({"instab": {"dataset": "cifar10"}}, "data.cifar10_root is not set (needed by instab.dataset)"),
    ({"lesde": {"cifar": {"enabled": True}}, "data": {"cifar10_root": "/nonexistent/cifar"}},
     "data.cifar10_root '/nonexistent/cifar' does not exist (needed by lesde.cifar.enabled)"),
]


@pytest.mark.parametrize("over,message", CROSS, ids=[m[:40] for _, m in CROSS])
def test_rules_across_keys_stop_the_config(schema, over, message):
    assert message in _problems(schema, copy.deepcopy(over))


DUPLICATES = [
    (["lesde", "geomnist_noise", "ps"], [0.0, 0.3, 0.0], "lesde.geomnist_noise.ps: 0.0 appears more than once"),
    (["instab", "table1", "seeds"], [1, 2, 1], "instab.table1.seeds: 1 appears more than once"),
    (["instab", "table1", "ks"], [1, 3, 3], "instab.table1.ks: 3 appears more than once"),
    (["pde", "nonlinear", "lrs"], [0.01, 0.01], "pde.nonlinear.lrs: 0.01 appears more than once"),
    (["pde", "linear", "table_lrs"], [1e-8, 1e-8], "pde.linear.table_lrs: 1e-08 appears more"),
    (["instab", "fig2", "ns"], [1, 4, 4], "instab.fig2.ns: 4 appears more than once"),
    (["lesde", "geomnist_size", "per_class"], [[40, 10], [40, 10]], "[40, 10] appears more"),
]


@pytest.mark.parametrize("path,value,message", DUPLICATES, ids=[".".join(d[0]) for d in DUPLICATES])
def test_repeated_sweep_values_are_named(schema, quick, path, value, message):
    config = _set(copy.deepcopy(quick), path, value)
    with pytest.raises(ConfigError) as err:
        check_config(config, schema)
    assert message in str(err.value)


def test_integral_floats_become_integers_everywhere(schema):
    config = _filled({"lesde": {"geomnist_noise": {"trials": 3.0, "iterations": 4.0e1}},
                      "instab": {"table1": {"seeds": [1.0, 2.0]}},
                      "pde": {"amplification": {"k": [1.0, 3.0]}}})
    check_config(config, schema)
    check_filled_config(config, schema)
    noise = config["lesde"]["geomnist_noise"]
    assert noise["trials"] == 3 and type(noise["trials"]) is int
    assert type(noise["iterations"]) is int and noise["iterations"] == 40
    assert all(type(s) is int for s in config["instab"]["table1"]["seeds"])
    assert all(type(k) is int for k in config["pde"]["amplification"]["k"])
    assert type(config["heat"]["panels"][0]) is float  # number keys keep their floats
    with pytest.raises(ConfigError, match="lesde.geomnist_noise.trials: 3.5 is not of type"):
        check_config({"lesde": {"geomnist_noise": {"trials": 3.5}}}, schema)


def test_cifar_root_must_be_a_complete_copy(schema, tmp_path):
    from lesde_fixtures import cifar_archive

    over = {"instab": {"dataset": "cifar10"}, "data": {"cifar10_root": str(tmp_path / "f")}}
    (tmp_path / "f").write_text("not a folder")
    assert "is not a directory" in _problems(schema, copy.deepcopy(over))
    root = cifar_archive(tmp_path / "cifar")
    (tmp_path / "cifar" / "cifar-10-batches-py" / "data_batch_3").unlink()
    over["data"]["cifar10_root"] = root
    msg = _problems(schema, copy.deepcopy(over))
    assert "not in the expected format" in msg and "data_batch_3" in msg
    assert "cifar10_download: true" in msg
    ok = _filled({"instab": {"dataset": "cifar10"}, "data": {"cifar10_root": str(tmp_path / "x"),
                                                            "cifar10_download": True}})
    check_filled_config(ok, schema)  # a download is allowed to fetch it


def test_shipped_configs_pass_every_check(schema, quick):
    check_filled_config(_filled(quick), schema)
    check_filled_config(_filled(yaml.safe_load((ROOT / "tests/config.yaml").read_text())), schema)
    est = memory_estimates(_filled(yaml.safe_load((ROOT / "workflow/configs/paper.yaml").read_text())))
    assert max(est.values()) < 4 * 1024**3  # the paper scale fits a laptop's memory


def test_yaml_syntax_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("targets:\n  si_heat: true\n  si_pde: [true\nheat: {}\n")
    with pytest.raises(ConfigError, match=r"config\.yaml, line \d+, column \d+: not valid YAML"):
        check_yaml(bad)


def test_nested_command_line_values_are_read_as_yaml():
    """`--config 'lesde={gpu: 1}'` reaches the Snakefile as {'lesde': {'gpu': '1'}}."""
    from traindyn.config import yaml_values

    given = {"lesde": {"gpu": "1", "geomnist_noise": {"lr": "0.01", "ps": ["0.0", "0.5"]}},
             "cluster": {"gpu_model": "a100", "max_runtime_minutes": "null"}, "seed": 3,
             "data": {"cifar10_root": "data/cifar", "cifar10_download": "true"}}
    assert yaml_values(given) == {
        "lesde": {"gpu": 1, "geomnist_noise": {"lr": 0.01, "ps": [0.0, 0.5]}},
        "cluster": {"gpu_model": "a100", "max_runtime_minutes": None}, "seed": 3,
        "data": {"cifar10_root": "data/cifar", "cifar10_download": True}}
