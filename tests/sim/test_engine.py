"""The simulator's behaviour: workloads, timeline, groups, space, outputs and determinism."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.main import main
from flashsim.sim.engine import simulate
from flashsim.sim.inputs.synthetic import Workload
from flashsim.sim.metrics import summary
from flashsim.sim.scenario import MIB, loads

ROOT = Path(__file__).resolve().parents[2]
PAIR = array() + volume("A", 64) + volume("B", 64)


def workload_of(text: str) -> Workload:
    spec = scenario(PAIR + text).workloads[0]
    return Workload(spec, np.random.default_rng(3))


@pytest.mark.parametrize(
    "dist", ["random", "zipf:1.2", "pareto:0.2", "normal", "zoned:80/10:20/90"]
)
def test_random_offsets_are_aligned_to_the_block_size_and_stay_in_the_region(dist: str) -> None:
    w = workload_of(f"""
[[workload]]
volume = "A"
rw = "randrw"
bssplit = "4k/50:64k/50"
offset = "16m"
size = "32m"
random_distribution = "{dist}"
""")
    ios = [w.next() for _ in range(5000)]
    for _, offset, length in ios:
        assert offset % length == 0
        assert offset >= 16 << 20 and offset + length <= 48 << 20
    fraction_64k = sum(length == 65536 for _, _, length in ios) / len(ios)
    assert fraction_64k == pytest.approx(0.5, abs=0.03)
    reads = sum(r for r, _, _ in ios) / len(ios)
    assert reads == pytest.approx(0.5, abs=0.03)


def test_skewed_distributions_concentrate_accesses() -> None:
    base = '[[workload]]\nvolume = "A"\nrw = "randread"\nrandom_distribution = "{}"\n'
    zoned = workload_of(base.format("zoned:80/10:20/90"))
    offsets = np.array([zoned.next()[1] for _ in range(20000)])
    assert np.mean(offsets < (64 << 20) // 10) == pytest.approx(0.8, abs=0.02)
    zipf = workload_of(base.format("zipf:1.2"))
    _, counts = np.unique([zipf.next()[1] for _ in range(20000)], return_counts=True)
    assert np.sort(counts)[::-1][:10].sum() / 20000 > 0.35  # 16,384 blocks: a heavy head


def test_sequential_workload_wraps_at_the_end_of_its_region() -> None:
    w = workload_of('[[workload]]\nvolume = "A"\nrw = "read"\nbs = "1m"\nsize = "3m"\n')
    assert [w.next()[1] >> 20 for _ in range(5)] == [0, 1, 2, 0, 1]


def test_nocopy_target_reads_are_redirected_to_the_source_array() -> None:
    body = (
        array("src")
        + array("tgt")
        + volume("A", 64, "src")
        + volume("B", 64, "tgt")
        + flashcopy("r1", "A", "B", 0, background_copy=False)
        + """
[[workload]]
volume = "B"
rw = "randread"
bs = "4k"
rate_iops = 200
start_s = 0.01
"""
    )
    result = simulate(scenario(body, duration_s=5))
    reads = summary(result)["workloads"][0]["reads"]
    assert result.relationships["r1"].redirected_reads == reads
    assert result.arrays["src"].ios["redirected"] == reads
    assert result.arrays["tgt"].ios["redirected"] == 0


def test_rule0_copies_of_a_whole_volume_operation_cost_device_time_while_gated() -> None:
    # withdrawing A->B under B->C: C reads its 256 tracks through B from A, so before B's
    # image changes, C receives them (rule 0): 4 extents of 64 tracks (4 MiB), each a read and
    # a write of 1 ms + 4 MiB / 64 MiB/s = 63.5 ms, two at a time on the 2-slot array
    body = (
        array("a0", lat=1, bw=64, par=2)
        + "".join(volume(v, 16) for v in "ABCD")
        + flashcopy("r1", "A", "B", 1, background_copy=False)
        + flashcopy("r2", "B", "C", 2, background_copy=False)
        + """
[[event]]
at_s = 3
action = "withdraw"
id = "r1"

[[workload]]
volume = "C"
rw = "randread"
bs = "4k"
rate_iops = 1000
start_s = 3.0001
"""
    )
    result = simulate(scenario(body, duration_s=4))
    rel = summary(result)["relationships"]["r1"]
    assert rel["withdrawn_at_s"] == pytest.approx(3 + 2 * 2 * 0.0635)
    a0 = result.arrays["a0"]
    assert (a0.ios["rule0"], a0.bytes["rule0"]) == (8, 2 * 16 * MIB)
    # host reads of C wait at the gate until the copies are done
    rec = result.records
    assert rec["issue_s"][rec["workload"] == 0].min() >= 3.0001
    done = rec["issue_s"] + rec["latency_s"]
    assert done.min() >= 3 + 4 * 0.0635 - 1e-9


def test_consistency_group_freeze_holds_source_writes_until_the_establish() -> None:
    body = (
        PAIR
        + volume("C", 64)
        + volume("D", 64)
        + """
