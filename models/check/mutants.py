"""Seeded bugs: each a subclass of the correct rules (`Rules`) that replaces the one or two
methods it breaks, its docstring the bug it seeds. The rules themselves know nothing of them.

A checker that cannot kill every one of them on the reference configurations is not checking
anything: `flashsim check --all-mutants` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flashsim.models.ops import EstablishGroup, Op
from flashsim.models.rules.actions import (
    COPY_BEFORE_WRITE,
    TARGET_PRECOPY,
    Action,
    ApplyData,
    ClearBits,
    FailRelationship,
    ReadTracks,
    RecordChanges,
    WriteTracks,
)
from flashsim.models.rules.inflight import COPY, InFlight
from flashsim.models.rules.locks import Keys
from flashsim.models.rules.profiles import RedirectOnWriteRules, SVCRules
from flashsim.models.rules.steps import DS8000_RULES, Rules
from flashsim.models.state.bitmap import Bitmap
from flashsim.models.state.relationship import Relationship
from flashsim.models.state.store import Shared, State

_REGISTRY: dict[str, Rules] = {}


def _mutant(name: str) -> Callable[[type[Rules]], type[Rules]]:
    def register(cls: type[Rules]) -> type[Rules]:
        assert cls.__doc__, f"mutant {name} needs a docstring: the bug it seeds"
        _REGISTRY[name] = cls()
        return cls

    return register


def rules_of(mutant: str | None) -> Rules:
    """The rules with the seeded bug `mutant`; the correct rules for None."""
    return DS8000_RULES if mutant is None else _REGISTRY[mutant]


def design_of(mutant: str) -> str:
    """The profile design whose rules `mutant` breaks (`ds8000`, `svc` or `row`): it runs
    only on configurations of that profile."""
    rules = _REGISTRY[mutant]
    if isinstance(rules, SVCRules):
        return "svc"
    if isinstance(rules, RedirectOnWriteRules):
        return "row"
    return "ds8000"


@_mutant("skip_lock")
class SkipLock(Rules):
    """LOCK takes no locks at all (Locking.lock_keys)."""

    def lock_keys(self, state: State, kind: str, volume: str, first: int, end: int) -> Keys:
        return ()


@_mutant("lock_written_volume_only")
class LockWrittenVolumeOnly(Rules):
    """An operation locks its own volume's tracks, not its family's (Locking.lock_members)."""

    def lock_members(self, state: State, volume: str) -> tuple[str, ...]:
        return (volume,)


@_mutant("clear_before_copy")
class ClearBeforeCopy(Rules):
    """Background copy clears the bit and unlocks before the copied data lands
    (Plans.copy_actions, Plans.perform)."""

    def copy_actions(self, state: State, rel: Relationship, lo: int, hi: int) -> list[Action]:
        read, write, clear = super().copy_actions(state, rel, lo, hi)
        return [read, clear, write]

    def perform(self, state: State, op: InFlight, action: Action) -> None:
        super().perform(state, op, action)
        if op.kind == COPY and type(action) is ClearBits:
            state.release(op.locks)
            op.locks = ()


@_mutant("copy_after_write")
class CopyAfterWrite(Rules):
    """A host write applies its data before copy-before-write reads the old track
    (Plans.plan_write)."""

    def plan_write(self, state: State, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
        plan = super().plan_write(state, volume, offset, data)
        apply = [a for a in plan if type(a) is ApplyData]
        return (*apply, *(a for a in plan if type(a) is not ApplyData))


@_mutant("no_target_precopy")
class NoTargetPrecopy(Rules):
    """A partial target write clears the bit without pulling the rest of the track
    (Plans.plan_write)."""

    def plan_write(self, state: State, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
        plan = super().plan_write(state, volume, offset, data)
        return tuple(
            a
            for a in plan
            if not (isinstance(a, ReadTracks | WriteTracks) and a.purpose == TARGET_PRECOPY)
        )


@_mutant("refresh_ignores_target_changes")
class RefreshIgnoresTargetChanges(Rules):
    """Refresh recopies the tracks changed on the source only (Control.refresh_tracks)."""

    def refresh_tracks(self, rel: Relationship) -> Bitmap:
        assert rel.source_changes is not None
        return rel.source_changes.copy()


@_mutant("cascade_read_one_level")
class CascadeReadOneLevel(Rules):
    """A read through a cascade resolves one level up only: the wrong volume
    (Plans.resolve)."""

    def resolve(
        self, state: State, volume: str, first: int, end: int
    ) -> list[tuple[str, int, int]]:
        rel = state.incoming_relationship(volume)
        if rel is None:
            return [(volume, first, end)]
        out, pos = [], first
        for lo, hi in rel.bitmap.runs(first, end):
            out += [(volume, pos, lo)] if pos < lo else []
            out.append((rel.source, lo, hi))
            pos = hi
        return out + ([(volume, pos, end)] if pos < end else [])


@_mutant("copy_no_recheck")
class CopyNoRecheck(Rules):
    """Background copy chooses its track before locking, as a step of its own, and does not
    recheck the bit under the lock: it overwrites a newer target write
    (Locking.lock_request, lock_batch, Plans.copy_runs)."""

    def lock_request(self, state: State, op: InFlight) -> tuple[int, int, Keys] | None:
        if op.kind != COPY or not op.end:
            return super().lock_request(state, op)
        rel = state.relationships.get(op.relationship or "")
        if rel is None or not rel.options.background_copy:
            return None
        return op.first, op.end, self.lock_keys(state, COPY, rel.source, op.first, op.end)

    def lock_batch(self, op: InFlight, wanted: Keys) -> Keys:
        return () if op.kind == COPY and not op.end else wanted

    def copy_runs(
        self, state: State, rel: Relationship, first: int, end: int
    ) -> list[tuple[int, int]]:
        return [(first, end)]


@_mutant("withdraw_skips_rule0")
class WithdrawSkipsRule0(Rules):
    """Withdraw does not first copy to the target's own targets (Control.withdraw_handoff)."""

    def withdraw_handoff(
        self, state: State, rel: Relationship, runs: list[tuple[int, int]]
    ) -> list[Action]:
        return []


