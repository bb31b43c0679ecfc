"""The naive oracle against the shared worked op logs, plus examples they do not cover."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashsim.models.errors import (
    EstablishError,
    FlashCopyError,
    OutOfSpaceError,
    RelationshipFailedError,
)
from flashsim.models.oplog import parse_line
from flashsim.models.ops import Establish, apply
from flashsim.models.oracle import Oracle

OPLOGS = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "oplogs"
NAMES = sorted(p.stem for p in OPLOGS.glob("*.jsonl")) if OPLOGS.is_dir() else []


def replay_keep_going(text: str) -> list[dict[str, object]]:
    """What `flashsim replay --keep-going` prints, with every error shown as "*"."""
    oracle, out = Oracle(), []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            op = parse_line(line, number)
            if op is None:
                continue
            data = apply(oracle, op)
        except FlashCopyError:
            out.append({"line": number, "error": "*"})
            continue
        if data is not None:
            out.append({"line": number, "data": data.hex()})
    return out


@pytest.mark.skipif(
    not NAMES,
    reason=f"the shared worked op logs (not part of this repository) are absent: {OPLOGS}",
)
@pytest.mark.parametrize("name", NAMES)
def test_oracle_replays_the_worked_example_exactly(name: str) -> None:
    expected_text = (OPLOGS / f"{name}.expected").read_text()
    expected = [json.loads(line) for line in expected_text.splitlines() if line.strip()]
    assert replay_keep_going((OPLOGS / f"{name}.jsonl").read_text()) == expected


def four_tracks(*names: str, track_size: int = 2) -> Oracle:
    oracle = Oracle()
    for name in names:
        oracle.create(name, 4, track_size)
    return oracle


def test_fast_reverse_restores_the_source_and_reverts_tracks_the_target_never_received() -> None:
    o = four_tracks("A", "B")
    o.write("B", 0, b"zzzzzzzz")
    o.write("A", 0, b"aabbccdd")
    o.establish(Establish("r1", "A", "B", incremental=True))
    o.background_copy("r1", 1)
    o.write("B", 2, b"BB")
    o.write("A", 4, b"CC")  # copies track 2 to B first
    o.reverse("r1", fast=True)
    assert (o.read("A", 0, 8), o.read("B", 0, 8)) == (b"aaBBccdd", b"aaBBcczz")
    assert (o.consistent("A"), o.consistent("B"), o.relationship_ids()) == (True, False, ["r1"])
    o.background_copy("r1", 4)
    o.withdraw("r1")
    assert (o.read("A", 0, 8), o.consistent("A")) == (b"aaBBccdd", True)


def test_plain_reverse_with_tracks_uncopied_is_rejected_and_changes_nothing() -> None:
    o = four_tracks("A", "B")
    o.write("A", 0, b"aabbccdd")
    o.establish(Establish("r1", "A", "B", incremental=True))
    o.write("B", 0, b"XX")
    with pytest.raises(FlashCopyError):
        o.reverse("r1")
    assert (o.read("A", 0, 8), o.read("B", 0, 8)) == (b"aabbccdd", b"XXbbccdd")


def space_efficient(policy: str, capacity_tracks: int = 2) -> Oracle:
    o = four_tracks("A", "B")
    o.write("B", 0, b"zzzzzzzz")
    o.write("A", 0, b"aabbccdd")
    spec = Establish(
        "r1",
        "A",
        "B",
        background_copy=False,
        target_capacity_tracks=capacity_tracks,
        out_of_space=policy,
    )
    o.establish(spec)
    return o


def test_space_efficient_target_fails_when_full_and_source_writes_go_on() -> None:
    o = space_efficient("fail_relationship")
    o.write("A", 0, b"11")
    o.write("B", 2, b"22")
    o.write("A", 4, b"33")  # the third track: no room, the relationship fails
    assert o.read("A", 0, 8) == b"11bb33dd"
    with pytest.raises(RelationshipFailedError):
        o.read("B", 0, 2)
    with pytest.raises(RelationshipFailedError):
        o.write("B", 0, b"!!")
    o.withdraw("r1")
    assert (o.read("B", 0, 8), o.consistent("B")) == (b"aa22zzzz", False)


def test_space_efficient_target_write_without_room_fails_the_relationship() -> None:
    o = space_efficient("fail_relationship", capacity_tracks=1)
    o.write("B", 0, b"22")
    with pytest.raises(RelationshipFailedError):
        o.write("B", 2, b"33")
    with pytest.raises(RelationshipFailedError):
        o.read("B", 0, 2)
    assert o.relationship_ids() == ["r1"]


def test_space_efficient_target_inhibits_the_source_write_that_needs_room() -> None:
    o = space_efficient("inhibit_source_writes")
    o.write("A", 0, b"11")
    o.write("A", 0, b"1!")  # track 0 already allocated: no new room needed
    o.write("B", 2, b"22")
    with pytest.raises(OutOfSpaceError):
        o.write("A", 4, b"33")
    with pytest.raises(OutOfSpaceError):
        o.write("B", 6, b"44")
    o.write("B", 0, b"ok")
    assert (o.read("A", 0, 8), o.read("B", 0, 8)) == (b"1!bbccdd", b"ok22ccdd")


def test_group_counts_the_targets_per_source_limit_across_members() -> None:
    o = Oracle(max_targets_per_source=2)
    for name in "ABCD":
        o.create(name, 4, 2)
    o.establish(Establish("r1", "A", "B", background_copy=False))
    group = (
        Establish("g1", "A", "C", background_copy=False),
        Establish("g2", "A", "D", background_copy=False),
    )
    with pytest.raises(EstablishError):
        o.establish_group(group)
    assert o.relationship_ids() == ["r1"]
    o.withdraw("r1")
    o.establish_group(group)
    assert o.relationship_ids() == ["g1", "g2"]


def test_refresh_recopies_tracks_changed_only_on_the_target() -> None:
    o = four_tracks("A", "B")
    o.write("A", 0, b"aabbccdd")
    o.establish(Establish("r1", "A", "B", incremental=True))
    assert o.background_copy("r1", 4) == 4
    o.write("B", 2, b"XX")
    o.refresh("r1")
    assert (o.read("B", 0, 8), o.background_copy("r1", 4)) == (b"aabbccdd", 1)
    o.withdraw("r1")
    assert (o.read("B", 0, 8), o.consistent("B")) == (b"aabbccdd", True)


def test_full_track_target_writes_end_a_background_copy_relationship() -> None:
    o = four_tracks("A", "B")
    o.write("A", 0, b"aabbccdd")
    o.establish(Establish("r1", "A", "B"))
    assert o.background_copy("r1", 2) == 2
    o.write("B", 4, b"XXYY")
    assert (o.relationship_ids(), o.read("B", 0, 8)) == ([], b"aabbXXYY")
    o.establish(Establish("r1", "A", "B", background_copy=False))
    assert o.relationship_ids() == ["r1"]
