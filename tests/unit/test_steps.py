"""The step machinery: phases, locks, whole-volume steps, and state as data."""

from __future__ import annotations

from flashsim.models import System
from flashsim.models.ops import Establish, Withdraw
from flashsim.models.rules.actions import (
    ApplyData,
    ClearBits,
    ReadTracks,
    RecordChanges,
    WriteTracks,
)
from flashsim.models.rules.inflight import ACT, DONE, LOCK, PHASES, PLAN, UNLOCK


def pair(background_copy=True, incremental=False):
    system = System()
    for name in "ABC":
        system.create(name, 4, 4)
    system.write("A", 0, b"aaaabbbbccccdddd")
    system.establish(Establish("r1", "A", "B", background_copy, incremental))
    return system


def phases_of(system, op):
    seen = []
    while op.phase != DONE:
        seen.append(PHASES[op.phase])
        system.step(op)
    return seen


def test_a_source_write_plans_copy_before_write_then_applies_and_records():
    system = pair(background_copy=False, incremental=True)
    op = system.start_write("A", 5, b"XY")
    system.step(op)  # LOCK
    assert op.phase == PLAN
    assert op.locks == (("A", 1, 2), ("B", 1, 2))  # track 1 of each family member
    system.step(op)  # PLAN
    assert op.plan == (
        ReadTracks((("A", 1, 2),), "copy_before_write"),
        WriteTracks("B", 1, "copy_before_write"),
        ClearBits("r1", 1, 2),
        ApplyData("A", 5, b"XY"),
        RecordChanges("A", 1, 2),
    )
    assert phases_of(system, op) == ["act"] * 5 + ["unlock"]
    assert system.read("B", 0, 16) == b"aaaabbbbccccdddd"
    assert system.read("A", 4, 4) == b"bXYb"


def test_a_partial_target_write_first_pulls_the_track_through_the_chain():
    system = pair(background_copy=False)
    system.establish(Establish("r2", "B", "C", background_copy=False))
    op = system.start_write("C", 9, b"Q")
    system.step(op)
    system.step(op)
    assert op.plan == (
        ReadTracks((("A", 2, 3),), "target_precopy"),
        WriteTracks("C", 2, "target_precopy"),
        ClearBits("r2", 2, 3),
        ApplyData("C", 9, b"Q"),
    )
    system.run(op)
    assert system.read("C", 8, 4) == b"cQcc"


def test_a_write_waits_while_a_background_copy_holds_the_track():
    system = pair()
    copy = system.start_copy("r1", 1)
    system.step(copy)  # LOCK track 0 of A and B
    write = system.start_write("A", 0, b"NEW!")
    other = system.start_write("A", 4, b"ok")
    assert not system.enabled(write)
    assert system.enabled(other)
    system.run(copy)
    assert system.enabled(write)
    system.run(write)
    assert system.read("B", 0, 4) == b"aaaa"
    assert copy.copied == 1


def test_a_whole_volume_step_waits_until_its_volumes_have_no_locked_track():
    system = pair()
    read = system.start_read("B", 0, 4)
    system.step(read)
    withdraw = system.start_control(Withdraw("r1"))
    assert not system.enabled(withdraw)
    system.run(read)
    assert system.enabled(withdraw)
    assert phases_of(system, withdraw) == ["lock"]
    assert "r1" not in system.relationships


def test_an_error_found_when_planning_releases_the_locks_and_changes_nothing():
    system = pair(background_copy=False)
    system.withdraw("r1")
    system.establish(Establish("r2", "A", "B", background_copy=False, inhibit_target_writes=True))
    before = system.fingerprint()
    op = system.start_write("B", 0, b"no")
    assert phases_of(system, op) == ["lock", "plan", "unlock"]
    assert "inhibits target writes" in str(op.error)
    assert system.fingerprint() == before
    assert not system.locks


def test_an_io_past_the_end_ends_at_the_lock_step_with_an_address_error():
    system = pair()
    op = system.start_read("A", 15, 2)
    assert system.enabled(op)
    assert phases_of(system, op) == ["lock"]
    assert str(op.error) == "volume A: bytes 15..16 pass the end of the volume (16 bytes)"


