"""Counterexamples are written as schedule files that replay deterministically."""

import json

import pytest

from flashsim.models.check import explore
from flashsim.models.check.schedule import (
    ScheduleError,
    read_schedule,
    replay_schedule,
    write_schedule,
)


def test_a_written_schedule_replays_the_same_steps_and_violation(reference, tmp_path):
    config = reference["a_pair"]
    cex = explore(config, "copy_no_recheck").counterexample
    path = tmp_path / "cex.json"
    write_schedule(path, config, "copy_no_recheck", cex)
    record = read_schedule(path)
    assert (
        record["schedule"] == ["src_writer"] * 4 + ["copier"] + ["src_writer"] * 3 + ["copier"] * 6
    )
    replay = replay_schedule(config, record["mutant"], record["schedule"], str(path))
    assert replay.events == cex.events
    assert (replay.violation.property, replay.violation.message) == (cex.property, cex.message)


def test_the_same_schedule_on_the_correct_model_shows_no_violation(reference):
    config = reference["a_pair"]
    cex = explore(config, "copy_no_recheck").counterexample
    # the correct copier locks at once: it has no separate "choose" step, so drop it
    schedule = list(cex.schedule)
    schedule.remove("copier")
    replay = replay_schedule(config, None, schedule)
    assert replay.violation is None
    assert replay.events[7] == ("copier", "copy r1", "lock", "lock A,B t1")


def test_a_deadlock_replays_as_a_deadlock(reference):
    config = reference["a_pair"]
    cex = explore(config, "lock_volume_by_volume").counterexample
    replay = replay_schedule(config, "lock_volume_by_volume", cex.schedule)
    assert replay.violation.property == "no_deadlock"


def test_a_schedule_with_a_step_that_cannot_run_is_rejected(reference):
    with pytest.raises(ScheduleError, match=r"x.json: schedule\[0\]: unknown process 'nobody'"):
        replay_schedule(reference["a_pair"], None, ["nobody"], "x.json")
    with pytest.raises(ScheduleError, match=r"schedule\[1\]: process reader cannot step now"):
        replay_schedule(reference["a_pair"], None, ["src_writer", "reader"], "x.json")


def test_a_file_that_is_no_schedule_is_rejected_with_its_name(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ScheduleError, match=f"{path}: format: expected 'flashsim-schedule-1'"):
        read_schedule(path)
    path.write_text("{")
    with pytest.raises(ScheduleError, match="not JSON"):
        read_schedule(path)
