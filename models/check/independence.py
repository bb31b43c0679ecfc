"""Which steps the partial-order reduction may reorder: a step that is local (no other
process can observe it before its operation's next step), the (volume, track) footprint of a
step, and the independence of two steps (disjoint footprints). Nothing here trusts the model
under check to keep the lock discipline: footprints are the semantic ones."""

from __future__ import annotations

from flashsim.models.check.world import Setting, World, split_move, start_op
from flashsim.models.errors import FlashCopyError
from flashsim.models.rules.actions import (
    ApplyData,
    ClearBits,
    ReadBytes,
    ReadTracks,
    RecordChanges,
    WriteTracks,
)
from flashsim.models.rules.inflight import ACT, CONTROL, COPY, LOCK, PLAN, UNLOCK
from flashsim.models.state.relationship import Relationship
from flashsim.models.state.store import Shared
from flashsim.models.system import System


def _tracks(volume: str, first: int, end: int) -> list[tuple[str, int]]:
    return [(volume, t) for t in range(first, end)]


def is_local(world: World, move: int) -> bool:
    """See `_is_local`; memoised per engine and process state (a move: `world.choices`)."""
    index = move % len(world.procs)
    proc = world.procs[index]
    key = (world.system_id, move, proc.pc, proc.op_id)
    memo = world.memo.local
    found = memo.get(key)
    if found is None:
        found = memo[key] = _is_local(world, index)
    return found


def _is_local(world: World, index: int) -> bool:
    """True if process `index`'s next step is independent of every other process's steps and
    invisible to the properties, so the partial-order reduction may take it alone (an ample
    set of one).

    Local steps: PLAN, and the ACT actions that only read or change tracks the operation holds
    locked (ReadTracks, WriteTracks, ApplyData, ReadBytes, RecordChanges). They leave the
    locks, the bitmaps, the relationships and the oracle as they are, so they commute with
    any step of another operation that keeps the lock discipline (the correct model: every
    action touches only tracks its operation holds), they are never a completion and never
    reach a quiescent state (invisible), and each advances a finite plan (no cycle of local
    steps: the cycle proviso holds). Space-efficient targets share an allocation count, so
    with one in the system nothing is local.
    """
    op = world.procs[index].op
    if op is None or not op.locks or op.phase == LOCK:
        return False
    system = world.system
    if any(rel.allocated is not None for rel in system.relationships.values()):
        return False
    held = _held_tracks(op.locks)
    if op.phase == UNLOCK:
        return True
    if op.phase == PLAN and len(held) < sum(e - f for _, f, e in op.locks):
        return False  # it drops a shared lock (Locking.released_at_plan): that may enable others
    if op.phase == PLAN:  # it reads the bits of its tracks on every volume of its family
        volume = op.volume
        if op.kind == COPY:
            rel = system.relationships.get(op.relationship or "")
            if rel is None:
                return False
            volume = rel.source
        return _family_keys(system, volume, op.first, op.end) <= held
    action = op.plan[op.pc]
    if isinstance(action, ReadTracks):
        keys = [k for v, f, e in action.runs for k in _tracks(v, f, e)]
    elif isinstance(action, WriteTracks):
        keys = _tracks(action.volume, action.first, action.first + len(op.buffer or ()))
    elif isinstance(action, ApplyData):
        keys = _tracks(
            action.volume,
            *system.volumes[action.volume].track_range(action.offset, len(action.data)),
        )
    elif isinstance(action, ReadBytes):
        keys = [
            k
            for v, o, n in action.segments
            for k in _tracks(v, *system.volumes[v].track_range(o, n))
        ]
    elif isinstance(action, RecordChanges):
        keys = _tracks(action.volume, action.first, action.end)
    else:
        return False
    return all(key in held for key in keys)


def footprint(world: World, setting: Setting, move: int) -> frozenset[tuple[str, int]] | None:
    """See `_footprint`; memoised per engine and process state (a move: `world.choices`)."""
    proc = world.procs[move % len(world.procs)]
    key = (world.system_id, move, proc.pc, proc.op_id)
    memo = setting.memo.footprints
    if key in memo:
        return memo[key]
    found = memo[key] = _footprint(world, setting, move)
    return found


