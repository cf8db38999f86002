"""The library is layered: the shared modules import no family package, a family imports no
pipeline-tier module, and each family's figure modules live in its package. Computed from the
import graph (every import statement, as the code inputs read it)."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
import import_layers  # noqa: E402


def test_the_graph_is_read_from_the_source():
    graph = import_layers.graph()
    assert "traindyn.lesde.figures.dynamics" in graph
    assert "traindyn.lesde.estimators" in graph["traindyn.lesde.figures.dynamics"]
    # a relative import two levels up, and one inside a function body
    assert "traindyn.claims" in graph["traindyn.lesde.figures.dynamics"]
    assert "traindyn.plots.style" in graph["traindyn.lesde.figures.phase"]
    assert import_layers.tier("traindyn.claims") == 0
    assert import_layers.tier("traindyn.pde.figures.heat") == 1
    assert import_layers.tier("traindyn.families") == 2


def test_no_import_runs_upward():
    """What two families share (networks, seeded streams, training tensors) lives below them."""
    assert import_layers.upward_imports(import_layers.graph()) == []


def test_the_shared_figures_package_imports_no_family():
    graph = import_layers.graph()
    shared_figures = [m for m in graph if m.startswith("traindyn.figures")
                      and import_layers.moved_to(m) is None]
    assert "traindyn.figures.geomnist_samples" in shared_figures
    for module in shared_figures:
        assert all(import_layers.tier(d) == 0 for d in graph[module]), module


def test_a_deprecated_alias_imports_only_the_module_it_serves():
    graph = import_layers.graph()
    aliases = {m: import_layers.moved_to(m) for m in graph if import_layers.moved_to(m)}
    assert aliases == {"traindyn.figures.si_deep": "traindyn.instab.figures.deep",
                       "traindyn.lesde.seeds": "traindyn.seeds",
                       "traindyn.instab.resnet": "traindyn.models.resnet"}
    for module, target in aliases.items():
        parents = {target.rsplit(".", i)[0] for i in range(target.count(".") + 1)}
        assert graph[module] <= {target, "traindyn.deprecation"} | parents, module


def test_every_figure_module_of_a_family_is_in_its_package():
    """Rules run figure builders of a family from that family's package."""
    for rules in (ROOT / "workflow" / "rules").glob("*.smk"):
        for line in rules.read_text().splitlines():
            if 'step="figures.' in line:
                assert "geomnist_samples" in line, f"{rules.name}: {line.strip()}"


def test_no_cycles_and_the_layers_do_not_grow():
    summary = import_layers.summary()
    assert summary["cycles"] == 0
    assert summary["layers"] <= 9  # measured when the shared networks moved below the families
