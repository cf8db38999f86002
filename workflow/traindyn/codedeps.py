"""The library source files a pipeline step depends on, derived from the import graph.

A rule's code inputs are the import closure of the module it runs (inside the ``traindyn``
package), so editing any module a step imports, however deep, reruns exactly the steps that import
it. The closure is read from the source (every ``import`` statement, also those inside functions),
never by importing, and it is also what the resumable jobs hash into their run fingerprint.
A module that compiles native code names its source files in a module-level tuple
``NATIVE_SOURCES`` (paths relative to the module); they belong to its closure too.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "traindyn"
ROOT = Path(__file__).resolve().parent  # the package directory


def module_file(name: str) -> Path | None:
    """Source file of a ``traindyn`` module or package (None if there is none)."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _is_package(name: str) -> bool:
    path = module_file(name)
    return path is not None and path.name == "__init__.py"


def imports(name: str) -> set[str]:
    """``traindyn`` modules named by the import statements of one module."""
    path = module_file(name)
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            found.add(target)
            # ``from pkg import mod`` imports a submodule when ``mod`` is one
            found.update(f"{target}.{a.name}" for a in node.names if module_file(f"{target}.{a.name}"))
    return {m for m in found if module_file(m) is not None}


def _with_parents(name: str) -> set[str]:
    """A module and the packages above it (their ``__init__`` runs when it is imported)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


@lru_cache(maxsize=None)
def closure(module: str) -> tuple[Path, ...]:
    """Sorted source files of ``traindyn.<module>`` and everything it imports from the package."""
    start = module if module.startswith(PACKAGE + ".") or module == PACKAGE else f"{PACKAGE}.{module}"
    if module_file(start) is None:
        raise ModuleNotFoundError(f"no module {start} under {ROOT}")
    seen: set[str] = set()
    todo = sorted(_with_parents(start))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in imports(name):
            todo.extend(_with_parents(dep) - seen)
    files = {module_file(m) for m in seen}
    return tuple(sorted(files | {src for f in files for src in native_sources(f)}))


def native_sources(path: Path) -> list[Path]:
    """The files named by a module's ``NATIVE_SOURCES = ("a.cpp", ...)`` (read, not imported)."""
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "NATIVE_SOURCES"):
            srcs = [path.parent / ast.literal_eval(e) for e in node.value.elts]
            missing = [str(s) for s in srcs if not s.is_file()]
            if missing:
                raise FileNotFoundError(f"{path} names missing native sources: {missing}")
            return srcs
    return []


def step_code(step: str) -> list[str]:
    """Code inputs of a rule running ``module:function`` (absolute paths, sorted)."""
    module = step.split(":")[0]
    return [str(p) for p in closure(module)]


def code_version(module: str) -> str:
    """Content hash of a module's import closure (what the code of a run is)."""
    h = hashlib.sha256()
    for path in closure(module):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
