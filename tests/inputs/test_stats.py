"""trace-stats: the vectorised footprint and working-set growth against a plain set loop, and
the command's report."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.main import main
from flashsim.sim.inputs.stats import trace_stats
from flashsim.sim.inputs.traces import RECORD, Trace

ios = st.lists(
    st.tuples(st.booleans(), st.integers(0, 5000), st.integers(1, 3000)), min_size=1, max_size=60
)


def as_trace(rows):
    rec = np.array([(float(i), w, o, n) for i, (w, o, n) in enumerate(rows)], dtype=RECORD)
    return Trace("mem", "msr", rec, True)


@settings(max_examples=200)
@given(rows=ios, track_size=st.sampled_from((1, 512, 1000, 4096)))
def test_footprint_and_growth_match_a_plain_set_loop(rows, track_size):
    seen, written, growth = set(), set(), []
    for is_write, offset, length in rows:
        touched = set(range(offset // track_size, (offset + length - 1) // track_size + 1))
        seen |= touched
        if is_write:
            written |= touched
        growth.append(len(seen))
    stats = trace_stats(as_trace(rows), track_size)
    assert stats.growth.tolist() == growth
    assert (stats.footprint_tracks, stats.written_tracks) == (len(seen), len(written))
    assert (stats.reads, stats.writes) == (
        sum(not w for w, _, _ in rows),
        sum(w for w, _, _ in rows),
    )
    assert sum(stats.size_histogram.values()) == len(rows)
    assert all(
        n <= bound for _, _, n in rows for bound in [min(b for b in stats.size_histogram if b >= n)]
    )


def test_the_command_reports_mix_sizes_footprint_and_growth(tmp_path, capsys):
    trace = tmp_path / "t.log"
    trace.write_text(
        "fio version 3 iolog\n0 /dev/x write 0 4096\n10 /dev/x write 4096 8192\n"
        "20 /dev/x read 0 512\n30 /dev/x trim 0 4096\n"
    )
    plot = tmp_path / "growth.png"
    assert main(["trace-stats", str(trace), "--format", "fio-iolog", "--track-size-kib", "4",
                 "--plot", str(plot)]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines() == [
        f"trace {trace} (fio-iolog)",
        "I/Os            3 (1 reads, 2 writes: 33.3% reads)",
        "bytes           512 read, 12,288 written",
        "duration        0.000020 s",
        "skipped lines   0; records without data I/O 1",
        "footprint       3 tracks of 4 KiB (3 written)",
        "sizes (up to)   512 B: 1, 4 KiB: 1, 8 KiB: 1",
        "working set     10%: 1, 25%: 1, 50%: 1, 75%: 3, 100%: 3",
    ]
    assert plot.stat().st_size > 1000


def test_a_bad_trace_exits_2_naming_file_and_line(tmp_path, capsys):
    trace = tmp_path / "t.csv"
    trace.write_text("1,h,0,Read,0,512,1\n1,h,0,Read,0\n")
    assert main(["trace-stats", str(trace), "--format", "msr"]) == 2
    assert capsys.readouterr().err.startswith(f"{trace}:2: expected 7 fields")
