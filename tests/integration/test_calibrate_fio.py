"""`flashsim calibrate` on real fio results: fio (Debian package `fio`) runs four jobs on a
small file in the test's temporary folder, one after another, and the fitted array must
reproduce what fio measured. Without fio the test is skipped, except on CI (CI=true), where
it fails: .ci/run installs fio.

The stated tolerances, from what the fit claims (docs/simulator.md, "Calibration"):
- the jobs the latency comes from (4 KiB at depth 1, read and write): IOPS, MiB/s, mean and
  p50 within 10% (fio's per-I/O overhead outside the latency is not modelled); p99 between
  fio's neighbouring percentiles, p95 and p99.5 (a loaded machine's latency can rise tenfold
  from p99 to p99.5: there a ratio says little, and the sample p99 of 20,000 draws falls
  within 0.1 percentile points of the true one);
- the large-block job the bandwidth comes from: IOPS, MiB/s and mean within 10%;
- the deep job the parallelism comes from: IOPS within the rounding of the parallelism to
  whole slots (a factor (P +- 0.5) / P) and 15% more: the array's P slots of one service
  time are not what a real device does at depth, the reason the number is printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from flashsim.main import main
from flashsim.sim.calibration.compare import compare
from flashsim.sim.calibration.fio_results import read_fio_json
from flashsim.sim.calibration.fit import fit
from flashsim.sim.engine import simulate
from flashsim.sim.scenario import loads

FIO = shutil.which("fio")


def _direct_io(folder: Path) -> bool:
    """Whether the folder's file system takes O_DIRECT (tmpfs does not)."""
    probe = folder / "probe"
    probe.write_bytes(b"\0" * 4096)
    try:
        os.close(os.open(probe, os.O_RDONLY | os.O_DIRECT))
    except OSError:
        return False
    return True


def _job_file(folder: Path) -> str:
    engines = subprocess.run([FIO, "--enghelp"], check=True, capture_output=True, text=True).stdout  # type: ignore[list-item]
    deep = (
        "ioengine=libaio\niodepth=16"
        if "libaio" in engines
        else "ioengine=psync\nnumjobs=16\ngroup_reporting=1"
    )
    return f"""
[global]
filename={folder / "data"}
size=8m
direct={int(_direct_io(folder))}
runtime=1
time_based=1
ioengine=psync

[qd1]
rw=randread
bs=4k

[big]
stonewall
rw=read
bs=1m

[deep]
stonewall
rw=randread
bs=4k
{deep}

[wqd1]
stonewall
rw=randwrite
bs=4k
"""


@pytest.fixture(scope="module")
def fio_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if FIO is None:
        if os.environ.get("CI") == "true":
            pytest.fail("fio is not installed: .ci/run installs it (apt-get install fio)")
        pytest.skip("fio is not installed (apt-get install fio)")
    folder = tmp_path_factory.mktemp("fio")
    (folder / "jobs.fio").write_text(_job_file(folder))
    out = folder / "results.json"
    subprocess.run(
        [FIO, "--output-format=json", f"--output={out}", str(folder / "jobs.fio")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_the_fitted_array_reproduces_what_fio_measured(fio_json: Path) -> None:
    jobs = read_fio_json(str(fio_json))
    assert [m.name for m in jobs] == ["qd1", "big", "deep", "wqd1"]
    assert [m.depth for m in jobs][:2] == [1, 1]
    fitted = fit(jobs)
    assert not any(n.startswith(("bandwidth not", "write latency not")) for n in fitted.notes)
    rows = {
        (r.job.split("(")[1][:-1], r.direction, r.figure): r
        for r in compare(jobs, fitted, str(fio_json))
    }
    for name, d in (("qd1", "read"), ("wqd1", "write")):
        for figure in ("IOPS", "MiB/s", "mean ms", "p50 ms"):
            assert rows[name, d, figure].ratio == pytest.approx(1, abs=0.10), rows[name, d, figure]
        part = next(p for m in jobs if m.name == name for p in m.parts)
        low, high = part.percentile_s(95) * 1000, part.percentile_s(99.5) * 1000
        assert low <= rows[name, d, "p99 ms"].simulated <= high, (
            rows[name, d, "p99 ms"],
            low,
            high,
        )
    for figure in ("IOPS", "MiB/s", "mean ms"):
        assert rows["big", "read", figure].ratio == pytest.approx(1, abs=0.10), rows[
            "big", "read", figure
        ]
    slots = fitted.parallelism
    deep = rows["deep", "read", "IOPS"].ratio
    assert slots / (slots + 0.5) - 0.15 <= deep <= (slots + 0.5) / slots + 0.15, (slots, deep)


def test_the_written_tables_run_in_a_scenario(
    fio_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "arrays.toml"
    assert main(["calibrate", str(fio_json), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "measured" in printed and "jobs[3] (wqd1)" in printed
    text = out.read_text()
    assert tomllib.loads(text)["array"][0]["service_time"] == "empirical"
    scenario = loads(
        "[run]\nduration_s = 0.5\nrecords = false\nplots = false\n"
        + text
        + '[[volume]]\nname = "v"\nsize_mib = 64\narray = "calibrated"\n'
        + '[[workload]]\nvolume = "v"\nrw = "randrw"\nbs = "4k"\niodepth = 4\n',
        str(out),
    )
    assert scenario.arrays[0].parallelism >= 1
    assert simulate(scenario).host_ios > 100
