"""A rule's code inputs are the import closure of the module it runs, computed from the import
graph, so editing any module reruns exactly the steps that import it.

The expected closures here come from an independent implementation: the standard library's
``modulefinder`` (it scans each module's bytecode for imports), restricted to the package."""

from __future__ import annotations

import importlib
import json
import modulefinder
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SNAKEMAKE

LIB = ROOT / "workflow" / "traindyn"


class _PackageFinder(modulefinder.ModuleFinder):
    """Follows imports inside ``traindyn`` only (numpy, torch, ... are not scanned)."""

    def find_module(self, name, path, parent=None):
        if parent is None and path is None and name != "traindyn":
            raise ImportError(name)  # a top-level module outside the package
        if parent is not None and parent.__name__.split(".")[0] != "traindyn":
            raise ImportError(name)
        return super().find_module(name, path, parent)


def reference_closure(module: str) -> set[str]:
    finder = _PackageFinder(path=[str(ROOT / "workflow")])
    finder.import_hook(f"traindyn.{module}")
    found = {name: str(Path(m.__file__).resolve()) for name, m in finder.modules.items()
             if name.split(".")[0] == "traindyn" and m.__file__}
    # native sources, as the imported module names them (codedeps reads them from the source)
    native = {str(Path(path).parent / src) for name, path in found.items()
              for src in getattr(importlib.import_module(name), "NATIVE_SOURCES", ())}
    return set(found.values()) | native


_RUNTIME = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
import matplotlib, numpy, pyarrow, scipy, torch  # loaded once; each module is imported in a fork
for module in sys.argv[2:]:
    read, write = os.pipe()
    if os.fork() == 0:
        __import__("traindyn." + module)
        files = [m.__file__ for n, m in list(sys.modules.items())
                 if n.split(".")[0] == "traindyn" and getattr(m, "__file__", None)]
        os.write(write, json.dumps([module, files]).encode())
        os._exit(0)
    os.close(write)
    print(os.read(read, 1 << 20).decode())
    os.wait()
"""


def imported_at_runtime(modules: set[str]) -> dict[str, set[str]]:
    """module -> files of the package a fresh interpreter has loaded after importing it."""
    out = subprocess.run([sys.executable, "-c", _RUNTIME, str(ROOT / "workflow"), *sorted(modules)],
                         capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    return {m: {str(Path(p).resolve()) for p in files} for m, files in rows}


def step_rules(workdir: Path) -> list:
    """The workflow's rules that run a library step (Snakemake's rule objects)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                          snakefile=ROOT / "Snakefile", workdir=workdir)._workflow
        return [r for r in wf.rules if "step" in r.params.keys()]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> list:
    work = tmp_path_factory.mktemp("rules")
    shutil.copy(ROOT / "tests" / "config.yaml", work / "config.yaml")
    cwd = os.getcwd()
    try:
        return step_rules(work)
    finally:
        os.chdir(cwd)  # the API changes into the working directory


@pytest.fixture(scope="module")
def rules(loaded) -> dict[str, tuple[str, set[str]]]:
    """rule -> (its step ``module:function``, its code inputs)."""
    return {r.name: (r.params.step, {str(Path(p).resolve()) for p in r.input.code})
            for r in loaded}


def test_no_jobs_thread_count_comes_from_cores(loaded):
    """Snakemake lowers a rule's threads to --cores; a job whose bits depend on its thread count
    (BLAS, FFT, oneDNN convolutions, the LE-SDE torch path) must compute with a fixed count, so
    every rule claiming more than one thread passes it as params.threads (step.py sets exactly
    that many). One-thread rules get one at any --cores."""
    cores = {r.name: r.resources["_cores"]._value for r in loaded}
    multi = {r.name: (cores[r.name], dict(r.params.items()).get("threads"))
             for r in loaded if cores[r.name] != 1}
    assert {"lesde_train", "pde_linear", "instab_table1_run"} <= set(multi)
    # a count per job (a study's own key) is one function for both, evaluated per job
    assert {name: t for name, t in multi.items() if t[0] != t[1]} == {}


def test_every_step_rule_has_derived_code_inputs(rules):
    assert len(rules) >= 25
    loaded = imported_at_runtime({step.split(":")[0] for step, _ in rules.values()})
    for name, (step, code) in rules.items():
        module = step.split(":")[0]
        expected = reference_closure(module)
        assert code == expected, (name, sorted(code ^ expected))
        # everything an import really loads is tracked (function-level imports may add more)
        assert loaded[module] <= code, name


def test_known_deep_dependencies_are_tracked(rules):
    """The two drifts reported against the hand-kept lists."""
    assert str(LIB / "plots" / "style.py") in rules["si_table1_accuracy"][1]
    for rule in ("instab_table1_run", "instab_fig2_run"):
        assert str(LIB / "divergence.py") in rules[rule][1]


def _fake_complete_run(repo: Path, work: Path) -> None:
    """Every output of the tiny config as an empty file newer than the code: a finished run as
    far as Snakemake's mtime rule is concerned, without running anything."""
    proc = subprocess.run([SNAKEMAKE, "-s", str(repo / "Snakefile"), "--directory", str(work),
                           "--summary"], capture_output=True, text=True, check=True)
    stamp = time.time()
    for line in proc.stdout.splitlines()[1:]:
        out = work / line.split("\t")[0]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.touch()
        os.utime(out, (stamp, stamp))


def _planned(repo: Path, work: Path) -> set[str]:
    proc = subprocess.run([SNAKEMAKE, "-s", str(repo / "Snakefile"), "--directory", str(work),
                           "-n", "--quiet", "rules"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.splitlines()]
    start = next((i for i, r in enumerate(rows) if r[:2] == ["Job", "stats:"]), None)
    if start is None:
        return set()
    return {r[0] for r in rows[start + 3:] if len(r) == 2 and r[1].isdigit() and r[0] != "total"}


@pytest.mark.workflow
@pytest.mark.parametrize("module", ["plots/style.py", "divergence.py", "seeds.py"])
def test_editing_a_module_plans_exactly_the_rules_that_import_it(rules, tmp_path, module):
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "Snakefile", repo / "Snakefile")
    shutil.copytree(ROOT / "envs", repo / "envs")
    shutil.copytree(ROOT / "workflow", repo / "workflow",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "tests" / "config.yaml", work / "config.yaml")
    old = time.time() - 1000
    for src in (repo / "workflow").rglob("*"):
        os.utime(src, (old, old))
    _fake_complete_run(repo, work)
    assert _planned(repo, work) == set()

    edited = repo / "workflow" / "traindyn" / module
    edited.write_text(edited.read_text() + "\n# edited\n")
    # (the study rules have no jobs: the tiny config defines no study)
    importers = {name for name, (_, code) in rules.items() if str(LIB / module) in code
                 and not name.startswith("study_")}
    assert importers  # the module is used by some step
    planned = _planned(repo, work)
    # the importers, whatever consumes their outputs (claims, figures, the manifest), and `all`
    assert importers <= planned
    downstream = planned - importers - {"all", "claims", "manifest"}
    assert all(name.startswith(("si_", "lesde_")) and name not in importers
               for name in downstream), downstream
    untouched = {name for name, (_, code) in rules.items() if str(LIB / module) not in code}
    producers = {"geomnist", "heat_simulate", "pde_linear", "pde_stability_table",
                 "pde_nonlinear", "pde_amplification", "lesde_train", "instab_table1_run",
                 "instab_fig2_run"}
    assert not (planned & untouched & producers), planned & untouched & producers
