import copy
import re

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
    # seeds past 2**32 crashed late (numpy's legacy generator); refused at -n
    (["pde", "kernel", "seed"], 2**32, "pde.kernel.seed: 4294967296 is greater than the maximum"),
    (["pde", "image", "seed"], 2**40, "pde.image.seed: 1099511627776 is greater than the maximum"),
    (["instab", "table1", "seeds"], [1, 2**32], "instab.table1.seeds[1]: 4294967296 is greater"),
    (["instab", "fig2", "seed"], 2**64, "instab.fig2.seed: 18446744073709551616 is greater"),
    (["lesde", "seed"], 2**32, "lesde.seed: 4294967296 is greater than the maximum"),
    # `$` matches before a final newline: the patterns end at the true end of the string
    (["cluster", "gpu_model"], "a100\n", "cluster.gpu_model: 'a100\\n' does not match"),
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


def test_a_study_name_with_a_trailing_newline_is_refused(schema):
    with pytest.raises(ConfigError, match=r"'s\\n' does not match"):
        check_config({"studies": {"s\n": {}}}, schema)


def test_every_pattern_is_anchored_at_the_true_end(schema):
    """Python's `$` (JSON Schema patterns are searched with `re`) also matches before a final
    newline, so every pattern must end with `\\Z`."""
    patterns = re.findall(r'pattern: "([^"]*)"', (SCHEMA).read_text())
    assert len(patterns) >= 2
    assert all(p.startswith("^") and p.endswith("\\\\Z") for p in patterns), patterns


def test_key_path_formatting():
    assert key_path(["heat", "panels", 1]) == "heat.panels[1]"
    assert key_path([]) == "<top level>"


# ---------------------------------------------------------------- after defaults: the whole config

from traindyn.configfile import load as load_config_file  # noqa: E402
from traindyn.config_checks import check_filled_config  # noqa: E402
from traindyn.sizes import NOT_SIZES, needs  # noqa: E402


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
    ({"lesde": {"geomnist_noise": {"iterations": 10**12}}},
     "lesde.geomnist_noise.iterations, lesde.geomnist_noise.trials, "),
    ({"heat": {"max_steps": 10**11}}, "heat.max_steps, heat.n_points: the heat panels"),
    ({"pde": {"image": {"size": 10**6}}}, "pde.kernel.size: the error amplification run (pde_amplification) (the largest of 3"),
    ({"data": {"geomnist": {"image_size": 8}}}, "data.geomnist.image_size (8) must be 32"),
    ({"pde": {"amplification": {"window": 2000}}}, "pde.amplification.window (2000) exceeds"),
    ({"instab": {"dataset": "cifar10", "pixel_noise": 0.0}}, "data.cifar10_root is not set (needed by instab.dataset)"),
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

    over = {"instab": {"dataset": "cifar10", "pixel_noise": 0.0}, "data": {"cifar10_root": str(tmp_path / "f")}}
    (tmp_path / "f").write_text("not a folder")
    assert "is not a directory" in _problems(schema, copy.deepcopy(over))
    root = cifar_archive(tmp_path / "cifar")
    (tmp_path / "cifar" / "cifar-10-batches-py" / "data_batch_3").unlink()
    over["data"]["cifar10_root"] = root
    msg = _problems(schema, copy.deepcopy(over))
    assert "not in the expected format" in msg and "data_batch_3" in msg
    assert "cifar10_download: true" in msg
    ok = _filled({"instab": {"dataset": "cifar10", "pixel_noise": 0.0}, "data": {"cifar10_root": str(tmp_path / "x"),
                                                            "cifar10_download": True}})
    check_filled_config(ok, schema)  # a download is allowed to fetch it


def test_shipped_configs_pass_every_check(schema, quick):
    check_filled_config(_filled(quick), schema)
    check_filled_config(_filled(yaml.safe_load((ROOT / "tests/config.yaml").read_text())), schema)
    paper = _filled(yaml.safe_load((ROOT / "workflow/configs/paper.yaml").read_text()))
    # the paper scale's host memory fits a laptop (its training runs on GPUs)
    assert max(n.bytes for n in needs(paper)) < 4 * 1024**3


def test_yaml_syntax_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("targets:\n  si_heat: true\n  si_pde: [true\nheat: {}\n")
    with pytest.raises(ConfigError, match=r"config\.yaml, line \d+, column \d+: not valid YAML"):
        load_config_file(bad)


# ---------------------------------------------------------------- finite numbers, value types

from traindyn.config_types import normalize  # noqa: E402

NON_FINITE = [
    (["lesde", "geomnist_noise", "lr"], float("nan"), "lesde.geomnist_noise.lr: nan"),
    (["lesde", "geomnist_noise", "lr"], float("inf"), "lesde.geomnist_noise.lr: inf"),
    (["heat", "sweep", "dt_min"], float("nan"), "heat.sweep.dt_min: nan"),
    (["lesde", "geomnist_noise", "ps"], [0.0, float("nan")], "lesde.geomnist_noise.ps[1]: nan"),
    (["heat", "panels"], [float("nan")], "heat.panels[0]: nan"),
    (["pde", "iterations"], float("inf"), "pde.iterations: inf"),
    (["budget", "safety"], float("-inf"), "budget.safety: -inf"),
]


