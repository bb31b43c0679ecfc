"""Trace readers against small fixtures written from each format's definition, the shared
real samples, malformed lines, and a round trip of random records through every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.sim.inputs.traces import RECORD, TraceError, read_trace

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "traces"


def records(trace):
    return [(round(float(t), 9), bool(w), int(o), int(n)) for t, w, o, n in trace.records]


def put(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_cloudphysics_reads_scsi_reads_and_writes_in_sectors_and_microseconds(tmp_path):
    path = put(tmp_path, "cp.csv", "version,time,op,size,lbn\n1,1000,2a,4096,8\n1,1500,28,512,0\n"
               "1,1600,35,0,0\n1,2000,8A,8192,16\n")  # fmt: skip
    trace = read_trace(path, "cloudphysics")
    assert records(trace) == [
        (0.0, True, 4096, 4096),
        (0.0005, False, 0, 512),
        (0.001, True, 8192, 8192),
    ]
    assert (trace.ignored, trace.skipped_lines, trace.timed) == (1, 0, True)


def test_msr_reads_100_ns_timestamps_and_byte_offsets(tmp_path):
    path = put(tmp_path, "msr.csv", "128166372003061629,wdev,0,Read,7014609920,24576,41286\n"
               "128166372013061629,wdev,0,Write,4096,512,100\n")  # fmt: skip
    assert records(read_trace(path, "msr")) == [
        (0.0, False, 7014609920, 24576),
        (1.0, True, 4096, 512),
    ]


BLK = """\
  8,0    3        1     0.000000000   697  G   W 223490 + 8 [kjournald]
  8,0    3        2     0.000001829   697  P   R [kjournald]
  8,0    3        3     0.000002197   697  Q   W 223490 + 8 [kjournald]
  8,0    3        4     0.000005533   697  Q  RA 100 + 16 [cat]
  8,0    3        5     0.000006000   697  Q   D 5000 + 8 [fstrim]
  8,0    3        6     0.000007000   697  Q  FN [sync]
  8,0    1        7     0.009507758     0  C   W 223490 + 8 [0]
CPU0 (8,0):
 Reads Queued:           1,        8KiB	 Writes Queued:           1,        4KiB
