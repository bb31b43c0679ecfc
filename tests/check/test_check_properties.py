"""The state properties group_consistency, restore and isolation: each names the violation it
finds on a tampered engine, holds on the untampered one, and its sometimes partner is reached by
its reference configuration (so a model that never gets there fails)."""

import dataclasses

import pytest

from flashsim.models import ops
from flashsim.models.check import explore
from flashsim.models.check import properties as props
from flashsim.models.ops import Establish, EstablishGroup, Refresh, Reverse, Withdraw, Write
from flashsim.models.oracle import Oracle
from flashsim.models.system import System

NEW = ("group_consistency", "restore", "isolation")


def _run(volumes, *operations):
    """An engine and an oracle with the same volumes (2 tracks x 2 bytes) and operations."""
    system, oracle = System(), Oracle()
    for name in volumes:
        system.create(name, 2, 2)
        oracle.create(name, 2, 2)
    for op in operations:
        ops.apply(system, op)
        ops.apply(oracle, op)
    return system, oracle


def _group():
    return _run(
        ("A", "B", "A2", "B2"),
        Write("A", 0, bytes.fromhex("a0a1a2a3")),
        Write("B", 0, bytes.fromhex("b0b1b2b3")),
        EstablishGroup(
            (
                Establish("g1", "A", "A2", background_copy=False),
                Establish("g2", "B", "B2", background_copy=False),
            )
        ),
        Write("B", 2, bytes.fromhex("5252")),  # after the instant: B2 keeps b2b3
    )


def _refreshed(*more):
    return _run(
        ("A", "C"),
        Write("A", 0, bytes.fromhex("a0a1a2a3")),
        Establish("r2", "A", "C", background_copy=False, incremental=True),
        Write("C", 0, bytes.fromhex("7171")),
        Refresh("r2"),
        *more,
    )


def _failed():
    return _run(
        ("A", "B"),
        Write("A", 0, bytes.fromhex("a0a1a2a3")),
        Establish("r1", "A", "B", background_copy=False, target_capacity_tracks=1),
        Write("A", 0, bytes.fromhex("5151")),  # copies track 0 to B: B is full
        Write("A", 2, bytes.fromhex("5252")),  # no room for track 1: r1 fails, A is written
    )


def _all_hold(system, oracle):
    return [name for name, check in props.STATE_CHECKS if check(system, oracle) is not None]


def test_the_new_properties_are_the_first_state_checks():
    # the narrow properties name a violation first: a refresh that misses a track is a
    # restore bug before it is a bitmap one
    names = [name for name, _ in props.STATE_CHECKS]
    assert names == [
        *NEW,
        "bitmap_soundness",
        "consistency",
        "relationship_agreement",
        "image_agreement",
    ]
    assert set(NEW) <= set(props.SAFETY)


# -- group_consistency -----------------------------------------------------------------------
def test_group_consistency_names_the_member_showing_a_later_instant():
    system, oracle = _group()
    assert system.relationships["g1"].failed is False and oracle._state.relationships["g2"].group
    # A's new data lands without copy-before-write: A2 (read through A) shows a later instant
    system.volumes["A"].backend.write(0, bytes.fromhex("5151"))
    assert props.group_consistency(system, oracle) == (
        "group g1,g2: member g1 (A->A2) shows another instant: A2 track 0 reads as 5151, the "
        "group's instant gives a0a1"
    )


def test_group_consistency_holds_on_a_group_whose_source_was_written_since():
    system, oracle = _group()
    assert system.read("B2", 0, 4) == bytes.fromhex("b0b1b2b3")
    assert props.group_consistency(system, oracle) is None
    assert _all_hold(system, oracle) == []


def test_group_consistency_ignores_relationships_established_alone():
    system, oracle = _run(
        ("A", "A2"), Establish("r1", "A", "A2", background_copy=False), Write("A", 0, b"xx")
    )
    system.volumes["A2"].backend.write(0, b"zz")
    system.relationships["r1"].bitmap.clear_range(0, 1)
    assert props.group_consistency(system, oracle) is None
    assert props.image_agreement(system, oracle) is not None


