"""`flashsim calibrate` on small hand-written fio JSON files: the fit recovers the parameters
the figures were made from, what cannot be fitted is said, and every bad file is exit 2
with a message naming the file and the field, no traceback and no file written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.main import main
from flashsim.sim.calibration.compare import compare
from flashsim.sim.calibration.fio_results import CalibrationError, read_fio_json
from flashsim.sim.calibration.fit import fit

MIB = 1 << 20


def direction(iops: float, bs: int, lat_us: float, spread_us: float = 10.0) -> dict[str, Any]:
    """One direction of a fio job: a latency symmetric around its mean (so the mean of the
    percentiles is the mean), fio's field names and units (ns, bytes)."""
    ns = lat_us * 1000
    ios = round(iops)  # one second of I/O
    return {
        "io_bytes": ios * bs,
        "bw_bytes": iops * bs,
        "iops": iops,
        "total_ios": ios,
        "runtime": 1000,
        "slat_ns": {"min": 0, "max": 0, "mean": 0.0},
        "lat_ns": {"min": ns - spread_us * 1000, "max": ns + spread_us * 1000, "mean": ns},
        "clat_ns": {
            "min": ns - spread_us * 1000,
            "max": ns + spread_us * 1000,
            "mean": ns,
            "percentile": {"50.000000": ns, "99.000000": ns + 0.98 * spread_us * 1000,
                           "1.000000": ns - 0.98 * spread_us * 1000},
        },
    }  # fmt: skip


EMPTY = {"io_bytes": 0, "bw_bytes": 0, "iops": 0.0, "total_ios": 0}


def job(name: str, group: int, read: dict | None = None, write: dict | None = None) -> dict:
    return {
        "jobname": name,
        "groupid": group,
        "error": 0,
        "job options": {"rw": "randread"},
        "read": read or dict(EMPTY),
        "write": write or dict(EMPTY),
    }


# A device of 4 slots, 100 us of latency per I/O and 500 MiB/s per slot: the figures of each
# job follow from it. Depth 1: latency = 100 us + bs / 500 MiB/s, IOPS = 1 / latency.
# Depth 16 (4 KiB): saturated, IOPS = 4 / service time, latency = 16 / IOPS (Little).
SLOTS, LATENCY_US, BANDWIDTH = 4, 100.0, 500.0


def _lat_us(bs: int) -> float:
    return LATENCY_US + bs / (BANDWIDTH * MIB) * 1e6


def device_jobs() -> list[dict]:
    small, large = 4096, 1 << 20
    deep_iops = SLOTS / (_lat_us(small) / 1e6)
    return [
        job("qd1", 0, read=direction(1e6 / _lat_us(small), small, _lat_us(small))),
        job("big", 1, read=direction(1e6 / _lat_us(large), large, _lat_us(large))),
        job("qd16", 2, read=direction(deep_iops, small, 16 / deep_iops * 1e6)),
        job("wqd1", 3, write=direction(1e6 / (_lat_us(small) + 50), small, _lat_us(small) + 50)),
    ]


def write_json(path: Path, jobs: list[dict] | Any, **top: Any) -> Path:
    path.write_text(json.dumps({"fio version": "fio-3.33", "jobs": jobs, **top}))
    return path


def test_the_fit_recovers_the_device_the_figures_came_from(tmp_path: Path) -> None:
    path = write_json(tmp_path / "r.json", device_jobs())
    jobs = read_fio_json(str(path))
    assert [m.depth for m in jobs] == [1, 1, 16, 1]
    fitted = fit(jobs)
    assert fitted.bandwidth_mib_s == pytest.approx(BANDWIDTH, rel=1e-4)
    assert fitted.parallelism == SLOTS
    read = dict(fitted.percentiles_ms["read"])
    assert read[50.0] == pytest.approx(LATENCY_US / 1000, abs=1e-6)  # transfer taken out
    write = dict(fitted.percentiles_ms["write"])
    assert write[50.0] == pytest.approx((LATENCY_US + 50) / 1000, abs=1e-6)
    assert fitted.notes == []
    # Replayed on the fitted array, each job's figures are the device's (the draws of
    # 20,000 I/Os from a 20 us wide distribution: well within 2%); at depth 16 the made-up
    # percentiles are not those of a queue: its IOPS, MiB/s and mean (Little) only.
    for row in compare(jobs, fitted, str(path)):
        if row.job != "jobs[2] (qd16)" or row.figure in ("IOPS", "MiB/s", "mean ms"):
            assert row.ratio == pytest.approx(1, abs=0.02), row


