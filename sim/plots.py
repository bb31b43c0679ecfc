"""Copy-impact graphs of a run, one panel per question: host latency per workload (p99 and
p50), IOPS per workload, copy progress per relationship, back-end MiB/s by kind. Every panel
marks the establishes (and refreshes), copy completions, relationship failures and group
freezes, all named in the legends, which sit outside the data, and no line hides another
unnamed (`_name_coincident`; the first array's back-end lines are bands under the others').
`copy_impact_figure` returns the figure (a notebook displays it); `copy_impact` writes it as
PNG and SVG."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from flashsim.sim.devices import KINDS
from flashsim.sim.engine import Result
from flashsim.sim.figure_files import new_figure, save
from flashsim.sim.metrics import windows

KIND_LABELS = {
    "host": "host I/O",
    "copy_before_write": "copy-before-write",
    "target_precopy": "target pre-copy",
    "redirected": "redirected read",
    "background": "background copy",
    "rule0": "rule 0",
}
KIND_COLOURS = {
    "host": "tab:gray",
    "copy_before_write": "tab:orange",
    "target_precopy": "tab:brown",
    "redirected": "tab:purple",
    "background": "tab:cyan",
    "rule0": "tab:pink",
}
ARRAY_STYLES = ("-", "--", ":", "-.")
#: A window's figure holds for the whole window: drawn as a step, not a ramp between windows.
STEPS = {"drawstyle": "steps-mid"}
ESTABLISH, COMPLETE, FAILURE, FREEZE = "tab:green", "tab:red", "black", "tab:blue"


def _marks(
    result: Result,
) -> tuple[list[float], list[float], list[float], list[tuple[float, float]]]:
    """Establish/refresh instants, copy completions, failures and freeze spans."""
    starts, completes, failures = [], [], []
    for stats in result.relationships.values():
        for point in stats.points_in_time:
            if point["at_s"] is not None:
                starts.append(float(point["at_s"]))
            if point["copy_complete_at_s"] is not None:
                completes.append(float(point["copy_complete_at_s"]))
        if stats.failed_at_s is not None:
            failures.append(stats.failed_at_s)
    end = result.scenario.run.duration_s
    freezes = [
        (g.frozen_at_s, end if g.thawed_at_s is None else g.thawed_at_s)
        for g in result.groups.values()
        if g.frozen_at_s is not None
    ]
    return sorted(set(starts)), sorted(set(completes)), sorted(set(failures)), freezes


def _draw_marks(ax: Axes, marks: tuple[list[float], ...]) -> None:
    starts, completes, failures, freezes = marks
    for t in starts:
        ax.axvline(t, color=ESTABLISH, linewidth=0.9, alpha=0.8)
    for t in completes:
        ax.axvline(t, color=COMPLETE, linewidth=0.9, linestyle="--", alpha=0.9)
    for t in failures:
        ax.axvline(t, color=FAILURE, linewidth=1.2, linestyle="-.")
    for t0, t1 in freezes:
        ax.axvspan(t0, t1, color=FREEZE, alpha=0.15, linewidth=0)


def _mark_handles(marks: tuple[list[float], ...]) -> list[Line2D | Patch]:
    starts, completes, failures, freezes = marks
    handles: list[Line2D | Patch] = []
    if starts:
        handles.append(Line2D([], [], color=ESTABLISH, linewidth=0.9, label="establish/refresh"))
    if completes:
        handles.append(Line2D([], [], color=COMPLETE, linestyle="--", label="copy complete"))
    if failures:
        handles.append(Line2D([], [], color=FAILURE, linestyle="-.", label="relationship failed"))
    if freezes:
        handles.append(Patch(color=FREEZE, alpha=0.15, label="writes frozen"))
    return handles


#: Lines of one style whose every point is within this fraction of the panel's height of
#: each other coincide on it: drawn apart, the last one hides the others.
COINCIDENT = 0.02


def _coincide(a: Line2D, b: Line2D, tolerance: float, log: bool) -> bool:
    xa, ya = a.get_xdata(), a.get_ydata()
    xb, yb = b.get_xdata(), b.get_ydata()
    if a.get_linestyle() != b.get_linestyle() or len(ya) != len(yb) or list(xa) != list(xb):
        return False
    for u, v in zip(ya, yb, strict=True):
        if math.isnan(u) or math.isnan(v):
            if not (math.isnan(u) and math.isnan(v)):
                return False
        elif abs(_height(u, log) - _height(v, log)) > tolerance:
            return False
    return True


def _height(y: float, log: bool) -> float:
    """Where `y` is drawn on a panel's height (a log panel draws log10)."""
    return math.log10(y) if log and y > 0 else y


