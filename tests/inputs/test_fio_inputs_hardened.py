"""fio job files through `flashsim run --fio`: huge numbers, a device, bad bytes and ignored
options end in one line naming the file and option (exit 2) or a notice, never a traceback;
mutated job files are fuzzed the same way."""

from pathlib import Path

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.main import main
from flashsim.sim.inputs.fio import FioJobError, read_job_file, workload_tables

JOB = "[global]\nbs=4k\nruntime=1\n[oltp]\nrw=randrw\nrwmixread=70\niodepth=4\nsize=50%\n"


def run_fio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: bytes, duration: bool = True
) -> tuple[int, str]:
    job = tmp_path / "job.fio"
    job.write_bytes(text)
    args = ["run", "--fio", str(job), "--volume-size", "64m"]
    args += ["--duration", "0.1"] if duration else []
    status = main([*args, "--out", str(tmp_path / "out")])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("bs=" + "9" * 5000, "[oltp] bs: not a size: '9999"),
        ("runtime=99999999999", "run.duration_s: over the limit of 1e+07 s"),
        ("iodepth=10000000\nnumjobs=256", "iodepth: over the limit of 65536, got 10000000"),
        ("bs=1p", ".bs: must be at most 1e+15 in size, got 1125899906842624"),
        ("bs=1t", ".bs: block size 1099511627776 is over the limit of 67108864 bytes"),
    ],
)
def test_a_huge_fio_option_is_one_line_naming_it(tmp_path, capsys, option, message):
    timed = option.startswith("runtime")  # the run lasts as long as the job's runtime
    text = JOB.replace("runtime=1\n", "") if timed else JOB
    status, err = run_fio(tmp_path, capsys, (text + option + "\n").encode(), duration=not timed)
    assert status == 2
    assert message in err
    assert len(err.splitlines()) == 1
    assert len(err) < 400


def test_ignored_fio_options_are_reported(tmp_path, capsys):
    status, err = run_fio(tmp_path, capsys, (JOB + "ramp_time=5\npercentile_list=99\n").encode())
    assert status == 0
    assert "fio options ignored (they change no I/O): percentile_list, ramp_time" in err


def test_a_job_file_that_is_not_utf8_or_a_device_is_an_error(tmp_path):
    bad = tmp_path / "bad.fio"
    bad.write_bytes(b"[job]\nrw=read # caf\xe9\n")
    with pytest.raises(FioJobError, match=r"bad.fio:2: not UTF-8"):
        read_job_file(bad)
    with pytest.raises(FioJobError, match="/dev/zero: not a regular file"):
        read_job_file("/dev/zero")


@st.composite
def mutated_job(draw: st.DrawFn) -> bytes:
    data = bytearray(JOB.encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(
            st.binary(max_size=6)
            | st.sampled_from(
                [b"9" * 30, b"=", b"\n[x]\n", b"${NOPE}", b"include x\n", b"\xff", b"1p", b"-1"]
            )
        )
        data[at : at + draw(st.integers(0, 6))] = piece
    return bytes(data)


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=mutated_job())
def test_a_mutated_job_file_parses_or_is_a_job_error(tmp_path, data):
    path = tmp_path / "fuzz.fio"
    path.write_bytes(data)
    try:
        tables = [t for job in read_job_file(path) for t in workload_tables(job, "vol")]
    except FioJobError as error:
        tables = [{"error": str(error)}]
    for table in tables:  # an error names the job file, or the file it includes
        assert "error" not in table or str(table["error"]).startswith(str(tmp_path))