@_mutant("space_limit_ignored")
class SpaceLimitIgnored(Rules):
    """A space-efficient target's capacity is never checked (Plans.out_of_space)."""

    def out_of_space(self, rel: Relationship, tracks_needed: int, changing: str) -> bool:
        return False


@_mutant("lock_volume_by_volume")
class LockVolumeByVolume(Rules):
    """LOCK takes one volume's locks per step, its own volume first: two writers in one
    family deadlock (Locking.lock_members, lock_batch)."""

    def lock_members(self, state: State, volume: str) -> tuple[str, ...]:
        return (volume, *(m for m in state.family(volume) if m != volume))

    def lock_batch(self, op: InFlight, wanted: Keys) -> Keys:
        rest = [key for key in wanted if key not in op.locks]
        return tuple(key for key in rest if key[0] == rest[0][0]) if rest else ()


@_mutant("copy_never_clears")
class CopyNeverClears(Rules):
    """Background copy copies but never clears the bit: the copy never completes
    (Plans.copy_actions)."""

    def copy_actions(self, state: State, rel: Relationship, lo: int, hi: int) -> list[Action]:
        return [a for a in super().copy_actions(state, rel, lo, hi) if type(a) is not ClearBits]


@_mutant("group_waits_for_first_member")
class GroupWaitsForFirstMember(Rules):
    """establish_group waits for in-flight I/O on its first member only: a write already
    ordered before the group copies its old data to the other member's target
    (Locking.control_scope)."""

    def control_scope(self, state: State, op: Op | None) -> tuple[str, ...]:
        if isinstance(op, EstablishGroup):
            op = EstablishGroup(op.relationships[:1])
        return super().control_scope(state, op)


@_mutant("reverse_ignores_source_changes")
class ReverseIgnoresSourceChanges(Rules):
    """Reverse restores only the tracks changed on the target since the last instant: the
    source keeps its newer writes (Control.reverse_tracks)."""

    def reverse_tracks(self, rel: Relationship) -> Bitmap:
        assert rel.target_changes is not None
        return rel.target_changes.copy()