@pytest.mark.parametrize("path,value,message", NON_FINITE, ids=[m for *_, m in NON_FINITE])
def test_non_finite_numbers_are_refused_naming_the_key(schema, quick, path, value, message):
    """JSON Schema's bounds let NaN through (every comparison with it is false): one rule in
    the schema layer refuses NaN and infinities for every numeric key, list items included."""
    config = _set(copy.deepcopy(quick), path, value)
    with pytest.raises(ConfigError) as err:
        check_config(normalize(config, schema), schema)
    assert f"{message} is not a finite number" in str(err.value)
    assert str(err.value).count(message) == 1  # one line per key, not a type error besides


def test_every_numeric_schema_key_is_covered_by_the_finite_rule(schema):
    """The rule walks the values, so no key can be left out: try NaN at every number key."""
    filled = _filled({})
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, float):
            paths.append(path)
    walk(filled, ())
    assert len(paths) > 20
    for path in paths:
        config = _set(copy.deepcopy(filled), list(path), float("nan"))
        with pytest.raises(ConfigError, match=r"is not a finite number"):
            check_config(config, schema)


def test_command_line_text_becomes_the_number_it_spells(schema):
    """Snakemake hands nested --config values over as text (YAML BaseLoader):
    `--config lesde={geomnist_noise: {lr: 0.02}}` gives '0.02'."""
    config = {"lesde": {"geomnist_noise": {"lr": "0.02", "trials": "3", "enabled": "true",
                                           "ps": ["0", "0.5"], "eval_subset": "null"}},
              "pde": {"iterations": "1e3"}, "instab": {"table1": {"seeds": ["1", "2"]}}}
    normalize(config, schema)
    check_config(config, schema)
    noise = config["lesde"]["geomnist_noise"]
    assert noise == {"lr": 0.02, "trials": 3, "enabled": True, "ps": [0.0, 0.5],
                     "eval_subset": None}
    assert config["pde"]["iterations"] == 1000 and type(config["pde"]["iterations"]) is int
    assert config["instab"]["table1"]["seeds"] == [1, 2]
    bad = normalize({"heat": {"max_steps": "many"}, "pde": {"dtype": "1.5"}}, schema)
    assert bad == {"heat": {"max_steps": "many"}, "pde": {"dtype": "1.5"}}  # left to the schema
    with pytest.raises(ConfigError, match="heat.max_steps: 'many' is not of type 'integer'"):
        check_config(bad, schema)


def test_integers_for_number_keys_become_floats(schema):
    """p = 0 and p = 0.0 are one value: the jobs' parameters must not differ as text."""
    config = normalize({"lesde": {"geomnist_noise": {"ps": [0, 1]}}, "heat": {"panels": [1]},
                        "instab": {"pixel_noise": 0}}, schema)
    assert config["lesde"]["geomnist_noise"]["ps"] == [0.0, 1.0]
    assert all(type(v) is float for v in config["lesde"]["geomnist_noise"]["ps"])
    assert type(config["heat"]["panels"][0]) is float
    assert type(config["instab"]["pixel_noise"]) is float


# ---------------------------------------------------------------- sizes: memory and time


def _integer_keys(schema) -> list[str]:
    from traindyn.config_types import resolve

    defs, out = schema["$defs"], []

    def walk(node, path):
        node = resolve(node, defs)
        if node.get("properties"):
            for key, sub in node["properties"].items():
                walk(sub, (*path, key))
        elif "items" in node:
            walk(node["items"], path)
        elif "integer" in str(node.get("type")):
            out.append(".".join(path))
    walk(schema, ())
    return sorted(set(out))


def _huge(value):
    """The value with its size set to 10^12 (the last item of a list)."""
    if isinstance(value, list):
        return [*value[:-1], _huge(value[-1])]
    return 10**12


def test_every_size_key_is_refused_with_an_estimate(schema, quick):
    """Each integer key is either a size that an estimate covers (10^12 of it is refused at -n
    naming the key, with the memory or time it would take) or listed with why it needs none."""
    keys = _integer_keys(schema)
    assert len(keys) > 60
    unknown = set(NOT_SIZES) - set(keys)
    assert not unknown, f"NOT_SIZES names keys the schema does not have: {unknown}"
    base = _set(_set(copy.deepcopy(quick), ["lesde", "geomnist_size", "enabled"], True),
                ["lesde", "cifar", "enabled"], True)
    base["data"]["cifar10_download"] = True
    for key in sorted(set(keys) - set(NOT_SIZES)):
        path = key.split(".")
        node = base
        for p in path:
            node = node[p]
        config = _set(copy.deepcopy(base), path, _huge(node))
        with pytest.raises(ConfigError) as err:
            check_filled_config(_filled(config), schema)
        lines = [line for line in str(err.value).splitlines() if key in line.split(": ")[0]]
        assert any("GiB of memory" in line or "would run for about" in line for line in lines), (
            key, str(err.value)[:800])


def test_runaway_sizes_from_the_issue_are_refused(schema):
    cases = {("pde", "iterations"): "pde.iterations, pde.image.size, pde.kernel.size: the error",
             ("heat", "sweep", "steps"): "would run for about",
             ("instab", "fig2", "saves"): "would run for about"}
    for path, message in cases.items():
        config = _set(yaml.safe_load((ROOT / "tests/config.yaml").read_text()), list(path), 1.0e12)
        with pytest.raises(ConfigError, match=re.escape(message)):
            check_filled_config(_filled(normalize(config, schema)), schema)
    config = _set({}, ["lesde", "analysis", "sim_trials"], 10**10)
    with pytest.raises(ConfigError, match=r"lesde.analysis.sim_trials.*LE-ODE simulation.*\d+\.\d "
                                          r"GiB of memory"):
        check_filled_config(_filled(config), schema)


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
