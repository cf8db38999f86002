"""The Python examples of the README and the docs run as written (the public API a researcher
would call), and the commands the README gives exist."""

from __future__ import annotations

import os
import re

import pytest
import torch

from conftest import ROOT

PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
BLOCKS = [(page, i, block) for page in PAGES
          for i, block in enumerate(re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(),
                                               flags=re.S))]


def test_the_readme_and_the_library_page_have_examples():
    pages = {page for page, _, _ in BLOCKS}
    assert {"README.md", "docs/library.md"} <= pages
    assert sum(page == "docs/library.md" for page, _, _ in BLOCKS) >= 5


@pytest.mark.parametrize("page, index, block", BLOCKS, ids=[f"{p}#{i + 1}" for p, i, _ in BLOCKS])
def test_example_runs_and_leaves_torch_as_it_was(page, index, block, tmp_path):
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.backends.cuda.matmul.allow_tf32, torch.get_default_dtype())
    cwd = os.getcwd()
    os.chdir(tmp_path)  # examples may write files
    try:
        exec(compile(block, f"{page} example {index + 1}", "exec"), {})
    finally:
        os.chdir(cwd)
    after = (torch.are_deterministic_algorithms_enabled(),
             torch.backends.cuda.matmul.allow_tf32, torch.get_default_dtype())
    assert after == before


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {t for line in re.findall(r"^([\w./ -]+):(?!=)", text, flags=re.M) for t in line.split()}


def make_commands(text: str) -> set[str]:
    """Targets of the `make X` commands a page gives: inline code and shell blocks."""
    shell = "\n".join(re.findall(r"```(?:bash|sh)?\n(.*?)```", text, flags=re.S))
    return set(re.findall(r"`make ([a-z][\w./-]*)", text)
               + re.findall(r"^make ([a-z][\w./-]*)", shell, flags=re.M))


def test_the_make_targets_the_readme_and_docs_name_exist():
    targets = make_targets()
    named = {m for page in PAGES for m in make_commands((ROOT / page).read_text())}
    assert {"test", "setup", "reference", "gpu-smoke", "bench"} <= named
    assert named <= targets, sorted(named - targets)


def test_the_files_the_readme_commands_read_exist():
    readme = (ROOT / "README.md").read_text()
    for path in re.findall(r"(?:--configfile|cp -r) ((?:workflow|config)[\w./-]+)", readme):
        assert (ROOT / path).exists(), path
