"""The svc design in simulated time (issue 12): the cleaning rate, restarts and incremental
restarts. A stop's cleaning copies run at the
stopped mapping's `cleaning_rate` (the copy-rate scale: 50 = 2 MiB/s, each band of ten
doubling), as their own traffic (kind `cleaning`), while the mapping is `stopping`. The
stopping duration is the bytes to clean over the rate, the arrays being far faster: a grain
copy costs 0.5 + 0.8 ms of device time plus 2 x 64 KiB at 1,000 MiB/s, well under the 31 ms a
64 KiB grain takes at 2 MiB/s."""

from __future__ import annotations

import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.sim.engine import simulate
from flashsim.sim.scenario.tables import ScenarioError
from flashsim.sim.scenario.units import svc_copy_rate_bytes_s

GRAIN = 64 * 1024
WRITER = """
[[workload]]
name = "w"
volume = "S"
rw = "write"
bs = "64k"
rate_iops = 10
start_s = 1.5
stop_s = 3.5
"""
STOP = """
[[event]]
at_s = 4
action = "stop"
id = "m2"
"""


def svc(cleaning_rate: int | None = None, events: str = STOP) -> str:
    """m1 then m2 from S (NOCOPY, 4 MiB: 64 grains): the writes after m2's start copy their
    grain to T2 only, and m1 reads them through T2; stopping m2 must clean them to T1."""
    body = array("a0", lat=0.5, bw=1000, par=8)
    body += volume("S", 4) + volume("T1", 4) + volume("T2", 4)
    body += flashcopy("m1", "S", "T1", 0.5, background_copy=False)
    options: dict[str, object] = {"background_copy": False}
    if cleaning_rate is not None:
        options["cleaning_rate"] = cleaning_rate
    body += flashcopy("m2", "S", "T2", 1.0, **options)
    return body + WRITER + events


def at(result, event: str) -> float:
    (when,) = [e["at_s"] for e in result.timeline if e["event"] == event]
    return float(when)


