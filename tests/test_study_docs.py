"""The study commands of the README and docs/studies.md work as printed: their config blocks
are saved as the files the text names and each command runs as written (with -n: the checks,
sizes and the plan, before any job)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest

from conftest import ROOT, SNAKEMAKE
from lesde_fixtures import cifar_archive
from test_studies import MODEL


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _section(path, title: str) -> str:
    text = (ROOT / path).read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end > 0 else None]


def _run(command: str, workdir) -> subprocess.CompletedProcess:
    """A printed command, run in ``workdir`` as a user would from the checkout (our
    environment's snakemake; this checkout's Snakefile), as a dry run."""
    args = shlex.split(command)
    assert args[0] == ".venv/bin/snakemake", command
    return subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), *args[1:], "-n"],
                          cwd=workdir, capture_output=True, text=True, timeout=600)


def _planned(proc) -> dict[str, int]:
    table = re.search(r"Job stats:\n(.*?)\n\n", proc.stdout, flags=re.S)
    assert table, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [line.split() for line in table.group(1).splitlines()[2:]]
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[0] != "total"}


@pytest.mark.workflow
def test_the_readme_study_runs_as_printed(tmp_path):
    section = _section("README.md", "## Your own model")
    (config,), (command,) = _blocks(section, "yaml"), _blocks(section, "bash")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    (tmp_path / "my_study.yaml").write_text(config)  # the file the text names
    proc = _run(command.strip(), tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    plan = _planned(proc)
    assert plan["study_copies"] == 3 and plan["study_trials"] == 2, plan
    assert not any(rule.startswith(("lesde_", "instab_", "si_")) for rule in plan), plan


@pytest.mark.workflow
def test_the_studies_page_commands_run_as_printed(tmp_path):
    text = (ROOT / "docs" / "studies.md").read_text()
    config = _blocks(text, "yaml")[0]
    root = cifar_archive(tmp_path / "cifar")
    config = config.replace("/data/cifar", str(root)).replace("train_per_class: 500",
                                                               "train_per_class: 4")
    config = config.replace("test_per_class: 100", "test_per_class: 2")
    (tmp_path / "mine.yaml").write_text(config)
    (tmp_path / "my_model.py").write_text(MODEL.replace("channels=1", "channels=3"))
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    commands = [c.strip() for c in _blocks(_section("docs/studies.md", "# Studies"), "bash")]
    assert len(commands) == 2
    every, one = (_run(c, tmp_path) for c in commands)
    for proc in (every, one):
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _planned(every)["study_copies"] == 3
    plan = _planned(one)
    assert "study_copies" not in plan and plan["study_lesde"] == 1, plan
