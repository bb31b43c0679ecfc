"""The copy-impact graphs: what a report needs is on them, named in legends that never cover
the data, and drawing them never chooses a matplotlib backend for the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.sim.engine import simulate
from flashsim.sim.plots import copy_impact_figure

BODY = (
    array("a0", bw=4000, par=16)
    + array("a1", bw=4000, par=16)
    + volume("P", 32, "a0")
    + volume("S", 32, "a1")
    + volume("Q", 16, "a0")
    + volume("T", 16, "a1")
    + volume("U", 16, "a1")
    + flashcopy("full", "P", "S", 1, copy_rate_mib_s=16)
    + flashcopy("se", "Q", "U", 1, background_copy=False, target_capacity_mib=1)
    + '[[flashcopy]]\nid = "cg_pair"\nsource = "Q"\ntarget = "T"\nbackground_copy = false\n'
    + '[[group]]\nid = "cg"\nmembers = ["cg_pair"]\nat_s = 3\nestablish_after_s = 0.5\n'
    + '[[workload]]\nname = "prod"\nvolume = "P"\nrw = "randrw"\nbs = "8k"\nrate_iops = 300\n'
    + '[[workload]]\nname = "backup"\nvolume = "S"\nrw = "read"\nbs = "256k"\niodepth = 1\n'
    + '[[workload]]\nname = "small"\nvolume = "Q"\nrw = "randwrite"\nbs = "4k"\nrate_iops = 100\n'
)


@pytest.fixture(scope="module")
def figure():  # type: ignore[no-untyped-def]
    result = simulate(scenario(BODY, duration_s=6, window_s=0.25))
    assert result.relationships["se"].failed_at_s is not None
    fig = copy_impact_figure(result)
    fig.canvas.draw()
    return fig


def _labels(ax) -> list[str]:  # type: ignore[no-untyped-def]
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def test_one_panel_each_latency_iops_progress_back_end_and_no_twin_axes(figure) -> None:  # type: ignore[no-untyped-def]
    assert len(figure.axes) == 4
    lat, iops, progress, back = figure.axes
    assert iops.get_ylabel() == "IOPS (completed)"
    assert "latency (ms)" in lat.get_ylabel()
    assert progress.get_ylabel() == "tracks copied (%)"
    assert "MiB/s" in back.get_ylabel()
    # each workload's latency apart: production's p99 is not mixed with the backup's
    assert {"prod p99", "backup p99", "small p99"} <= set(_labels(lat))
    assert {"full", "se (NOCOPY: by COW)"} <= set(_labels(progress))


def test_every_mark_is_named_in_the_legend(figure) -> None:  # type: ignore[no-untyped-def]
    names = _labels(figure.axes[0])
    for mark in ("establish/refresh", "copy complete", "relationship failed", "writes frozen"):
        assert mark in names


def test_legends_sit_outside_the_data(figure) -> None:  # type: ignore[no-untyped-def]
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
        # and inside the picture, not cut off
        assert legend.get_window_extent(renderer).x1 <= figure.bbox.x1 + 1


def test_the_back_end_panel_shows_the_copy_rate_in_mib_s(figure) -> None:  # type: ignore[no-untyped-def]
    # 16 MiB/s from t = 1 s: the source array reads 16 MiB/s of background copy until the
    # copy nears its end (writes copy-before-write tracks the copy then skips: under 2 s)
    back = figure.axes[3]
    line = next(ln for ln in back.lines if ln.get_label() == "a0: background copy")
    values = [y for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True) if 1.3 < x < 2.2]
    assert values
    assert values == pytest.approx([16.0] * len(values), rel=0.15)


def test_drawing_to_files_chooses_no_backend(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import matplotlib\n"
        "from pathlib import Path\n"
        "from flashsim.sim import plots, sweep_plot\n"
        "from flashsim.sim.figure_files import new_figure, save\n"
        "fig = new_figure()\nfig.subplots().plot([1, 2])\n"
        f"save(fig, Path({str(tmp_path / 'x')!r}))\n"
        "print(matplotlib.get_backend())\n"
    )
    env = dict(os.environ, MPLBACKEND="svg")  # what a notebook's kernel would have chosen
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg"
    assert (tmp_path / "x.png").read_bytes().startswith(b"\x89PNG")


def test_a_run_without_flashcopy_draws_without_an_empty_legend() -> None:
    body = (
        array() + volume("A", 16) + '[[workload]]\nvolume = "A"\nrw = "randread"\nrate_iops = 50\n'
    )
    fig = copy_impact_figure(simulate(scenario(body, duration_s=2)))
    fig.canvas.draw()  # warnings are errors here: an empty legend() would fail the test
    progress = fig.axes[2]
    assert progress.get_legend() is None
    assert [t.get_text() for t in progress.texts] == ["no FlashCopy relationship in this scenario"]


def _pair(rate_mib_s: float) -> str:
    """A 32 MiB pair across two arrays, copied from t = 1 s at `rate_mib_s`."""
    return (
        array("a0", bw=4000, par=16) + array("a1", bw=4000, par=16)
        + volume("P", 32, "a0") + volume("S", 32, "a1")
        + flashcopy("full", "P", "S", 1, copy_rate_mib_s=rate_mib_s)
    )  # fmt: skip


def test_a_copy_s_read_and_write_lines_on_two_arrays_both_show() -> None:
    """A copy reads a track on the source's array and writes it on the target's: the lines
    are nearly equal; the first is a wide pale band under the second, so both are seen."""
    fig = copy_impact_figure(simulate(scenario(_pair(16), duration_s=4, window_s=0.25)))
    lines = {line.get_label(): line for line in fig.axes[3].lines}
    read, write = lines["a0: background copy"], lines["a1: background copy"]
    assert read.get_linewidth() > 2 * write.get_linewidth()  # the band is wider than the line
    assert read.get_alpha() < 1 and write.get_zorder() >= read.get_zorder()
    assert max(abs(a - b) for a, b in zip(read.get_ydata(), write.get_ydata(), strict=True)) < 4


def test_a_copy_that_outlasts_the_run_says_so_in_its_legend() -> None:
    body = _pair(4)  # 32 MiB at 4 MiB/s from t = 1 s: 25% of it copied by t = 3 s
    fig = copy_impact_figure(simulate(scenario(body, duration_s=3, window_s=0.25)))
    (label,) = _labels(fig.axes[2])
    assert label.startswith("full (") and label.endswith("% copied at the end)")
    assert 20 <= int(label.split("(")[1].split("%")[0]) <= 30
    done = copy_impact_figure(simulate(scenario(body, duration_s=12, window_s=0.25)))
    assert _labels(done.axes[2]) == ["full"]


def test_lines_that_coincide_on_a_panel_are_named_once_by_the_one_seen() -> None:
    """Four equal workloads draw one visible line: the legend says it is four, and a line
    that differs anywhere by more than 2% of the panel's height keeps its own entry."""
    from flashsim.sim.figure_files import new_figure
    from flashsim.sim.plots import _legend

    ax = new_figure().subplots()
    t = [0.5, 1.5, 2.5, 3.5]
    ax.plot(t, [1.0, 50.0, 100.0, 100.0], "-", label="fc0")
    ax.plot(t, [1.0, 51.5, 99.0, 100.0], "-", label="fc1")  # within 2 of the height of 99
    ax.plot(t, [1.0, 47.0, 100.0, 100.0], "-", label="fc2")  # 3 off at one point
    ax.plot(t, [1.0, 50.0, 100.0, 100.0], ":", label="fc3")  # another style: not merged
    _legend(ax)
    assert _labels(ax) == ["fc0 = fc1 (one line: within 2% of the axis)", "fc2", "fc3"]
    shown = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert shown[0] is ax.lines[1]  # named by the one drawn last, the one seen
    many = new_figure().subplots()
    for k in range(12):
        many.plot(t, [1.0, 2.0, 3.0, 4.0], "--", label=f"t{k:02d} (NOCOPY)")
    _legend(many)
    assert [label.replace("\n", " ") for label in _labels(many)] == [
        "t00 = t01 = ... (12 lines) = t11 (NOCOPY) (one line: within 2% of the axis)"
    ]
