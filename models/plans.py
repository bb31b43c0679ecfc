"""The FlashCopy rules (DESIGN section 3) as plans: given the state an operation sees once it
holds its locks, the tuple of micro-actions it must perform, in order.

This module is the one place where the rules decide what is copied where. Host I/O, background
copy and the whole-volume operations (`flashsim.models.control`) all build their effects here, and
the sequential executor, the simulator and the checker all run these same plans.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flashsim.models.actions import (
    BACKGROUND,
    COPY_BEFORE_WRITE,
    HOST,
    REDIRECTED,
    TARGET_PRECOPY,
    Action,
    ApplyData,
    ClearBits,
    FailRelationship,
    RaiseError,
    ReadBytes,
    ReadTracks,
    RecordChanges,
    WriteTracks,
)
from flashsim.models.errors import OutOfSpaceError, RelationshipFailedError, WriteInhibitedError

if TYPE_CHECKING:
    from flashsim.models.relationship import Relationship
    from flashsim.models.system import System

#: Most bytes one copy action moves: bounds the memory an in-flight copy holds.
MAX_COPY_EXTENT_BYTES = 4 * 1024 * 1024


def copy_extent_tracks(track_size: int) -> int:
    return max(1, MAX_COPY_EXTENT_BYTES // track_size)


def plan_receive(
    system: System,
    volume: str,
    ranges: Iterable[tuple[int, int]],
    purpose: str,
    exclude: str | None = None,
) -> list[Action]:
    """Rule 0: before `volume`'s image changes on `ranges`, every relationship reading those
    tracks through it (its targets with the bits set) receives them, and its bits clear.

    On a 4-track pair A->B with all bits set, a write to A's track 1 plans: read A's track 1,
    write it to B, clear B's bit 1. Raises OutOfSpaceError (nothing changed) when a
    space-efficient target under `inhibit_source_writes` has no room for them.
    """
    ranges = tuple(ranges)
    actions: list[Action] = []
    for rel_id in system.outgoing.get(volume, ()):
        if rel_id == exclude:
            continue
        rel = system.relationships[rel_id]
        if rel.failed or not rel.bitmap.count:
            continue
        runs = [run for first, end in ranges for run in rel.bitmap.runs(first, end)]
        if not runs:
            continue
        ignore_space = system.mutant == "space_limit_ignored"  # mutant: capacity never checked
        needed = sum(e - f for f, e in runs)
        if rel.allocated is not None and not ignore_space and _out_of_space(rel, needed, volume):
            actions.append(FailRelationship(rel.id))
            continue
        step = copy_extent_tracks(system.volumes[volume].track_size)
        for first, end in runs:
            for lo in range(first, end, step):
                hi = min(end, lo + step)
                actions.append(ReadTracks(tuple(system.resolve(volume, lo, hi)), purpose))
                actions.append(WriteTracks(rel.target, lo, purpose))
                actions.append(ClearBits(rel.id, lo, hi))
    return actions


def _out_of_space(rel: Relationship, tracks_needed: int, changing: str) -> bool:
    """True if `rel` must fail for lack of space; raises if its policy rejects the change."""
    assert rel.allocated is not None and rel.options.target_capacity_tracks is not None
    capacity = rel.options.target_capacity_tracks
    if rel.allocated.count + tracks_needed <= capacity:
        return False
    if rel.options.out_of_space == "inhibit_source_writes":
        raise OutOfSpaceError(
            f"relationship {rel.id}: space-efficient target {rel.target} has "
            f"{capacity - rel.allocated.count} of {capacity} tracks left and this change of "
            f"{changing} needs {tracks_needed}; rejected (policy inhibit_source_writes)"
        )
    return True


def plan_write(system: System, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
    """A host write (rules 0, 2, 3, 7, 12): copy-before-write to every target that still
    needs the tracks, pull partly covered tracks from this volume's own source, clear bits,
    apply the data, record the change.

    On a 4-track NOCOPY pair A->B, a 2-byte write into B's track 0 plans: read A's track 0,
    write it to B, clear bit 0, apply the 2 bytes, record track 0.
    """
    vol = system.volumes[volume]
    first, end = vol.track_range(offset, len(data))
    rel_in = system.incoming_relationship(volume)
    if rel_in is not None:
        if rel_in.options.inhibit_target_writes:
            raise WriteInhibitedError(
                f"volume {volume} is the target of {rel_in.id}, which inhibits target writes"
            )
        _check_not_failed(rel_in)
        if rel_in.allocated is not None and system.mutant != "space_limit_ignored":  # mutant
            needed = (end - first) - rel_in.allocated.count_range(first, end)
            if needed and _out_of_space(rel_in, needed, volume):
                error = RelationshipFailedError(
                    f"relationship {rel_in.id} failed: space-efficient target {volume} is full"
                )
                return (FailRelationship(rel_in.id), RaiseError(error))
    actions = plan_receive(system, volume, ((first, end),), COPY_BEFORE_WRITE)
    if system.mutant == "failing_write_drops_data" and any(  # mutant: the data never lands
        type(a) is FailRelationship for a in actions
    ):
        return tuple(actions)
    if rel_in is not None and rel_in.bitmap.any_in(first, end):
        ts = vol.track_size
        partial = sorted(
            {t for t, cut in ((first, offset % ts), (end - 1, (offset + len(data)) % ts)) if cut}
        )
        if system.mutant == "no_target_precopy":  # mutant: a partial write pulls nothing
            partial = []
        for track in partial:
            if rel_in.bitmap.test(track):
                runs = tuple(system.resolve(rel_in.source, track, track + 1))
                actions.append(ReadTracks(runs, TARGET_PRECOPY))
                actions.append(WriteTracks(volume, track, TARGET_PRECOPY))
        actions.extend(ClearBits(rel_in.id, f, e) for f, e in rel_in.bitmap.runs(first, end))
    if system.mutant == "copy_after_write":  # mutant: the data lands before the copies read
        actions.insert(0, ApplyData(volume, offset, data))
    else:
        actions.append(ApplyData(volume, offset, data))
    if system.records_changes(volume):
        actions.append(RecordChanges(volume, first, end))
    return tuple(actions)


def _check_not_failed(rel: Relationship) -> None:
    if rel.failed:
        raise RelationshipFailedError(
            f"volume {rel.target}: relationship {rel.id} has failed (space-efficient target "
            "out of space); withdraw it to use the volume again"
        )


def plan_read(system: System, volume: str, offset: int, length: int) -> tuple[Action, ...]:
    """A host read (rules 1, 9): each track from wherever the chain resolves it.

    On a 4-track NOCOPY pair A->B, reading B's tracks 0-1 plans one ReadBytes from A.
    """
    vol = system.volumes[volume]
    first, end = vol.track_range(offset, length)
    rel_in = system.incoming_relationship(volume)
    if rel_in is not None:
        _check_not_failed(rel_in)
    ts = vol.track_size
    stop = offset + length
    segments = []
    redirected = False
    for holder, lo, hi in system.resolve(volume, first, end):
        a = max(offset, lo * ts)
        b = min(stop, hi * ts)
        segments.append((holder, a, b - a))
        redirected = redirected or holder != volume
    return (ReadBytes(tuple(segments), REDIRECTED if redirected else HOST),)


def plan_copy(system: System, rel: Relationship, first: int, end: int) -> tuple[Action, ...]:
    """Background copy (rule 4) of the tracks of [first, end) whose bits are still set, as
    the source reads them."""
    actions: list[Action] = []
    runs = rel.bitmap.runs(first, end)
    if system.mutant == "copy_no_recheck":  # mutant: copies what it chose before locking
        runs = [(first, end)]
    for lo, hi in runs:
        actions.append(ReadTracks(tuple(system.resolve(rel.source, lo, hi)), BACKGROUND))
        if system.mutant == "clear_before_copy":  # mutant: the bit clears before the data lands
            actions.append(ClearBits(rel.id, lo, hi))
        actions.append(WriteTracks(rel.target, lo, BACKGROUND))
        if system.mutant not in ("clear_before_copy", "copy_never_clears"):  # mutant: no clear
            actions.append(ClearBits(rel.id, lo, hi))
    return tuple(actions)
