"""The numbers a run reports, each against a figure derived independently: from queueing with
fixed service times, from the scenario's own parameters, or from the per-I/O records."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.commands.run import console_lines
from flashsim.main import main
from flashsim.sim.engine import simulate
from flashsim.sim.metrics import summary, windows
from flashsim.sim.scenario import MIB

TRACK = 64 * 1024


def test_a_one_pass_backup_job_reports_its_ios_over_its_active_time() -> None:
    # 16 MiB read once, 64 KiB at a time, one I/O in flight on an idle array: every read takes
    # latency + 64 KiB / bandwidth = 1 ms + 0.25 ms, so N = 256 reads in T = 256 x 1.25 ms,
    # N / T = 800 IOPS and 50 MiB/s, whatever the (much longer) run.
    body = (
        array(lat=1.0, bw=250, par=1)
        + volume("A", 16)
        + '[[workload]]\nname = "backup"\nvolume = "A"\nrw = "read"\nbs = "64k"\n'
        + "iodepth = 1\ntime_based = false\nstart_s = 2\n"
    )
    info = summary(simulate(scenario(body, duration_s=10, records=True)))
    job = info["workloads"][0]
    service = 0.001 + TRACK / (250 * MIB)
    assert job["ios"] == 256
    assert job["first_issue_s"] == 2.0
    assert job["active_s"] == pytest.approx(256 * service, rel=1e-6)
    assert job["iops"] == pytest.approx(1 / service, rel=1e-4)
    assert job["mib_s"] == pytest.approx(TRACK / MIB / service, rel=1e-4)
    assert job["latency_ms"]["p50"] == job["latency_ms"]["p99_9"] == pytest.approx(service * 1e3)


SE = (
    array()
    + volume("A", 64)
    + volume("B", 64)
    + flashcopy("se", "A", "B", 1, background_copy=False, target_capacity_mib=2)
    + '[[workload]]\nname = "prod"\nvolume = "A"\nrw = "randwrite"\nbs = "4k"\nrate_iops = 40\n'
    + '[[workload]]\nname = "reader"\nvolume = "B"\nrw = "randread"\nbs = "64k"\niodepth = 1\n'
    + "start_s = 1.05\n"
)


def test_failed_ios_are_counted_apart_and_never_enter_iops_bytes_or_latency() -> None:
    result = simulate(scenario(SE, duration_s=6))
    info = summary(result)
    reader = info["workloads"][1]
    rec = result.records
    mine = rec["workload"] == 1
    failed = mine & (rec["error"] == 1)
    assert reader["errors"] == int(failed.sum()) > 0
    assert reader["ios"] == int((mine & (rec["error"] == 0)).sum()) > 0
    assert reader["bytes"] == reader["ios"] * TRACK
    assert reader["error_kinds"] == {"RelationshipFailedError": reader["errors"]}
    assert reader["errors_per_s"] == pytest.approx(reader["errors"] / reader["active_s"], rel=1e-3)
    assert reader["iops"] == pytest.approx(reader["ios"] / reader["active_s"], rel=1e-3)
    # a rejected read is answered after the array's read latency (0.5 ms): had those entered
    # the percentiles, the minimum would be 0.5 ms; served reads take 0.5 ms + 64 KiB / 500 MiB/s
    served = rec["latency_s"][mine & (rec["error"] == 0)]
    assert reader["latency_ms"]["max"] == pytest.approx(served.max() * 1e3, abs=1e-6)
    assert reader["latency_ms"]["p50"] >= 0.5 + TRACK / (500 * MIB) * 1e3 - 1e-6


def test_a_failed_relationship_has_its_time_cause_and_a_timeline_event() -> None:
    # 2 MiB of target room = 32 tracks: the write bringing the 33rd distinct source track after
    # the establish (40 writes/s: never two in flight) fails the relationship as it completes.
    result = simulate(scenario(SE, duration_s=6, records=True))
    rel = summary(result)["relationships"]["se"]
    rec = result.records
    writes = (rec["workload"] == 0) & (rec["issue_s"] >= 1.0)
    order = np.argsort(rec["issue_s"][writes])
    tracks = (rec["offset"][writes] // TRACK)[order]
    done = (rec["issue_s"] + rec["latency_s"])[writes][order]
    seen: set[int] = set()
    first_too_many = next(
        i for i, t in enumerate(tracks.tolist()) if seen.add(t) or len(seen) == 33
    )
    assert rel["failed"] is True
    assert rel["failed_at_s"] == pytest.approx(float(done[first_too_many]), abs=1e-6)
    assert "B is full (32 tracks)" in rel["error"]
    events = summary(result)["timeline"]
    assert {"at_s": rel["failed_at_s"], "event": "fail se", "error": rel["error"]} in events
    assert rel["impact"]["copy_window_s"] == [1.0, rel["failed_at_s"]]


def test_a_group_that_times_out_fails_its_members_with_a_time_and_cause() -> None:
    body = (
        array()
        + volume("A", 64)
        + volume("B", 64)
        + '[[flashcopy]]\nid = "f1"\nsource = "A"\ntarget = "B"\n'
        + '[[group]]\nid = "cg"\nmembers = ["f1"]\nat_s = 1\nestablish_after_s = 3\n'
        + "freeze_timeout_s = 2\n"
        + '[[workload]]\nname = "w"\nvolume = "A"\nrw = "randwrite"\nrate_iops = 100\n'
    )
    info = summary(simulate(scenario(body, duration_s=5)))
    rel, group = info["relationships"]["f1"], info["groups"]["cg"]
    assert (rel["failed"], rel["failed_at_s"]) == (True, 3.0)
    assert rel["error"] == group["error"] and "timed out after 2.0 s" in rel["error"]
    assert (group["frozen_at_s"], group["thawed_at_s"], group["writes_held_s"]) == (1.0, 3.0, 2.0)
    # a write issued at the freeze waits the whole 2 s: the freeze window's max write latency
    held = group["impact"]["workloads"]["w"]["during"]["write_latency_ms"]["max"]
    assert held == pytest.approx(2000.0, abs=20)
    for r in info["relationships"].values():
        assert not (r["failed"] and r["error"] is None)


def test_impact_splits_every_workload_at_the_copy_window() -> None:
    # 32 MiB copied at 16 MiB/s from t = 2 s: the copy window is [2, 4] (to one 50 ms extent).
    # Reads only, open loop at 200/s on an array that never queues them: every read takes
    # exactly its service time before, during and after, and each phase sees about 200 IOPS.
    body = (
        array(bw=4000, par=64)
        + volume("A", 32)
        + volume("B", 32)
        + flashcopy("r1", "A", "B", 2, copy_rate_mib_s=16)
        + '[[workload]]\nname = "db"\nvolume = "A"\nrw = "randread"\nbs = "4k"\nrate_iops = 200\n'
    )
    info = summary(simulate(scenario(body, duration_s=8)))
    rel = info["relationships"]["r1"]
    t0, t1 = rel["impact"]["copy_window_s"]
    assert t0 == rel["established_at_s"] == 2.0
    assert t1 == rel["copy_complete_at_s"] == pytest.approx(4.0, abs=0.06)
    assert rel["copy_s"] == pytest.approx(2.0, abs=0.06)
    service_ms = 0.5 + 4096 / (4000 * MIB) * 1e3
    phases = rel["impact"]["workloads"]["db"]
    lengths = {"before": t0, "during": t1 - t0, "after": 8 - t1}
    for name, phase in phases.items():
        assert phase["latency_ms"]["max"] == pytest.approx(service_ms, abs=1e-6)
        assert phase["iops"] == pytest.approx(200, rel=0.25), name
        assert phase["active_s"] == pytest.approx(lengths[name], abs=0.05)
    assert sum(p["ios"] for p in phases.values()) == info["workloads"][0]["ios"]


def test_windows_carry_each_workload_and_back_end_mib_s_by_kind() -> None:
    # Background copy at 16 MiB/s reads the source's array at 16 MiB/s while it runs.
    body = (
        array("a0", bw=4000, par=64)
        + array("a1", bw=4000, par=64)
        + volume("A", 32, "a0")
        + volume("B", 32, "a1")
        + flashcopy("r1", "A", "B", 1, copy_rate_mib_s=16)
        + '[[workload]]\nname = "db"\nvolume = "A"\nrw = "randrw"\nbs = "8k"\nrate_iops = 300\n'
        + '[[workload]]\nname = "job"\nvolume = "B"\nrw = "read"\nbs = "64k"\niodepth = 1\n'
        + "start_s = 2\n"
    )
    result = simulate(scenario(body, duration_s=6, window_s=0.5))
    info = summary(result)
    header, rows = windows(result)
    col = {name: i for i, name in enumerate(header)}
    for w in info["workloads"]:
        ios = sum(row[col[f"{w['name']}.iops"]] * 0.5 for row in rows)
        assert ios == pytest.approx(w["ios"], abs=0.01 * len(rows))
    copying = [r for r in rows if r[0] >= 1.0 and r[1] <= 2.5]
    assert copying
    for row in copying:
        assert row[col["a0.background_mib_s"]] == pytest.approx(16, rel=0.15)
        assert row[col["a1.background_mib_s"]] == pytest.approx(16, rel=0.15)
    total = sum(row[col["a0.host_mib_s"]] * 0.5 for row in rows) * MIB
    assert total == pytest.approx(result.arrays["a0"].bytes["host"], rel=1e-3)
    assert header.count("db.latency_ms_p99_9") == 1
    job_rows = [r for r in rows if r[0] >= 2.0]
    assert all(r[col["job.latency_ms_p99"]] is not None for r in job_rows)
    assert all(r[col["job.iops"]] == 0 for r in rows if r[1] <= 2.0)


def test_a_workload_name_with_a_comma_keeps_every_csv_column_in_place(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        "[run]\nduration_s = 2\nplots = false\n"
        + array()
        + volume("A", 16)
        + '[[workload]]\nvolume = "A"\nrw = "randread"\nrate_iops = 50\n'
    )
    out = tmp_path / "out"
    args = ["run", str(path), "--quiet", "--out", str(out), "--set", 'workload.0.name="db,prod"']
    assert main(args) == 0
    with (out / "windows.csv").open(newline="") as f:
        table = list(csv.reader(f))
    assert "db,prod.iops" in table[0]
    assert {len(row) for row in table} == {len(table[0])}
    with (out / "ios.csv").open(newline="") as f:
        records = list(csv.reader(f))
    assert {len(row) for row in records} == {8}
    assert {row[0] for row in records[1:]} == {"db,prod"}
    info = json.loads((out / "summary.json").read_text())
    assert info["workloads"][0]["name"] == "db,prod"


def test_the_console_never_prints_none_and_gives_the_copy_window_p99() -> None:
    body = (
        array()
        + volume("A", 16)
        + volume("B", 16)
        + flashcopy("snap", "A", "B", 1, background_copy=False)
        + '[[workload]]\nname = "db"\nvolume = "A"\nrw = "randrw"\nrate_iops = 200\n'
    )
    info = summary(simulate(scenario(body, duration_s=3)))
    lines = console_lines(info)
    text = "\n".join(lines)
    assert "None" not in text
    assert "snap: established 1.0 s, no background copy (NOCOPY)" in text
    during = info["relationships"]["snap"]["impact"]["workloads"]["db"]["during"]
    assert f"db: p99 {during['latency_ms']['p99']:g} ms in the copy window 1.0-3.0 s" in text


def test_summary_keys_carry_units() -> None:
    info = summary(simulate(scenario(SE, duration_s=3)))
    unitless = {"name", "volume", "rw", "ios", "reads", "writes", "bytes", "errors",
                "error_kinds", "iops", "trace"}  # fmt: skip
    for w in info["workloads"]:
        for key in set(w) - unitless:
            assert key.endswith(("_s", "_ms", "_mib_s", "iops")), key
    for arr in info["arrays"].values():
        assert set(arr["mib_s"]) == set(arr["bytes"])
