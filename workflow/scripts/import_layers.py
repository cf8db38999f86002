"""The layers of the library's import graph and the imports that run against them.

  .venv/bin/python workflow/scripts/import_layers.py [--list]

Nodes are the modules of ``workflow/traindyn`` (every import statement, also those inside
functions, as ``traindyn.codedeps`` reads them). A module's layer is one more than the highest
layer it imports (modules that import each other share one). Printed:

- ``layers``: the number of layers (the longest chain of imports);
- ``upward``: imports from a lower tier into a higher one. The tiers: the shared library (every
  module outside the family packages and the pipeline tier) < the family packages (``lesde``,
  ``instab``, ``pde``, ``studies``) < the pipeline tier (the family registry and the checks that
  loop over every family, ``PIPELINE``);
- ``cycles``: imports inside a group of modules that import each other.

A deprecated alias (a module with ``MOVED_TO``, serving a moved module from its old path) is no
upward import of the module it serves.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's library

from traindyn import codedeps  # noqa: E402

FAMILY_PACKAGES = ("lesde", "instab", "pde", "studies")
# The registry and the code that composes every family (config checks, sizes, tiers, data
# checks, ``make verify``): above the families, which they import.
PIPELINE = ("traindyn.families", "traindyn.config_checks", "traindyn.sizes", "traindyn.scales",
            "traindyn.data.checks", "traindyn.verify", "traindyn.compare",
            "traindyn.claims_report")


def modules() -> list[str]:
    names = []
    for path in sorted(codedeps.ROOT.rglob("*.py")):
        rel = path.relative_to(codedeps.ROOT).with_suffix("")
        parts = [codedeps.PACKAGE, *rel.parts]
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def graph() -> dict[str, set[str]]:
    """Each module and the library modules it imports (itself left out)."""
    return {m: codedeps.imports(m) - {m} for m in modules()}


def family_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FAMILY_PACKAGES else None


def tier(module: str) -> int:
    """0: shared library, 1: a family package, 2: the pipeline tier."""
    return 2 if module in PIPELINE else 1 if family_of(module) else 0


def moved_to(module: str) -> str | None:
    """A deprecated alias module's ``MOVED_TO = "traindyn...."`` (None for other modules)."""
    path = codedeps.module_file(module)
    for node in ast.parse(path.read_text()).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "MOVED_TO"):
            return ast.literal_eval(node.value)
    return None


def upward_imports(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports into a higher tier; a deprecated alias importing the module it now serves (and
    that module's packages) is not one: it keeps an old path working, no code builds on it."""
    def alias_edge(m: str, d: str) -> bool:
        target = moved_to(m)
        return target is not None and (target == d or target.startswith(d + "."))
    return sorted((m, d) for m, deps in g.items() for d in deps
                  if tier(d) > tier(m) and not alias_edge(m, d))


def _components(g: dict[str, set[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan), as a module -> component id map."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w not in comp and w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            cid = len(set(comp.values()))
            while True:
                w = stack.pop()
                comp[w] = cid
                if w == v:
                    break

    for v in sorted(g):
        if v not in index:
            visit(v)
    return comp


def layers(g: dict[str, set[str]]) -> dict[str, int]:
    """Layer of each module: 1 + the highest layer it imports (a cycle is one layer)."""
    comp = _components(g)
    members: dict[int, set[str]] = {}
    for m, c in comp.items():
        members.setdefault(c, set()).add(m)
    level: dict[int, int] = {}

    def of(c: int) -> int:
        if c not in level:
            below = {comp[d] for m in members[c] for d in g[m]} - {c}
            level[c] = 1 + max((of(b) for b in below), default=0)
        return level[c]

    return {m: of(c) for m, c in comp.items()}


def cycle_imports(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    comp = _components(g)
    return sorted((m, d) for m, deps in g.items() for d in deps if comp[m] == comp[d])


def summary() -> dict[str, int]:
    g = graph()
    return {"modules": len(g), "layers": max(layers(g).values()),
            "upward": len(upward_imports(g)), "cycles": len(cycle_imports(g))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="also list the offending imports")
    args = ap.parse_args()
    print(" ".join(f"{k}={v}" for k, v in summary().items()))
    if args.list:
        g = graph()
        for kind, pairs in (("upward", upward_imports(g)), ("cycle", cycle_imports(g))):
            for m, d in pairs:
                print(f"{kind}: {m} -> {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