@pytest.mark.parametrize(
    ("cleaning_rate", "rate_bytes_s"),
    [(None, 2 << 20), (50, 2 << 20), (70, 8 << 20), (41, 2 << 20)],
)
def test_the_stopping_duration_is_the_grains_to_clean_over_the_cleaning_rate(
    cleaning_rate, rate_bytes_s
):
    assert svc_copy_rate_bytes_s(cleaning_rate or 50) == rate_bytes_s
    result = simulate(scenario(svc(cleaning_rate), duration_s=12, profile='"svc"'))
    rec = result.records
    assert (rec["error"] == 0).all()
    grains = len(set((rec["offset"] // GRAIN).tolist()))  # each written once, after m2 began
    assert grains == len(rec["offset"]) > 1
    stopping, stopped = at(result, "stopping m2"), at(result, "stopped m2")
    assert stopping == pytest.approx(4.0)
    assert stopped - stopping == pytest.approx(grains * GRAIN / rate_bytes_s, rel=1e-9)
    arr = result.arrays["a0"]
    assert arr.bytes["cleaning"] == 2 * grains * GRAIN  # each grain read from T2, written to T1
    assert arr.bytes["rule0"] == 0  # nothing else the stop changed
    assert "m2" in result.system.relationships
    assert result.system.relationships["m2"].mapping_state == "stopped"


def test_the_summary_reports_cleaning_traffic_apart():
    from flashsim.sim.metrics.summary import summary

    result = simulate(scenario(svc(70), duration_s=12, profile='"svc"'))
    arrays = summary(result)["arrays"]
    assert arrays["a0"]["bytes"]["cleaning"] == result.arrays["a0"].bytes["cleaning"] > 0


def test_a_cleaning_rate_outside_0_150_is_an_error():
    with pytest.raises(ScenarioError) as caught:
        scenario(svc(151), profile='"svc"')
    assert str(caught.value) == "test.toml: flashcopy[1].cleaning_rate: must be 0-150, got 151"


def test_a_cleaning_rate_of_0_with_a_stop_is_an_error():
    with pytest.raises(ScenarioError) as caught:
        scenario(svc(0), profile='"svc"')
    assert str(caught.value) == (
        "test.toml: event[0].action: cleaning_rate of m2 is 0: the stop's cleaning never ends"
    )


def test_a_cleaning_rate_of_0_without_a_stop_is_accepted():
    assert scenario(svc(0, events=""), profile='"svc"').flashcopies[1].cleaning_rate_bytes_s == 0


def test_a_cleaning_rate_outside_svc_is_an_error():
    with pytest.raises(ScenarioError) as caught:
        scenario(svc(50, events=""), profile='"ds8000"')
    assert str(caught.value) == (
        "test.toml: flashcopy[1].cleaning_rate: is an option of the svc design, not ds8000"
    )


def test_a_restart_copies_every_grain_again_in_the_background():
    """Rule S7 in time: m1 copies its 4 MiB at copy rate 70 (8 MiB/s), 0.5 s from its start
    at 0.5 s; restarted at 2 s (idle_or_copied: prepared again, started), it copies all 64
    grains again, done 0.5 s later, to within one extent (50 ms of copy at the rate). No host
    I/O: the back end moves the volume twice, read and written."""
    body = array("a0", lat=0.5, bw=1000, par=8) + volume("S", 4) + volume("T", 4)
    body += flashcopy("m1", "S", "T", 0.5, copy_rate=70)
    body += '\n[[event]]\nat_s = 2\naction = "restart"\nid = "m1"\n'
    result = simulate(scenario(body, duration_s=4, profile='"svc"'))
    events = [e["event"] for e in result.timeline]
    assert events == ["establish m1", "prepare m1", "restart m1"]
    first, again = result.relationships["m1"].points_in_time[-2:]
    extent_s = 0.05
    assert first["copy_complete_at_s"] == pytest.approx(1.0, abs=extent_s)
    assert again["at_s"] == pytest.approx(2.0)
    assert again["copy_complete_at_s"] == pytest.approx(2.5, abs=extent_s)
    arr = result.arrays["a0"]
    assert arr.bytes["background"] == 2 * 2 * 4 * 2**20
    assert result.system.relationships["m1"].mapping_state == "idle_or_copied"


def test_restart_is_an_svc_action():
    body = svc(events='\n[[event]]\nat_s = 2\naction = "restart"\nid = "m2"\n')
    with pytest.raises(ScenarioError) as caught:
        scenario(body, profile='"ds8000"')
    assert str(caught.value) == (
        "test.toml: event[0].action: restart is an action of the svc design, not ds8000"
    )


def test_an_incremental_restart_copies_only_the_grains_changed_since():
    """Rule S8 in time: m1 (incremental) copies its 4 MiB by 1.0 s; the writer then changes
    some grains of S (64 KiB each, after the copy: no copy-before-write); the restart at 2 s
    copies those grains again and no other, read and written once each."""
    body = array("a0", lat=0.5, bw=1000, par=8) + volume("S", 4) + volume("T", 4)
    body += flashcopy("m1", "S", "T", 0.5, copy_rate=70, incremental=True)
    body += '\n[[event]]\nat_s = 2\naction = "restart"\nid = "m1"\n'
    body += WRITER.replace("start_s = 1.5", "start_s = 1.2").replace("stop_s = 3.5", "stop_s = 1.8")
    result = simulate(scenario(body, duration_s=4, profile='"svc"'))
    rec = result.records
    assert (rec["error"] == 0).all() and (rec["issue_s"] > 1.1).all()
    changed = len(set((rec["offset"] // GRAIN).tolist()))
    assert 1 < changed < 64
    arr = result.arrays["a0"]
    assert arr.bytes["copy_before_write"] == 0
    assert arr.bytes["background"] == 2 * 4 * 2**20 + 2 * changed * GRAIN
    assert result.relationships["m1"].points_in_time[-1]["copy_complete_at_s"] is not None