def _footprint(world: World, setting: Setting, move: int) -> frozenset[tuple[str, int]] | None:
    """The (volume, track) keys process `index`'s next step reads or changes, for the declared
    independence of steps; None: it may depend on any step.

    A local step (`is_local`) has none. A host or copier LOCK has its tracks on every volume of
    its family (what a correct model locks, whatever the model under check locks), and the
    oracle, which linearises it there, treats tracks one by one too; a copier's choice of its
    lowest set bit cannot change by a step on another track while both are enabled. A
    ClearBits has the tracks its operation holds. Everything else depends on every step: a
    whole-volume operation, the LOCK and the ClearBits of a copy of the last tracks of a
    relationship that inhibits target writes and then ends (a write to the target is refused
    before it and accepted after it, whatever its tracks), and any step in a system with a
    space-efficient target (a shared allocation count).
    """
    if is_local(world, move):
        return frozenset()
    index, choice = split_move(move, len(world.procs))
    system = world.system
    if any(rel.allocated is not None for rel in system.relationships.values()):
        return None
    proc = world.procs[index]
    op = proc.op
    if op is None:
        op = start_op(system, setting.config.processes[index], index, proc.pc, choice)
    if op is None or op.kind == CONTROL:
        return None
    if op.phase == ACT and isinstance(op.plan[op.pc], ClearBits):
        clear = op.plan[op.pc]
        rel = system.relationships.get(clear.relationship)  # type: ignore[union-attr]
        if rel is not None and _ends_inhibiting(rel, clear.first, clear.end):  # type: ignore[union-attr]
            return None  # it ends the relationship (see the copy's LOCK below)
        return _held_tracks(op.locks)
    if op.phase != LOCK:
        return None
    try:  # what the step means, not what the (perhaps seeded-bug) model locks
        if op.kind == COPY:
            rel = system.relationships.get(op.relationship or "")
            if rel is None or not rel.bitmap.count or not rel.options.background_copy:
                return None
            first, end = (op.first, op.end) if op.end else rel.bitmap.lowest_runs(op.limit)[0]
            volume = rel.source
            if _ends_inhibiting(rel, first, end):
                return None  # a write to the target is refused before it, accepted after it
        else:
            volume = op.volume
            first, end = system.volume(volume).track_range(op.offset, op.length)
    except FlashCopyError:
        return None
    return _family_keys(system, volume, first, end)


def _ends_inhibiting(rel: Relationship, first: int, end: int) -> bool:
    """True if copying [first, end) ends `rel` (rule 5) while it inhibits target writes."""
    if not rel.ends_when_copied or not rel.options.inhibit_target_writes:
        return False
    return rel.bitmap.count_range(first, end) == rel.bitmap.count


def _held_tracks(locks: tuple[tuple[str, int, int], ...]) -> frozenset[tuple[str, int]]:
    """The (volume, track) keys an operation holds exclusively (a space pool as track
    SPACE_POOL). A `Shared` hold is left out: others may hold it too, so it makes no step
    local. (A shared key is a space pool's, and with a space-efficient target in the system
    no step is local or independent at all: a read's PLAN, which drops its shared pool and so
    may enable a waiting write, is never reordered.)"""
    return frozenset(
        (v, t) for key in locks if not isinstance(key, Shared) for v, t in _range_keys(key)
    )


def _range_keys(key: tuple[str, int, int]) -> list[tuple[str, int]]:
    volume, first, end = key
    return _tracks(volume, first, end)


def _family_keys(system: System, volume: str, first: int, end: int) -> frozenset[tuple[str, int]]:
    """Tracks [first, end) on every volume of `volume`'s family: what an operation there
    touches (and what a correct model locks)."""
    return frozenset((member, t) for member in system.family(volume) for t in range(first, end))


def may_go_alone(world: World, setting: Setting, move: int) -> bool:
    """True if process `index`'s next step is local (`is_local`) and no other process has a
    whole-volume operation in flight or still to come. A correct model runs such an
    operation only when the volumes it changes hold no lock, so it cannot come between the
    steps of an operation holding locks; a seeded bug may let it, and the reduction must not
    assume what the model under check may get wrong."""
    if not is_local(world, move):
        return False
    index = move % len(world.procs)
    pending = setting.controls_from
    return not any(pending[j][proc.pc] for j, proc in enumerate(world.procs) if j != index)


def independent(world: World, setting: Setting, first: int, second: int) -> bool:
    """The declared independence of two processes' next steps in `world`: each touches
    tracks the other does not (different tracks, or different volumes), so running them in
    either order gives the same world and neither enables or disables the other."""
    a = footprint(world, setting, first)
    if a is None:
        return False
    b = footprint(world, setting, second)
    return b is not None and a.isdisjoint(b)
