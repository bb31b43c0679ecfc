"""What-if search over a sweep's axes: `--minimize METRIC --subject-to 'METRIC<=LIMIT'`.

Metrics are the columns of the sweep's table (`sweep.csv`), e.g. `nightly.copy_s` or
`oltp.copy_window_latency_ms_p99`; a point's figure is its mean over its replicates. A point
is feasible when every constraint holds for it; a figure that is missing (a copy that never
completed, a window without I/O) fails its constraint, and a point whose objective is missing
is never the best (it cannot be compared).

Two methods:
- `grid` evaluates every point of the grid: exact, no assumption.
- `bisect` assumes that along the first `--param` axis (in the order its values are given,
  e.g. copy rates from slow to fast) every constrained figure gets no better and the
  objective no worse past the first point that breaks a constraint, i.e. feasibility is
  monotone: feasible up to some value, infeasible after. For each combination of the other
  axes it bisects that axis for the last feasible value (about log2(n) + 1 runs instead of
  n; every line's runs of a round go to the executor together) and takes the best of them.
  If the assumption is false the answer may not be the best point: run `grid` to be sure.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flashsim.sim.scenario import ScenarioError

METHODS = ("grid", "bisect")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_CONSTRAINT = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s*(<=|>=|<|>)\s*(\S+)\s*")


@dataclass(frozen=True, slots=True)
class Constraint:
    metric: str
    op: str
    limit: float

    def holds(self, value: float | None) -> bool:
        return value is not None and OPERATORS[self.op](value, self.limit)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.limit!r}"


def parse_constraint(text: str, metrics: Sequence[str]) -> Constraint:
    """`METRIC<=LIMIT` (or <, >=, >) with METRIC one of `metrics`; ScenarioError otherwise."""
    match = _CONSTRAINT.fullmatch(text)
    if match is None:
        raise ScenarioError(
            f"--subject-to {text!r}: expected METRIC<=LIMIT (or <, >=, >), e.g. "
            "'oltp.copy_window_latency_ms_p99<=5'"
        )
    name, op, number = match.groups()
    check_metric("--subject-to", name, metrics)
    try:
        limit = float(number)
    except ValueError:
        raise ScenarioError(
            f"--subject-to {text!r}: the limit {number!r} is not a number"
        ) from None
    if not math.isfinite(limit):
        raise ScenarioError(f"--subject-to {text!r}: the limit must be finite, got {number!r}")
    return Constraint(name, op, limit)


def check_metric(flag: str, name: str, metrics: Sequence[str]) -> str:
    if name not in metrics:
        raise ScenarioError(
            f"{flag}: unknown metric {name!r}; the sweep's table has: {', '.join(metrics)}"
        )
    return name


@dataclass(frozen=True, slots=True)
class Search:
    objective: str
    constraints: tuple[Constraint, ...]
    method: str

    def feasible(self, figures: dict[str, float | None]) -> bool:
        return all(c.holds(figures[c.metric]) for c in self.constraints)

    def best(self, figures: dict[int, dict[str, float | None]]) -> int | None:
        """The feasible point of `figures` (point -> metric -> mean) with the least
        objective; ties go to the earlier point of the grid."""
        candidates = [
            (value, i)
            for i, f in sorted(figures.items())
            if self.feasible(f) and (value := f[self.objective]) is not None
        ]
        return min(candidates)[1] if candidates else None

    def no_best(self, figures: dict[int, dict[str, float | None]]) -> str:
        """Why `best` found none in `figures`: no point meets the constraints (with the
        nearest value each reached), or those that do lack the objective."""
        feasible = [f for f in figures.values() if self.feasible(f)]
        if not feasible:
            nearest = []
            for c in self.constraints:
                values = [v for f in figures.values() if (v := f[c.metric]) is not None]
                pick = min if c.op in ("<=", "<") else max
                seen = f"{pick(values)!r}" if values else "none: no point has it"
                nearest.append(f"{c.metric} {'least' if pick is min else 'most'} {seen}")
            return (
                f"no evaluated point meets {', '.join(map(str, self.constraints))} "
                f"({'; '.join(nearest)})"
            )
        why = (
            " (a copy that did not complete within the run has none: try a longer run.duration_s)"
            if self.objective.endswith(("copy_s", "copy_complete_at_s"))
            else ""
        )
        return (
            f"{len(feasible)} of {len(figures)} evaluated points meet the constraints, but none "
            f"has {self.objective}{why}"
        )


def lines(shape: Sequence[int]) -> list[list[int]]:
    """The grid's points (in grid order, the last axis fastest) along the first axis: one
    list per combination of the other axes."""
    stride = math.prod(shape[1:])
    return [[i * stride + rest for i in range(shape[0])] for rest in range(stride)]


def bisect_lines(
    search: Search,
    shape: Sequence[int],
    evaluate: Callable[[list[int]], dict[int, dict[str, float | None]]],
) -> dict[int, dict[str, float | None]]:
    """Evaluate the points `bisect` needs (see the module's docstring); `evaluate` runs a
    batch of points and returns their figures. Returns every point evaluated."""
    seen: dict[int, dict[str, float | None]] = {}
    # per line: the bracket (lo, hi) of positions: lo feasible or -1, hi infeasible or n
    brackets = {tuple(line): (-1, len(line)) for line in lines(shape)}
    first = True
    while True:
        wanted: dict[tuple[int, ...], int] = {}
        for line, (lo, hi) in brackets.items():
            if hi - lo > 1:
                # the first round tries each line's last value: all feasible ends the line
                wanted[line] = len(line) - 1 if first else (lo + hi) // 2
        first = False
        if not wanted:
            return seen
        batch = sorted({line[pos] for line, pos in wanted.items()} - set(seen))
        if batch:
            seen.update(evaluate(batch))
        for line, pos in wanted.items():
            lo, hi = brackets[line]
            if search.feasible(seen[line[pos]]):
                brackets[line] = (pos, hi)
            else:
                brackets[line] = (lo, pos)


def pareto_front(
    figures: dict[int, dict[str, float | None]], objective: str, other: str
) -> list[int]:
    """The points not dominated in (objective, other), both smaller being better, sorted by
    objective: no other point is at least as good in both and better in one."""
    have: list[tuple[float, float, int]] = sorted(
        (a, b, i)
        for i, f in figures.items()
        if (a := f[objective]) is not None and (b := f[other]) is not None
    )
    front: list[int] = []
    best_other = math.inf
    for _, second, i in have:
        if second < best_other:
            front.append(i)
            best_other = second
    return front
