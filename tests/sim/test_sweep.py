"""`flashsim sweep`: a grid of runs in parallel processes, a table and a plot."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from fuzzing import fuzz_examples
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.main import main
from flashsim.sim.scenario import ScenarioError
from flashsim.sim.sweep import check_params, grid, parse_param
from flashsim.sim.sweep_plot import sweep_figure, x_axis

ROOT = Path(__file__).resolve().parents[2]


def test_grid_is_every_combination_last_parameter_fastest() -> None:
    params = [parse_param("a.x=1,2"), parse_param("b.y=p,q")]
    assert grid(params) == [
        [("a.x", "1"), ("b.y", "p")],
        [("a.x", "1"), ("b.y", "q")],
        [("a.x", "2"), ("b.y", "p")],
        [("a.x", "2"), ("b.y", "q")],
    ]


_texts = st.text(alphabet="ab.=, 1", max_size=12)


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(300), deadline=None)
@given(texts=st.lists(_texts, min_size=1, max_size=4), fixed=st.lists(_texts, max_size=2))
def test_a_grid_that_passes_its_checks_is_distinct_points_each_key_once(texts, fixed):
    refused = None
    try:
        params = [parse_param(text) for text in texts]
        check_params(params, fixed)
    except ScenarioError as error:
        refused = str(error)
    if refused is not None:
        assert refused.startswith("--param ")
        return
    points = grid(params)
    assert len(points) == len({tuple(p) for p in points})  # no point twice
    keys = [k for k, _ in params]
    for point in points:
        assert [k for k, _ in point] == keys  # each key once, none of them --set
        assert not {k for k, _ in point} & {f.partition("=")[0].strip() for f in fixed}


def test_sweep_of_copy_rate_runs_on_a_local_cluster_and_tabulates_copy_time(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "oltp_nightly_backup.toml"
    args = ["sweep", str(scenario), "--param", "flashcopy.nightly.copy_rate=71,91"]
    sets = ["--set", "run.duration_s=14", "--set", "run.records=false", "--set", "run.plots=false"]
    assert main([*args, *sets, "--out", str(tmp_path / "s"), "--jobs", "2", "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "s" / "sweep.csv").read_text().splitlines()))
    assert [r["flashcopy.nightly.copy_rate"] for r in rows] == ["71", "91"]
    assert rows[0]["nightly.copy_complete_at_s"] == ""  # 16 MiB/s: 128 MiB need 8 s: not yet
    assert 10 < float(rows[1]["nightly.copy_complete_at_s"]) < 12.1  # 64 MiB/s: 2 s
    second = json.loads((tmp_path / "s" / "runs" / "001" / "summary.json").read_text())
    rel = second["relationships"]["nightly"]
    assert float(rows[1]["nightly.copy_s"]) == pytest.approx(
        rel["copy_complete_at_s"] - rel["established_at_s"], abs=1e-5
    )
    during = rel["impact"]["workloads"]["oltp"]["during"]["latency_ms"]["p99"]
    assert float(rows[1]["oltp.copy_window_latency_ms_p99"]) == during
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        ".flashsim-output", "points.json", "runs", "sweep.csv", "sweep.parquet", "sweep.png",
        "sweep.svg",
    ]  # fmt: skip


def test_sweep_rejects_a_bad_parameter_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = ROOT / "scenarios" / "oltp_nightly_backup.toml"
    code = main(["sweep", str(scenario), "--param", "flashcopy.nightly.copy_rate=50,200",
                 "--out", str(tmp_path / "s"), "--jobs", "1"])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.endswith("flashcopy[0].copy_rate: must be 0-150, got 200\n")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # the grid would hold one of the two values, silently
        (
            [
                "--param",
                "flashcopy.nightly.copy_rate=50",
                "--param",
                "flashcopy.nightly.copy_rate=60",
            ],
            "--param flashcopy.nightly.copy_rate: given twice; list its values in one --param\n",
        ),
        (
            ["--param", "flashcopy.nightly.copy_rate=50,60,50"],
            "--param flashcopy.nightly.copy_rate: value '50' given twice (for more runs of a point, "
            "--replicates)\n",
        ),
        (
            [
                "--param",
                "flashcopy.nightly.copy_rate=50,60",
                "--set",
                "flashcopy.nightly.copy_rate=70",
            ],
            "--param flashcopy.nightly.copy_rate: also fixed by --set; give it one or the other\n",
        ),
        # a bad key path is named by the option that gave it
        (
            ["--param", "flashcopy.nope.copy_rate=50,60"],
            "--param flashcopy.nope: no [[flashcopy]] with id = 'nope'\n",
        ),
        (
            ["--param", "run.duration_s=5", "--set", "flashcopy.nope.copy_rate=1"],
            "--set flashcopy.nope: no [[flashcopy]] with id = 'nope'\n",
        ),
    ],
)
def test_sweep_rejects_a_grid_the_command_line_cannot_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    scenario = ROOT / "scenarios" / "oltp_nightly_backup.toml"
    code = main(["sweep", str(scenario), *extra, "--out", str(tmp_path / "s"), "--jobs", "1"])
    assert code == 2
    assert capsys.readouterr().err.endswith(message)
    assert not (tmp_path / "s").exists()


def _summary(rate_mib_s: float) -> dict[str, Any]:
    """A point's summary as far as the sweep plot reads it: 64 MiB copied at the rate."""
    return {
        "workloads": [{"name": "db"}],
        "relationships": {"nightly": {"copy_rate_mib_s": rate_mib_s, "copy_s": 64 / rate_mib_s,
                                      "impact": {"workloads": {"db": {
                                          "before": {"latency_ms": {"p99": 1.0}},
                                          "during": {"latency_ms": {"p99": 2.0}}}}}}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("key", "given", "rates", "expected", "log"),
    [
        # the SVC scale: 21-30 = 512 KiB/s, doubling every ten up to 91-100 = 64 MiB/s
        (
            "flashcopy.nightly.copy_rate",
            ["30", "50", "70", "100"],
            [0.5, 2, 8, 64],
            [0.5, 2, 8, 64],
            True,
        ),
        ("flashcopy.0.copy_rate_mib_s", ["1", "10", "100"], [1, 10, 100], [1, 10, 100], True),
        ("run.window_s", ["0.5", "2"], [1, 2], [0.5, 2], False),
        ("workload.db.rw", ["randread", "randwrite"], [1, 2], [0, 1], False),
    ],
)
def test_the_sweep_plot_puts_the_parameter_on_a_numeric_axis(
    key: str, given: list[str], rates: list[float], expected: list[float], log: bool
) -> None:
    points = [[(key, v)] for v in given]
    summaries = [_summary(r) for r in rates]
    x, _, is_log, ticks = x_axis(key, points, summaries)
    assert x == pytest.approx(expected)
    assert is_log is log
    figure = sweep_figure(points, summaries)
    assert len(figure.axes) == 2  # two panels with axes of their own: no twin axes
    p99, copy = figure.axes
    assert copy.get_xscale() == ("log" if log else "linear")
    assert [t.get_text() for t in copy.get_xticklabels()] == ticks
    assert p99.lines[0].get_ydata().tolist() == [2.0] * len(given)  # the copy-window p99
    assert copy.lines[0].get_ydata().tolist() == pytest.approx([64 / r for r in rates])
