"""Shared fixtures: paths of the repository, and a Snakemake runner on a copy of tests/config.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the pipeline's Snakefile in ``workdir`` (which holds its config.yaml)."""
    cmd = [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def tiny_workdir(tmp_path: Path) -> Path:
    """A fresh working directory holding the tiny test config."""
    shutil.copy(ROOT / "tests" / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One complete end-to-end run of the tiny config, shared by the tests that inspect it."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    shutil.copy(ROOT / "tests" / "config.yaml", workdir / "config.yaml")
    proc = snakemake(workdir, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-4000:]
    (workdir / "snakemake.out").write_text(proc.stdout + proc.stderr)  # the run's console
    return workdir
