"""What an operation must lock before it plans, and what a whole-volume operation waits for.

A host read or write, or the background copy of one extent, takes every lock it needs in one
atomic step (all or none, so the correct model cannot deadlock): its tracks on every volume
of its family (the tree of relationships it belongs to), because a copy into a target races
with writes to it and a read resolves through several volumes. A whole-volume operation is
enabled only while no track of the volumes it touches is locked.
"""

from __future__ import annotations

from flashsim.models.ops import (
    DeleteSnapshot,
    Establish,
    EstablishGroup,
    Op,
    Prepare,
    PrepareAgain,
    Refresh,
    Resume,
    Reverse,
    Snapshot,
    Start,
    Stop,
    Suspend,
    Withdraw,
)
from flashsim.models.rules.inflight import COPY, READ, WRITE, InFlight
from flashsim.models.rules.plans import Plans
from flashsim.models.state.relationship import Relationship
from flashsim.models.state.store import LockKey, Shared, State

#: The lock (volume, SPACE_POOL, 0), below every track, guards what a target's relationship
#: holds beyond its tracks: a space-efficient target's allocation count and failed flag
#: (writes that may allocate hold it exclusively, reads of the target shared), and the very
#: existence of a relationship that inhibits target writes (the copy that may end it holds it
#: exclusively, writes to the target shared).
SPACE_POOL = -1

#: Locks as ranges of tracks (`flashsim.models.state.store.LockKey`).
Keys = tuple[LockKey, ...]


class Locking(Plans):
    """The lock discipline: which locks, in which order, taken how."""

    def lock_members(self, state: State, volume: str) -> tuple[str, ...]:
        """The volumes whose tracks an I/O on `volume` locks: its whole family, sorted (the
        global lock order)."""
        return state.family(volume)

    def lock_keys(self, state: State, kind: str, volume: str, first: int, end: int) -> Keys:
        """The locks of an operation of `kind` on tracks [first, end) of `volume`."""
        shape = state.derived.get((kind, volume))
        if shape is None:  # (computed once per relationship change: this runs per I/O)
            shape = state.derived[kind, volume] = self.lock_shape(state, kind, volume)
        members, extra = shape
        if len(members) == 1:
            return ((members[0], first, end), *extra)
        return (*[(member, first, end) for member in members], *extra)

    def lock_shape(self, state: State, kind: str, volume: str) -> tuple[tuple[str, ...], Keys]:
        """What the relationships alone decide of `lock_keys`: (the volumes whose tracks it
        locks, the locks it takes beyond tracks)."""
        members = self.lock_members(state, volume)
        if kind == WRITE:
            pools = space_pools(state, members)
            return members, pools + inhibit_lock(state, volume, pools)
        if kind == READ:
            return members, read_pool(state, volume)
        return members, ()

    def copy_extent(self, state: State, rel: Relationship, op: InFlight) -> tuple[int, int] | None:
        """The extent a background copy locks: the lowest run of set bits, at most
        `op.limit` tracks long; None when nothing is left to copy."""
        if not rel.bitmap.count:
            return None
        return rel.bitmap.lowest_runs(op.limit)[0]

    def lock_request(self, state: State, op: InFlight) -> tuple[int, int, Keys] | None:
        """(first, end, locks) that `op`'s LOCK must take, or None if it ends at once (a copy
        with nothing to copy, or of a NOCOPY relationship: rule 4). Raises FlashCopyError if
        the operation is invalid. Changes nothing."""
        if op.kind == COPY:
            rel = state.relationships.get(op.relationship or "")
            if rel is None or not rel.options.background_copy:
                return None
            extent = self.copy_extent(state, rel, op)
            if extent is None:
                return None
            first, end = extent
            keys = self.lock_keys(state, op.kind, rel.source, first, end)
            return first, end, keys + ending_lock(rel, first, end)
        volume = op.volume
        first, end = state.volume(volume).track_range(op.offset, op.length)
        return first, end, self.lock_keys(state, op.kind, volume, first, end)

    def released_at_plan(self, op: InFlight) -> Keys:
        """The locks `op` needs only until it has planned: its shared ones (a read's space
        pool, `read_pool`: the failed flag is tested at PLAN, and from then on the plan touches
        only the tracks it holds). Held longer, a stream of reads back to back would keep the
        pool shared without a break and starve the writes waiting to allocate."""
        return tuple([key for key in op.locks if type(key) is Shared])

    def lock_batch(self, op: InFlight, wanted: Keys) -> Keys:
        """The locks LOCK takes in this step, of the `wanted` ones: all of them at once."""
        return wanted

    def control_scope(self, state: State, op: Op | None) -> tuple[str, ...]:
        """Volumes whose tracks must be unlocked before a whole-volume operation runs."""
        if isinstance(op, Establish):
            names = [op.source, op.target]
        elif isinstance(op, EstablishGroup):
            names = [v for s in op.relationships for v in (s.source, s.target)]
        elif isinstance(
            op, Withdraw | Refresh | Reverse | PrepareAgain | Start | Stop | Suspend | Resume
        ) and (op.id in state.relationships):
            rel = state.relationships[op.id]
            names = [rel.source, rel.target, rel.options.source]
        elif isinstance(op, Prepare):
            names = [op.spec.source, op.spec.target]
        elif isinstance(op, Snapshot):
            names = [op.volume]
        elif isinstance(op, DeleteSnapshot) and op.snapshot in state.volumes:
            names = [op.snapshot]
        else:
            return ()
        return tuple(sorted({m for n in names if n in state.volumes for m in state.family(n)}))