@_mutant("failing_write_drops_data")
class FailingWriteDropsData(Rules):
    """A source write that fails a full space-efficient relationship is acknowledged but
    never lands on the source (Plans.plan_write)."""

    def plan_write(self, state: State, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
        plan = super().plan_write(state, volume, offset, data)
        if not any(type(a) is FailRelationship for a in plan):
            return plan
        return tuple(a for a in plan if not isinstance(a, ApplyData | RecordChanges))


@_mutant("svc_write_copies_every_target")
class SVCWriteCopiesEveryTarget(SVCRules):
    """SVC: a source write copies the grain to every mapping of the cascade that still needs
    it, as a DS8000 would, instead of to the newest only (Plans.plan_receive)."""

    def plan_receive(
        self,
        state: State,
        volume: str,
        ranges: Iterable[tuple[int, int]],
        purpose: str,
        exclude: str | None = None,
    ) -> list[Action]:
        ranges = tuple(ranges)
        actions = super().plan_receive(state, volume, ranges, purpose, exclude)
        if purpose != COPY_BEFORE_WRITE:
            return actions
        for rel in state.relationships.values():
            if rel.options.source != volume or rel.source == volume or not rel.linked:
                continue
            for first, end in (run for f, e in ranges for run in rel.bitmap.runs(f, e)):
                actions.append(ReadTracks(tuple(self.resolve(state, volume, first, end)), purpose))
                actions.append(WriteTracks(rel.target, first, purpose))
                actions.append(ClearBits(rel.id, first, end))
        return actions


@_mutant("cleaning_skips_a_grain")
class CleaningSkipsAGrain(SVCRules):
    """SVC: stopping a mapping cleans all but the first grain its dependent needs; the
    dependent then reads that grain through the stopped mapping's upstream
    (CascadeRules.plan_cleaning)."""

    def plan_cleaning(
        self, state: State, leaving: Relationship, dependent: Relationship, purpose: str
    ) -> list[Action]:
        actions = super().plan_cleaning(state, leaving, dependent, purpose)
        if not actions:
            return actions
        read, _write, clear = actions[:3]
        assert isinstance(read, ReadTracks) and isinstance(clear, ClearBits)
        if clear.end - clear.first == 1:
            return actions[3:]
        ((holder, lo, hi),) = read.runs
        return [
            ReadTracks(((holder, lo + 1, hi),), read.purpose),
            WriteTracks(dependent.target, lo + 1, read.purpose),
            ClearBits(clear.relationship, lo + 1, clear.end),
            *actions[3:],
        ]


@_mutant("snapshot_delete_frees_shared_blocks")
class SnapshotDeleteFreesSharedBlocks(RedirectOnWriteRules):
    """Redirect-on-write: deleting a snapshot frees every block it holds, also those an
    older snapshot still reads through it (CascadeRules.plan_cleaning)."""

    def plan_cleaning(
        self, state: State, leaving: Relationship, dependent: Relationship, purpose: str
    ) -> list[Action]:
        return []


@_mutant("withdraw_keeps_target_consistent")
class WithdrawKeepsTargetConsistent(Rules):
    """A withdraw with tracks still to copy leaves its target marked consistent, though
    the target never received them (Control.withdraw)."""

    def withdraw(self, state: State, rel_id: str) -> list[Action]:
        target = state.relationship(rel_id).target
        performed = super().withdraw(state, rel_id)
        state.volume(target).consistent = True
        return performed


@_mutant("read_skips_space_pool")
class ReadSkipsSpacePool(Rules):
    """A read of a space-efficient target takes no lock on its space pool, so it can slip
    between a write's capacity check and that write failing the relationship
    (Locking.lock_keys, `read_pool`)."""

    def lock_keys(self, state: State, kind: str, volume: str, first: int, end: int) -> Keys:
        keys = super().lock_keys(state, kind, volume, first, end)
        return tuple(key for key in keys if not isinstance(key, Shared))


@_mutant("last_copy_skips_inhibit_lock")
class LastCopySkipsInhibitLock(Rules):
    """The background copy that ends a relationship inhibiting target writes takes no lock on
    the target's SPACE_POOL, so a write to the target ordered after it is still refused
    (Locking.lock_request, `ending_lock`)."""

    def lock_request(self, state: State, op: InFlight) -> tuple[int, int, Keys] | None:
        request = super().lock_request(state, op)
        if request is None or op.kind != COPY:
            return request
        first, end, keys = request
        return first, end, tuple(k for k in keys if k[1] >= 0)


#: name -> the bug it seeds (the class's docstring, on one line).
@_mutant("restart_keeps_copied_grains")
class RestartKeepsCopiedGrains(SVCRules):
    """SVC: a restarted mapping copies only the grains it had not copied before it stopped;
    the grains it had copied keep the old point in time on the target
    (SVCRules.restart_bitmap)."""

    def restart_bitmap(self, rel: Relationship) -> Bitmap:
        return rel.bitmap.copy()


@_mutant("incremental_restart_ignores_target_changes")
class IncrementalRestartIgnoresTargetChanges(SVCRules):
    """SVC: an incremental mapping's restart copies again the grains changed on its origin
    but not those written on its target, which then keeps the host's data as the new point
    in time (SVCRules.restart_bitmap)."""

    def restart_bitmap(self, rel: Relationship) -> Bitmap:
        if rel.options.incremental:
            assert rel.source_changes is not None
            return rel.bitmap.union(rel.source_changes)
        return super().restart_bitmap(rel)


@_mutant("suspended_source_stays_online")
class SuspendedSourceStaysOnline(SVCRules):
    """SVC: the source of a suspended mapping stays online; its writes go on, copying what
    the mapping's bitmap says though that bitmap is unreachable
    (SVCRules.check_origin_online)."""

    def check_origin_online(self, state: State, volume: str) -> None:
        return None


MUTANTS: dict[str, str] = {
    name: " ".join((type(rules).__doc__ or "").split()) for name, rules in _REGISTRY.items()
}

__all__ = ["MUTANTS", "design_of", "rules_of"]