[[flashcopy]]
id = "f1"
source = "A"
target = "B"
[[flashcopy]]
id = "f2"
source = "C"
target = "D"
[[group]]
id = "cg"
members = ["f1", "f2"]
at_s = 2
establish_after_s = 0.5
[[workload]]
volume = "A"
rw = "randwrite"
rate_iops = 200
"""
    )
    result = simulate(scenario(body, duration_s=5))
    assert result.relationships["f1"].established_at_s == 2.5
    assert result.relationships["f2"].established_at_s == 2.5
    assert [e["event"] for e in result.timeline] == ["freeze cg", "establish group cg", "thaw cg"]
    latency = result.records["latency_s"]
    issue = result.records["issue_s"]
    held = (issue >= 2) & (issue < 2.5)
    assert held.any()
    assert np.all(issue[held] + latency[held] >= 2.5)


def test_a_freeze_longer_than_the_timeout_releases_writes_and_fails_the_group() -> None:
    body = (
        PAIR
        + """
[[flashcopy]]
id = "f1"
source = "A"
target = "B"
[[group]]
id = "cg"
members = ["f1"]
at_s = 1
establish_after_s = 3
freeze_timeout_s = 2
[[workload]]
volume = "A"
rw = "randwrite"
rate_iops = 100
"""
    )
    result = simulate(scenario(body, duration_s=5))
    stats = result.relationships["f1"]
    assert stats.established_at_s is None
    assert stats.error == (
        "group cg: freeze timed out after 2.0 s; writes released, nothing established"
    )
    assert float(result.records["latency_s"].max()) == pytest.approx(2.0, abs=0.01)
    assert "f1" not in result.system.relationships


def test_space_efficient_target_fails_and_source_writes_go_on() -> None:
    body = (
        PAIR
        + """
[[flashcopy]]
id = "se"
source = "A"
target = "B"
at_s = 0
background_copy = false
target_capacity_mib = 4
[[workload]]
name = "prod"
volume = "A"
rw = "randwrite"
rate_iops = 500
start_s = 0.01
[[workload]]
name = "reader"
volume = "B"
rw = "randread"
iodepth = 1
start_s = 0.01
"""
    )
    result = simulate(scenario(body, duration_s=4))
    info = summary(result)
    prod, reader = info["workloads"]
    assert prod["errors"] == 0
    assert reader["errors"] > 0
    assert reader["error_kinds"] == {"RelationshipFailedError": reader["errors"]}
    assert info["relationships"]["se"]["failed"] is True
    assert info["relationships"]["se"]["cow_copies"] >= 64  # 4 MiB of 64 KiB tracks


SPACE_RACE = (
    PAIR
    + """
[[flashcopy]]
id = "se"
source = "A"
target = "B"
at_s = 0
background_copy = false
target_capacity_mib = 4
[[workload]]
volume = "A"
rw = "randwrite"
rate_iops = 500
start_s = 0.01
"""
)


def test_concurrent_writes_never_allocate_more_than_the_target_capacity() -> None:
    """Regression: the capacity check and the allocation raced until the space-pool lock."""
    result = simulate(scenario(SPACE_RACE, duration_s=4))
    rel = result.system.relationships["se"]
    assert rel.allocated is not None
    assert rel.allocated.count <= 64


def test_incremental_refresh_copies_again_only_the_changed_tracks() -> None:
    body = (
        PAIR
        + """
