"""fio job files: parsing ([global], includes, flags, env), translation to [[workload]]
tables, and errors that name file, section and option."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashsim.sim.inputs.fio import FioJobError, read_job_file, workload_tables

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "traces"


def job_file(tmp_path, text, name="job.fio"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_job_inherits_global_and_becomes_workload_tables_per_numjobs(tmp_path):
    path = job_file(
        tmp_path,
        """\
; OLTP-ish
[global]
ioengine=libaio
direct=1
bs=8k
runtime=2m
time_based

[oltp]
rw=randrw
rwmixwrite=30
iodepth=16
random_distribution=zipf:1.2
size=50%
numjobs=2
startdelay=500ms
""",
    )
    (job,) = read_job_file(path)
    assert job.ignored == ("direct", "ioengine")
    common = {"volume": "prod", "rw": "randrw", "rwmixread": 70, "bs": 8192, "iodepth": 16,
              "random_distribution": "zipf:1.2", "size": "50%", "start_s": 0.5, "stop_s": 120.5}  # fmt: skip
    assert workload_tables(job, "prod") == [
        {"name": "oltp.0", **common},
        {"name": "oltp.1", **common},
    ]


def test_rates_splits_ranges_and_includes_translate(tmp_path):
    job_file(tmp_path, "[global]\nrate_iops=500\n", "common.fio")
    path = job_file(tmp_path, "include common.fio\n[backup]\nrw=read\nbssplit=4k/30:64k/70\n"
                    "[mixed]\nreadwrite=randwrite\nblocksize_range=4k-16k\noffset=1g\n")  # fmt: skip
    backup, mixed = read_job_file(path)
    assert workload_tables(backup, "v") == [
        {
            "name": "backup",
            "volume": "v",
            "rw": "read",
            "bssplit": "4096/30:65536/70",
            "rate_iops": 500,
            "time_based": False,
        }
    ]
    assert workload_tables(mixed, "v") == [
        {"name": "mixed", "volume": "v", "rw": "randwrite", "bssplit": "4096/1:8192/1:12288/1:16384/1",
         "rate_iops": 500, "offset": 1 << 30, "time_based": False}
    ]  # fmt: skip


def test_environment_variables_expand(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASHSIM_BS", "16k")
    (job,) = read_job_file(job_file(tmp_path, "[j]\nrw=write\nbs=${FLASHSIM_BS}\n"))
    assert workload_tables(job, "v")[0]["bs"] == 16384


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[j]\nrw=write\nverify=md5\n", r"job.fio: \[j\] verify: not an option flashsim knows"),
        ("[global]\nzonemode=zbd\n[j]\nrw=read\n", r"job.fio: \[global\] zonemode: not an option"),
        ("rw=read\n", r"job.fio:1: option 'rw=read' before any \[section\]"),
        ("[global]\nbs=4k\n", r"job.fio: no job section"),
        (
            "[j]\nbs=${NOT_SET_ANYWHERE}\n",
            r"job.fio:2: environment variable NOT_SET_ANYWHERE is not set",
        ),
    ],
)
def test_file_level_errors_name_file_section_and_option(tmp_path, text, message):
    with pytest.raises(FioJobError, match=message):
        read_job_file(job_file(tmp_path, text))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("rw=randtrim", r"\[j\] rw: 'randtrim' is not supported"),
        ("rw=randread:8", r"\[j\] rw: the offset modifier ':8' is not supported"),
        ("bs=4k,8k", r"\[j\] bs: separate read,write block sizes are not supported"),
        ("bs=4q", r"\[j\] bs: not a size: '4q'"),
        ("bs=4k\nbssplit=4k/100", r"\[j\] bssplit: give one of bs, bssplit, blocksize_range"),
        ("rwmixread=120", r"\[j\] rwmixread: must be an integer 0-100, got '120'"),
        ("runtime=soon", r"\[j\] runtime: not a time: 'soon'"),
        ("rate_iops=100,50", r"\[j\] rate_iops: separate read,write rates are not supported"),
        ("blocksize_range=16k-4k", r"\[j\] blocksize_range: expected 1 <= LOW <= HIGH"),
        ("numjobs=0", r"\[j\] numjobs: must be an integer 1-256, got '0'"),
    ],
)
def test_option_errors_name_file_section_and_option(tmp_path, options, message):
    (job,) = read_job_file(job_file(tmp_path, f"[j]\n{options}\n"))
    with pytest.raises(FioJobError, match="job.fio: " + message):
        workload_tables(job, "v")


@pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the shared trace samples (not part of this repository) are absent: {SAMPLES}",
)
def test_the_shared_zipf_example_translates():
    (job,) = read_job_file(SAMPLES / "fio_example_zipf.fio")
    assert job.ignored == ("ioengine", "norandommap")
    assert workload_tables(job, "v") == [
        {"name": "job", "volume": "v", "rw": "randread", "bs": 4096, "iodepth": 1,
         "random_distribution": "zipf:0.5", "size": 1280 << 20, "time_based": False}
    ]  # fmt: skip
