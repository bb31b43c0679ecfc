"""`flashsim sweep`: a grid of runs in parallel processes, a table and a plot."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from flashsim.main import main
from flashsim.sim.sweep import grid, parse_param

ROOT = Path(__file__).resolve().parents[2]


def test_grid_is_every_combination_last_parameter_fastest() -> None:
    params = [parse_param("a.x=1,2"), parse_param("b.y=p,q")]
    assert grid(params) == [
        [("a.x", "1"), ("b.y", "p")],
        [("a.x", "1"), ("b.y", "q")],
        [("a.x", "2"), ("b.y", "p")],
        [("a.x", "2"), ("b.y", "q")],
    ]


def test_sweep_of_copy_rate_runs_in_parallel_and_tabulates_copy_time(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "oltp_nightly_backup.toml"
    args = ["sweep", str(scenario), "--param", "flashcopy.nightly.copy_rate=71,91"]
    sets = ["--set", "run.duration_s=14", "--set", "run.records=false", "--set", "run.plots=false"]
    assert main([*args, *sets, "--out", str(tmp_path / "s"), "--jobs", "2", "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "s" / "sweep.csv").read_text().splitlines()))
    assert [r["flashcopy.nightly.copy_rate"] for r in rows] == ["71", "91"]
    assert rows[0]["nightly.copy_complete_at_s"] == ""  # 16 MiB/s: 128 MiB need 8 s: not yet
    assert 10 < float(rows[1]["nightly.copy_complete_at_s"]) < 12.1  # 64 MiB/s: 2 s
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        ".flashsim-output", "points.json", "runs", "sweep.csv", "sweep.png", "sweep.svg",
    ]  # fmt: skip


def test_sweep_rejects_a_bad_parameter_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = ROOT / "scenarios" / "oltp_nightly_backup.toml"
    code = main(["sweep", str(scenario), "--param", "flashcopy.nightly.copy_rate=50,200",
                 "--out", str(tmp_path / "s")])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.endswith("flashcopy[0].copy_rate: must be 0-150, got 200\n")
    assert not (tmp_path / "s").exists()
