"""Back-end amplification of one host write per design, from the plans the steps run (the
simulator charges exactly these actions): with N point-in-time copies of a volume, the first
write to a track copies it N times on a DS8000 (every target still needs it), once on an SVC
(only the newest mapping of the cascade) and never under redirect-on-write (one block handed
to the newest snapshot, a metadata update). A second write to the track copies nothing."""

from __future__ import annotations

import pytest

from flashsim.models import Establish, System
from flashsim.models.oracle import Oracle
from flashsim.models.rules.actions import (
    COPY_BEFORE_WRITE,
    ROW_MERGE,
    ROW_REMAP,
    ReadTracks,
    WriteTracks,
)
from flashsim.models.rules.inflight import ACT
from flashsim.models.rules.profiles import RedirectOnWriteRules
from flashsim.models.state.relationship import DS8000, ROW, SVC

TRACK = 4096


def source_with_copies(profile, copies: int) -> System:
    system = System(profile)
    system.create("vol", 8, TRACK)
    system.write("vol", 0, bytes([7]) * 8 * TRACK)
    for i in range(copies):
        if profile is ROW:
            system.snapshot("vol", f"copy{i}")
        else:
            system.create(f"copy{i}", 8, TRACK)
            system.establish(Establish(f"r{i}", "vol", f"copy{i}", background_copy=False))
    return system


def write_plan(system: System, track: int) -> tuple:
    op = system.start_write("vol", track * TRACK, bytes([9]) * TRACK)
    while op.phase != ACT:  # the plan is fixed at PLAN
        system.step(op)
    plan = op.plan
    system.run(op)
    return plan


def copied_bytes(plan, purpose: str) -> tuple[int, int]:
    """(bytes read, bytes written) by the plan's actions of `purpose`."""
    reads = sum(
        (e - f) * TRACK
        for a in plan
        if isinstance(a, ReadTracks) and a.purpose == purpose
        for _, f, e in a.runs
    )
    writes = sum(TRACK for a in plan if isinstance(a, WriteTracks) and a.purpose == purpose)
    return reads, writes


@pytest.mark.parametrize("copies", [1, 4, 12])
@pytest.mark.parametrize(
    ("profile", "copies_per_first_write"),
    [(DS8000, lambda n: n), (SVC, lambda _n: 1), (ROW, lambda _n: 0)],
    ids=["ds8000", "svc", "row"],
)
def test_first_write_to_a_track_copies_per_design(profile, copies_per_first_write, copies):
    system = source_with_copies(profile, copies)
    first = write_plan(system, 3)
    expected = copies_per_first_write(copies) * TRACK
    assert copied_bytes(first, COPY_BEFORE_WRITE) == (expected, expected)
    # redirect-on-write: one block handed to the newest snapshot, whatever the number
    assert copied_bytes(first, ROW_REMAP) == ((TRACK, TRACK) if profile is ROW else (0, 0))
    again = write_plan(system, 3)
    assert copied_bytes(again, COPY_BEFORE_WRITE) == (0, 0)
    assert copied_bytes(again, ROW_REMAP) == (0, 0)


def test_a_partial_row_write_into_a_shared_block_reads_the_old_block_once():
    """Rule R2b: a 100-byte write into a shared 4 KiB block that holds data reads the old
    block to merge (one ReadTracks of ROW_MERGE) after handing it to the snapshot; the same
    write again finds the block unshared and reads nothing; a whole-block write never reads."""
    system = source_with_copies(ROW, 2)
    merge = ReadTracks((("vol", 3, 4),), ROW_MERGE)
    plan = system.rules.plan_write(system, "vol", 3 * TRACK + 10, b"x" * 100)
    assert plan.count(merge) == 1
    assert plan.index(merge) > max(
        i for i, a in enumerate(plan) if getattr(a, "purpose", None) == ROW_REMAP
    )
    system.write("vol", 3 * TRACK + 10, b"x" * 100)
    assert ROW_MERGE not in str(system.rules.plan_write(system, "vol", 3 * TRACK, b"y" * 100))
    whole = system.rules.plan_write(system, "vol", 4 * TRACK, b"z" * TRACK)
    assert all(getattr(a, "purpose", None) != ROW_MERGE for a in whole)
    # a write across two blocks, partial in both: both merged
    both = system.rules.plan_write(system, "vol", 5 * TRACK + 1, b"w" * TRACK)
    assert [a.runs for a in both if getattr(a, "purpose", None) == ROW_MERGE] == [
        (("vol", 5, 6),),
        (("vol", 6, 7),),
    ]


def test_a_partial_row_write_into_a_hole_merges_nothing():
    system = System(ROW)
    system.create("vol", 4, TRACK)
    system.snapshot("vol", "s1")
    plan = system.rules.plan_write(system, "vol", 10, b"x" * 100)  # the hole reads as zeros
    assert all(getattr(a, "purpose", None) != ROW_MERGE for a in plan)


class SkipsTheMerge(RedirectOnWriteRules):
    """A seeded bug: partial writes into shared blocks do not read the old block."""

    def merged_tracks(self, state, volume, offset, length):  # noqa: ARG002
        return []


def test_the_oracle_kills_a_variant_that_skips_the_merge_read():
    engine = System(ROW, rules=SkipsTheMerge())
    oracle = Oracle(ROW.max_targets_per_source, profile="row")
    for impl in (engine, oracle):
        impl.create("vol", 2, TRACK)
        impl.write("vol", 0, b"a" * 2 * TRACK)
        impl.snapshot("vol", "s1")
    plan = engine.rules.plan_write(engine, "vol", 5, b"b")
    merges = sum(getattr(a, "purpose", None) == ROW_MERGE for a in plan)
    assert (merges, oracle.merge_reads("vol", 5, 1)) == (0, 1)  # the differential test's check
