"""The simulator benchmark runs and reports its figures (never a pass/fail on speed)."""

from __future__ import annotations

import pytest

from flashsim.bench.simulator import (
    CASES,
    bare_simpy_cycles_per_s,
    bench_simulator,
    toy_host_ios_per_s,
)


def test_bench_prints_flashsim_against_the_toy_and_bare_simpy_in_each_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    duration_s, rate = 0.2, 2000
    figures = bench_simulator(duration_s=duration_s, rate_iops=rate)
    # Poisson arrivals at 2,000/s for 0.199 s: 398 expected, within 5 standard deviations
    expected = rate * (duration_s - 0.001)
    for _, _, case in CASES:
        assert abs(figures[f"{case}_host_ios"] - expected) < 5 * expected**0.5, case
        assert figures[f"{case}_ratio_to_toy"] == pytest.approx(
            figures[f"{case}_host_ios_per_cpu_s"] / figures[f"{case}_toy_host_ios_per_cpu_s"]
        )
        assert figures[f"{case}_ratio_to_bare_simpy"] == pytest.approx(
            figures[f"{case}_device_accesses_per_cpu_s"] / figures["bare_simpy_cycles_per_s"]
        )
    # 4 KiB writes on 1 Mi tracks: a few hundred writes almost never meet a copied track
    assert figures["cow_cow_copies"] > 0.99 * figures["cow_host_ios"]
    assert figures["none_cow_copies"] == 0
    # a copy-before-write is 3 device accesses, a plain write 1
    assert figures["none_device_accesses_per_cpu_s"] == pytest.approx(
        figures["none_host_ios_per_cpu_s"]
    )
    assert figures["cow_device_accesses_per_cpu_s"] == pytest.approx(
        figures["cow_host_ios_per_cpu_s"]
        * (1 + 2 * figures["cow_cow_copies"] / figures["cow_host_ios"])
    )
    out = capsys.readouterr().out
    assert out.count("BASELINE toy") == 3 and "bare SimPy" in out
    assert bare_simpy_cycles_per_s(64) > 0


def test_the_toy_issues_the_scenarios_poisson_arrivals() -> None:
    # 5,000/s for 0.999 s: 4,995 expected, within 5 standard deviations
    for case in ("cow", "none", "background"):
        _, ios = toy_host_ios_per_s(case, 1.0, 5000)
        assert abs(ios - 4995) < 5 * 4995**0.5, case


def test_bench_traces_prints_parse_and_replay_rates(capsys: pytest.CaptureFixture[str]) -> None:
    from flashsim.bench.traces import bench_traces
    from flashsim.sim.inputs.traces import FORMATS

    figures = bench_traces(parse_records=2_000, replay_s=0.2, rate_iops=2000, repeat=1)
    assert sorted(figures) == sorted(
        [f"parse_{f}" for f in FORMATS]
        + ["replay_host_ios_per_wall_s", "generated_host_ios_per_wall_s", "ratio"]
    )
    assert "trace replay" in capsys.readouterr().out


def test_bench_checker_prints_states_per_second_and_the_reduction(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flashsim.bench.checker import large_config
    from flashsim.bench.core import bench_checker
    from flashsim.models.check.explorer import explore

    lines = bench_checker(repeat=1, quick=True)
    names = [line["name"] for line in lines]
    assert names[:2] == [
        "checker (a), no reduction: states/s",
        "checker (a), partial order + symmetry: states",
    ]
    assert names[2].startswith("checker at scale (") and names[2].endswith(" states): states/s")
    # the first 2 bundled configurations (DS8000) x (the correct model + the DS8000 mutants)
    from flashsim.models.check.mutants import MUTANTS, design_of

    ds8000 = sum(design_of(m) == "ds8000" for m in MUTANTS)
    assert names[3] == "checker at scale: bytes per state"
    assert names[4].startswith(f"checker, {2 * (1 + ds8000)} searches on ")
    # one search split over the cores: the same states and edges as on one process
    quick_large = explore(large_config(readers=0), progress=False)
    assert names[5].startswith(f"checker, one search ({quick_large.states:,} states) on ")
    assert lines[5]["goal"] == "same states and edges"
    assert lines[1]["value"] == "424" and lines[1]["baseline"] == "2,149 full"
    assert lines[1]["ratio"] == pytest.approx(424 / 2149)
    out = capsys.readouterr().out
    assert "toy dict BFS" in out and "BASELINE BFS" in out and "speed-up x" in out


def test_the_baseline_bfs_finds_the_searchs_states() -> None:
    from flashsim.bench.checker import baseline_bfs, large_config
    from flashsim.models.check.explorer import explore

    config = large_config(readers=0)
    states, _ = baseline_bfs(config)
    assert states == explore(config, progress=False).states


def test_a_child_run_prints_the_host_ios_of_the_in_process_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flashsim.bench.simulator import _child, _flashsim, scenario_text

    for label, relationship, case in CASES:
        _child(case, 0.05, 2000, toy=False)
        assert int(capsys.readouterr().out) == _flashsim(scenario_text(relationship, 0.05, 2000))[1]
        _child(case, 0.05, 2000, toy=True)
        assert int(capsys.readouterr().out) == toy_host_ios_per_s(case, 0.05, 2000)[1], label


def test_without_valgrind_the_instruction_count_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flashsim.bench import simulator

    monkeypatch.setattr(simulator.shutil, "which", lambda _: None)
    assert simulator.bench_instructions() == {}
    assert "skipped, valgrind is not installed" in capsys.readouterr().out


def test_callgrind_counts_more_instructions_for_a_longer_run() -> None:
    # One child run under valgrind costs ~10 s: a short and a longer run of one case only.
    import os
    import shutil

    from flashsim.bench.simulator import _instructions

    if shutil.which("valgrind") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("valgrind is not installed: .ci/run installs it (apt-get install valgrind)")
        pytest.skip("valgrind is not installed (apt-get install valgrind)")
    (i0, n0), (i1, n1) = (_instructions("none", d, 2000, toy=False) for d in (0.05, 0.25))
    # Poisson arrivals at 2,000/s from 1 ms: about 98 and 498 I/Os
    assert 0 < n0 < n1 and i1 > i0
    # each extra host I/O costs tens of thousands of instructions, far from zero or millions
    assert 10_000 < (i1 - i0) / (n1 - n0) < 2_000_000
