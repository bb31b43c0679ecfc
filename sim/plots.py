"""Copy-impact graphs (matplotlib, Agg): host latency percentiles over time with establish and
copy completion marked and copy progress on a second axis; IOPS over time; back-end I/O by
kind. Written as PNG and SVG with fixed metadata, so equal runs give equal files."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from flashsim.sim.devices import KINDS
from flashsim.sim.engine import Result
from flashsim.sim.metrics import windows

KIND_LABELS = {
    "host": "host",
    "copy_before_write": "copy-before-write",
    "target_precopy": "target pre-copy",
    "redirected": "redirected read",
    "background": "background copy",
    "rule0": "rule 0",
}


def save(figure: plt.Figure, stem: Path) -> list[Path]:
    """Write `stem`.png and `stem`.svg reproducibly, then close the figure."""
    with plt.rc_context({"svg.hashsalt": "flashsim", "svg.fonttype": "path"}):
        figure.savefig(stem.with_suffix(".png"), dpi=100, metadata={"Software": None})
        figure.savefig(stem.with_suffix(".svg"), metadata={"Date": None, "Creator": None})
    plt.close(figure)
    return [stem.with_suffix(".png"), stem.with_suffix(".svg")]


def copy_impact(result: Result, stem: Path) -> list[Path]:
    header, rows = windows(result)
    col = {name: i for i, name in enumerate(header)}

    def series(name: str) -> list[float]:
        return [float("nan") if r[col[name]] is None else float(r[col[name]]) for r in rows]

    t = [(r[0] + r[1]) / 2 for r in rows]  # type: ignore[operator]
    t_end = [r[1] for r in rows]  # progress is sampled at each window's end
    fig, (ax_lat, ax_iops, ax_back) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for q, style in (("p50", "-"), ("p95", "--"), ("p99", "-")):
        ax_lat.plot(t, series(f"latency_ms_{q}"), style, label=f"host {q}", linewidth=1)
    ax_lat.set_ylabel("host latency (ms)")
    p50 = [v for v in series("latency_ms_p50") if not math.isnan(v)]
    p99 = [v for v in series("latency_ms_p99") if not math.isnan(v)]
    if p50 and p99 and max(p99) > 20 * sorted(p50)[len(p50) // 2]:
        ax_lat.set_yscale("log")  # a freeze or a queue spike would flatten everything else
    ax_lat.set_title(f"Copy impact: {result.scenario.path.rsplit('/', 1)[-1]}")
    ax_prog = ax_lat.twinx()
    ax_prog.set_ylabel("copy progress")
    ax_prog.set_ylim(0, 1.05)
    for spec in result.scenario.flashcopies:
        stats = result.relationships[spec.id]
        ax_prog.plot(
            t_end, series(f"{spec.id}.progress"), ":", linewidth=1.5, label=f"{spec.id} copied"
        )
        for point in stats.points_in_time:
            if point["at_s"] is not None:
                ax_lat.axvline(point["at_s"], color="green", linewidth=0.8)
            if point["copy_complete_at_s"] is not None:
                ax_lat.axvline(point["copy_complete_at_s"], color="red", linewidth=0.8)
    lines = ax_lat.get_legend_handles_labels()
    more = ax_prog.get_legend_handles_labels()
    ax_lat.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=7)
    ax_iops.plot(t, series("host_iops"), label="host IOPS", linewidth=1)
    ax_iops.plot(t, series("read_iops"), label="reads", linewidth=0.8)
    ax_iops.plot(t, series("write_iops"), label="writes", linewidth=0.8)
    ax_iops.set_ylabel("IOPS")
    ax_iops.legend(loc="upper right", fontsize=7)
    window = result.scenario.run.window_s
    for kind in KINDS:
        values = [0.0] * len(rows)
        for name in result.arrays:
            for i, v in enumerate(series(f"{name}.{kind}_ios")):
                values[i] += v / window
        if any(values):
            ax_back.plot(t, values, label=KIND_LABELS[kind], linewidth=1)
    ax_back.set_ylabel("back-end I/O per s")
    ax_back.set_xlabel("simulated time (s); green: establish/refresh, red: copy complete")
    ax_back.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return save(fig, stem)
