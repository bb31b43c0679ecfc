"""The run's aggregates: a phase's I/Os are exactly those issued in it, whatever the order of
completions and cuts; the figures agree with the per-I/O records; and what a run holds does
not grow with the number of I/Os once records are off."""

from __future__ import annotations

import csv
import io
import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.sim.engine import simulate
from flashsim.sim.histogram import BUCKETS_PER_OCTAVE, RELATIVE_ERROR
from flashsim.sim.metrics import summary, windows_csv
from flashsim.sim.tallies import Segments


@st.composite
def run_of_events(draw: st.DrawFn) -> tuple[list[tuple], list[float]]:
    """Host I/Os (workload, issue, latency, failed) and cut instants on a grid of 0.5 s, fed
    in time order of their instant as the simulator would: completions and cuts at the same
    instant in any order."""
    ios = draw(
        st.lists(
            st.tuples(
                st.integers(0, 1),
                st.integers(0, 20).map(lambda k: k * 0.5),
                st.sampled_from([0.0, 0.25, 0.5, 1.5]),
                st.booleans(),
            ),
            max_size=40,
        )
    )
    cuts = sorted(set(draw(st.lists(st.integers(1, 24).map(lambda k: k * 0.5), max_size=6))))
    return ios, cuts


@settings(max_examples=300, deadline=None)
@given(run_of_events(), st.randoms(use_true_random=False))
def test_a_phase_holds_exactly_the_ios_issued_in_it(events, rnd) -> None:
    ios, cuts = events
    end = 12.0
    seg = Segments(2, end)
    # the feed: ("io", done, ...) at its completion, ("cut", t) at t; same-instant order random
    feed = [
        (issue + lat, rnd.random(), "io", (w, issue, lat, failed)) for w, issue, lat, failed in ios
    ]
    feed += [(t, rnd.random(), "cut", t) for t in cuts]
    for _, _, kind, item in sorted(feed):
        if kind == "cut":
            seg.cut(item)
        else:
            w, issue, lat, failed = item
            seg.add(w, True, issue, lat, 4096, None if failed else 0)
    seg.finish()
    bounds = [0.0, *[t for t in cuts if t < end], end]
    for t0, t1 in pairwise(bounds):
        for w in (0, 1):
            mine = [(i, f) for ww, i, _, f in ios if ww == w and t0 <= i < t1]
            tally = seg.between(w, t0, t1)
            assert tally.ios == sum(not f for _, f in mine)
            assert tally.errors == sum(f for _, f in mine)
    with pytest.raises(AssertionError, match="not a segment boundary"):
        seg.between(0, 0.25, end)


BODY = (
    array(lat=0.5, bw=500, par=4)
    + volume("A", 64)
    + volume("B", 64)
    + flashcopy("r1", "A", "B", 2, background_copy=True)
    + '[[workload]]\nname = "w"\nvolume = "A"\nrw = "randrw"\nbs = "4k"\nrate_iops = 800\n'
)


def test_summary_and_windows_agree_with_the_records() -> None:
    result = simulate(scenario(BODY, duration_s=4, window_s=0.5))
    rec = result.records
    assert rec is not None
    info = summary(result)
    w = info["workloads"][0]
    ok = rec["error"] == 0
    assert w["ios"] == int(ok.sum()) and w["reads"] == int((ok & (rec["read"] == 1)).sum())
    latency_ms = rec["latency_s"][ok] * 1000
    for key, p in (("p50", 50), ("p99", 99), ("p99_9", 99.9)):
        exact = float(np.percentile(latency_ms, p))
        assert w["latency_ms"][key] == pytest.approx(exact, rel=RELATIVE_ERROR, abs=1e-6)
    assert w["latency_ms"]["max"] == pytest.approx(float(latency_ms.max()), abs=1e-6)
    # windows by completion: each row's count is the records' count in [t0, t1)
    done = rec["issue_s"] + rec["latency_s"]
    rows = list(csv.DictReader(io.StringIO(windows_csv(result))))
    assert len(rows) == 8
    for row in rows:
        t0, t1 = float(row["window_start_s"]), float(row["window_end_s"])
        n = int((ok & (done >= t0) & (done < t1)).sum())
        assert float(row["host_iops"]) == pytest.approx(n / (t1 - t0), abs=1e-3)


def test_with_records_off_what_a_run_holds_is_bounded_by_its_latency_range_not_its_ios() -> None:
    short = simulate(scenario(BODY, duration_s=3, records=False))
    long = simulate(scenario(BODY, duration_s=30, records=False))
    assert short.records is None and long.records is None
    assert long.host_ios > 9 * short.host_ios
    for result in (short, long):
        seg = result.segments
        # segments: the start, the establish, the copy completion (timeline instants only)
        assert len(seg.parts) <= 1 + len(result.timeline) + 1
        for part in seg.parts:
            for tally in part:
                for hist in (tally.read, tally.write):
                    if hist.n:
                        octaves = math.log2(hist.high / hist.low)
                        assert len(hist.buckets) <= BUCKETS_PER_OCTAVE * octaves + 2
        assert not result.window_table.rows or len(result.window_table.rows) == round(
            result.scenario.run.duration_s / result.scenario.run.window_s
        )
