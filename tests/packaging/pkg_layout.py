"""The installed layout as pyproject.toml states it, and the import graph of its sources.

Nothing here names a module of flashsim: the packages, the folders they come from and the
modules in them are all read from `pyproject.toml` and the tree, so the tests keep working when
modules move. Every import counts (top level, inside a function, under `if TYPE_CHECKING:`),
absolute or relative.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx


@dataclass(frozen=True)
class Layout:
    """`[tool.setuptools]` of a pyproject.toml: the listed packages and the folder mapping."""

    root: Path
    packages: tuple[str, ...]
    package_dir: dict[str, str]
    package_data: dict[str, list[str]]
    version: str

    @classmethod
    def read(cls, root: Path) -> Layout:
        with open(root / "pyproject.toml", "rb") as handle:
            pyproject = tomllib.load(handle)
        tool = pyproject.get("tool", {}).get("setuptools", {})
        return cls(
            root=root,
            packages=tuple(tool.get("packages", [])),
            package_dir=dict(tool.get("package-dir", {})),
            package_data={k: list(v) for k, v in tool.get("package-data", {}).items()},
            version=pyproject["project"]["version"],
        )

    def folder(self, package: str) -> Path:
        """The source folder of `package`, as setuptools finds it: the longest dotted prefix
        named in package-dir, then one folder per remaining part."""
        parts = package.split(".")
        for cut in range(len(parts), -1, -1):
            prefix = ".".join(parts[:cut])
            if prefix in self.package_dir:
                return self.root.joinpath(self.package_dir[prefix], *parts[cut:])
        return self.root.joinpath(*parts)

    def source_roots(self) -> list[Path]:
        """The outermost folders that hold installed sources (none inside another)."""
        folders = {self.folder(p) for p in (*self.package_dir, *self.packages) if p}
        return sorted(f for f in folders if not any(o != f and o in f.parents for o in folders))

    def _named_folders(self) -> dict[Path, str]:
        named = {self.folder(p): p for p in self.package_dir if p}
        named.update({self.folder(p): p for p in self.packages})
        return named

    def dotted(self, path: Path) -> str:
        """The dotted name `path` (a .py file or a folder under a source root) installs as."""
        named = self._named_folders()
        rest: list[str] = []
        folder = path.parent if path.suffix == ".py" else path
        if path.suffix == ".py" and path.stem != "__init__":
            rest.append(path.stem)
        while folder not in named:
            if folder in (folder.parent, self.root):
                raise ValueError(f"{path} is under no folder of [tool.setuptools]")
            rest.insert(0, folder.name)
            folder = folder.parent
        return ".".join([named[folder], *rest])

    def walk(self, pattern: str = "*") -> Iterator[Path]:
        """Every file matching `pattern` under the source roots (no __pycache__)."""
        for source in self.source_roots():
            for path in sorted(source.rglob(pattern)):
                if path.is_file() and "__pycache__" not in path.relative_to(source).parts:
                    yield path

    def package_folders(self) -> dict[str, Path]:
        """Every folder with an `__init__.py` under the source roots, by its dotted name."""
        return {self.dotted(p.parent): p.parent for p in self.walk("__init__.py")}

    def modules(self) -> dict[str, Path]:
        """Every .py file under the source roots, by its dotted module name."""
        return {self.dotted(p): p for p in self.walk("*.py")}


@dataclass(frozen=True)
class Import:
    """One module imported by another: `target` is absolute, submodules resolved."""

    target: str
    path: Path
    line: int


@dataclass(repr=False)
class ImportGraph:
    """Modules of one namespace and what each imports (inside and outside the namespace)."""

    namespace: str
    modules: dict[str, Path]
    imports: dict[str, list[Import]] = field(default_factory=dict)

    def __repr__(self) -> str:  # short in a failing test's traceback
        return f"<import graph of {len(self.modules)} {self.namespace} modules>"

    def inside(self, name: str) -> bool:
        return name == self.namespace or name.startswith(self.namespace + ".")

    def graph(self) -> nx.DiGraph:
        """Edges between modules of the namespace (a target that names no module of the tree
        is a node too: `unknown()` lists them)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self.modules)
        for source, found in self.imports.items():
            for imp in found:
                if self.inside(imp.target) and not graph.has_edge(source, imp.target):
                    graph.add_edge(source, imp.target, where=imp)
        return graph

    def unknown(self) -> list[Import]:
        """Imports of the namespace that name no module of the tree."""
        return [
            imp
            for found in self.imports.values()
            for imp in found
            if self.inside(imp.target) and imp.target not in self.modules
        ]

    def cycles(self, limit: int = 1000) -> list[list[str]]:
        """Every elementary cycle (up to `limit`), each rotated to start at its least name."""
        found = []
        graph = self.graph()
        for component in nx.strongly_connected_components(graph):
            sub = graph.subgraph(component)
            if len(component) == 1 and not any(sub.has_edge(n, n) for n in component):
                continue
            for cycle in nx.simple_cycles(sub):
                start = cycle.index(min(cycle))
                found.append(cycle[start:] + cycle[:start])
                if len(found) >= limit:
                    return sorted(found)
        return sorted(found)


