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


TOPICS = ("install", "configuration", "cluster", "library", "studies", "logs", "benchmarks",
          "reference")  # one docs page per topic, all reachable from the README's index


def linked_docs(page: str) -> set[str]:
    """Repository paths of the docs/*.md pages a page names (in code or as a link target)."""
    text = (ROOT / page).read_text()
    base = (ROOT / page).parent
    named = set(re.findall(r"`(docs/[\w./-]+\.md)`", text))
    for target in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", text):
        named.add(str((base / target).resolve().relative_to(ROOT)))
    return named


def test_the_readme_is_a_front_page_with_an_index_of_the_docs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    index = readme[readme.index("## Documentation"):]
    for topic in TOPICS:
        assert f"](docs/{topic}.md)" in index, topic
    # every page under docs/ is in the index
    assert {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} <= linked_docs("README.md")


def test_the_docs_the_readme_and_docs_link_exist():
    pages = ["README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
    for page in pages:
        for path in linked_docs(page):
            assert (ROOT / path).is_file(), f"{page} links {path}"
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "README.md").read_text()):
        assert (ROOT / image).is_file(), image