def test_what_one_job_cannot_show_is_said_and_left_at_a_default(tmp_path: Path) -> None:
    path = write_json(tmp_path / "r.json", device_jobs()[:1])
    fitted = fit(read_fio_json(str(path)))
    assert [n.split(" (")[0] for n in fitted.notes] == [
        "bandwidth not fitted",
        "write latency not measured",
        "parallelism not fitted",
    ]
    assert fitted.parallelism == 1
    assert fitted.percentiles_ms["write"] == fitted.percentiles_ms["read"]
    # the transfer time stays in the latency: the one job is still reproduced
    for row in compare(read_fio_json(str(path)), fitted, str(path)):
        assert row.ratio == pytest.approx(1, abs=0.02), row


def test_the_written_tables_mean_is_fios_mean_with_a_long_tail(tmp_path: Path) -> None:
    # fio's tail percentiles are sparse: linear between p99 (0.12 ms) and p99.9 (5 ms) the
    # table's mean is 127.4 us: 0.01 x 85 + 0.49 x 92.5 + 0.49 x 107.5 + 0.009 x 2560 +
    # 0.001 x 5500; fio measured 115 us. The fit adds percentiles so that it is fio's mean.
    part = direction(10_000, 4096, 115.0)
    part["clat_ns"]["percentile"] = {"1.000000": 90e3, "50.000000": 95e3, "99.000000": 120e3,
                                     "99.900000": 5e6}  # fmt: skip
    part["clat_ns"].update(min=80e3, max=6e6)
    path = write_json(tmp_path / "r.json", [job("qd1", 0, read=part)])
    jobs = read_fio_json(str(path))
    fitted = fit(jobs)
    given = dict(fitted.percentiles_ms["read"])
    assert (given[50.0], given[99.0], given[99.9]) == (0.095, 0.12, 5.0)
    rows = {r.figure: r for r in compare(jobs, fitted, str(path))}
    assert rows["mean ms"].simulated == pytest.approx(0.115, rel=0.03)
    assert rows["p50 ms"].simulated == pytest.approx(0.095, rel=0.01)


def _calibrate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["calibrate", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


BAD_DIRECTION = direction(1000, 4096, 100)


def _without(key: str) -> dict:
    part = json.loads(json.dumps(BAD_DIRECTION))
    del part[key]
    return part


def _with(**changes: Any) -> dict:
    part = json.loads(json.dumps(BAD_DIRECTION))
    part.update(changes)
    return part


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("fio: no such option\n", "r.json: not fio JSON output (fio --output-format=json): "),
        ('{"fio version": "fio-3.33"}', "r.json: jobs: missing (is this fio --output-format=json output?)"),
        ({"jobs": []}, "r.json: jobs: no jobs"),
        ({"jobs": [job("qd1", 0, read=_without("clat_ns"))]}, "r.json: jobs[0] (qd1).read.clat_ns: missing"),
        ({"jobs": [job("qd1", 0, read=_with(iops=0))]}, "r.json: jobs[0] (qd1).read.iops: must be > 0 and at most 1e+09, got 0"),
        ({"jobs": [job("qd1", 0)]}, "r.json: jobs[0] (qd1): no reads or writes (read.total_ios and write.total_ios are 0)"),
        ({"jobs": [job("qd1", 0, read=_with(iops=1e300))]}, "r.json: jobs[0] (qd1).read.iops: must be > 0 and at most 1e+09, got 1e+300"),
        ({"jobs": [job("qd1", 0, read=_with(lat_ns={"mean": 1e30}))]}, "r.json: jobs[0] (qd1).read.lat_ns.mean: must be > 0 and at most 3.6e+12, got 1e+30"),
        ({"jobs": [job("qd1", 0, read=_with(iops="fast"))]}, 'r.json: jobs[0] (qd1).read.iops: must be a number, got "fast"'),
        ({"jobs": [job("qd1", 0, read=_with(io_bytes=1000 << 30))]}, "r.json: jobs[0] (qd1).read.io_bytes: blocks of 1.07374e+09 bytes: at most 268435456 per I/O"),
        ({"jobs": [{**job("qd1", 0, read=BAD_DIRECTION), "error": 5}]}, "r.json: jobs[0] (qd1).error: fio reported error 5: the job did not run"),
        ({"jobs": [job("a", 0, read=BAD_DIRECTION), job("b", 0, read=BAD_DIRECTION)]}, "r.json: jobs[1] (b).groupid: ran at the same time as jobs[0] (a) (group 0)"),
        ({"jobs": [{**job("qd1", 0, read=BAD_DIRECTION), "job options": {"rate_iops": "500"}}]}, "r.json: jobs[0] (qd1).job options.rate_iops: calibrate needs jobs that run as fast as the device allows"),
        ({"jobs": [job("qd1", 0, read=BAD_DIRECTION)], "global options": {"thinktime": "10"}}, "r.json: jobs[0] (qd1).global options.thinktime: calibrate needs"),
    ],
    ids=["not-json", "no-jobs-key", "no-jobs", "no-clat", "zero-iops", "no-io", "huge-iops",
         "huge-latency", "iops-not-a-number", "huge-block", "job-error", "concurrent", "rate",
         "thinktime"],
)  # fmt: skip
def test_bad_fio_results_exit_2_naming_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: Any, expected: str
) -> None:
    path = tmp_path / "r.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    out = tmp_path / "arrays.toml"
    code, err = _calibrate([str(path), "--out", str(out)], capsys)
    assert code == 2
    assert err.startswith(f"flashsim calibrate: {tmp_path}/{expected}"), err
    assert not out.exists()