def _name_coincident(ax: Axes) -> None:
    """Lines that coincide on the panel (`COINCIDENT`) are named once, by the one drawn last
    (the one seen): "w0 = w1 = w2 p99 (one line: within 2% of the axis)"; the
    others stay drawn beneath it, out of the legend. Else the legend lists lines the panel
    does not show (four equal workloads, one colour seen)."""
    lines = [line for line in ax.lines if not str(line.get_label()).startswith("_")]
    log = ax.get_yscale() == "log"
    heights = [
        _height(float(y), log)
        for line in lines
        for y in line.get_ydata()
        if not math.isnan(y) and (y > 0 or not log)
    ]
    if len(lines) < 2 or not heights:
        return
    tolerance = COINCIDENT * ((max(heights) - min(heights)) or 1.0)
    groups: list[list[Line2D]] = []
    for line in lines:
        group = next((g for g in groups if _coincide(g[0], line, tolerance, log)), None)
        if group is None:
            groups.append([line])
        else:
            group.append(line)
    for group in groups:
        if len(group) < 2:
            continue
        labels = [str(line.get_label()) for line in group]
        suffix = _common_suffix(labels)
        names = [label[: len(label) - len(suffix)] for label in labels]
        if len(names) > 4:  # (a long legend entry narrows every panel of the figure)
            names = [names[0], names[1], f"... ({len(names)} lines)", names[-1]]
        joined = " = ".join(names)
        label = f"{joined}{suffix} (one line: within {COINCIDENT:.0%} of the axis)"
        group[-1].set_label(textwrap.fill(label, 44))
        for line in group[:-1]:
            line.set_label(f"_{line.get_label()}")


def _common_suffix(labels: list[str]) -> str:
    """The longest common ending of `labels` that starts at a space or colon (" p99")."""
    shortest = min(labels, key=len)
    for start in range(len(shortest)):
        tail = shortest[start:]
        if tail[0] in " :" and all(label.endswith(tail) for label in labels):
            return tail
    return ""


def _legend(ax: Axes, extra: list[Line2D | Patch] | None = None) -> None:
    """The legend outside the panel, to its right: it never covers the data."""
    _name_coincident(ax)
    handles = ax.get_legend_handles_labels()[0]
    handles = [*handles, *(extra or [])]
    if not handles:
        return
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        fontsize=7,
        ncol=2 if len(handles) > 10 else 1,
        frameon=False,
    )