"""


def test_blkparse_takes_queue_or_complete_events_and_skips_discards_flushes_and_summaries(tmp_path):
    path = put(tmp_path, "blk.txt", BLK)
    queued = read_trace(path, "blkparse")
    assert records(queued) == [(0.0, True, 223490 * 512, 4096), (3.336e-06, False, 51200, 8192)]
    assert queued.ignored == 2
    assert records(read_trace(path, "blkparse", blkparse_event="C")) == [
        (0.0, True, 223490 * 512, 4096)
    ]


def test_fio_iolog_v3_keeps_reads_and_writes_with_microsecond_stamps(tmp_path):
    path = put(tmp_path, "v3.log", "fio version 3 iolog\n10 /dev/sdb add\n20 /dev/sdb open\n"
               "1000 /dev/sdb write 0 4096\n1500 /dev/sdb trim 0 8192\n3000 /dev/sdb read 8192 512\n"
               "4000 /dev/sdb close\n")  # fmt: skip
    trace = read_trace(path, "fio-iolog")
    assert records(trace) == [(0.0, True, 0, 4096), (0.002, False, 8192, 512)]
    assert (trace.ignored, trace.timed) == (4, True)


def test_fio_iolog_v2_has_no_clock_but_waits_move_it(tmp_path):
    path = put(tmp_path, "v2.log", "fio version 2 iolog\n/dev/sdb add\n/dev/sdb open\n"
               "/dev/sdb write 0 4096\n/dev/sdb wait 2500 0\n/dev/sdb read 4096 4096\n")  # fmt: skip
    trace = read_trace(path, "fio-iolog")
    assert records(trace) == [(0.0, True, 0, 4096), (0.0025, False, 4096, 4096)]
    assert trace.timed is False


@pytest.mark.parametrize(
    ("name", "fmt", "text", "message"),
    [
        ("a.csv", "cloudphysics", "version,time,op,size,lbn\n1,2,2a,512,1\n1,2,2a,x,1\n",
         r'a.csv:3: "size" must be a non-negative integer, got \'x\''),
        ("b.csv", "cloudphysics", "version,time,op,size,lbn\n1,2,zz,512,1\n",
         r'b.csv:2: "op" must be a SCSI opcode in hex, got \'zz\''),
        ("c.csv", "cloudphysics", "time,op\n", r"c.csv:1: expected the header"),
        ("d.csv", "msr", "1,h,0,Read,0,512,1\n1,h,0,Erase,0,512,1\n",
         r'd.csv:2: "Type" must be Read or Write, got \'Erase\''),
        ("e.csv", "msr", "1,h,0,Read,0\n", r"e.csv:1: expected 7 fields"),
        ("f.txt", "blkparse", "  8,0 3 1 0.1 697 Q W 12x + 8 [a]\n", r"f.txt:1: expected 'maj,min cpu"),
        ("g.log", "fio-iolog", "fio version 3 iolog\n1 /dev/sdb write 0 4096\n2 /dev/sdb scribble 0 1\n",
         r"g.log:3: expected '\[timestamp\] filename action"),
        ("h.log", "fio-iolog", "fio version 9 iolog\n", r"h.log:1: not a fio iolog"),
    ],
)  # fmt: skip
def test_a_malformed_line_is_named_by_file_and_line(tmp_path, name, fmt, text, message):
    with pytest.raises(TraceError, match=message):
        read_trace(put(tmp_path, name, text), fmt)


def test_bad_lines_can_be_skipped_and_counted(tmp_path):
    path = put(tmp_path, "cp.csv", "version,time,op,size,lbn\n1,0,2a,512,1\nbroken\n1,5,28,512,2\n")
    trace = read_trace(path, "cloudphysics", skip_bad_lines=True)
    assert records(trace) == [(0.0, True, 512, 512), (5e-06, False, 1024, 512)]
    assert trace.skipped_lines == 1


def test_a_record_range_keeps_those_records_and_restarts_the_clock(tmp_path):
    body = "".join(f"{t},h,0,Write,{t * 512},512,1\n" for t in range(0, 50_000_000, 10_000_000))
    trace = read_trace(put(tmp_path, "m.csv", body), "msr", first_record=1, records=2)
    assert records(trace) == [
        (0.0, True, 10_000_000 * 512, 512),
        (1.0, True, 20_000_000 * 512, 512),
    ]


def test_unknown_formats_and_missing_files_are_named(tmp_path):
    with pytest.raises(TraceError, match=r"unknown trace format 'csv' \(known: fio-iolog"):
        read_trace(tmp_path / "x", "csv")
    with pytest.raises(TraceError, match=r"nope.csv: cannot read: No such file"):
        read_trace(tmp_path / "nope.csv", "msr")


io_records = st.lists(
    st.tuples(st.integers(0, 10**6), st.booleans(), st.integers(0, 2**30), st.integers(1, 512)),
    min_size=1,
    max_size=40,
).map(sorted)


def write_as(fmt, rows):
    """Serialise (microseconds, write, sector, sectors) rows in `fmt` from its definition."""
    if fmt == "cloudphysics":
        body = "".join(f"1,{t},{'2a' if w else '28'},{n * 512},{s}\n" for t, w, s, n in rows)
        return "version,time,op,size,lbn\n" + body
    if fmt == "msr":
        return "".join(
            f"{t * 10},h,0,{'Write' if w else 'Read'},{s * 512},{n * 512},7\n"
            for t, w, s, n in rows
        )
    if fmt == "blkparse":
        return "".join(
            f"  8,0 1 {i + 1} {t // 10**6}.{t % 10**6:06d}000 9 Q {'W' if w else 'R'} {s} + {n} [p]\n"
            for i, (t, w, s, n) in enumerate(rows)
        )
    return "fio version 3 iolog\n" + "".join(
        f"{t} /dev/x {'write' if w else 'read'} {s * 512} {n * 512}\n" for t, w, s, n in rows
    )


@settings(max_examples=150)
@given(rows=io_records, fmt=st.sampled_from(("cloudphysics", "msr", "blkparse", "fio-iolog")))
def test_records_written_in_any_format_read_back_the_same(tmp_path_factory, rows, fmt):
    path = tmp_path_factory.mktemp("rt") / "trace"
    path.write_text(write_as(fmt, rows))
    trace = read_trace(path, fmt)
    t0 = rows[0][0]
    expected = np.array(
        [((t - t0) * 1e-6, w, s * 512, n * 512) for t, w, s, n in rows], dtype=RECORD
    )
    assert np.allclose(trace.records["time_s"], expected["time_s"], atol=1e-9)
    for field in ("write", "offset", "length"):
        assert (trace.records[field] == expected[field]).all(), field


@pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the shared trace samples (not part of this repository) are absent: {SAMPLES}",
)
def test_the_shared_real_samples_read_whole():
    cloud = read_trace(SAMPLES / "cloudphysics_vscsi_part1.csv", "cloudphysics")
    assert len(cloud) + cloud.ignored == 20_000
    assert cloud.records["write"].mean() > 0.5  # the README: mostly writes
    assert cloud.records["length"].min() >= 512 and cloud.records["length"].max() <= 68 * 1024
    blk = read_trace(SAMPLES / "blkparse_blktrace_doc_sample.txt", "blkparse")
    assert records(blk) == [
        (0.0, True, 223490 * 512, 4096),
        (0.009538116, True, 223546 * 512, 4096),
    ]
    fio = read_trace(SAMPLES / "fio_v3_t0038.iolog", "fio-iolog")
    assert (len(fio), set(fio.records["length"].tolist()), bool(fio.records["write"].all())) == (
        10,
        {4096},
        True,
    )