def test_fio_notes_before_the_json_document_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    document = json.dumps({"jobs": device_jobs()[:1]}, indent=2)
    path.write_text("note: both iodepth >= 1 and synchronous I/O engine are selected\n" + document)
    assert [m.name for m in read_fio_json(str(path))] == ["qd1"]


def test_an_out_that_is_a_folder_is_refused_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "r.json", device_jobs()[:1])
    code, err = _calibrate([str(path), "--out", str(tmp_path), "--force"], capsys)
    assert (code, err) == (2, f"flashsim calibrate: {tmp_path}: is a folder\n")


def test_out_is_not_replaced_without_force_and_a_missing_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "r.json", device_jobs()[:1])
    out = tmp_path / "arrays.toml"
    out.write_text("mine\n")
    code, err = _calibrate([str(path), "--out", str(out)], capsys)
    assert (code, err) == (2, f"flashsim calibrate: {out}: exists (--force replaces it)\n")
    assert out.read_text() == "mine\n"
    assert _calibrate([str(path), "--out", str(out), "--force"], capsys)[0] == 0
    assert out.read_text().startswith("# flashsim calibrate")
    code, err = _calibrate([str(tmp_path / "absent.json")], capsys)
    assert (code, err) == (
        2,
        f"flashsim calibrate: {tmp_path}/absent.json: cannot read: No such file or directory\n",
    )


NASTY_VALUES = [None, -1, 0, 1e308, float("nan"), "x", [], {}, True, 10**30, -1e-300]


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a JSON document."""
    out = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*at, i))
    return out


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fio_results_with_any_value_replaced_fit_or_are_a_calibration_error(
    tmp_path: Path, data: st.DataObject
) -> None:
    document: Any = {"fio version": "fio-3.33", "jobs": device_jobs()}
    paths = _paths(document)[1:]
    for _ in range(data.draw(st.integers(1, 3))):
        *parent, last = data.draw(st.sampled_from(paths))
        node = document
        for key in parent:
            node = node[key]
        node[last] = data.draw(st.sampled_from(NASTY_VALUES))
        paths = _paths(document)[1:]
    path = tmp_path / "fio.json"
    path.write_text(json.dumps(document))
    try:
        outcome: object = fit(read_fio_json(str(path)))
    except CalibrationError as error:
        outcome = str(error)
    if isinstance(outcome, str):
        assert outcome.startswith(str(path))
    else:
        assert outcome.parallelism >= 1  # type: ignore[attr-defined]


def test_a_device_is_not_read_as_fio_results() -> None:
    with pytest.raises(CalibrationError, match="/dev/zero: not a regular file"):
        read_fio_json("/dev/zero")
