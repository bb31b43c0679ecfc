"""The picture of a sweep: the first parameter on a numeric x axis (a copy rate in MiB/s on a
log axis, whichever scale it was given on) against each workload's p99 in the copy window
(and before it, for reference) and each relationship's copy time, on two panels with axes
of their own. Points that differ in the other parameters are separate lines. With replicates,
each marker is the replicates' mean and its error bar the Student-t 95% interval."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from flashsim.sim.figure_files import new_figure, save
from flashsim.sim.sweep_stats import interval

COPY_RATE_KEYS = ("copy_rate", "copy_rate_mib_s")


def first_window(info: dict[str, Any]) -> dict[str, Any] | None:
    """The impact block of the first relationship that was established, if any."""
    for rel in info["relationships"].values():
        if "impact" in rel:
            return rel["impact"]
    return None


def _rate_relationship(key: str, info: dict[str, Any]) -> str | None:
    """The relationship whose copy rate `key` sets (``flashcopy.ID.copy_rate``), else None."""
    parts = key.split(".")
    if len(parts) != 3 or parts[0] != "flashcopy" or parts[2] not in COPY_RATE_KEYS:
        return None
    ids = list(info["relationships"])
    if parts[1] in ids:
        return parts[1]
    if parts[1].isdigit() and int(parts[1]) < len(ids):
        return ids[int(parts[1])]
    return None


def x_axis(
    key: str, points: list[list[tuple[str, str]]], summaries: list[dict[str, Any]]
) -> tuple[list[float], str, bool, list[str]]:
    """x values, axis label, log scale or not, and tick labels for the sweep of `key`."""
    given = [dict(p)[key] for p in points]
    rid = _rate_relationship(key, summaries[0])
    if rid is not None:
        x = [float(s["relationships"][rid]["copy_rate_mib_s"]) for s in summaries]
        if all(v > 0 for v in x):
            scale = "" if key.endswith("_mib_s") else f"; {key.rsplit('.', 1)[1]} in brackets"
            ticks = [
                f"{v:g}" + ("" if not scale else f"\n({g})") for v, g in zip(x, given, strict=True)
            ]
            return x, f"copy rate of {rid} (MiB/s, log scale{scale})", True, ticks
    try:
        x = [float(v) for v in given]
    except ValueError:
        return [float(i) for i in range(len(given))], key, False, given
    return x, key, False, [f"{v:g}" for v in x]


def plot(
    points: list[list[tuple[str, str]]],
    summaries: list[dict[str, Any]],
    stem: Path,
    replicates: list[list[dict[str, Any]]] | None = None,
) -> list[Path]:
    """Draw the sweep of `points` (grid order) and their `summaries` to `stem`.png/.svg."""
    return save(sweep_figure(points, summaries, replicates), stem)


def _during_p99(info: dict[str, Any], name: str, phase: str = "during") -> float | None:
    window = first_window(info)
    return None if window is None else window["workloads"][name][phase]["latency_ms"]["p99"]  # type: ignore[no-any-return]


def _spread(runs: list[dict[str, Any]], figure: Any) -> tuple[float, float]:
    """The mean of `figure` over `runs` and the half-width of its interval (NaN if none)."""
    ci = interval([figure(info) for info in runs])
    if ci.mean is None:
        return math.nan, math.nan
    return ci.mean, math.nan if ci.high is None else ci.high - ci.mean


def sweep_figure(
    points: list[list[tuple[str, str]]],
    summaries: list[dict[str, Any]],
    replicates: list[list[dict[str, Any]]] | None = None,
) -> Figure:
    """The sweep's figure (see the module's docstring); `replicates[i]` are every run of
    point i (`summaries[i]` is the first of them)."""
    runs = replicates if replicates is not None else [[s] for s in summaries]
    bars = any(len(r) > 1 for r in runs)
    key = points[0][0][0]
    x, label, log, ticks = x_axis(key, points, summaries)
    groups: dict[str, list[int]] = {}
    for i, point in enumerate(points):
        rest = ", ".join(f"{k}={v}" for k, v in point[1:])
        groups.setdefault(rest, []).append(i)
    fig = new_figure(figsize=(11, 7.5), layout="constrained")
    ax_p99, ax_copy = fig.subplots(2, 1, sharex=True)
    workloads = [w["name"] for w in summaries[0]["workloads"]]
    colours = {}
    for rest, members in groups.items():
        suffix = f" [{rest}]" if rest else ""
        xs = [x[i] for i in members]
        for name in workloads:
            colour = colours.setdefault((name, rest), f"C{len(colours) % 10}")
            during = [_spread(runs[i], lambda info, n=name: _during_p99(info, n)) for i in members]
            before = [
                _spread(runs[i], lambda info, n=name: _during_p99(info, n, "before"))
                for i in members
            ]
            ax_p99.errorbar(
                xs, [m for m, _ in during], yerr=[h for _, h in during] if bars else None,
                fmt="o-", color=colour, capsize=3, label=f"{name} p99 in the copy window{suffix}",
            )  # fmt: skip
            if any(not math.isnan(m) for m, _ in before):
                ax_p99.plot(xs, [m for m, _ in before], ":", color=colour, linewidth=1,
                            label=f"{name} p99 before the establish{suffix}")  # fmt: skip
        for rid in summaries[0]["relationships"]:
            times = [
                _spread(runs[i], lambda info, r=rid: info["relationships"][r]["copy_s"])
                for i in members
            ]
            done = all(math.isnan(m) for m, _ in times)
            ax_copy.errorbar(
                xs, [m for m, _ in times], yerr=[h for _, h in times] if bars else None,
                fmt="s-", capsize=3,
                label=f"{rid} copy time{suffix}" + (" (never complete)" if done else ""),
            )  # fmt: skip
    ax_p99.set_ylabel("host p99 latency (ms)")
    ax_p99.set_ylim(bottom=0)
    count = sum(len(r) for r in runs)
    title = f"Sweep of {key}: {len(points)} points"
    if bars:
        title += f", {count} runs (mean of the replicates, Student-t 95% interval)"
    else:
        title += f", {count} runs"
    ax_p99.set_title(title)
    ax_copy.set_ylabel("copy time, establish\nto complete (s)")
    ax_copy.set_ylim(bottom=0)
    ax_copy.set_xlabel(label)
    if not summaries[0]["relationships"]:
        ax_copy.text(0.5, 0.5, "no FlashCopy relationship in this scenario",
                     transform=ax_copy.transAxes, ha="center", va="center")  # fmt: skip
    for ax in (ax_p99, ax_copy):
        ax.grid(alpha=0.3)
        if not ax.get_legend_handles_labels()[0]:
            continue
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=7,
                  frameon=False)  # fmt: skip
    if log:
        ax_copy.set_xscale("log")
        ax_copy.minorticks_off()
    unique = sorted(set(zip(x, ticks, strict=True)))
    ax_copy.set_xticks([v for v, _ in unique], [t for _, t in unique])
    return fig


def _value(v: float | None) -> float:
    return math.nan if v is None else float(v)
