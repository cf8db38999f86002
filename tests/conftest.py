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


_SESSION_START: list[tuple[float, str]] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """The start time and the stamp of the code as the session found it (edits during a run
    must not relabel it)."""
    import time

    sys.path.insert(0, str(ROOT / "workflow"))
    from traindyn.run_record import stamp

    _SESSION_START.append((time.time(), stamp()))


def _whole_suite(config: pytest.Config) -> bool:
    """The default run of every test (what `make test` runs), not a selection."""
    args = [Path(a).resolve() for a in config.args]
    return (all(a in (ROOT, ROOT / "tests") for a in args) and not config.option.keyword
            and config.option.markexpr == "not slow" and not config.option.lf
            and not getattr(config.option, "deselect", None))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """After a whole-suite run: results/test_session.json (counts, seconds, commit and machine),
    which `make budget-table` quotes in docs/targets.md."""
    import json
    import time

    if not _SESSION_START or not _whole_suite(config):
        return
    start, stamp = _SESSION_START[0]
    stats = terminalreporter.stats
    record = {"passed": len(stats.get("passed", [])), "failed": len(stats.get("failed", [])),
              "skipped": len(stats.get("skipped", [])), "errors": len(stats.get("error", [])),
              "seconds": round(time.time() - start, 1), "stamp": stamp}
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "test_session.json").write_text(json.dumps(record, indent=1) + "\n")
