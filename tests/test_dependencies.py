"""pyproject.toml declares every distribution the library imports, and the repository carries its
licence and citation file."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

import yaml

from conftest import ROOT


def _imported_modules() -> set[str]:
    """Top-level modules imported anywhere in workflow/traindyn (also inside functions)."""
    names = set()
    for path in (ROOT / "workflow/traindyn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"traindyn"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pyproject_declares_every_imported_distribution():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_normal(re.split(r"[<>=!~ \[;]", d)[0]) for d in project["dependencies"]}
    owners = packages_distributions()
    modules = _imported_modules()
    assert {"torch", "numpy", "yaml"} <= modules
    missing = {m: owners.get(m) for m in modules
               if not {_normal(d) for d in owners.get(m, [m])} & declared}
    assert not missing, f"imported but not in pyproject.toml dependencies: {missing}"


def test_licence_and_citation_of_both_papers_and_the_software():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert cff["cff-version"] and cff["type"] == "software" and cff["version"] == version
    papers = {r["title"].strip(): [a["family-names"] for a in r["authors"]]
              for r in cff["references"]}
    assert papers == {
        "Imitating Deep Learning Dynamics via Locally Elastic Stochastic Differential "
        "Equations": ["Zhang", "Wang", "Su"],
        "Surprising Instabilities in Training Deep Networks and a Theoretical Analysis":
            ["Sun", "Lao", "Sundaramoorthi", "Yezzi"]}
