"""`--verify`: the simulated images against the naive oracle, replayed in serial order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim_helpers import scenario

from flashsim.main import main
from flashsim.sim.engine import Simulation
from flashsim.sim.scenario import ScenarioError
from flashsim.sim.verify import check, simulate_and_verify

SMALL = (
    """
[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 50
parallelism = 4
"""
    + "".join(
        f'[[volume]]\nname = "{v}"\nsize_mib = 1\ntrack_size_kib = 4\narray = "a0"\n'
        for v in "ABCD"
    )
    + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0.5
incremental = true
copy_rate_mib_s = 0.5
[[flashcopy]]
id = "r2"
source = "B"
target = "C"
at_s = 1
background_copy = false
[[flashcopy]]
id = "r3"
source = "A"
target = "D"
at_s = 0.2
copy_rate_mib_s = 0.4
[[workload]]
volume = "A"
rw = "randwrite"
bssplit = "1k/30:4k/40:12k/30"
rate_iops = 200
[[workload]]
volume = "B"
rw = "randrw"
bs = "2k"
rate_iops = 100
[[workload]]
volume = "C"
rw = "randrw"
bs = "6k"
iodepth = 2
[[workload]]
volume = "D"
rw = "randwrite"
bs = "512"
rate_iops = 100
"""
)


EVENTS = """
[[event]]
at_s = 3
action = "refresh"
id = "r1"
[[event]]
at_s = 4.5
action = "withdraw"
id = "r2"
"""


def test_cascade_refresh_withdraw_and_partial_writes_keep_every_point_in_time() -> None:
    result, verification = simulate_and_verify(scenario(SMALL + EVENTS, duration_s=6))
    assert verification.problems == ()
    assert verification.operations > 1000
    stats = result.relationships
    assert stats["r1"].cow_copies > 0 and stats["r2"].cow_copies > 0
    assert stats["r1"].background_tracks_copied > 0
    assert [e["event"] for e in result.timeline] == [
        "establish r3", "establish r1", "establish r2", "refresh r1", "withdraw r2",
    ]  # fmt: skip


def test_verify_reports_a_target_track_changed_behind_the_model_s_back() -> None:
    oplog: list[tuple[str, tuple[object, ...]]] = []
    sim = Simulation(scenario(SMALL, duration_s=1.5), oplog=oplog)
    sim.run()
    sim.finish_inflight()
    sim.system.volumes["D"].backend.write(8192, b"\xff" * 10)  # not through FlashCopy
    verification = check(sim.scenario, sim, oplog)
    assert not verification.ok
    assert verification.problems[0].startswith("volume D: image differs from the oracle's")


def test_verify_refuses_volumes_too_large_for_the_oracle() -> None:
    big = SMALL.replace("size_mib = 1\n", "size_mib = 128\n")
    with pytest.raises(ScenarioError, match="--verify needs volumes of at most 256 MiB"):
        simulate_and_verify(scenario(big, duration_s=2))


def test_run_verify_writes_verify_json(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text("[run]\nduration_s = 1.5\nplots = false\n" + SMALL)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--verify", "--quiet"]) == 0
    report = json.loads((tmp_path / "o" / "verify.json").read_text())
    assert report["ok"] is True and report["problems"] == []


REVERSE = (
    SMALL.split("[[flashcopy]]")[0]
    + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0.1
incremental = true
copy_rate_mib_s = 2
[[event]]
at_s = 1.5
action = "reverse"
id = "r1"
[[event]]
at_s = 2.5
action = "reverse"
id = "r1"
fast = true
[[workload]]
volume = "A"
rw = "randwrite"
bs = "3k"
rate_iops = 200
[[workload]]
volume = "B"
rw = "randwrite"
bs = "5k"
rate_iops = 100
"""
)


def test_reverse_and_fast_reverse_restore_the_expected_images() -> None:
    result, verification = simulate_and_verify(scenario(REVERSE, duration_s=3))
    assert verification.problems == ()
    assert [(e["event"], e["error"]) for e in result.timeline] == [
        ("establish r1", None), ("reverse r1", None), ("reverse fast r1", None),
    ]  # fmt: skip
    rel = result.system.relationships["r1"]
    assert (rel.source, rel.target) == ("A", "B")  # flipped twice
    assert len(result.relationships["r1"].points_in_time) == 3
