"""The answer of a what-if search (`flashsim.sim.sweep_search`), in the sweep's folder:
`search.json` (the question, the best point with its figures, the front), `search.csv` (one
row per evaluated point: its parameters, the objective and constrained figures, feasible, on
the front, best) and `search.png`/`.svg`: the objective against the first constrained figure,
feasible points filled, the limit drawn, the front joined and the best point marked."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

from matplotlib.figure import Figure

from flashsim.sim import metrics
from flashsim.sim.figure_files import new_figure, save
from flashsim.sim.sweep_search import Search, pareto_front

Figures = dict[int, dict[str, float | None]]


def _label(point: list[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point)


def write_search(
    build: Path,
    search: Search,
    points: list[list[tuple[str, str]]],
    means: Figures,
    best: int | None,
) -> list[int]:
    """Write the three files; return the front (points, by objective)."""
    other = search.constraints[0].metric if search.constraints else None
    front = pareto_front(means, search.objective, other) if other else []
    shown = [search.objective] + [
        c.metric for c in search.constraints if c.metric != search.objective
    ]
    shown = list(dict.fromkeys(shown))
    answer = {
        "method": search.method,
        "minimize": search.objective,
        "subject_to": [str(c) for c in search.constraints],
        "figures": "mean over each point's replicates",
        "evaluated": len(means),
        "grid": len(points),
        "best": None
        if best is None
        else {
            "point": best,
            "parameters": dict(points[best]),
            "figures": {m: means[best][m] for m in shown},
        },
        "front": {"against": other, "points": front},
    }
    (build / "search.json").write_text(json.dumps(answer, indent=2) + "\n", encoding="utf-8")
    keys = [k for k, _ in points[0]]
    header = ["point", *keys, *shown, "feasible", "on_front", "best"]
    rows = [
        [
            i,
            *(v for _, v in points[i]),
            *(f[m] for m in shown),
            search.feasible(f),
            i in front,
            i == best,
        ]
        for i, f in sorted(means.items())
    ]
    (build / "search.csv").write_text(
        metrics.csv_text(header, rows), encoding="utf-8", newline="\n"
    )
    save(search_figure(search, points, means, best, front), build / "search")
    return front


def search_figure(
    search: Search,
    points: list[list[tuple[str, str]]],
    means: Figures,
    best: int | None,
    front: list[int],
) -> Figure:
    """The objective (y) against the first constrained figure (x), or against the points
    evaluated when there is no constraint."""
    fig = new_figure(figsize=(10, 6), layout="constrained")
    ax = fig.subplots()
    y = search.objective
    order = sorted(means)
    limit = search.constraints[0] if search.constraints else None
    if limit is None:
        xs: list[float] = [float(k) for k in range(len(order))]
        ax.set_xticks(xs, [_label(points[i]) for i in order], rotation=30, ha="right", fontsize=7)
        ax.set_xlabel("point evaluated")
    else:
        xs = [_nan(means[i][limit.metric]) for i in order]
        ax.set_xlabel(f"{limit.metric} (mean)")
    ys = [_nan(means[i][y]) for i in order]
    feasible = [search.feasible(means[i]) for i in order]
    ax.scatter([x for x, f in zip(xs, feasible, strict=True) if f],
               [v for v, f in zip(ys, feasible, strict=True) if f],
               color="C0", label="meets every constraint", zorder=3)  # fmt: skip
    ax.scatter([x for x, f in zip(xs, feasible, strict=True) if not f],
               [v for v, f in zip(ys, feasible, strict=True) if not f],
               color="0.55", marker="x", label="breaks a constraint", zorder=3)  # fmt: skip
    if limit is not None:
        ax.axvline(limit.limit, color="C3", linestyle="--", linewidth=1,
                   label=f"limit: {limit}")  # fmt: skip
        if front:
            # a staircase: what is reachable at each level of the constrained figure
            edge = sorted((_nan(means[i][limit.metric]), _nan(means[i][y])) for i in front)
            ax.step([a for a, _ in edge], [b for _, b in edge], where="post", color="C1",
                    linewidth=1, label="Pareto front (lower is better in both)")  # fmt: skip
    for x, v, i in zip(xs, ys, order, strict=True):
        if not (math.isnan(x) or math.isnan(v)):
            text = ", ".join(value for _, value in points[i])
            ax.annotate(text, (x, v), textcoords="offset points", xytext=(5, 4), fontsize=8,
                        color="0.3")  # fmt: skip
    if best is not None:
        k = order.index(best)
        ax.scatter([xs[k]], [ys[k]], s=220, marker="*", color="C2", zorder=4,
                   label=f"best: {_label(points[best])}")  # fmt: skip
    # what the axes cannot show, said on them: the points without a figure, and why no best
    notes = [] if best is not None else [search.no_best(means)]
    for name, values in ((y, ys), (limit.metric if limit else None, xs)):
        gone = [i for i, v in zip(order, values, strict=True) if name and math.isnan(v)]
        if gone:
            labels = "; ".join(", ".join(value for _, value in points[i]) for i in gone)
            notes.append(f"not drawn, {len(gone)} of {len(order)} points without {name}: {labels}")
    if notes:
        text = "\n".join(textwrap.fill(n, 90) for n in notes)
        ax.text(0.5, 0.03, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "0.6"})  # fmt: skip
    title = f"minimize {y}"
    if search.constraints:
        title += " subject to " + ", ".join(str(c) for c in search.constraints)
    keys = ", ".join(k for k, _ in points[0])
    ax.set_title(f"{title}\n{search.method}: {len(means)} of {len(points)} points evaluated, "
                 f"labelled by {keys}", fontsize=10)  # fmt: skip
    ax.set_ylabel(f"{y} (mean)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)
