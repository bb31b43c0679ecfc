"""The validation experiment's arithmetic, table and figure (`flashsim.bench.validate_qemu`) on
recorded numbers, and its prediction side on a tiny scenario; the measured side needs QEMU and
fio and minutes, so it runs only as `flashsim validate --qemu` (a benchmark)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from flashsim.bench.validate_qemu import (
    FIGURES,
    PHASES,
    PhaseFigures,
    Run,
    Setup,
    figure,
    markdown,
    phase_figures,
    predict,
    relative_error,
    rows,
)
from flashsim.sim.figure_files import save_file


def test_phases_split_by_issue_time() -> None:
    issue = np.array([*np.arange(0.5, 10, 1.0), 10.5, 11.5, 13.0, 20.0])
    latency = np.array([*range(1, 11), 100.0, 200.0, 7.0, 9.0])
    got = phase_figures(issue, latency, start=0.0, copy_start=10.0, copy_end=12.0, phase_s=4.0)
    before, during, after = got["before"], got["during"], got["after"]
    assert (before.ios, before.iops, before.mean_ms, before.p50_ms) == (10, 1.0, 5.5, 5.5)
    assert before.p99_ms == pytest.approx(9.91)  # linear between the 9th and 10th of 10
    assert (during.ios, during.iops, during.mean_ms) == (2, 1.0, 150.0)
    assert (after.ios, after.iops, after.p99_ms) == (1, 0.25, 7.0)  # 20.0 is past the phase


def test_an_empty_phase_has_no_latency() -> None:
    empty = PhaseFigures.of(np.array([]), 3.0)
    assert empty.ios == 0 and empty.iops == 0.0 and math.isnan(empty.p99_ms)


def test_relative_error_is_predicted_over_measured_less_one() -> None:
    assert relative_error(2.0, 3.0) == 0.5
    assert relative_error(4.0, 3.0) == -0.25
    assert math.isnan(relative_error(0.0, 1.0)) and math.isnan(relative_error(1.0, math.nan))


def _run(copy_s: float, scale: float) -> Run:
    phases = {
        p: PhaseFigures(100, 200.0 * scale, 1.0 * scale, 0.5 * scale, 4.0 * scale) for p in PHASES
    }
    return Run(copy_s, phases)


RECORDED = {8.0: (_run(16.0, 1.0), _run(15.2, 1.5)), 64.0: (_run(2.8, 1.0), _run(2.9, 0.5))}


def test_the_table_has_every_rate_phase_and_figure_with_its_error() -> None:
    table = rows(RECORDED)
    assert len(table) == 2 * (1 + len(PHASES) * len(FIGURES))
    copy = [r for r in table if r["phase"] == "copy"]
    assert [(r["rate_mib_s"], r["measured"], r["predicted"]) for r in copy] == [
        (8.0, 16.0, 15.2),
        (64.0, 2.8, 2.9),
    ]
    assert copy[0]["error"] == pytest.approx(-0.05)
    p99 = next(
        r for r in table if (r["rate_mib_s"], r["phase"], r["figure"]) == (64.0, "during", "p99 ms")
    )
    assert (p99["measured"], p99["predicted"], p99["error"]) == (4.0, 2.0, -0.5)
    text = markdown(table).splitlines()
    assert text[0] == "| copy MiB/s | phase | figure | measured | predicted | error |"
    assert "| 8 | copy | completion s | 16 | 15.2 | -5% |" in text
    assert "| 64 | during | p99 ms | 4 | 2 | -50% |" in text
    assert "| 8 | after | IOPS | 200 | 300 | +50% |" in text
    assert len(text) == 2 + len(table)


def test_the_figure_has_a_panel_per_rate_and_one_for_the_copy(tmp_path: Path) -> None:
    fig = figure(rows(RECORDED))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["backup at 8 MiB/s", "backup at 64 MiB/s", "copy completion"]
    path = save_file(fig, tmp_path / "v.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = save_file(figure(rows(RECORDED)), tmp_path / "w.png")
    assert path.read_bytes() == again.read_bytes()  # reproducible


def test_the_prediction_copies_at_the_rate_less_what_copy_before_write_took() -> None:
    setup = Setup(size_mib=4, phase_s=1.0, warmup_s=0.5, load_iops_per_direction=50)
    array = {
        "name": "a",
        "read_latency_ms": 0.1,
        "write_latency_ms": 0.1,
        "bandwidth_mib_s": 1000.0,
        "parallelism": 1,
    }
    run = predict(setup, array, 8.0)
    # 4 MiB at 8 MiB/s is 0.5 s; host writes (50/s) copy some tracks first, never more than
    # the writes issued in the copy window, and each saves 64 KiB of background copy
    assert 0.5 - 50 * 0.5 * (64 / 1024) / 8 <= run.copy_s <= 0.5 + 0.05
    assert run.phases["before"].iops == pytest.approx(100, rel=0.35)
    assert run.phases["before"].p50_ms == pytest.approx(0.1, rel=0.2)
