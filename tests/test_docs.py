"""The repository explains itself: nothing points to notes outside it, and the docs it links exist."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT


def tracked_text_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    keep = (".py", ".md", ".rst", ".yaml", ".smk", ".txt", ".toml", ".cfg")
    names = [n for n in out.split() if n.endswith(keep) or n in ("Snakefile", "Makefile")]
    return [n for n in names if n != "tests/test_docs.py"]


def test_no_reference_to_notes_outside_the_repository():
    files = tracked_text_files()
    assert len(files) > 50
    offenders = []
    for name in files:
        text = (ROOT / name).read_text(errors="replace")
        for pattern in ("../shared", "notes §", "notes Q", "DESIGN.md"):
            if pattern in text:
                offenders.append(f"{name}: {pattern}")
    assert not offenders, offenders


def test_docs_the_readme_links_exist():
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"`(docs/[\w./-]+\.md)`", readme))
    assert {"docs/claims.md", "docs/deviations.md", "docs/reproducibility.md",
            "docs/cluster.md"} <= linked
    for path in linked:
        assert (ROOT / path).is_file(), path
