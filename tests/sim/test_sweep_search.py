"""The what-if search (`--minimize`, `--subject-to`, `--search`) on a case whose answer is
known by arithmetic, its strict parsing (exit 2 naming the flag), and the Student-t interval
against its closed forms."""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest
from fuzzing import fuzz_examples
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep_cases import write_theory

from flashsim.main import main
from flashsim.sim.scenario import ScenarioError
from flashsim.sim.sweep_search import (
    Constraint,
    Search,
    bisect_lines,
    pareto_front,
    parse_constraint,
)
from flashsim.sim.sweep_stats import interval, t_quantile

# The theory case (sweep_cases.THEORY): 2 MiB = 32 tracks copied one track per extent at R
# MiB/s from 1 s; the reader `db` keeps one 1 ms read in flight on the one-slot array that
# also serves the copy's reads. A copy read queued behind a host read takes the slot when
# that read completes, so the host's next read waits for it: 2 ms instead of 1. In the copy
# window (V/R) there are 32 copy reads and about (V/R - 32 ms) / 1 ms host reads, so the
# share of slow host reads is 1 ms / (1/(16 R) s - 1 ms): 0.40% at R = 0.25, 0.81% at 0.5,
# 1.6% at 1, 3.3% at 2. p99 stays at 1 ms while under 1%: the fastest copy whose copy-window
# p99 is at most 1.5 ms is R = 0.5, and it takes V/R = 4 s less the last extent's 1/16 MiB / R.
RATES = [0.25, 0.5, 1, 2, 4, 8]
PARAM = "flashcopy.fc.copy_rate_mib_s=" + ",".join(f"{r:g}" for r in RATES)
LIMIT = "db.copy_window_latency_ms_p99<=1.5"


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text().splitlines()))