[[flashcopy]]
id = "inc"
source = "A"
target = "B"
at_s = 0
incremental = true
copy_rate_mib_s = 64
[[event]]
at_s = 3
action = "refresh"
id = "inc"
[[workload]]
volume = "A"
rw = "randwrite"
bs = "64k"
size = "8m"
rate_iops = 50
start_s = 1.5
stop_s = 2.5
"""
    )
    result = simulate(scenario(body, duration_s=5))
    stats = result.relationships["inc"]
    first, second = stats.points_in_time
    assert first["copy_complete_at_s"] == pytest.approx(1.0, abs=0.05)
    assert second["at_s"] == 3
    assert second["copy_complete_at_s"] is not None and second["copy_complete_at_s"] < 3.2
    assert stats.background_tracks_copied <= 1024 + 128  # the full copy + the 8 MiB written


def test_same_seed_gives_byte_identical_outputs(tmp_path: Path) -> None:
    path = ROOT / "scenarios" / "nocopy_backup_job.toml"
    args = ["run", str(path), "--quiet", "--set", "run.duration_s=8", "--seed", "4"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--out", str(tmp_path / "two")]) == 0
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == [
        ".flashsim-output", "copy_impact.png", "copy_impact.svg", "ios.csv", "scenario.json",
        "summary.json", "windows.csv",
    ]  # fmt: skip
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / "two", names, shallow=False)
    assert (mismatch, errors) == ([], [])
    assert main([*args[:-1], "5", "--out", str(tmp_path / "three")]) == 0
    assert (tmp_path / "three" / "ios.csv").read_bytes() != (
        tmp_path / "one" / "ios.csv"
    ).read_bytes()


def test_ios_csv_is_written_a_block_at_a_time_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ROOT / "scenarios" / "nocopy_backup_job.toml"
    args = ["run", str(path), "--quiet", "--set", "run.duration_s=8", "--set", "run.plots=false"]
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    # many blocks, a ragged last one
    monkeypatch.setattr("flashsim.sim.metrics.tables.RECORD_BLOCK", 7)
    assert main([*args, "--out", str(tmp_path / "blocks")]) == 0
    whole = (tmp_path / "whole" / "ios.csv").read_bytes()
    assert whole == (tmp_path / "blocks" / "ios.csv").read_bytes()
    assert whole.count(b"\n") % 7 != 1  # the header and a last block shorter than 7


def test_run_replaces_the_output_folder_atomically_and_summary_has_the_contract(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    path = ROOT / "scenarios" / "oltp_nightly_backup.toml"
    sets = ["--set", "run.duration_s=12", "--set", "run.plots=false", "--set", "run.records=false"]
    assert main(["run", str(path), "--out", str(out), "--quiet", "--force", *sets]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".flashsim-output", "scenario.json", "summary.json", "windows.csv",
    ]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
    info = json.loads((out / "summary.json").read_text())
    (w,) = info["workloads"]
    assert set(w) >= {"volume", "ios", "iops", "latency_ms"}
    assert set(w["latency_ms"]) >= {"p50", "p95", "p99", "max"}
    rel = info["relationships"]["nightly"]
    assert set(rel) >= {
        "established_at_s", "copy_complete_at_s", "cow_copies", "redirected_reads",
        "background_tracks_copied",
    }  # fmt: skip
    assert 0 < info["arrays"]["rank0"]["utilisation"] < 1


def test_run_reports_a_bad_scenario_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nduration_s = -1\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == f"flashsim run: {bad}: run.duration_s: must be > 0, got -1\n"
    assert not (tmp_path / "o").exists()


def test_scenarios_parse_from_strings_too() -> None:
    assert (
        loads(
            '[run]\nduration_s = 1\n[[array]]\nname = "a"\nread_latency_ms = 1\n'
            'write_latency_ms = 1\nbandwidth_mib_s = 1\n[[volume]]\nname = "v"\n'
            'size_mib = 1\narray = "a"\n'
        )
        .volumes[0]
        .tracks
        == 16
    )


PREEMPT = (
    """
[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 100
parallelism = 1
preemptive = {preemptive}
"""
    + "".join(volume(v, 64) for v in ("A", "B", "C"))
    + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0
copy_rate_mib_s = 1024
copy_extent_tracks = 64
[[workload]]
volume = "C"
rw = "randread"
bs = "4k"
rate_iops = 20
"""
)


def test_preemptive_arrays_serve_host_io_before_a_background_transfer_ends() -> None:
    # Background extents of 4 MiB hold the only slot for ~40 ms each; without preemption a
    # host read waits for the transfer in progress, with it the transfer is interrupted.
    def mean_read_ms(preemptive: str) -> float:
        result = simulate(scenario(PREEMPT.format(preemptive=preemptive), duration_s=1))
        assert result.relationships["r1"].background_tracks_copied > 0
        return float(np.mean(result.records["latency_s"])) * 1000

    waited, preempted = mean_read_ms("false"), mean_read_ms("true")
    assert waited > 10
    assert preempted == pytest.approx(0.5 + 4096 / (100 << 20) * 1000, rel=0.05)


def test_file_backend_gives_the_same_results_as_memory() -> None:
    body = (
        PAIR
        + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0.5
copy_rate_mib_s = 32
[[workload]]
volume = "A"
rw = "randrw"
bs = "8k"
rate_iops = 300
[[workload]]
volume = "B"
rw = "randread"
bs = "64k"
rate_iops = 100
"""
    )
    memory = summary(simulate(scenario(body, duration_s=3)))
    file = summary(simulate(scenario(body, duration_s=3, backend='"file"')))
    assert memory == file
    assert memory["relationships"]["r1"]["copy_complete_at_s"] is not None
