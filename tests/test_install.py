"""`make setup`'s torch build variants, checked as dry runs (`make -n`): this machine cannot reach
PyTorch's wheel index, so the exact pip commands are what can be checked here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def _setup_commands(venv, *args: str) -> list[str]:
    proc = subprocess.run([shutil.which("make"), "-n", "-B", "-C", str(ROOT), "setup",
                           f"VENV={venv}", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if "pip install" in line]


@pytest.mark.parametrize("variant", ["cpu", "cu126"])
def test_a_variant_installs_the_pinned_versions_of_that_build(tmp_path, variant):
    torch_line, reqs, lib = _setup_commands(tmp_path / "venv", f"TORCH={variant}")
    assert torch_line.endswith(f"torch===2.14.1+{variant} torchvision===0.29.1+{variant} "
                               f"--index-url https://download.pytorch.org/whl/{variant}")
    assert "-r envs/requirements.txt" in reqs and "--no-deps -e ." in lib


def test_default_and_remembered_variants_and_a_mirror(tmp_path):
    venv = tmp_path / "venv"
    torch_line = _setup_commands(venv)[0]
    assert torch_line.rstrip().endswith("torch===2.14.1 torchvision===0.29.1")  # as pinned
    venv.mkdir()
    (venv / "torch-variant").write_text("cpu\n")  # an environment set up with TORCH=cpu
    assert _setup_commands(venv)[0].endswith("--index-url https://download.pytorch.org/whl/cpu")
    mirror = _setup_commands(venv, "TORCH=cu126", "TORCH_INDEX=https://mirror.example/cu126")[0]
    assert mirror.endswith("torch===2.14.1+cu126 torchvision===0.29.1+cu126 "
                           "--index-url https://mirror.example/cu126")


def test_changing_the_build_reinstalls_and_the_choice_is_remembered(tmp_path):
    """Real make runs with pip replaced by `:` (the commands are echoed, nothing installed)."""
    def setup(*args: str) -> str:
        proc = subprocess.run([shutil.which("make"), "-C", str(ROOT), "setup",
                               f"VENV={tmp_path / 'venv'}", f"BIN={Path(sys.executable).parent}",
                               "PIP=:", *args], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert ": torch===2.14.1 torchvision===0.29.1" in setup()
    assert "torch===" not in setup()  # nothing changed: nothing reinstalled
    assert ": torch===2.14.1+cpu" in setup("TORCH=cpu")
    assert (tmp_path / "venv/torch-variant").read_text() == "cpu\n"
    assert "torch===" not in setup()  # the cpu build stays without repeating TORCH=cpu


def test_an_environment_without_pip_is_recreated_keeping_the_torch_choice(tmp_path):
    """Ctrl-C during `python -m venv`'s pip bootstrap leaves a python without pip; every later
    `make setup` failed at once with `No module named pip`. The venv step recreates it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "torch-variant").write_text("cpu\n")
    proc = subprocess.run([shutil.which("make"), "-C", str(ROOT), "--no-print-directory", "venv",
                           f"VENV={venv}", "TORCH=cpu"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"traindyn: {venv}/bin/python cannot run pip (an interrupted set-up?): recreating " \
           f"{venv}" in proc.stderr
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "--version"], check=True,
                   capture_output=True)
    assert (venv / "torch-variant").read_text() == "cpu\n"
    # a working environment is left alone
    again = subprocess.run([shutil.which("make"), "-C", str(ROOT), "--no-print-directory", "venv",
                            f"VENV={venv}"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout + again.stderr == ""


def test_setup_removes_the_old_snakemake_start_up_hook(tmp_path):
    """Environments set up when traindyn patched Snakemake at start-up hold a .pth file."""
    site = tmp_path / "venv/lib/python3.11/site-packages"
    site.mkdir(parents=True)
    (site / "traindyn_snakemake_hooks.pth").write_text("import os\n")
    (site / "other.pth").write_text("/somewhere\n")
    proc = subprocess.run([shutil.which("make"), "-C", str(ROOT), "unhook",
                           f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in site.iterdir()) == ["other.pth"]


def test_nothing_patches_snakemake():
    """No start-up hook, no module surgery: the Snakefile and the step runner import their own
    checkout's library by path order (tests/test_configfile.py runs two checkouts)."""
    for path in ("Makefile", "Snakefile", "workflow/scripts/step.py"):
        text = (ROOT / path).read_text()
        assert "sys.modules" not in text and "_load_configfile" not in text, path
    assert not (ROOT / "workflow/traindyn/snakemake_hooks.py").exists()