@pytest.mark.parametrize("method", ["grid", "bisect"])
def test_the_search_finds_the_fastest_copy_under_the_latency_limit(
    tmp_path: Path, method: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_theory(tmp_path)
    out = tmp_path / method
    code = main(["sweep", str(path), "--param", PARAM, "--out", str(out), "--jobs", "1",
                 "--minimize", "fc.copy_s", "--subject-to", LIMIT, "--search", method])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "best: point 001 (flashcopy.fc.copy_rate_mib_s=0.5): fc.copy_s = " in printed
    answer = json.loads((out / "search.json").read_text())
    assert answer["best"]["parameters"] == {"flashcopy.fc.copy_rate_mib_s": "0.5"}
    assert answer["best"]["figures"]["fc.copy_s"] == pytest.approx(2 / 0.5 - 1 / 16 / 0.5, abs=0.01)
    assert answer["best"]["figures"]["db.copy_window_latency_ms_p99"] == pytest.approx(1, abs=1e-3)
    rows = {float(r["flashcopy.fc.copy_rate_mib_s"]): r for r in rows_of(out / "search.csv")}
    for rate, row in rows.items():
        assert row["feasible"] == str(rate <= 0.5)
        slow = 2.0 if rate > 0.5 else 1.0  # a host read behind a copy read, or not
        assert float(row["db.copy_window_latency_ms_p99"]) == pytest.approx(slow, abs=1e-3)
        assert float(row["fc.copy_s"]) == pytest.approx(2 / rate - 1 / 16 / rate, abs=0.01)
    if method == "grid":
        assert sorted(rows) == RATES
    else:  # 8 (infeasible: not all feasible), then 1, 0.25, 0.5: 4 of 6 runs
        assert sorted(rows) == [0.25, 0.5, 1, 8]
        assert answer["evaluated"] == 4
    # the fastest copy at each of the two p99 levels: 8 MiB/s at 2 ms, 0.5 at 1 ms
    assert answer["front"]["points"] == [5, 1]
    assert {p.name for p in out.iterdir()} >= {"search.json", "search.csv", "search.png",
                                               "search.svg", "sweep.csv", "sweep.parquet"}  # fmt: skip


def test_no_feasible_point_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_theory(tmp_path)
    code = main(["sweep", str(path), "--param", "flashcopy.fc.copy_rate_mib_s=2,4", "--out",
                 str(tmp_path / "o"), "--jobs", "1", "--minimize", "fc.copy_s",
                 "--subject-to", LIMIT])  # fmt: skip
    assert code == 1
    assert f"no evaluated point meets {LIMIT}" in capsys.readouterr().out
    assert json.loads((tmp_path / "o" / "search.json").read_text())["best"] is None


def test_no_best_says_which_limit_was_missed_and_by_how_near() -> None:
    search = Search(
        "fc.copy_s", (Constraint("db.p99", "<=", 5.0), Constraint("db.iops", ">", 9.0)), "grid"
    )
    figures = {0: {"fc.copy_s": 3.0, "db.p99": 7.5, "db.iops": 10.0},
               1: {"fc.copy_s": 2.0, "db.p99": 6.0, "db.iops": None}}  # fmt: skip
    assert search.best(figures) is None
    assert search.no_best(figures) == (
        "no evaluated point meets db.p99<=5.0, db.iops>9.0 (db.p99 least 6.0; db.iops most 10.0)"
    )


def test_no_best_among_feasible_points_names_the_missing_objective() -> None:
    """A copy that did not complete in the run has no copy time: the limits are met, the
    objective is what is missing."""
    search = Search("fc.copy_s", (Constraint("db.p99", "<=", 5.0),), "grid")
    figures = {0: {"fc.copy_s": None, "db.p99": 2.4}, 1: {"fc.copy_s": None, "db.p99": 9.0}}
    assert search.best(figures) is None
    assert search.no_best(figures) == (
        "1 of 2 evaluated points meet the constraints, but none has fc.copy_s (a copy that did "
        "not complete within the run has none: try a longer run.duration_s)"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--minimize", "copy_complete_s"], "--minimize: unknown metric 'copy_complete_s'; "
         "the sweep's table has: db.iops, "),
        (["--minimize", "fc.copy_s", "--subject-to", "db.p99<=5"],
         "--subject-to: unknown metric 'db.p99'"),
        (["--minimize", "fc.copy_s", "--subject-to", "db.iops=5"],
         "--subject-to 'db.iops=5': expected METRIC<=LIMIT (or <, >=, >)"),
        (["--minimize", "fc.copy_s", "--subject-to", "db.iops<=fast"],
         "--subject-to 'db.iops<=fast': the limit 'fast' is not a number"),
        (["--minimize", "fc.copy_s", "--subject-to", "db.iops<=inf"],
         "--subject-to 'db.iops<=inf': the limit must be finite"),
        (["--subject-to", "db.iops<=5"], "--subject-to and --search go with --minimize"),
    ],
)  # fmt: skip
def test_a_bad_search_is_exit_2_naming_it(
    tmp_path: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_theory(tmp_path)
    out = tmp_path / "o"
    code = main(["sweep", str(path), "--param", "flashcopy.fc.copy_rate_mib_s=1", "--out",
                 str(out), "--jobs", "1", *flags])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flashsim sweep: {message}")
    assert "Traceback" not in err
    assert not out.exists()


METRICS = ["db.iops", "fc.copy_s", "db.copy_window_latency_ms_p99"]


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(300))
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda m, op, v, pad: f"{pad}{m}{pad}{op}{pad}{v}",
            st.sampled_from([*METRICS, "db", "x.y", ""]),
            st.sampled_from(["<=", ">=", "<", ">", "=", "==", "=<", ""]),
            st.one_of(st.floats(allow_nan=True), st.text(max_size=8)).map(str),
            st.sampled_from(["", " ", "\t"]),
        ),
    )
)
def test_constraints_parse_strictly(text: str) -> None:
    try:
        c = parse_constraint(text, METRICS)
    except ScenarioError as error:
        message = str(error)
    else:
        message = ""
    if message:
        assert message.startswith("--subject-to")
        return
    assert c.metric in METRICS and math.isfinite(c.limit)
    assert c.op in ("<=", ">=", "<", ">")
    assert parse_constraint(str(c), METRICS) == c  # the printed form reads back