def test_group_consistency_partner_is_reached_by_d_and_missed_without_the_group(reference):
    config = reference["d_group"]
    assert "group_instant_kept" in config.sometimes
    assert "group_instant_kept" in explore(config, progress=False).witnessed
    no_admin = dataclasses.replace(
        config, processes=tuple(p for p in config.processes if p.name != "admin")
    )
    assert "group_instant_kept" in explore(no_admin, progress=False).missing


# -- restore ---------------------------------------------------------------------------------
def test_restore_names_a_refresh_that_kept_the_target_s_own_write():
    system, oracle = _refreshed()
    # as if the refresh had not recopied the track the target wrote
    system.relationships["r2"].bitmap.clear_range(0, 1)
    assert props.restore(system, oracle) == (
        "refresh of r2: restored C track 0 reads as 7171, the restored instant gives a0a1"
    )


def test_restore_checks_both_sides_of_a_fast_reverse():
    system, oracle = _refreshed(Write("A", 2, bytes.fromhex("5151")), Reverse("r2", fast=True))
    assert (oracle._state.relationships["r2"].restored, system.read("A", 0, 4)) == (
        "fast reverse",
        bytes.fromhex("a0a1a2a3"),
    )
    assert props.restore(system, oracle) is None
    system.relationships["r2"].bitmap.clear_range(1, 2)  # A keeps its write: not restored
    assert props.restore(system, oracle) == (
        "fast reverse of r2: restored A track 1 reads as 5151, the restored instant gives a2a3"
    )
    system.relationships["r2"].bitmap.set_range(1, 2)
    system.volumes["C"].backend.write(0, b"zz")  # the old target's reverted track is lost
    assert props.restore(system, oracle) == (
        "fast reverse of r2: reverted C track 0 reads as 7a7a, its reverted image gives 7171"
    )


def test_restore_holds_after_a_refresh_and_ignores_relationships_never_restored():
    system, oracle = _refreshed()
    assert system.read("C", 0, 4) == bytes.fromhex("a0a1a2a3")
    assert props.restore(system, oracle) is None
    assert _all_hold(system, oracle) == []
    system, oracle = _run(
        ("A", "C"), Establish("r2", "A", "C", background_copy=False, incremental=True)
    )
    system.relationships["r2"].bitmap.clear_range(0, 2)  # C's zeros: a PIT bug, no restore
    system.volumes["A"].backend.write(0, b"xxxx")
    assert props.restore(system, oracle) is None


def test_restore_partner_is_reached_by_c(reference):
    config = reference["c_two_targets"]
    assert "restore_changes_an_image" in config.sometimes
    assert "restore_changes_an_image" in explore(config, progress=False).witnessed


# -- isolation -------------------------------------------------------------------------------
def test_isolation_names_the_failed_relationship_whose_source_lost_a_write():
    system, oracle = _failed()
    assert system.relationships["r1"].failed and oracle._state.relationships["r1"].failed
    system.volumes["A"].backend.write(2, bytes.fromhex("a2a3"))  # the failing write undone
    assert props.isolation(system, oracle) == (
        "relationship r1 (failed): source A track 1 reads as a2a3, its latest writes give 5252"
    )


def test_isolation_covers_the_source_of_a_space_efficient_relationship_before_it_fails():
    system, oracle = _run(
        ("C", "D"),
        Establish(
            "r2", "C", "D", background_copy=False, target_capacity_tracks=1,
            out_of_space="inhibit_source_writes",
        ),
    )  # fmt: skip
    system.volumes["C"].backend.write(0, b"zz")
    assert props.isolation(system, oracle) == (
        "relationship r2 (space-efficient, inhibit_source_writes): source C track 0 reads as "
        "7a7a, its latest writes give 0000"
    )


def test_isolation_holds_after_a_relationship_failed_and_ignores_other_sources():
    system, oracle = _failed()
    assert system.read("A", 0, 4) == bytes.fromhex("51515252")
    assert props.isolation(system, oracle) is None
    assert _all_hold(system, oracle) == []
    system, oracle = _run(("A", "B"), Establish("r1", "A", "B", background_copy=False))
    system.volumes["A"].backend.write(0, b"zz")
    assert props.isolation(system, oracle) is None


