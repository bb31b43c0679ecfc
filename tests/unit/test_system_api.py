"""Illegal operations through the public `System` API (docs/semantics.md, rule 13 and
"Errors and their order of checks"): each raises its specific error, names what is at fault, and changes nothing.

Every example runs on 4-track volumes of 4-byte tracks; volume V starts out physically
holding "v0v0v1v1v2v2v3v3" (track t reads "vtvt"), so any stray copy would show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flashsim.models import (
    AddressError,
    EstablishError,
    FlashCopyError,
    OutOfSpaceError,
    Profile,
    RelationshipError,
    RelationshipFailedError,
    System,
    VolumeError,
    WriteInhibitedError,
)
from flashsim.models.ops import Establish

TINY = Profile(name="tiny", max_targets_per_source=2)


def image(volume: str) -> bytes:
    """The initial content of `volume`: track t holds e.g. b"a1a1" for volume A."""
    return b"".join(f"{volume.lower()}{t}".encode() * 2 for t in range(4))


def system_of(*volumes: str, profile: Profile | None = None) -> System:
    system = System() if profile is None else System(profile)
    for volume in volumes:
        system.create(volume, 4, 4)
        system.write(volume, 0, image(volume))
    return system


def nocopy(rel_id: str, source: str, target: str, **options: Any) -> Establish:
    return Establish(rel_id, source, target, background_copy=False, **options)


def rejected(
    system: System,
    error: type[FlashCopyError],
    operation: Callable[..., object],
    *args: object,
    **kwargs: object,
) -> str:
    """Run `operation(*args, **kwargs)`, check it raises exactly `error` and leaves the whole
    state as it was; return the message."""
    before = system.fingerprint()
    with pytest.raises(error) as caught:
        operation(*args, **kwargs)
    assert type(caught.value) is error
    assert system.fingerprint() == before
    return str(caught.value)


def reads(system: System, *volumes: str) -> dict[str, bytes]:
    return {volume: system.read(volume, 0, 16) for volume in volumes}


# -- create --------------------------------------------------------------------------------------


def test_creating_a_volume_that_exists_is_rejected():
    system = system_of("A")
    message = rejected(system, VolumeError, system.create, "A", 4, 4)
    assert message == "volume A exists already"


@pytest.mark.parametrize(
    ("tracks", "track_size", "message"),
    [
        (0, 4, "volume Q: tracks must be >= 1, got 0"),
        (4, 0, "volume Q: track_size must be >= 1, got 0"),
        (-1, 4, "volume Q: tracks must be >= 1, got -1"),
    ],
)
def test_creating_a_volume_of_no_tracks_or_empty_tracks_is_rejected(tracks, track_size, message):
    system = system_of("A")
    assert rejected(system, VolumeError, system.create, "Q", tracks, track_size) == message


# -- host I/O ------------------------------------------------------------------------------------


def test_io_to_an_unknown_volume_is_rejected():
    system = system_of("A")
    assert rejected(system, VolumeError, system.read, "Q", 0, 4) == "unknown volume Q"
    assert rejected(system, VolumeError, system.write, "Q", 0, b"x") == "unknown volume Q"


@pytest.mark.parametrize(
    ("offset", "length", "message"),
    [
        (-1, 2, "volume A: offset -1 is negative"),
        (0, 0, "volume A: length 0 is below 1"),
        (14, 3, "volume A: bytes 14..16 pass the end of the volume (16 bytes)"),
        (16, 1, "volume A: bytes 16..16 pass the end of the volume (16 bytes)"),
        (0, 17, "volume A: bytes 0..16 pass the end of the volume (16 bytes)"),
    ],
)
def test_io_outside_the_volume_is_rejected_with_the_offset_at_fault(offset, length, message):
    system = system_of("A")
    assert rejected(system, AddressError, system.read, "A", offset, length) == message
    assert rejected(system, AddressError, system.write, "A", offset, b"X" * length) == message


def test_a_write_past_the_end_of_a_target_copies_nothing_before_it_is_rejected():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "A", "B"))
    system.establish(nocopy("r2", "B", "C"))
    for volume in ("A", "B"):
        message = rejected(system, AddressError, system.write, volume, 12, b"12345")
        assert message == f"volume {volume}: bytes 12..16 pass the end of the volume (16 bytes)"
    assert reads(system, "A", "B", "C") == {"A": image("A"), "B": image("A"), "C": image("A")}


def test_every_write_to_a_target_that_inhibits_target_writes_is_rejected():
    system = system_of("A", "B")
    system.establish(nocopy("r1", "A", "B", inhibit_target_writes=True))
    message = "volume B is the target of r1, which inhibits target writes"
    for offset, data in ((0, b"full"), (5, b"p"), (0, b"X" * 16)):
        assert rejected(system, WriteInhibitedError, system.write, "B", offset, data) == message
    assert reads(system, "A", "B") == {"A": image("A"), "B": image("A")}


# -- establish -----------------------------------------------------------------------------------


def test_establishing_an_id_in_use_is_rejected():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "A", "B"))
    message = rejected(system, EstablishError, system.establish, nocopy("r1", "A", "C"))
    assert message == "relationship id r1 is in use (A -> B)"


def test_establishing_with_an_unknown_source_or_target_is_rejected():
    system = system_of("A")
    for source, target in (("Q", "A"), ("A", "Q")):
        spec = nocopy("r1", source, target)
        assert rejected(system, VolumeError, system.establish, spec) == "unknown volume Q"


def test_establishing_a_volume_onto_itself_is_rejected():
    system = system_of("A")
    message = rejected(system, EstablishError, system.establish, nocopy("r1", "A", "A"))
    assert message == "relationship r1: source and target are both volume A"


@pytest.mark.parametrize(("tracks", "track_size"), [(5, 4), (4, 2), (8, 2)])
def test_establishing_between_volumes_of_different_geometry_is_rejected(tracks, track_size):
    system = system_of("A")
    system.create("Z", tracks, track_size)
    message = rejected(system, EstablishError, system.establish, nocopy("r1", "A", "Z"))
    assert message == (
        f"relationship r1: source A has 4 tracks of 4 bytes but target Z has {tracks} tracks "
        f"of {track_size} bytes"
    )


def test_establishing_onto_a_volume_that_is_already_a_target_is_rejected():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "A", "B"))
    message = rejected(system, EstablishError, system.establish, nocopy("r2", "C", "B"))
    assert message == "relationship r2: volume B is already the target of r1"


def test_establishing_a_direct_cycle_is_rejected():
    system = system_of("A", "B")
    system.establish(nocopy("r1", "A", "B"))
    message = rejected(system, EstablishError, system.establish, nocopy("r2", "B", "A"))
    assert message == (
        "relationship r2: B -> A would make a cycle (A is already B or one of its sources)"
    )


def test_establishing_a_cycle_through_a_cascade_is_rejected():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "A", "B"))
    system.establish(nocopy("r2", "B", "C"))
    message = rejected(system, EstablishError, system.establish, nocopy("r3", "C", "A"))
    assert message == (
        "relationship r3: C -> A would make a cycle (A is already C or one of its sources)"
    )


def test_establishing_over_the_targets_per_source_limit_is_rejected():
    system = system_of("A", "B", "C", "D", profile=TINY)
    system.establish(nocopy("r1", "A", "B"))
    system.establish(nocopy("r2", "A", "C"))
    message = rejected(system, EstablishError, system.establish, nocopy("r3", "A", "D"))
    assert message == "relationship r3: source A already has 2 targets, the tiny limit is 2"


def test_the_ds8000_profile_allows_twelve_targets_per_source_and_no_more():
    targets = "BCDEFGHIJKLMN"
    system = system_of("A", *targets)
    for i, target in enumerate(targets[:12]):
        system.establish(nocopy(f"r{i}", "A", target))
    message = rejected(system, EstablishError, system.establish, nocopy("r12", "A", "N"))
    assert message == "relationship r12: source A already has 12 targets, the ds8000 limit is 12"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"background_copy": True, "target_capacity_tracks": 2},
            "relationship r1: a space-efficient target (target_capacity_tracks) needs "
            "background_copy false (NOCOPY)",
        ),
        (
            {"background_copy": False, "incremental": True, "target_capacity_tracks": 2},
            "relationship r1: a space-efficient target cannot be incremental",
        ),
        (
            {"background_copy": False, "target_capacity_tracks": 0},
            "relationship r1: target_capacity_tracks must be >= 1, got 0",
        ),
        (
            {"background_copy": False, "target_capacity_tracks": 2, "out_of_space": "shrug"},
            "relationship r1: out_of_space must be one of fail_relationship, "
            "inhibit_source_writes, got 'shrug'",
        ),
    ],
)
def test_establishing_a_space_efficient_target_with_bad_options_is_rejected(options, message):
    system = system_of("A", "B")
    spec = Establish("r1", "A", "B", **options)
    assert rejected(system, EstablishError, system.establish, spec) == message


def test_a_volume_that_is_a_source_cannot_become_a_space_efficient_target():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "B", "C"))
    spec = nocopy("r2", "A", "B", target_capacity_tracks=2)
    message = rejected(system, EstablishError, system.establish, spec)
    assert message == "relationship r2: B is a source and cannot be a space-efficient target"


def test_a_space_efficient_target_cannot_become_a_source():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "A", "B", target_capacity_tracks=2))
    message = rejected(system, EstablishError, system.establish, nocopy("r2", "B", "C"))
    assert message == (
        "relationship r2: source B is a space-efficient target (of r1) and cannot be a source"
    )


# -- establish_group: all or none ----------------------------------------------------------------


def test_an_empty_group_is_rejected():
    system = system_of("A")
    message = rejected(system, EstablishError, system.establish_group, ())
    assert message == "establish_group: no relationships given"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (
            (nocopy("g1", "A", "B"), nocopy("g1", "C", "D")),
            "establish_group: id g1 appears twice in the group",
        ),
        (
            (nocopy("g1", "A", "B"), nocopy("g2", "C", "B")),
            "establish_group: target B appears twice in the group",
        ),
        (
            (nocopy("g1", "A", "B"), nocopy("g2", "B", "C")),
            "establish_group: volume B is both a source and a target in the group",
        ),
    ],
)
def test_a_group_whose_members_clash_is_rejected(members, message):
    system = system_of("A", "B", "C", "D")
    assert rejected(system, EstablishError, system.establish_group, members) == message


def test_one_illegal_member_keeps_the_legal_ones_out_too():
    system = system_of("A", "B", "C", "D")
    system.establish(nocopy("x1", "C", "D"))
    group = (nocopy("g1", "A", "B"), nocopy("g2", "A", "D"))
    message = rejected(system, EstablishError, system.establish_group, group)
    assert message == (
        "establish_group: member 1 (g2): relationship g2: volume D is already the target of x1"
    )
    assert sorted(system.relationships) == ["x1"]
    assert reads(system, "B", "D") == {"B": image("B"), "D": image("C")}


def test_a_group_member_with_an_id_in_use_is_rejected():
    system = system_of("A", "B", "C", "D")
    system.establish(nocopy("r1", "A", "B"))
    group = (nocopy("g1", "A", "C"), nocopy("r1", "A", "D"))
    message = rejected(system, EstablishError, system.establish_group, group)
    assert message == "establish_group: member 1 (r1): relationship id r1 is in use (A -> B)"


def test_a_group_member_on_an_unknown_volume_is_rejected():
    system = system_of("A", "B")
    group = (nocopy("g1", "A", "B"), nocopy("g2", "A", "Q"))
    message = rejected(system, VolumeError, system.establish_group, group)
    assert message == "establish_group: member 1 (g2): unknown volume Q"


def test_a_group_that_closes_a_cycle_through_existing_links_is_rejected():
    system = system_of("A", "B", "C", "D")
    system.establish(nocopy("x1", "B", "D"))
    system.establish(nocopy("x2", "C", "A"))
    group = (nocopy("g1", "D", "C"), nocopy("g2", "A", "B"))  # D->C->A->B->D
    message = rejected(system, EstablishError, system.establish_group, group)
    assert message == (
        "establish_group: member 0 (g1): relationship g1: D -> C would make a cycle "
        "(C is already D or one of its sources)"
    )


def test_a_group_counts_its_other_members_against_the_targets_per_source_limit():
    system = system_of("A", "B", "C", "D", profile=TINY)
    system.establish(nocopy("r1", "A", "B"))
    group = (nocopy("g1", "A", "C"), nocopy("g2", "A", "D"))
    message = rejected(system, EstablishError, system.establish_group, group)
    assert message == (
        "establish_group: member 0 (g1): relationship g1: source A already has 2 targets, "
        "the tiny limit is 2"
    )


# -- background copy, refresh, reverse, withdraw ---------------------------------------------------


def test_operations_on_an_unknown_relationship_are_rejected():
    system = system_of("A", "B")
    system.establish(nocopy("r1", "A", "B"))
    messages = [
        rejected(system, RelationshipError, system.background_copy, "r9", 1),
        rejected(system, RelationshipError, system.refresh, "r9"),
        rejected(system, RelationshipError, system.reverse, "r9"),
        rejected(system, RelationshipError, system.reverse, "r9", fast=True),
        rejected(system, RelationshipError, system.withdraw, "r9"),
    ]
    assert messages == ["unknown relationship r9"] * 5


def test_background_copy_of_a_nocopy_relationship_is_rejected():
    system = system_of("A", "B")
    system.establish(nocopy("r1", "A", "B"))
    message = rejected(system, RelationshipError, system.background_copy, "r1", 1)
    assert message == "relationship r1 is NOCOPY: it was established without background copy"


def test_background_copy_of_fewer_than_one_track_is_rejected():
    system = system_of("A", "B")
    system.establish(Establish("r1", "A", "B"))
    message = rejected(system, RelationshipError, system.background_copy, "r1", 0)
    assert message == "background_copy of r1: tracks must be >= 1, got 0"


def test_refresh_of_a_relationship_that_is_not_incremental_is_rejected():
    system = system_of("A", "B")
    system.establish(Establish("r1", "A", "B", persistent=True))
    message = rejected(system, RelationshipError, system.refresh, "r1")
    assert message == "relationship r1 is not incremental: it cannot be refreshed"


@pytest.mark.parametrize("fast", [False, True])
def test_reverse_of_a_relationship_that_is_not_incremental_is_rejected(fast):
    system = system_of("A", "B")
    system.establish(Establish("r1", "A", "B", persistent=True))
    system.background_copy("r1", 4)
    message = rejected(system, RelationshipError, system.reverse, "r1", fast=fast)
    assert message == "relationship r1 is not incremental: it cannot be reversed"


def test_plain_reverse_before_the_copy_is_complete_is_rejected():
    system = system_of("A", "B")
    system.establish(Establish("r1", "A", "B", incremental=True))
    system.background_copy("r1", 1)
    message = rejected(system, RelationshipError, system.reverse, "r1")
    assert message == (
        "relationship r1: copy not complete (3 tracks still to copy); wait for it or use a "
        "fast reverse"
    )


@pytest.mark.parametrize("fast", [False, True])
def test_reverse_of_a_relationship_whose_source_is_a_target_is_rejected(fast):
    system = system_of("A", "B", "C")
    system.establish(nocopy("x1", "C", "A"))
    system.establish(Establish("r1", "A", "B", incremental=True))
    system.background_copy("r1", 4)
    message = rejected(system, RelationshipError, system.reverse, "r1", fast=fast)
    assert message == "relationship r1: source A is the target of x1; it cannot be reversed"


def test_reverse_onto_a_target_that_has_the_most_targets_already_is_rejected():
    system = system_of("A", "B", "C", "D", profile=TINY)
    system.establish(Establish("r1", "A", "B", incremental=True))
    system.background_copy("r1", 4)
    system.establish(nocopy("r2", "B", "C"))
    system.establish(nocopy("r3", "B", "D"))
    message = rejected(system, RelationshipError, system.reverse, "r1")
    assert message == (
        "relationship r1: B already has 2 targets, the tiny limit; it cannot become the source"
    )


# -- space-efficient targets (rule 12) -------------------------------------------------------------


def test_inhibit_source_writes_rejects_the_write_that_needs_space_and_changes_nothing():
    system = system_of("A", "B")
    system.establish(
        nocopy("r1", "A", "B", target_capacity_tracks=1, out_of_space="inhibit_source_writes")
    )
    system.write("A", 0, b"NEW0")  # copies track 0 to B: the one track of space
    message = rejected(system, OutOfSpaceError, system.write, "A", 4, b"NEW1")
    assert message == (
        "relationship r1: space-efficient target B has 0 of 1 tracks left and this change of A "
        "needs 1; rejected (policy inhibit_source_writes)"
    )
    message = rejected(system, OutOfSpaceError, system.write, "B", 9, b"T")
    assert message == (
        "relationship r1: space-efficient target B has 0 of 1 tracks left and this change of B "
        "needs 1; rejected (policy inhibit_source_writes)"
    )
    system.write("A", 1, b"E")  # a track already copied needs no more space
    system.write("B", 2, b"T")  # nor does a target track already allocated
    assert reads(system, "A", "B") == {
        "A": b"NEW0" + image("A")[4:],
        "B": b"a0T0" + image("A")[4:],
    }
    assert system.relationships["r1"].failed is False


def test_fail_relationship_fails_it_and_lets_source_writes_go_on():
    system = system_of("A", "B")
    system.establish(nocopy("r1", "A", "B", target_capacity_tracks=1))
    system.write("A", 0, b"NEW0")  # copies track 0 to B: the one track of space
    system.write("A", 4, b"NEW1")  # needs a second track: the relationship fails
    system.write("A", 8, b"NEW2")
    assert system.relationships["r1"].failed is True
    assert system.read("A", 0, 16) == b"NEW0NEW1NEW2" + image("A")[12:]
    failure = (
        "volume B: relationship r1 has failed (space-efficient target out of space); "
        "withdraw it to use the volume again"
    )
    assert rejected(system, RelationshipFailedError, system.read, "B", 0, 4) == failure
    assert rejected(system, RelationshipFailedError, system.write, "B", 0, b"nope") == failure
    system.withdraw("r1")
    # B keeps what it physically holds: track 0 copied at the first write, its own old data
    assert reads(system, "A", "B") == {
        "A": b"NEW0NEW1NEW2" + image("A")[12:],
        "B": image("A")[:4] + image("B")[4:],
    }
    assert (system.volumes["B"].consistent, sorted(system.relationships)) == (False, [])


def test_a_target_write_that_needs_space_fails_the_relationship_and_is_not_applied():
    system = system_of("A", "B")
    system.establish(nocopy("r1", "A", "B", target_capacity_tracks=1))
    system.write("B", 0, b"T0T0")
    with pytest.raises(RelationshipFailedError) as caught:
        system.write("B", 4, b"T1T1")
    assert str(caught.value) == "relationship r1 failed: space-efficient target B is full"
    assert system.relationships["r1"].failed is True
    system.write("A", 4, b"NEW1")
    system.withdraw("r1")
    assert reads(system, "A", "B") == {
        "A": image("A")[:4] + b"NEW1" + image("A")[8:],
        "B": b"T0T0" + image("B")[4:],
    }


FULL_FOR_A_WHOLE_VOLUME = (
    "relationship r1: space-efficient target B has 1 of 1 tracks left and this change of A "
    "needs 4; rejected (policy inhibit_source_writes)"
)


def test_inhibit_source_writes_rejects_an_establish_onto_the_source_it_has_no_room_for():
    system = system_of("A", "B", "C", "D")
    system.establish(
        nocopy("r1", "A", "B", target_capacity_tracks=1, out_of_space="inhibit_source_writes")
    )
    message = rejected(system, OutOfSpaceError, system.establish, nocopy("x1", "C", "A"))
    assert message == FULL_FOR_A_WHOLE_VOLUME
    group = (nocopy("g1", "C", "D"), nocopy("g2", "C", "A"))
    assert rejected(system, OutOfSpaceError, system.establish_group, group) == message
    assert sorted(system.relationships) == ["r1"]
    assert reads(system, "A", "B", "D") == {"A": image("A"), "B": image("A"), "D": image("D")}


def test_inhibit_source_writes_rejects_a_withdraw_that_would_change_the_source():
    system = system_of("A", "B", "X")
    system.establish(nocopy("x1", "X", "A"))
    system.establish(
        nocopy("r1", "A", "B", target_capacity_tracks=1, out_of_space="inhibit_source_writes")
    )
    message = rejected(system, OutOfSpaceError, system.withdraw, "x1")
    assert message == FULL_FOR_A_WHOLE_VOLUME
    assert reads(system, "A", "B") == {"A": image("X"), "B": image("X")}


def test_fail_relationship_lets_an_establish_onto_the_source_go_on_and_fails_the_relationship():
    system = system_of("A", "B", "C")
    system.establish(nocopy("r1", "A", "B", target_capacity_tracks=1))
    system.establish(nocopy("r2", "C", "A"))
    assert (system.relationships["r1"].failed, sorted(system.relationships)) == (
        True,
        ["r1", "r2"],
    )
    assert system.read("A", 0, 16) == image("C")
    with pytest.raises(RelationshipFailedError):
        system.read("B", 0, 16)
    system.withdraw("r1")
    assert reads(system, "A", "B") == {"A": image("C"), "B": image("B")}


def test_a_volume_over_the_size_limits_is_rejected_by_name():
    from flashsim.models.limits import MAX_TRACK_SIZE, MAX_TRACKS

    system = System()
    with pytest.raises(VolumeError, match=r"volume V: 268435457 tracks is over the limit"):
        system.create("V", MAX_TRACKS + 1, 1)
    with pytest.raises(VolumeError, match=r"volume V: track_size 67108865 is over the limit"):
        system.create("V", 1, MAX_TRACK_SIZE + 1)
    assert system.volumes == {}