def test_bisect_finds_each_lines_last_feasible_value_in_log_runs() -> None:
    # two axes: 9 values of the first, 2 of the second; the feasible prefix of each line
    shape, cut = (9, 2), {0: 6, 1: 0}  # line 0: positions 0-5 feasible; line 1: none
    search = Search("y", (parse_constraint("ok>=1", ["ok", "y"]),), "bisect")
    calls: list[list[int]] = []

    def evaluate(batch: list[int]) -> dict[int, dict[str, float | None]]:
        calls.append(batch)
        return {i: {"ok": float(i // 2 < cut[i % 2]), "y": 9.0 - i // 2} for i in batch}

    seen = bisect_lines(search, shape, evaluate)
    assert search.best(seen) == 5 * 2 + 0  # line 0's last feasible value
    assert len(seen) <= 2 * (math.ceil(math.log2(9)) + 1)
    assert all(len(set(batch)) == len(batch) for batch in calls)


def test_the_pareto_front_keeps_the_points_no_other_beats_in_both() -> None:
    figures = {0: {"a": 1.0, "b": 5.0}, 1: {"a": 2.0, "b": 4.0}, 2: {"a": 3.0, "b": 4.5},
               3: {"a": 4.0, "b": 1.0}, 4: {"a": None, "b": 0.0}}  # fmt: skip
    assert pareto_front(figures, "a", "b") == [0, 1, 3]


def test_t_quantiles_match_the_closed_forms_and_the_tables() -> None:
    # 1 df is Cauchy: t = tan(pi (p - 1/2)); 2 df: t = (2p - 1) / sqrt(2 p (1 - p))
    assert t_quantile(0.95, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-10)
    assert t_quantile(0.95, 2) == pytest.approx(0.95 / math.sqrt(2 * 0.975 * 0.025), rel=1e-10)
    assert t_quantile(0.90, 2) == pytest.approx(0.90 / math.sqrt(2 * 0.95 * 0.05), rel=1e-10)
    for df, table in [(3, 3.182), (4, 2.776), (9, 2.262), (10, 2.228), (30, 2.042)]:
        assert t_quantile(0.95, df) == pytest.approx(table, abs=5e-4)
    assert t_quantile(0.95, 100_000) == pytest.approx(1.959964, abs=1e-4)  # the normal's


def test_the_interval_of_a_known_sample_and_its_coverage() -> None:
    ci = interval([1, 2, 3, 4, 5])  # mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445
    assert (ci.n, ci.mean) == (5, 3.0)
    assert ci.std == pytest.approx(math.sqrt(2.5))
    assert ci.high - 3 == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)
    assert interval([7.0, None]) == interval([7.0])  # missing values are left out
    assert interval([7.0]).low is None
    rng = random.Random(5)
    trials, covered = 4000, 0
    for _ in range(trials):
        c = interval([rng.gauss(10, 3) for _ in range(4)])
        covered += c.low <= 10 <= c.high
    # 95% +- 3 standard errors of a binomial proportion over 4000 trials
    assert abs(covered / trials - 0.95) < 3 * math.sqrt(0.95 * 0.05 / trials)


def test_the_search_figure_says_what_it_cannot_draw() -> None:
    """Points without the objective cannot be placed; the figure names them and says why
    there is no best, instead of showing empty axes."""
    from flashsim.sim.sweep_report import search_figure

    search = Search("fc.copy_s", (Constraint("db.p99", "<=", 5.0),), "grid")
    points = [[("flashcopy.fc.copy_rate", "10")], [("flashcopy.fc.copy_rate", "20")]]
    means = {0: {"fc.copy_s": None, "db.p99": 2.4}, 1: {"fc.copy_s": 30.0, "db.p99": 9.0}}
    fig = search_figure(search, points, means, None, [])
    (text,) = [t.get_text() for t in fig.axes[0].texts if "not drawn" in t.get_text()]
    assert search.no_best(means).split(" (")[0] in text.replace("\n", " ")
    assert "not drawn, 1 of 2 points without fc.copy_s: 10" in text.replace("\n", " ")
    drawn = search_figure(search, points, {0: means[1], 1: means[1]}, None, [])
    assert not any("not drawn" in t.get_text() for t in drawn.axes[0].texts)
