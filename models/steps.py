"""In-flight operations as explicit records, advanced one atomic step at a time.

A host read or write, or the background copy of one extent of tracks, goes through the phases
LOCK -> PLAN -> ACT (one micro-action per step) -> UNLOCK -> DONE. LOCK takes every lock the
operation needs in one atomic step (all or none, so the correct model cannot deadlock): the
operation's tracks on every volume of its family (the tree of relationships it belongs to),
because a copy into a target races with writes to it and a read resolves through several
volumes. PLAN tests the bits under those locks and fixes the micro-actions
(`flashsim.models.plans`). A whole-volume operation (establish, withdraw, refresh, reverse) is one
atomic step, enabled only while no track of the volumes it touches is locked.

`enabled(system, op)` says whether `op`'s next step can run now; `step(system, op)` runs it;
`run(system, op)` is the sequential executor. The state of an operation is data
(`InFlight.fingerprint()`), never a suspended generator, so an explorer can store it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flashsim.models import plans
from flashsim.models.actions import Action, ClearBits, perform
from flashsim.models.errors import FlashCopyError, RelationshipError
from flashsim.models.ops import Op

if TYPE_CHECKING:
    from flashsim.models.backend import TrackImages
    from flashsim.models.system import System

LOCK, PLAN, ACT, UNLOCK, DONE = range(5)
PHASES = ("lock", "plan", "act", "unlock", "done")

READ, WRITE, COPY, CONTROL = "read", "write", "copy", "control"
#: The lock key (volume, SPACE_POOL) guards a space-efficient target's allocation count.
SPACE_POOL = -1


@dataclass(slots=True, eq=False)
class InFlight:
    """One operation in flight: what it is, which phase it is in and what it holds."""

    id: int
    kind: str
    volume: str = ""
    offset: int = 0
    length: int = 0
    data: bytes | None = None
    relationship: str | None = None  # COPY: the relationship copied
    control: Op | None = None  # CONTROL: the whole-volume operation
    limit: int = 1  # COPY: most tracks this extent may copy
    phase: int = LOCK
    first: int = 0
    end: int = 0
    locks: tuple[tuple[str, int], ...] = ()
    plan: tuple[Action, ...] = ()
    pc: int = 0
    buffer: TrackImages | None = None
    result: bytes | None = None
    error: FlashCopyError | None = None
    copied: int = 0  # COPY: tracks this extent copied

    @property
    def done(self) -> bool:
        return self.phase == DONE

    def fingerprint(self) -> tuple[object, ...]:
        buffer = None if self.buffer is None else tuple(self.buffer)
        return (
            self.kind, self.volume, self.offset, self.length, self.data, self.relationship,
            self.control, self.limit, self.phase, self.first, self.end, self.locks, self.plan,
            self.pc, buffer, self.result, None if self.error is None else str(self.error),
        )  # fmt: skip


def wanted_locks(system: System, op: InFlight) -> tuple[tuple[str, int], ...] | None:
    """The locks LOCK must take, fixing op.first/op.end; None if the op ends at once."""
    mutant = system.mutant
    if op.kind == COPY:
        rel = system.relationships.get(op.relationship or "")
        if rel is None or not rel.options.background_copy:
            return None  # rule 4: NOCOPY relationships get no background copy
        if not rel.bitmap.count and not (mutant == "copy_no_recheck" and op.end):
            return None
        if not (mutant == "copy_no_recheck" and op.end):  # mutant: keeps its earlier choice
            op.first, op.end = rel.bitmap.lowest_runs(op.limit)[0]
        volume = rel.source
    else:
        volume = op.volume
        op.first, op.end = system.volume(volume).track_range(op.offset, op.length)
    if mutant == "skip_lock":  # mutant: LOCK takes no locks at all
        return ()
    # mutant lock_written_volume_only: the volume written (or copied from), not the family
    members = (volume,) if mutant == "lock_written_volume_only" else system.family(volume)
    if mutant == "lock_volume_by_volume":  # mutant: own volume first, not the global order
        members = (volume, *(m for m in members if m != volume))
    keys = tuple((member, t) for member in members for t in range(op.first, op.end))
    if op.kind == WRITE:
        keys += _space_pools(system, members)
    return keys


def _space_pools(system: System, members: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """A write may allocate on any space-efficient target of its family (a copy-before-write
    or the write itself), and two writes to different tracks must not both pass the capacity
    check before either allocates: the target's space pool is a lock of its own, SPACE_POOL."""
    pools = []
    for member in members:
        rel = system.incoming_relationship(member)
        if rel is not None and rel.allocated is not None:
            pools.append((member, SPACE_POOL))
    return tuple(pools)