def copy_impact_figure(result: Result) -> Figure:
    """The copy-impact figure of `result` (see the module's docstring)."""
    header, rows = windows(result)
    col = {name: i for i, name in enumerate(header)}

    def series(name: str) -> list[float]:
        return [math.nan if r[col[name]] is None else float(r[col[name]]) for r in rows]  # type: ignore[arg-type]

    scenario = result.scenario
    t = [(r[0] + r[1]) / 2 for r in rows]  # type: ignore[operator]
    t_end = [r[1] for r in rows]  # progress is sampled at each window's end
    marks = _marks(result)
    names = [w.name for w in scenario.workloads]
    fig = new_figure(figsize=(12, 10.5), layout="constrained")
    ax_lat, ax_iops, ax_prog, ax_back = fig.subplots(
        4, 1, sharex=True, height_ratios=[3, 2, 1.5, 2]
    )
    colours = [f"C{i % 10}" for i in range(len(names))]
    spread: list[float] = []
    for name, colour in zip(names, colours, strict=True):
        p99, p50 = series(f"{name}.latency_ms_p99"), series(f"{name}.latency_ms_p50")
        ax_lat.plot(t, p99, "-", color=colour, linewidth=1.2, label=f"{name} p99", **STEPS)
        ax_lat.plot(t, p50, ":", color=colour, linewidth=1.0, label=f"{name} p50", **STEPS)
        spread += [v for v in p99 + p50 if not math.isnan(v) and v > 0]
    if spread and max(spread) > 20 * min(spread):
        ax_lat.set_yscale("log")  # a freeze or a queue spike would flatten everything else
    else:
        ax_lat.set_ylim(bottom=0)
    ax_lat.set_ylabel("host latency (ms)\nper window")
    ax_lat.set_title(f"Copy impact: {scenario.path.replace(chr(92), '/').rsplit('/', 1)[-1]}")
    _legend(ax_lat, _mark_handles(marks))
    for name, colour in zip(names, colours, strict=True):
        ax_iops.plot(t, series(f"{name}.iops"), color=colour, linewidth=1.0, label=name, **STEPS)
    ax_iops.set_ylabel("IOPS (completed)")
    ax_iops.set_ylim(bottom=0)
    _legend(ax_iops)
    for spec in scenario.flashcopies:
        progress = [100 * v for v in series(f"{spec.id}.progress")]
        style = "-" if spec.background_copy else "--"
        label = spec.id + ("" if spec.background_copy else " (NOCOPY: by COW)")
        stats = result.relationships.get(spec.id)
        ended = [v for v in progress if not math.isnan(v)]
        if (
            spec.background_copy  # (a NOCOPY copy is never complete: it copies by COW)
            and stats is not None
            and stats.established_at_s is not None
            and stats.copy_complete_at_s is None
            and stats.ended_at_s is None
            and not stats.failed
            and ended
        ):  # the copy outlasts the run: say so where the line stops
            label += f" ({ended[-1]:.0f}% copied at the end)"
        ax_prog.plot(t_end, progress, style, linewidth=1.2, label=label)
    if not scenario.flashcopies:
        ax_prog.text(0.5, 0.5, "no FlashCopy relationship in this scenario",
                     transform=ax_prog.transAxes, ha="center", va="center")  # fmt: skip
    ax_prog.set_ylabel("tracks copied (%)")
    ax_prog.set_ylim(0, 105)
    _legend(ax_prog)
    for number, name in enumerate(result.arrays):
        # A copy reads a track on one array and writes it on another: the two lines are
        # (nearly) equal. The first array's is a wide pale band, later ones thin lines on it,
        # so neither hides the other.
        width, alpha = (3.0, 0.45) if number == 0 and len(result.arrays) > 1 else (1.0, 1.0)
        for kind in KINDS:
            values = [0.0 if math.isnan(v) else v for v in series(f"{name}.{kind}_mib_s")]
            if any(values):
                ax_back.plot(t, values, ARRAY_STYLES[number % len(ARRAY_STYLES)],
                             color=KIND_COLOURS[kind], linewidth=width, alpha=alpha,
                             label=f"{name}: {KIND_LABELS[kind]}", **STEPS)  # fmt: skip
    ax_back.set_ylabel("back-end (MiB/s)\nper array, by kind")
    ax_back.set_ylim(bottom=0)
    ax_back.set_xlabel(f"simulated time (s); windows of {scenario.run.window_s:g} s")
    _legend(ax_back)
    for ax in (ax_lat, ax_iops, ax_prog, ax_back):
        _draw_marks(ax, marks)
        ax.grid(alpha=0.25)
    ax_back.set_xlim(0, scenario.run.duration_s)
    return fig


def copy_impact(result: Result, stem: Path) -> list[Path]:
    """Write the copy-impact figure as `stem`.png and `stem`.svg."""
    return save(copy_impact_figure(result), stem)
