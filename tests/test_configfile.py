"""A config file is data: the strict reader (traindyn.configfile) refuses YTE templates, duplicate
keys, repeated sections, aliases and oversized files, naming the file, line(s) and key path; and
the Snakefile builds `config` from it alone, so a dry run executes nothing a config file says."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, SNAKEMAKE, snakemake
from traindyn import configfile
from traindyn.config import ConfigError


def _load(tmp_path, text: str, name: str = "c.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return configfile.load(path)


@pytest.mark.parametrize("text, message", [
    ("lesde:\n  geomnist_noise:\n    lr: 0.01\n    iterations: 5\n    lr: 0.5\n",
     r"c\.yaml, line 5: key lesde\.geomnist_noise\.lr is written twice \(lines 3 and 5\)"),
    ("instab:\n  table1: {seeds: [1]}\nheat:\n  max_steps: 9\ninstab:\n  fig2: {seed: 1}\n",
     r"line 5: top-level section `instab:` appears twice \(lines 1 and 5\).*drop every key"),
    ("studies:\n  - {name: a, name: b}\n",
     r"key studies\[0\]\.name is written twice \(lines 2 and 2\)"),
    ("heat:\n  panels: &p [0.4]\n", r"line 2: YAML anchors and aliases"),
    ("a: [1]\nheat:\n  panels: *a\n", r"line 3: YAML anchors and aliases"),
    ("base: {x: 1}\nheat:\n  <<: {max_steps: 3}\n", r"line 3: merge key `<<`"),
    ("__use_yte__: true\nheat:\n  max_steps: ?1+1\n", r"line 1: `__use_yte__` is refused"),
    ("heat:\n  __use_yte__: true\n", r"line 2: `__use_yte__` is refused"),
    ("heat: !!python/object/apply:os.system [echo]\n", r"c\.yaml, line 1, column 7: not valid"),
    ("heat: [1\n", r"c\.yaml, line 2, column 1: not valid YAML"),
    ("", r"c\.yaml is empty"),
    ("- 1\n", r"must hold a mapping of keys .* not a list"),
    ("? [a, b]\n: 1\n", r"line 1: a key under <top level> is not a plain name"),
])
def test_refusals_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


def test_equal_keys_written_differently_are_duplicates(tmp_path):
    # 1 and 0x1 are the same integer key once read: the second would replace the first
    with pytest.raises(ConfigError, match=r"key heat\[1\] is written twice \(lines 2 and 3\)"):
        _load(tmp_path, "heat:\n  1: a\n  0x1: b\n")


def test_an_alias_bomb_and_a_huge_file_are_refused_in_well_under_a_second(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    big = "big:\n" + "".join(f"  k{i}: {i}\n" for i in range(120_000))  # > 1 MiB
    deep = "a: " + "[" * 200 + "]" * 200 + "\n"
    for text, message in ((("\n".join(lines) + "\nunknown: *a9\n"), "anchors and aliases"),
                          (big, r"is 1,\d{3},\d{3} bytes: config files are limited to 1,048,576"),
                          (deep, "nested more than 32 levels deep")):
        start = time.perf_counter()
        with pytest.raises(ConfigError, match=message):
            _load(tmp_path, text)
        assert time.perf_counter() - start < 1.0


def test_plain_data_loads_and_files_merge_in_order(tmp_path):
    (tmp_path / "a.yaml").write_text("heat: {max_steps: 5, panels: [0.4]}\nseed: 1\n")
    (tmp_path / "b.yaml").write_text("heat: {max_steps: 7}\n")
    config = configfile.build_config(str(tmp_path / "a.yaml"), [tmp_path / "b.yaml"],
                                     {"seed": 3, "heat": {"panels": "[0.5]"}})
    # mappings merge key by key; --config text is read as YAML (nested values too)
    assert config == {"heat": {"max_steps": 7, "panels": [0.5]}, "seed": 3}
    # a missing default is skipped when other files are given, as Snakemake's directive does
    assert configfile.build_config(str(tmp_path / "none.yaml"), [tmp_path / "b.yaml"], {}) == {
        "heat": {"max_steps": 7}}
    with pytest.raises(ConfigError, match="no config file"):
        configfile.build_config(str(tmp_path / "none.yaml"), [], {})


def test_the_shipped_configs_pass_the_strict_reader():
    for path in [ROOT / "config.yaml", ROOT / "tests/config.yaml",
                 *sorted((ROOT / "workflow/configs").glob("*.yaml"))]:
        assert configfile.load(path), path


# ------------------------------------------------------------ the Snakefile reads files itself

CANARY_EXPR = "?__import__('pathlib').Path('{canary}').touch() or 1000"


@pytest.mark.workflow
def test_yte_in_config_yaml_is_refused_at_dry_run_and_runs_nothing(tiny_workdir):
    canary = tiny_workdir / "canary"
    text = (tiny_workdir / "config.yaml").read_text().replace(
        "heat:\n", f"heat:\n  dt_unused: {CANARY_EXPR.format(canary=canary)}\n", 1)
    (tiny_workdir / "config.yaml").write_text("__use_yte__: true\n" + text)
    proc = snakemake(tiny_workdir, "-n")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "config file config.yaml, line 1: `__use_yte__` is refused" \
        in out, out[-3000:]
    assert not canary.exists()


@pytest.mark.workflow
def test_a_configfile_is_rechecked_by_the_strict_reader(tiny_workdir):
    """Snakemake parses a --configfile itself before the Snakefile (running a YTE template it
    holds: docs/config_files.md); the Snakefile reads each one again and refuses the run."""
    (tiny_workdir / "yte.yaml").write_text("__use_yte__: true\nheat:\n  max_steps: ?1000\n")
    (tiny_workdir / "dup.yaml").write_text("heat:\n  max_steps: 10\n  max_steps: 20\n")
    for name, message in (("yte.yaml", "yte.yaml, line 1: `__use_yte__` is refused"),
                          ("dup.yaml", "dup.yaml, line 3: key heat.max_steps is written twice "
                                       "(lines 2 and 3)")):
        proc = snakemake(tiny_workdir, "-n", "--configfile", str(tiny_workdir / name))
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and message in out and "Job stats" not in out, out[-3000:]


@pytest.mark.workflow
def test_config_yaml_errors_name_the_file_and_line(tiny_workdir):
    for text, message in (("", "config file config.yaml is empty"),
                          ("heat:\n  panels: [0.4\n",
                           "config file config.yaml, line 3, column 1: not valid YAML")):
        (tiny_workdir / "config.yaml").write_text(text)
        proc = snakemake(tiny_workdir, "-n")
        # (Snakemake prints a Snakefile's error to stdout)
        assert proc.returncode != 0 and message in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_a_second_checkout_sharing_the_environment_plans_and_runs_its_own_code(tmp_path):
    """The environment's editable install points at this checkout; a copy of the repository run
    with the same snakemake takes its code inputs from the copy and its jobs import the copy."""
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(ROOT / "Snakefile", copy)
    shutil.copytree(ROOT / "envs", copy / "envs")
    shutil.copytree(ROOT / "workflow", copy / "workflow",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    marks = tmp_path / "imported-from"
    compare = copy / "workflow/traindyn/compare.py"
    compare.write_text(compare.read_text() + f"\nwith open({str(marks)!r}, 'a') as _f:\n"
                       "    _f.write(__file__ + '\\n')\n")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "tests/config.yaml", work / "config.yaml")
    cmd = ["-s", str(copy / "Snakefile"), "--directory", str(work)]
    dry = subprocess.run([SNAKEMAKE, *cmd, "-n", "--forceall"], capture_output=True, text=True,
                         timeout=300)
    assert dry.returncode == 0, dry.stderr[-3000:]
    code = {f for line in dry.stdout.splitlines() if line.strip().startswith("input:")
            for f in line.split(":", 1)[1].replace(",", " ").split() if f.endswith(".py")}
    assert code and all(f.startswith(str(copy)) for f in code), sorted(code)[:5]
    run = subprocess.run([SNAKEMAKE, *cmd, "--cores", "1", "figures/run_config.json"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert {str(Path(f).resolve()) for f in marks.read_text().split()} == {str(compare)}