def test_a_copy_of_a_relationship_that_has_ended_does_nothing():
    system = pair()
    system.background_copy("r1", 4)
    assert "r1" not in system.relationships
    op = system.run(system.start_copy("r1", 1))
    assert (op.copied, op.error, op.plan) == (0, None, ())


def test_a_clone_is_independent_and_fingerprints_compare_states():
    system = pair()
    twin = system.clone()
    assert twin.fingerprint() == system.fingerprint()
    twin.write("A", 0, b"zz")
    assert twin.fingerprint() != system.fingerprint()
    assert system.read("A", 0, 2) == b"aa"
    assert twin.read("B", 0, 4) == b"aaaa"
    system.write("A", 0, b"zz")
    assert twin.fingerprint() == system.fingerprint()


def test_an_in_flight_operation_is_data_that_fingerprints_its_progress():
    system = pair()
    first = system.start_write("A", 0, b"x")
    second = system.start_write("A", 0, b"x")
    assert first.fingerprint() == second.fingerprint()
    system.step(first)
    assert first.fingerprint() != second.fingerprint()
    assert (first.phase, second.phase) == (PLAN, LOCK)
    system.step(first)
    assert first.phase == ACT
    while first.phase == ACT:
        system.step(first)
    assert first.phase == UNLOCK


def test_a_background_copier_on_a_nocopy_relationship_copies_nothing():
    system = pair(background_copy=False)
    op = system.run(system.start_copy("r1", 4))
    assert (op.copied, op.error, op.plan) == (0, None, ())
    assert system.relationships["r1"].bitmap.count == 4


def test_writes_sharing_a_space_efficient_target_take_its_space_pool_in_turn():
    system = System()
    for name in "AB":
        system.create(name, 4, 4)
    system.establish(
        Establish("se", "A", "B", background_copy=False, target_capacity_tracks=1,
                  out_of_space="inhibit_source_writes")
    )  # fmt: skip
    first, second = system.start_write("A", 0, b"1111"), system.start_write("A", 4, b"2222")
    system.step(first)
    assert ("B", -1, 0) in first.locks
    assert not system.enabled(second)  # the capacity check must not race the allocation
    system.run(first)
    system.run(second)
    assert "has 0 of 1 tracks left" in str(second.error)
    assert system.relationships["se"].allocated.count == 1
    assert system.read("A", 0, 8) == b"1111\x00\x00\x00\x00"


def test_lock_and_plan_is_lock_then_plan_and_waits_without_a_change_while_blocked():
    # the same write on two equal systems: LOCK and PLAN stepped one by one on the first,
    # in one lock_and_plan call on the second; they end in the same phase, locks and plan
    stepped, fused = pair(background_copy=False), pair(background_copy=False)
    one = stepped.start_write("A", 5, b"XY")
    stepped.step(one)  # LOCK
    stepped.step(one)  # PLAN
    two = fused.start_write("A", 5, b"XY")
    assert fused.rules.lock_and_plan(fused, two) is True
    assert two.fingerprint() == one.fingerprint()
    assert fused.fingerprint() == stepped.fingerprint()
    assert two.phase == ACT and two.locks == (("A", 1, 2), ("B", 1, 2))
    # a second write to the same track of B is blocked by those locks: not enabled, and
    # lock_and_plan takes nothing, plans nothing and says so
    blocked = fused.start_write("B", 4, b"Z")
    before = (fused.locks_fingerprint(), blocked.fingerprint())
    assert fused.enabled(blocked) is False
    assert fused.rules.lock_and_plan(fused, blocked) is False
    assert (fused.locks_fingerprint(), blocked.fingerprint()) == before
    while two.phase != DONE:
        fused.step(two)
    assert fused.rules.lock_and_plan(fused, blocked) is True  # its locks are free now
    assert blocked.phase == ACT


def test_try_lock_ends_an_invalid_operation_as_its_step_would():
    system = pair()
    op = system.start_write("A", 15, b"XY")  # bytes 15..16 pass the end of the 16-byte volume
    assert system.rules.try_lock(system, op) is True
    assert op.phase == DONE and op.locks == ()
    assert "pass the end of the volume" in str(op.error)
