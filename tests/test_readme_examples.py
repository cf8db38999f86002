"""The README's Python examples run as written (the public API a researcher would call)."""

from __future__ import annotations

import os
import re

import pytest
import torch

from conftest import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 1


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs_and_leaves_torch_as_it_was(index, tmp_path):
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.backends.cuda.matmul.allow_tf32, torch.get_default_dtype())
    cwd = os.getcwd()
    os.chdir(tmp_path)  # examples may write files
    try:
        exec(compile(BLOCKS[index], f"README.md example {index + 1}", "exec"), {})
    finally:
        os.chdir(cwd)
    after = (torch.are_deterministic_algorithms_enabled(),
             torch.backends.cuda.matmul.allow_tf32, torch.get_default_dtype())
    assert after == before