def test_isolation_covers_the_source_of_a_withdrawn_relationship():
    system, oracle = _run(
        ("A", "B"),
        Write("A", 0, bytes.fromhex("a0a1a2a3")),
        Establish("r1", "A", "B", background_copy=False),
        Write("A", 0, bytes.fromhex("5151")),
        Withdraw("r1"),
    )
    assert props.isolation(system, oracle) is None
    system.volumes["A"].backend.write(0, bytes.fromhex("a0a1"))  # the write lost on withdraw
    assert props.isolation(system, oracle) == (
        "relationship r1 (withdrawn): source A track 0 reads as a0a1, its latest writes give 5151"
    )


def test_isolation_partner_is_reached_by_e(reference):
    config = reference["e_space_efficient"]
    assert "relationship_failed_with_source_written" in config.sometimes
    found = explore(config, progress=False).witnessed
    assert "relationship_failed_with_source_written" in found


@pytest.mark.parametrize("name", ["a_pair", "b_cascade"])
def test_configurations_without_groups_restores_or_failures_witness_none_of_the_partners(
    reference, name
):
    partners = {"group_instant_kept", "restore_changes_an_image"}
    partners.add("relationship_failed_with_source_written")
    assert partners.isdisjoint(explore(reference[name], progress=False).witnessed)


# -- consistency -----------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [False, True])
def test_consistency_holds_after_a_withdraw_or_fast_reverse_and_names_a_wrong_flag(fast):
    last = Reverse("r1", fast=True) if fast else Withdraw("r1")
    system, oracle = _run(
        ("A", "B"),
        Write("A", 0, bytes.fromhex("a0a1a2a3")),
        Establish("r1", "A", "B", background_copy=False, incremental=True),
        Write("B", 0, bytes.fromhex("7171")),
        last,
    )
    flagged = "B"  # left with tracks it never received: withdrawn, or reverted as new source
    assert not oracle.consistent(flagged)
    assert props.consistency(system, oracle) is None
    assert "volume_marked_inconsistent" in props.state_witnesses(system, oracle)
    system.volumes[flagged].consistent = True
    assert props.consistency(system, oracle) == (
        f"volume {flagged} is marked consistent, the serial run marks it inconsistent"
    )


def test_a_withdraw_of_a_complete_copy_keeps_the_target_consistent():
    system, oracle = _run(("A", "B"), Establish("r1", "A", "B", persistent=True))
    system.background_copy("r1", 2)
    oracle.background_copy("r1", 2)
    ops.apply(system, Withdraw("r1"))
    ops.apply(oracle, Withdraw("r1"))
    assert system.volumes["B"].consistent and oracle.consistent("B")
    assert props.consistency(system, oracle) is None


# -- relationship_agreement ------------------------------------------------------------------
def test_relationship_agreement_names_the_field_that_differs_from_the_serial_run():
    system, oracle = _refreshed(Write("A", 2, bytes.fromhex("5353")))
    assert props.relationship_agreement(system, oracle) is None
    # the refresh left tracks 0 (C's write, recorded) and 1 (never copied) to copy; the write
    # to A's track 1 copied it to C first (rule 0) and recorded it as a source change
    rel = system.relationships["r2"]
    rel.bitmap.clear_range(0, 1)  # the engine forgets that track 0 is still to copy
    assert props.relationship_agreement(system, oracle) == (
        "relationship r2: tracks to copy [], the serial run [0]"
    )
    rel.bitmap.set_range(0, 1)
    assert rel.source_changes is not None
    rel.source_changes.clear_range(1, 2)  # the write to A's track 1 not recorded (rule 7)
    assert props.relationship_agreement(system, oracle) == (
        "relationship r2: source changes [], the serial run [1]"
    )


def test_relationship_agreement_sees_a_relationship_that_ended_early_and_a_failed_flag():
    system, oracle = _failed()
    assert props.relationship_agreement(system, oracle) is None
    system.relationships["r1"].failed = False
    assert props.relationship_agreement(system, oracle) == (
        "relationship r1: failed False, the serial run True"
    )
    system.remove_relationship(system.relationships["r1"])
    assert props.relationship_agreement(system, oracle) == (
        "relationships none, the serial run has r1"
    )
