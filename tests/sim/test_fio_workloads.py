"""fio job files as `[[workload]]` tables, `flashsim run --fio`, and percentage_random."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim_helpers import array, scenario, volume

from flashsim.main import main
from flashsim.sim.engine import simulate
from flashsim.sim.inputs.synthetic import Workload
from flashsim.sim.scenario import ScenarioError, WorkloadSpec, load

BASE = """
[run]
duration_s = 1
records = false
plots = false
[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 500
[[volume]]
name = "prod"
size_mib = 64
array = "a0"
"""
JOB = """
[global]
ioengine=libaio
bs=8k
[reader]
rw=randread
numjobs=3
iodepth=4
random_distribution=zipf:1.1
[writer]
rw=write
rate_iops=100
startdelay=0.5
"""


def scenario_with(tmp_path: Path, job: str, table: str) -> Path:
    (tmp_path / "jobs").mkdir(exist_ok=True)
    (tmp_path / "jobs" / "job.fio").write_text(job)
    path = tmp_path / "s.toml"
    path.write_text(BASE + "[[workload]]\n" + table)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load(path)
    return str(info.value)


def test_a_fio_job_file_expands_into_one_workload_per_job_and_numjobs(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, JOB, 'fio = "jobs/job.fio"\nvolume = "prod"\n')
    shape = [
        (w.name, w.rw, w.block_sizes, w.iodepth, w.rate_iops, w.random_distribution, w.start_s)
        for w in load(path).workloads
    ]
    reader = ("randread", ((8192, 1.0),), 4, None, "zipf:1.1", 0.0)
    assert shape == [
        ("reader.0", *reader),
        ("reader.1", *reader),
        ("reader.2", *reader),
        ("writer", "write", ((8192, 1.0),), None, 100.0, "random", 0.5),
    ]


def test_a_fio_table_name_prefixes_the_job_names(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, JOB, 'fio = "jobs/job.fio"\nvolume = "prod"\nname = "db"\n')
    assert [w.name for w in load(path).workloads] == [
        "db.reader.0", "db.reader.1", "db.reader.2", "db.writer",
    ]  # fmt: skip


def test_an_unknown_fio_option_names_the_scenario_the_job_file_section_and_option(
    tmp_path: Path,
) -> None:
    path = scenario_with(tmp_path, "[reader]\nrw=read\nfrobnicate=3\n", 'fio = "jobs/job.fio"\n'
                         'volume = "prod"\n')  # fmt: skip
    message = error_of(path)
    assert message.startswith(f"{path}: workload[0].fio: {tmp_path / 'jobs' / 'job.fio'}: ")
    assert "[reader] frobnicate: not an option flashsim knows" in message


def test_a_bad_fio_value_names_the_job_file_section_and_option(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, "[reader]\nrw=read\nbs=huge\n", 'fio = "jobs/job.fio"\n'
                         'volume = "prod"\n')  # fmt: skip
    assert error_of(path) == (
        f"{path}: workload[0].fio: {tmp_path / 'jobs' / 'job.fio'}: [reader] bs: not a size: "
        "'huge' (e.g. 4k, 64k, 1m)"
    )


def test_a_job_the_scenario_validator_rejects_names_the_scenario_the_job_and_the_key(
    tmp_path: Path,
) -> None:
    path = scenario_with(tmp_path, "[big]\nrw=read\nbs=32m\nsize=16m\n", 'fio = "jobs/job.fio"\n'
                         'volume = "prod"\n')  # fmt: skip
    assert error_of(path) == (
        f"{path}: workload[0] (jobs/job.fio [big]).bs: block size 33554432 is larger than the "
        "region (16777216 bytes)"
    )


def test_a_fio_table_takes_only_fio_volume_and_name(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, JOB, 'fio = "jobs/job.fio"\nvolume = "prod"\nbs = "4k"\n')
    assert error_of(path) == f"{path}: workload[0].bs: unknown key (known here: fio, name, volume)"


def test_flashsim_run_fio_simulates_the_job_on_one_volume(tmp_path: Path) -> None:
    job = tmp_path / "what_if.fio"
    job.write_text("[oltp]\nrw=randrw\nrwmixread=70\nbs=8k\nrate_iops=500\nruntime=2\n")
    out = tmp_path / "out"
    args = ["run", "--fio", str(job), "--volume-size", "64m", "--out", str(out), "--quiet"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    (work,) = summary["workloads"]
    assert (summary["run"]["duration_s"], work["name"], work["volume"], work["rw"]) == (
        2.0, "oltp", "vol", "randrw",
    )  # fmt: skip
    assert 850 < work["ios"] < 1150  # 500 IOPS (Poisson) for 2 s


def test_flashsim_run_fio_needs_a_volume_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = tmp_path / "j.fio"
    job.write_text("[j]\nrw=read\n")
    assert main(["run", "--fio", str(job), "--out", str(tmp_path / "o")]) == 2
    assert "--fio needs --volume-size (e.g. 64g)" in capsys.readouterr().err


def _spec(percentage_random: float, rw: str = "randread") -> WorkloadSpec:
    return WorkloadSpec("w", "v", rw, 50.0, ((4096, 1.0),), 1, None, "random", 0, 64 << 20,
                        0.0, 1.0, percentage_random=percentage_random)  # fmt: skip


def _follow_on_share(percentage_random: float) -> float:
    workload = Workload(_spec(percentage_random), np.random.default_rng(7))
    offsets = np.array([workload.next()[1] for _ in range(20_000)])
    return float(np.mean(offsets[1:] == offsets[:-1] + 4096))


def test_percentage_random_issues_that_share_at_random_and_the_rest_sequentially() -> None:
    shares = [_follow_on_share(p) for p in (100, 70, 30, 0)]
    # a random I/O lands just after the previous one with probability 1/16384
    assert shares[0] < 0.001
    assert abs(shares[1] - 0.30) < 0.015
    assert abs(shares[2] - 0.70) < 0.015
    assert shares[3] > 0.999  # all sequential but the wrap at the region's end


def test_percentage_random_applies_to_random_modes_only(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(BASE + '[[workload]]\nvolume = "prod"\nrw = "read"\npercentage_random = 50\n')
    assert error_of(path) == (
        f"{path}: workload[0].percentage_random: applies to random rw modes only, not 'read'"
    )


def test_a_fio_job_with_percentage_random_runs_it(tmp_path: Path) -> None:
    job = "[mixed]\nrw=randwrite\npercentage_random=40\nbs=4k\niodepth=2\n"
    path = scenario_with(tmp_path, job, 'fio = "jobs/job.fio"\nvolume = "prod"\n')
    scenario = load(path)
    assert scenario.workloads[0].percentage_random == 40.0
    assert simulate(scenario).host_ios > 100


@pytest.mark.parametrize("load_form", ["iodepth = 4", "rate_iops = 2000"])
def test_a_workload_that_is_not_time_based_ends_after_one_pass_of_its_size(load_form: str) -> None:
    """fio without time_based: the job is done once it has moved `size` bytes."""
    body = (
        array()
        + volume("A", 16)
        + f'[[workload]]\nvolume = "A"\nrw = "write"\nbs = "64k"\nsize = "4m"\n{load_form}\n'
        + "time_based = false\n"
    )
    result = simulate(scenario(body, duration_s=5))
    assert result.host_ios == 64  # 4 MiB / 64 KiB, long before the 5 s end
