"""The FlashCopy rules (docs/semantics.md) as plans: given the state an operation sees once it
holds its locks, the tuple of micro-actions it must perform, in order.

This is the one place where the rules decide what is copied where. Host I/O, background copy
and the whole-volume operations (`flashsim.models.rules.control`) all build their effects
here, and the sequential executor, the simulator and the checker all run these same plans.
Each rule is a method of `Plans`, so a variant (or a seeded bug of the checker) replaces one
method in a subclass and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from flashsim.models.errors import OutOfSpaceError, RelationshipFailedError, WriteInhibitedError
from flashsim.models.rules.actions import (
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
    perform,
)
from flashsim.models.rules.inflight import InFlight
from flashsim.models.state.relationship import Relationship
from flashsim.models.state.store import State

#: Most bytes one copy action moves: bounds the memory an in-flight copy holds.
MAX_COPY_EXTENT_BYTES = 4 * 1024 * 1024

Runs = list[tuple[str, int, int]]


def copy_extent_tracks(track_size: int) -> int:
    return max(1, MAX_COPY_EXTENT_BYTES // track_size)


class Plans:
    """What each operation copies where (rules 0-5, 7, 9, 12)."""

    #: The purpose of the copies a source write makes for its targets (rule 2): a data copy
    #: here; a block left to the snapshot, a metadata update, under redirect-on-write.
    source_write_purpose = COPY_BEFORE_WRITE

    def resolve(self, state: State, volume: str, first: int, end: int) -> Runs:
        """Where tracks [first, end) of `volume`'s image physically are (rules 1 and 9): runs
        (holder, first, end), following set bits up the chain of sources."""
        rel_id = state.incoming.get(volume)
        if rel_id is None:
            return [(volume, first, end)]
        rel = state.relationships[rel_id]
        runs = rel.bitmap.runs(first, end)
        if not runs:
            return [(volume, first, end)]
        out: Runs = []
        pos = first
        for lo, hi in runs:
            if pos < lo:
                out.append((volume, pos, lo))
            out.extend(self.resolve(state, rel.source, lo, hi))
            pos = hi
        if pos < end:
            out.append((volume, pos, end))
        return out

    def out_of_space(self, rel: Relationship, tracks_needed: int, changing: str) -> bool:
        """True if space-efficient `rel` must fail for lack of room for `tracks_needed` more
        tracks; raises OutOfSpaceError if its policy rejects the change instead."""
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

    def plan_receive(
        self,
        state: State,
        volume: str,
        ranges: Iterable[tuple[int, int]],
        purpose: str,
        exclude: str | None = None,
    ) -> list[Action]:
        """Rule 0: before `volume`'s image changes on `ranges`, every relationship reading
        those tracks through it (its targets with the bits set) receives them, and its bits
        clear.

        On a 4-track pair A->B with all bits set, a write to A's track 1 plans: read A's
        track 1, write it to B, clear B's bit 1. Raises OutOfSpaceError (nothing changed) when
        a space-efficient target under `inhibit_source_writes` has no room for them.
        """
        ranges = tuple(ranges)
        actions: list[Action] = []
        for rel_id in state.outgoing.get(volume, ()):
            if rel_id == exclude:
                continue
            rel = state.relationships[rel_id]
            if rel.failed or not rel.bitmap.count:
                continue
            runs = [run for first, end in ranges for run in rel.bitmap.runs(first, end)]
            if not runs:
                continue
            if rel.allocated is not None and self.out_of_space(
                rel, sum(e - f for f, e in runs), volume
            ):
                actions.append(FailRelationship(rel.id))
                continue
            step = copy_extent_tracks(state.volumes[volume].track_size)
            for first, end in runs:
                for lo in range(first, end, step):
                    hi = min(end, lo + step)
                    actions.append(ReadTracks(tuple(self.resolve(state, volume, lo, hi)), purpose))
                    actions.append(WriteTracks(rel.target, lo, purpose))
                    actions.append(ClearBits(rel.id, lo, hi))
        return actions

    def plan_write(self, state: State, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
        """A host write (rules 0, 2, 3, 7, 12): copy-before-write to every target that still
        needs the tracks, pull partly covered tracks from this volume's own source, clear
        bits, apply the data, record the change.

        On a 4-track NOCOPY pair A->B, a 2-byte write into B's track 0 plans: read A's track 0,
        write it to B, clear bit 0, apply the 2 bytes, record track 0.
        """
        vol = state.volumes[volume]
        ts = vol.track_size  # (the range was checked at LOCK: `Locking.lock_request`)
        first, end = offset // ts, (offset + len(data) - 1) // ts + 1
        rel_in = state.incoming_relationship(volume)
        if rel_in is not None:
            if rel_in.options.inhibit_target_writes:
                raise WriteInhibitedError(
                    f"volume {volume} is the target of {rel_in.id}, which inhibits target writes"
                )
            _check_not_failed(rel_in)
            if rel_in.allocated is not None:
                needed = (end - first) - rel_in.allocated.count_range(first, end)
                if needed and self.out_of_space(rel_in, needed, volume):
                    error = RelationshipFailedError(
                        f"relationship {rel_in.id} failed: space-efficient target {volume} is full"
                    )
                    return (FailRelationship(rel_in.id), RaiseError(error))
        actions = self.plan_receive(state, volume, ((first, end),), self.source_write_purpose)
        if rel_in is not None and rel_in.bitmap.any_in(first, end):
            partial = sorted(
                {
                    t
                    for t, cut in ((first, offset % ts), (end - 1, (offset + len(data)) % ts))
                    if cut
                }
            )
            for track in partial:
                if rel_in.bitmap.test(track):
                    runs = tuple(self.resolve(state, rel_in.source, track, track + 1))
                    actions.append(ReadTracks(runs, TARGET_PRECOPY))
                    actions.append(WriteTracks(volume, track, TARGET_PRECOPY))
            actions.extend(ClearBits(rel_in.id, f, e) for f, e in rel_in.bitmap.runs(first, end))
        actions.append(ApplyData(volume, offset, data))
        if state.records_changes(volume):
            actions.append(RecordChanges(volume, first, end))
        return tuple(actions)

    def plan_read(self, state: State, volume: str, offset: int, length: int) -> tuple[Action, ...]:
        """A host read (rules 1, 9): each track from wherever the chain resolves it.

        On a 4-track NOCOPY pair A->B, reading B's tracks 0-1 plans one ReadBytes from A.
        """
        vol = state.volumes[volume]
        ts = vol.track_size  # (the range was checked at LOCK: `Locking.lock_request`)
        first, end = offset // ts, (offset + length - 1) // ts + 1
        rel_in = state.incoming_relationship(volume)
        if rel_in is not None:
            _check_not_failed(rel_in)
        stop = offset + length
        segments = []
        redirected = False
        for holder, lo, hi in self.resolve(state, volume, first, end):
            a = max(offset, lo * ts)
            b = min(stop, hi * ts)
            segments.append((holder, a, b - a))
            redirected = redirected or holder != volume
        return (ReadBytes(tuple(segments), REDIRECTED if redirected else HOST),)

    def copy_runs(
        self, state: State, rel: Relationship, first: int, end: int
    ) -> list[tuple[int, int]]:
        """Background copy (rule 4): the runs of the extent [first, end) it chose whose bits
        are still set, tested under its locks."""
        return rel.bitmap.runs(first, end)

    def copy_actions(self, state: State, rel: Relationship, lo: int, hi: int) -> list[Action]:
        """Background copy of the run [lo, hi): read it as the source reads it, write it to
        the target, then clear its bits (the target reads its own copy only once it landed)."""
        return [
            ReadTracks(tuple(self.resolve(state, rel.source, lo, hi)), BACKGROUND),
            WriteTracks(rel.target, lo, BACKGROUND),
            ClearBits(rel.id, lo, hi),
        ]

    def plan_copy(
        self, state: State, rel: Relationship, first: int, end: int
    ) -> tuple[Action, ...]:
        """Background copy (rule 4) of the tracks of [first, end) whose bits are still set."""
        actions: list[Action] = []
        for lo, hi in self.copy_runs(state, rel, first, end):
            actions += self.copy_actions(state, rel, lo, hi)
        return tuple(actions)

    def perform(self, state: State, op: InFlight, action: Action) -> None:
        """Apply one micro-action (`flashsim.models.rules.actions.perform`)."""
        perform(state, op, action)


def _check_not_failed(rel: Relationship) -> None:
    if rel.failed:
        raise RelationshipFailedError(
            f"volume {rel.target}: relationship {rel.id} has failed (space-efficient target "
            "out of space); withdraw it to use the volume again"
        )
