"""No import cycle among the installed modules, and the layers between the top-level packages.

The modules, their dotted names and what each imports are read from pyproject.toml and the
source folders with `ast` (pkg_layout.py), so nothing here lists today's modules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pkg_layout import Layout, crossings, describe_cycles, import_graph

ROOT = Path(__file__).resolve().parents[2]

# package -> (flashsim packages or modules it must not reach, outside packages it must not import)
LAYERS = {
    "flashsim.models": (
        (
            "flashsim.sim",
            "flashsim.conform",
            "flashsim.commands",
            "flashsim.bench",
            "flashsim.main",
        ),
        ("simpy", "matplotlib"),
    ),
    "flashsim.sim": (
        ("flashsim.conform", "flashsim.commands", "flashsim.bench", "flashsim.main"),
        (),
    ),
    # the real system is an adapter beside the simulator: it may use the models and the
    # simulator, nothing above it
    "flashsim.conform": (("flashsim.commands", "flashsim.bench", "flashsim.main"), ()),
}


@pytest.fixture(scope="module")
def graph():
    return import_graph(Layout.read(ROOT))


def test_the_walk_sees_every_listed_package(graph):
    layout = Layout.read(ROOT)
    missing = [p for p in layout.packages if p not in graph.modules]
    assert not missing, f"packages of pyproject.toml whose __init__.py the walk missed: {missing}"
    assert len(graph.modules) > len(layout.packages)


def test_no_import_cycle(graph):
    cycles = graph.cycles()
    assert not cycles, describe_cycles(graph, cycles)


def test_every_import_of_flashsim_names_a_module_of_the_tree(graph):
    unknown = [f"{imp.path.relative_to(ROOT)}:{imp.line}: {imp.target}" for imp in graph.unknown()]
    assert not unknown, "imports of modules that are not in the tree:\n" + "\n".join(unknown)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layering(graph, layer):
    forbidden, external = LAYERS[layer]
    stale = [n for n in (layer, *forbidden) if n not in graph.modules]
    assert not stale, f"the layering rule names modules that no longer exist: {stale}"
    found = crossings(graph, layer, forbidden, external)
    assert not found, (
        f"{layer} must not import {', '.join(forbidden + external)} (directly or through "
        "another module):\n" + "\n".join(found)
    )
