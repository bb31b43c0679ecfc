"""pkg_layout on a synthetic project: names, every kind of import, cycles and layer crossings."""

from __future__ import annotations

import textwrap

import pytest
from pkg_layout import Layout, chain, crossings, describe_cycles, import_graph

PYPROJECT = """\
[project]
name = "demo"
version = "1.2.3"

[tool.setuptools]
packages = ["flashsim", "flashsim.core", "flashsim.core.sub", "flashsim.top"]

[tool.setuptools.package-dir]
"flashsim" = "cli"
"flashsim.core" = "core"
"flashsim.top" = "top"
"""

FILES = {
    "cli/__init__.py": "",
    "cli/main.py": "from flashsim.core import a\nimport flashsim.top.view\n",
    # an __init__ re-exporting from its submodule
    "core/__init__.py": "from flashsim.core.a import A\n",
    "core/a.py": """\
        from typing import TYPE_CHECKING

        import numpy.linalg

        if TYPE_CHECKING:
            from flashsim.core.b import B
        A = 1
        """,
    "core/b.py": """\
        def f():
            from . import c

            return c
        """,
    # relative to a module; and the package's own __init__ (NAME is no submodule)
    "core/c.py": "from .a import A\nfrom flashsim.core import NAME\n",
    "core/sub/__init__.py": "from ..a import A\nfrom .. import b\n",
    "core/sub/deep.py": """\
        def g():
            import flashsim.top.view
        """,
    "top/__init__.py": "",
    "top/view.py": "import matplotlib.pyplot\n",
    "core/data.txt": "not python",
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (tmp_path / "core" / "__pycache__").mkdir()
    (tmp_path / "core" / "__pycache__" / "a.cpython-311.py").write_text("import flashsim.top\n")
    return tmp_path


def edges(graph):
    return {(a, b) for a, b in graph.graph().edges}


def test_layout_names_folders_and_files(project):
    layout = Layout.read(project)
    assert layout.version == "1.2.3"
    assert layout.folder("flashsim.commands") == project / "cli" / "commands"
    assert layout.folder("flashsim.core.sub") == project / "core" / "sub"
    assert layout.source_roots() == [project / "cli", project / "core", project / "top"]
    assert set(layout.package_folders()) == set(layout.packages)
    assert layout.modules() == {
        "flashsim": project / "cli/__init__.py",
        "flashsim.main": project / "cli/main.py",
        "flashsim.core": project / "core/__init__.py",
        "flashsim.core.a": project / "core/a.py",
        "flashsim.core.b": project / "core/b.py",
        "flashsim.core.c": project / "core/c.py",
        "flashsim.core.sub": project / "core/sub/__init__.py",
        "flashsim.core.sub.deep": project / "core/sub/deep.py",
        "flashsim.top": project / "top/__init__.py",
        "flashsim.top.view": project / "top/view.py",
    }


def test_every_kind_of_import_is_an_edge(project):
    graph = import_graph(Layout.read(project))
    assert edges(graph) == {
        ("flashsim.main", "flashsim.core.a"),  # from a package import a submodule
        ("flashsim.main", "flashsim.top.view"),
        ("flashsim.core", "flashsim.core.a"),  # an __init__ re-exporting
        ("flashsim.core.a", "flashsim.core.b"),  # under TYPE_CHECKING
        ("flashsim.core.b", "flashsim.core.c"),  # function-local, relative: from . import c
        ("flashsim.core.c", "flashsim.core.a"),  # relative: from .a import A
        ("flashsim.core.c", "flashsim.core"),  # a name of the package's __init__
        ("flashsim.core.sub", "flashsim.core.a"),  # from ..a import A
        ("flashsim.core.sub", "flashsim.core.b"),  # from .. import b
        ("flashsim.core.sub.deep", "flashsim.top.view"),
    }
    assert {i.target for i in graph.imports["flashsim.core.a"]} >= {"numpy.linalg", "typing"}
    assert graph.unknown() == []


def test_every_cycle_is_reported_as_a_chain(project):
    graph = import_graph(Layout.read(project))
    cycles = graph.cycles()
    assert cycles == [
        ["flashsim.core", "flashsim.core.a", "flashsim.core.b", "flashsim.core.c"],
        ["flashsim.core.a", "flashsim.core.b", "flashsim.core.c"],
    ]
    report = describe_cycles(graph, cycles)
    assert "flashsim.core.a -> flashsim.core.b -> flashsim.core.c -> flashsim.core.a" in report
    assert "core/a.py:6: flashsim.core.a imports flashsim.core.b" in report
    assert chain(["x"]) == "x -> x"


def test_no_cycle_once_the_package_import_is_gone(project):
    (project / "core" / "b.py").write_text("X = 1\n")
    assert import_graph(Layout.read(project)).cycles() == []


def test_an_import_of_a_missing_module_is_listed(project):
    (project / "core" / "b.py").write_text("from flashsim.core.gone import x\n")
    graph = import_graph(Layout.read(project))
    assert [i.target for i in graph.unknown()] == ["flashsim.core.gone"]


def test_crossings_follow_imports_through_other_modules(project):
    graph = import_graph(Layout.read(project))
    assert crossings(graph, "flashsim.core", ["flashsim.top"]) == [
        "flashsim.core.sub.deep -> flashsim.top.view  (core/sub/deep.py:2)"
    ]
    # flashsim.main reaches matplotlib only through flashsim.top.view
    assert crossings(graph, "flashsim.main", [], ["matplotlib"]) == [
        "flashsim.main -> flashsim.top.view -> matplotlib.pyplot  (top/view.py:1)"
    ]
    assert crossings(graph, "flashsim.top", ["flashsim.core"]) == []
