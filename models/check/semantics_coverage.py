"""Which rules, options and branches of the semantics a search runs: coverage.py's branch
coverage of the semantics modules (`flashsim.models.rules`, `state`, `system.py`, `ops.py`)
while the checker explores (`flashsim check --coverage`).

Each distinct step runs once per search (the memo), so a branch counts as reached when some
explored state took it. Nothing is written: the measurement stays in memory.
"""

from __future__ import annotations

import ast
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flashsim.models.check.config import CheckConfig
from flashsim.models.check.explorer import CheckResult, explore

_MODELS = Path(__file__).resolve().parent.parent
#: The semantics: what the checker's coverage is measured on (the oracle, the op log and the
#: checker itself are not the semantics under check).
SEMANTICS = ("rules/*.py", "state/*.py", "system.py", "ops.py")


@dataclass(frozen=True, slots=True)
class FileCoverage:
    path: str  # relative to flashsim/models
    statements: int
    covered_lines: int
    branches: int
    covered_branches: int
    missing_lines: tuple[int, ...]
    missing_branches: tuple[tuple[int, int], ...]  # (from line, to line; negative: exit)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    files: tuple[FileCoverage, ...]
    results: tuple[CheckResult, ...]

    @property
    def branches(self) -> int:
        return sum(f.branches for f in self.files)

    @property
    def covered_branches(self) -> int:
        return sum(f.covered_branches for f in self.files)

    @property
    def branch_percent(self) -> float:
        return 100.0 * self.covered_branches / self.branches if self.branches else 100.0

    @property
    def line_percent(self) -> float:
        total = sum(f.statements for f in self.files)
        return 100.0 * sum(f.covered_lines for f in self.files) / total if total else 100.0

    def lines(self) -> list[str]:
        """The report as `flashsim check --coverage` prints it."""
        width = max(len(f.path) for f in self.files)
        out = [f"{'file':<{width}}  branches  lines     missing (line or from->to)"]
        for f in self.files:
            missing = [str(n) for n in f.missing_lines]
            missing += [f"{a}->{b if b > 0 else 'exit'}" for a, b in f.missing_branches]
            out.append(
                f"{f.path:<{width}}  {f.covered_branches:>3}/{f.branches:<4}  "
                f"{f.covered_lines:>3}/{f.statements:<4}  {', '.join(missing) or '-'}"
            )
        out.append(
            f"semantics: {self.covered_branches}/{self.branches} branches "
            f"({self.branch_percent:.1f}%), lines {self.line_percent:.1f}%"
        )
        return out


def measure(
    configs: list[CheckConfig], *, reduce: bool = False, symmetry: bool = False
) -> CoverageReport:
    """Explore every configuration (correct model) with coverage.py measuring the branches of
    the semantics modules; the report covers all of them together."""
    import coverage

    include = [str(_MODELS / pattern) for pattern in SEMANTICS]
    cov = coverage.Coverage(branch=True, data_file=None, include=include, config_file=False)
    results = []
    cov.start()
    try:
        for config in configs:
            results.append(explore(config, reduce=reduce, symmetry=symmetry))
    finally:
        cov.stop()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "coverage.json"
        cov.json_report(outfile=str(out), include=include, ignore_errors=True)
        data = json.loads(out.read_text())
    by_path = {str(Path(k).resolve()): v for k, v in data["files"].items()}  # keys: cwd-relative
    files = []
    for name in sorted(_all_files()):
        found = by_path.get(str(_MODELS / name))
        if found is None:  # never imported: nothing in it ran
            continue
        at_import, excluded = _static_lines(_MODELS / name, EXCLUDED.get(name, ()))
        skip = at_import | excluded
        executed = set(found["executed_lines"]) - excluded
        missing = sorted(set(found["missing_lines"]) - skip)
        ran = [tuple(arc) for arc in found["executed_branches"] if arc[0] not in skip]
        not_ran = [tuple(arc) for arc in found["missing_branches"] if arc[0] not in skip]
        files.append(
            FileCoverage(
                name,
                len(executed | set(missing)),
                len(executed),
                len(ran) + len(not_ran),
                len(ran),
                tuple(missing),
                tuple(sorted(not_ran)),  # type: ignore[arg-type]
            )
        )
    return CoverageReport(tuple(files), tuple(results))


#: Code of the semantics modules no check configuration can run, by design, left out of the
#: figures: the sparse-file backend (op-log replays with --dump keep volumes in files; the
#: checker's states live in memory, `State.clone` refuses any other backend).
EXCLUDED: dict[str, tuple[str, ...]] = {
    "state/backend.py": ("SparseFileBackend", "_libc_fallocate", "file_backend_in"),
}


def _static_lines(path: Path, excluded_names: tuple[str, ...]) -> tuple[set[int], set[int]]:
    """The lines that run when the module is imported (module and class bodies: imports,
    definitions, constants; coverage starts after the import, so they never count as run)
    and the lines of the `excluded_names` definitions."""
    tree = ast.parse(path.read_text())
    at_import: set[int] = set()
    excluded: set[int] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            end = node.end_lineno or node.lineno
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if node.name in excluded_names:
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    excluded.update(range(first, end + 1))
                    continue
                at_import.update(d.lineno for d in node.decorator_list)
                at_import.add(node.lineno)
                if isinstance(node, ast.ClassDef):
                    visit(node.body)
            else:
                at_import.update(range(node.lineno, end + 1))

    visit(tree.body)
    return at_import, excluded


def _all_files() -> list[str]:
    return [
        str(path.relative_to(_MODELS))
        for pattern in SEMANTICS
        for path in _MODELS.glob(pattern)
        if path.name != "__init__.py"
    ]