def enabled(system: System, op: InFlight) -> bool:
    """True if `op`'s next step can run now (LOCK waits for its locks to be free)."""
    if op.phase != LOCK:
        return op.phase != DONE
    if op.kind == CONTROL:
        return not any(system.locked_volumes.get(v) for v in system.control_scope(op.control))
    if system.mutant == "copy_no_recheck" and op.kind == COPY and not op.end:
        return True  # mutant: choosing the track is a step of its own, before the lock
    try:
        wanted = wanted_locks(system, op)
    except FlashCopyError:
        return True  # the step will end the operation with the error
    if system.mutant == "lock_volume_by_volume" and wanted:
        wanted = _next_volume(wanted, op.locks)  # mutant: one volume's locks per step
    locks = system.locks
    return wanted is None or not any(key in locks for key in wanted)


def _next_volume(
    wanted: tuple[tuple[str, int], ...], held: tuple[tuple[str, int], ...]
) -> tuple[tuple[str, int], ...]:
    """Mutant lock_volume_by_volume: the wanted locks of the first volume not yet held."""
    rest = [key for key in wanted if key not in held]
    return tuple(key for key in rest if key[0] == rest[0][0])


def step(system: System, op: InFlight) -> None:
    """Run `op`'s next atomic step (the caller checked `enabled`)."""
    phase = op.phase
    if phase == ACT:
        action = op.plan[op.pc]
        perform(system, op, action)
        if system.mutant == "clear_before_copy" and op.kind == COPY and type(action) is ClearBits:
            system.release(op.locks)  # mutant: the cleared track is unlocked before it lands
            op.locks = ()
        op.pc += 1
        if op.pc == len(op.plan) or op.error is not None:
            op.phase = UNLOCK
    elif phase == LOCK:
        if op.kind == CONTROL:
            try:  # the plan of a whole-volume operation: the rule-0 copies it made, at once
                op.plan = tuple(system.perform_control(op.control))
            except FlashCopyError as error:
                op.error = error
            op.phase = DONE
            return
        choosing = system.mutant == "copy_no_recheck" and op.kind == COPY and not op.end
        try:
            wanted = wanted_locks(system, op)
        except FlashCopyError as error:
            op.error = error
            op.phase = DONE
            return
        if choosing and wanted is not None:  # mutant: the track is chosen, not yet locked
            return
        if wanted is None:
            op.phase = DONE
            return
        if system.mutant == "lock_volume_by_volume":  # mutant: a volume per step, may deadlock
            part = _next_volume(wanted, op.locks)
            system.acquire(op.id, part)
            op.locks += part
            if len(op.locks) < len(wanted):
                return
        else:
            system.acquire(op.id, wanted)
            op.locks = wanted
        op.phase = PLAN
    elif phase == PLAN:
        try:
            op.plan = _plan(system, op)
        except FlashCopyError as error:
            op.error = error
            op.plan = ()
        op.phase = ACT if op.plan else UNLOCK
    elif phase == UNLOCK:
        system.release(op.locks)
        op.locks = ()
        op.buffer = None
        op.phase = DONE
    else:
        raise AssertionError(f"operation {op.id} is done; it has no next step")


def _plan(system: System, op: InFlight) -> tuple[Action, ...]:
    if op.kind == WRITE:
        assert op.data is not None
        return plans.plan_write(system, op.volume, op.offset, op.data)
    if op.kind == READ:
        return plans.plan_read(system, op.volume, op.offset, op.length)
    rel = system.relationships.get(op.relationship or "")
    if rel is None:
        return ()
    plan = plans.plan_copy(system, rel, op.first, op.end)
    op.copied = sum(a.end - a.first for a in plan if isinstance(a, ClearBits))
    return plan


def run(system: System, op: InFlight) -> InFlight:
    """The sequential executor: run `op` to completion, alone."""
    while op.phase != DONE:
        step(system, op)
    return op


def require_background_copy(system: System, rel_id: str, tracks: int) -> None:
    """Errors of an op-log `background_copy` request (rule 4), raised before any step."""
    rel = system.relationship(rel_id)
    if not rel.options.background_copy:
        raise RelationshipError(
            f"relationship {rel_id} is NOCOPY: it was established without background copy"
        )
    if tracks < 1:
        raise RelationshipError(f"background_copy of {rel_id}: tracks must be >= 1, got {tracks}")