def imported_names(
    tree: ast.AST, module: str, is_package: bool, known: Iterable[str]
) -> list[tuple[str, int]]:
    """(absolute target, line) of every import in `tree`, the code of `module`."""
    names = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    raise ValueError(f"{module}:{node.lineno}: relative import beyond the top")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in names else base, node.lineno))
    return found


def import_graph(layout: Layout, namespace: str | None = None) -> ImportGraph:
    """The import graph of every module under the layout's source roots."""
    modules = layout.modules()
    if namespace is None:
        namespace = min(modules, key=len).split(".")[0] if modules else ""
    result = ImportGraph(namespace, modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_bytes(), filename=str(path))
        result.imports[name] = [
            Import(target, path, line)
            for target, line in imported_names(tree, name, path.stem == "__init__", modules)
        ]
    return result


def chain(names: list[str]) -> str:
    """`a -> b -> c -> a` for the cycle [a, b, c]."""
    return " -> ".join([*names, names[0]])


def describe_cycles(graph: ImportGraph, cycles: list[list[str]]) -> str:
    """The cycles, one chain a line, the groups of modules they tie, and where each import
    that closes one of them is."""
    edges = graph.graph()
    tied = [
        sorted(c)
        for c in nx.strongly_connected_components(edges)
        if len(c) > 1 or any(edges.has_edge(n, n) for n in c)
    ]
    lines = [f"{len(cycles)} import cycle(s):"]
    lines += [f"  {chain(c)}" for c in cycles]
    lines.append("modules tied together by them (each group must be broken):")
    lines += [f"  {', '.join(group)}" for group in sorted(tied)]
    lines.append("the imports on these cycles:")
    seen: set[tuple[str, str]] = set()
    for cycle in cycles:
        seen.update(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
    for a, b in sorted(seen):
        lines.append(f"  {where(edges.edges[a, b]['where'])}: {a} imports {b}")
    return "\n".join(lines)


def crossings(
    graph: ImportGraph, layer: str, forbidden: Iterable[str], external: Iterable[str] = ()
) -> list[str]:
    """Imports by which modules of package `layer` reach, directly or through other modules,
    a module under one of the `forbidden` packages or an `external` top-level package; one
    chain per import that crosses, from a module of the layer."""
    forbidden, external = tuple(forbidden), tuple(external)

    def under(name: str, packages: tuple[str, ...]) -> bool:
        return any(name == p or name.startswith(p + ".") for p in packages)

    edges = graph.graph()
    # paths stay out of the forbidden packages: each crossing is reported where it happens
    allowed = edges.subgraph(n for n in edges if not under(n, forbidden))
    starts = [m for m in allowed if under(m, (layer,))]
    paths = nx.multi_source_dijkstra_path(allowed, starts) if starts else {}
    found = []
    for module, path in sorted(paths.items()):
        for imp in graph.imports.get(module, []):
            if under(imp.target, forbidden) or under(imp.target, external):
                found.append(f"{' -> '.join([*path, imp.target])}  ({where(imp)})")
    return sorted(set(found))


def where(imp: Import) -> str:
    """`folder/file.py:line` of an import, relative to the project."""
    roots = [p for p in imp.path.parents if (p / "pyproject.toml").is_file()]
    shown = imp.path.relative_to(roots[0]) if roots else imp.path
    return f"{shown}:{imp.line}"
