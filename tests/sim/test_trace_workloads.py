"""Block traces replayed as `[[workload]]`s: open and closed loop, mapping, record range,
skipped lines, and the bundled CloudPhysics scenario's copy-before-writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flashsim.sim.engine import Result, simulate
from flashsim.sim.metrics import summary
from flashsim.sim.scenario import ScenarioError, load

ROOT = Path(__file__).resolve().parents[2]
BASE = """
[run]
duration_s = 10
records = true
plots = false
[[array]]
name = "a0"
read_latency_ms = 1
write_latency_ms = 1
bandwidth_mib_s = 500
parallelism = 4
[[volume]]
name = "vol"
size_mib = 1
track_size_kib = 64
array = "a0"
"""
# SNIA MSR Cambridge: 100 ns timestamps; I/Os at 0, 0.5 s and 1 s
MSR = (
    "128166372000000000,hm,0,Write,0,4096,100\n"
    "128166372005000000,hm,0,Read,65536,8192,100\n"
    "128166372010000000,hm,0,Write,131072,4096,100\n"
)
IOLOG_V2 = "fio version 2 iolog\nf add\nf open\nf write 0 4096\nf read 65536 4096\n" \
    "f write 8192 4096\nf close\n"  # fmt: skip
CLOUDPHYSICS = "version,time,op,size,lbn\n1,100,2a,512,0\n1,200,28,4096,128\n" \
    "1,300,2a,4096,1024\n"  # fmt: skip


def scenario_at(tmp_path: Path, trace: str, table: str, name: str = "t.trace") -> Path:
    (tmp_path / "traces").mkdir(exist_ok=True)
    (tmp_path / "traces" / name).write_text(trace)
    path = tmp_path / "s.toml"
    path.write_text(BASE + f'[[workload]]\nname = "replay"\nvolume = "vol"\n'
                    f'trace = "traces/{name}"\n{table}')  # fmt: skip
    return path


def run(tmp_path: Path, trace: str, table: str) -> Result:
    return simulate(load(scenario_at(tmp_path, trace, table)))


def ios(result: Result) -> list[tuple[float, int, int, int]]:
    """(issue time, read, offset, length) of every I/O, in issue order."""
    rec = result.records
    order = np.argsort(rec["issue_s"], kind="stable")
    return [
        (round(float(rec["issue_s"][i]), 9), int(rec["read"][i]), int(rec["offset"][i]),
         int(rec["length"][i]))
        for i in order
    ]  # fmt: skip


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load(path)
    return str(info.value)


def test_an_open_loop_trace_issues_each_io_at_its_scaled_time_from_start_s(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, MSR, 'format = "msr"\ntime_scale = 2.0\nstart_s = 1\n')
    assert ios(result) == [(1.0, 0, 0, 4096), (1.25, 1, 65536, 8192), (1.5, 0, 131072, 4096)]
    (work,) = summary(result)["workloads"]
    assert (work["rw"], work["ios"], work["errors"], work["trace"]) == ("trace", 3, 0, {
        "path": "traces/t.trace", "format": "msr", "loop": "open", "time_scale": 2.0,
        "mapping": "as-is", "records": 3, "skipped_lines": 0, "ignored_records": 0,
    })  # fmt: skip


def test_an_open_loop_trace_stops_at_stop_s(tmp_path: Path) -> None:
    result = run(tmp_path, MSR, 'format = "msr"\nstop_s = 0.75\n')
    assert [t for t, *_ in ios(result)] == [0.0, 0.5]


def test_a_closed_loop_trace_issues_each_io_when_the_previous_completes(tmp_path: Path) -> None:
    result = run(tmp_path, IOLOG_V2, 'format = "fio-iolog"\nloop = "closed"\nstart_s = 2\n')
    rec = result.records
    assert [(r, o, n) for _, r, o, n in ios(result)] == [(0, 0, 4096), (1, 65536, 4096),
                                                          (0, 8192, 4096)]  # fmt: skip
    completions = rec["issue_s"] + rec["latency_s"]
    assert rec["issue_s"][0] == 2.0
    assert np.allclose(rec["issue_s"][1:], completions[:-1])


def test_a_closed_loop_trace_keeps_iodepth_ios_in_flight(tmp_path: Path) -> None:
    result = run(tmp_path, IOLOG_V2, 'format = "fio-iolog"\nloop = "closed"\niodepth = 2\n')
    assert [t for t, *_ in ios(result)][:2] == [0.0, 0.0]
    assert len(ios(result)) == 3


def test_an_untimed_trace_must_be_replayed_closed_loop(tmp_path: Path) -> None:
    path = scenario_at(tmp_path, IOLOG_V2, 'format = "fio-iolog"\n')
    assert error_of(path) == (
        f"{path}: workload[0].loop: traces/t.trace is a fio-iolog trace without timestamps "
        "(fio iolog v2): replay it with loop = 'closed' and an iodepth"
    )


def test_iodepth_goes_with_the_closed_loop_only(tmp_path: Path) -> None:
    path = scenario_at(tmp_path, MSR, 'format = "msr"\niodepth = 4\n')
    assert error_of(path) == f"{path}: workload[0].iodepth: applies to loop = 'closed' only"


FAR = "1,100,2a,4096,4096\n1,200,2a,4096,3072\n"  # byte offsets 2 MiB and 1.5 MiB


def test_an_as_is_trace_past_the_volume_is_an_error_naming_the_record(tmp_path: Path) -> None:
    path = scenario_at(tmp_path, "version,time,op,size,lbn\n" + FAR, 'format = "cloudphysics"\n')
    message = error_of(path)
    assert message.startswith(f"{path}: workload[0].trace: ")
    assert "record 0 (offset 2097152, 4096 bytes) passes the end of the volume" in message


@pytest.mark.parametrize(
    ("mapping", "offsets"),
    [("modulo", [0, 524288]), ("scaled", [1048576 - 4096, 1572864 * 1048576 // 2101248])],
)
def test_modulo_and_scaled_mappings_fit_the_trace_onto_the_volume(
    tmp_path: Path, mapping: str, offsets: list[int]
) -> None:
    table = f'format = "cloudphysics"\nmapping = "{mapping}"\n'
    result = run(tmp_path, "version,time,op,size,lbn\n" + FAR, table)
    # scaled: the span (to 2 MiB + 4 KiB) shrinks to 1 MiB; the first I/O is moved back to fit
    got = [o for _, _, o, _ in ios(result)]
    assert got[0] == offsets[0]
    assert abs(got[1] - offsets[1]) <= 1  # float rounding of the scaled mapping


def test_a_record_range_replays_only_those_records(tmp_path: Path) -> None:
    result = run(tmp_path, MSR, 'format = "msr"\nfirst_record = 1\nrecords = 2\n')
    assert ios(result) == [(0.0, 1, 65536, 8192), (0.5, 0, 131072, 4096)]


def test_skipped_bad_lines_are_counted_in_the_summary(tmp_path: Path) -> None:
    bad = CLOUDPHYSICS + "1,400,zz,4096,0\ngarbage\n"
    result = run(tmp_path, bad, 'format = "cloudphysics"\nskip_bad_lines = true\n')
    (work,) = summary(result)["workloads"]
    assert (work["ios"], work["trace"]["skipped_lines"]) == (3, 2)


def test_a_bad_line_names_the_trace_file_and_line(tmp_path: Path) -> None:
    path = scenario_at(tmp_path, CLOUDPHYSICS + "garbage\n", 'format = "cloudphysics"\n')
    message = error_of(path)
    assert message.startswith(f"{path}: workload[0].trace: ")
    assert f"{tmp_path / 'traces' / 't.trace'}:5: expected 5 fields" in message


def test_blkparse_event_chooses_queue_or_complete_events(tmp_path: Path) -> None:
    lines = "  8,0    3        1     0.000000000  697  Q   W 16 + 8 [kjournald]\n" \
        "  8,0    3        2     0.250000000  697  C   W 16 + 8 [0]\n"  # fmt: skip
    queued = run(tmp_path, lines, 'format = "blkparse"\nstart_s = 1\n')
    completed = run(tmp_path, lines, 'format = "blkparse"\nblkparse_event = "C"\nstart_s = 1\n')
    assert ios(queued) == ios(completed) == [(1.0, 0, 8192, 4096)]


def test_blkparse_event_goes_with_blkparse_only(tmp_path: Path) -> None:
    path = scenario_at(tmp_path, MSR, 'format = "msr"\nblkparse_event = "C"\n')
    assert error_of(path) == (
        f"{path}: workload[0].blkparse_event: applies to format = 'blkparse' only, not 'msr'"
    )


# -- the bundled scenario ------------------------------------------------------------------------
BUNDLED = ROOT / "scenarios" / "cloudphysics_nocopy_backup.toml"
SAMPLE = ROOT.parent / "shared" / "data" / "traces" / "cloudphysics_vscsi_part1.csv"


def distinct_tracks_written_after(path: Path, at_s: float, time_scale: float, track: int) -> int:
    """From the CSV alone (numpy, not the simulator's readers): the source tracks written at or
    after `at_s` (a NOCOPY relationship copies each once, before its first write)."""
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    time = rows[:, 1].astype(np.int64)
    op = np.array([int(o, 16) for o in rows[:, 2]])
    size, lbn = rows[:, 3].astype(np.int64), rows[:, 4].astype(np.int64)
    seconds = (time - time[0]) * 1e-6 / time_scale
    write = np.isin(op, (0x0A, 0x2A, 0xAA, 0x8A)) & (seconds >= at_s)
    first = lbn[write] * 512 // track
    last = (lbn[write] * 512 + size[write] - 1) // track
    spans = last - first + 1
    tracks = np.repeat(first, spans) + (
        np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)
    )
    return len(np.unique(tracks))


@pytest.mark.skipif(
    not SAMPLE.exists(),
    reason=f"the CloudPhysics sample (not part of this repository) is absent: {SAMPLE}",
)
def test_the_bundled_cloudphysics_scenario_pays_one_cow_per_track_first_written_after_establish(
) -> None:  # fmt: skip
    # The scenario's first comment: the trace is not bundled, --set points the workload at it.
    scenario = load(
        BUNDLED, ["run.records=false", "run.plots=false", f"workload.vm.trace='{SAMPLE}'"]
    )
    (fc,) = scenario.flashcopies
    vm = scenario.workloads[0]
    assert vm.trace is not None
    result = simulate(scenario)
    info = summary(result)
    assert info["workloads"][0]["ios"] == 20_000  # every I/O of the trace completed
    expected = distinct_tracks_written_after(
        SAMPLE, fc.at_s or 0.0, vm.trace.time_scale, scenario.volume(vm.volume).track_size
    )
    assert info["relationships"][fc.id]["cow_copies"] == expected
    assert info["relationships"][fc.id]["redirected_reads"] > 0  # the backup read the image


def test_the_run_flag_skip_bad_lines_applies_to_every_trace_workload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flashsim.main import main

    path = scenario_at(tmp_path, CLOUDPHYSICS + "garbage\n", 'format = "cloudphysics"\n')
    assert main(["run", str(path), "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert ":5: expected 5 fields" in capsys.readouterr().err
    out = tmp_path / "ok"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--skip-bad-lines"]) == 0
    (work,) = json.loads((out / "summary.json").read_text())["workloads"]
    assert work["trace"]["skipped_lines"] == 1


def test_the_bundled_cloudphysics_scenario_says_what_it_needs_and_where_to_get_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        BUNDLED.read_text()
        .splitlines()[0]
        .startswith("# NEEDS A TRACE THAT IS NOT IN THIS REPOSITORY")
    )
    from flashsim.main import main

    absent = tmp_path / "absent.csv"
    status = main(
        [
            "run",
            str(BUNDLED),
            "--out",
            str(tmp_path / "out"),
            "--set",
            f"workload.vm.trace='{absent}'",
        ]
    )
    message = capsys.readouterr().err
    assert status == 2
    assert "workload[0].trace" in message
    assert f"{absent}: cannot read: No such file or directory" in message
    assert "this trace is not part of flashsim: get cloudphysics_vscsi_part1.csv" in message
    assert "https://github.com/1a1a11a/libCacheSim" in message
    assert "--set workload.vm.trace=" in message
    assert not (tmp_path / "out").exists()


def test_a_trace_source_note_is_added_only_when_the_file_is_missing(tmp_path: Path) -> None:
    path = scenario_at(
        tmp_path, "not,a,msr,line\n", 'format = "msr"\ntrace_source = "ask the lab"\n'
    )
    with pytest.raises(ScenarioError) as malformed:
        load(path)
    assert "ask the lab" not in str(malformed.value)
    (tmp_path / "traces" / "t.trace").unlink()
    with pytest.raises(ScenarioError) as missing:
        load(path)
    assert str(missing.value).endswith(
        "t.trace: cannot read: No such file or directory; ask the lab"
    )