def space_pools(state: State, members: tuple[str, ...]) -> Keys:
    """A write may allocate on any space-efficient target of its family (a copy-before-write
    or the write itself), and two writes to different tracks must not both pass the capacity
    check before either allocates: the target's space pool is a lock of its own, SPACE_POOL."""
    pools = []
    for member in members:
        rel = state.incoming_relationship(member)
        if rel is not None and rel.allocated is not None:
            pools.append((member, SPACE_POOL, 0))
    return tuple(pools)


def read_pool(state: State, volume: str) -> Keys:
    """A read of a space-efficient target tests its relationship's failed flag at PLAN, and a
    write that fails the relationship sets it at ACT: were the read free to take its locks
    between the two, it would be ordered after the write (it linearises at LOCK) yet read the
    target as alive. So it holds the target's space pool shared, from LOCK to PLAN
    (`Locking.released_at_plan`): not while a write that may allocate (or fail it) holds the
    pool, but beside other reads of the target."""
    rel = state.incoming_relationship(volume)
    if rel is None or rel.allocated is None:
        return ()
    return (Shared(volume, SPACE_POOL, 0),)


def inhibit_lock(state: State, volume: str, pools: Keys) -> Keys:
    """A write to a target whose relationship inhibits target writes is refused at PLAN, and
    a background copy that copies the last tracks ends that relationship at ACT: the write,
    ordered after the copy (it linearises at LOCK), must not see the relationship still
    there. So it holds the target's SPACE_POOL lock shared until PLAN (unless it holds it
    exclusively already, as a space pool), and that copy holds it exclusively
    (`ending_lock`)."""
    rel = state.incoming_relationship(volume)
    if rel is None or not rel.options.inhibit_target_writes or (volume, SPACE_POOL, 0) in pools:
        return ()
    return (Shared(volume, SPACE_POOL, 0),)


def ending_lock(rel: Relationship, first: int, end: int) -> Keys:
    """The target's SPACE_POOL lock, exclusively, for a copy of [first, end) that ends `rel`
    (rule 5: every set bit is in the extent) while it inhibits target writes
    (`inhibit_lock`)."""
    if not rel.ends_when_copied or not rel.options.inhibit_target_writes:
        return ()
    if rel.bitmap.count_range(first, end) != rel.bitmap.count:
        return ()
    return ((rel.target, SPACE_POOL, 0),)
