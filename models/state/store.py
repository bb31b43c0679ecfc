"""The state every driver shares: volumes, relationships and locks, as explicit data.

`State` holds what is, with the bookkeeping that keeps it consistent (the relationship
tables, the families, the lock table); it decides nothing. What an operation does to it is
the rules' business (`flashsim.models.rules`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Self

from flashsim.models.errors import RelationshipError, VolumeError
from flashsim.models.state.backend import BackendFactory, MemoryBackend, memory_backend
from flashsim.models.state.relationship import DS8000, Profile, Relationship
from flashsim.models.state.volume import Volume

#: A lock: tracks [first, end) of a volume (a space pool is the range SPACE_POOL, 0), held
#: exclusively unless it is a `Shared` key.
LockKey = tuple[str, int, int]


class Shared(NamedTuple):
    """A lock key held shared: any number of operations may hold the same range shared at once,
    none while another holds any of it exclusively (a reader-writer lock). Equal to the plain
    key of the same range, so waiting on it and releasing it work alike."""

    volume: str
    first: int
    end: int


class State:
    """Volumes of real bytes, the relationships between them and the track locks held."""

    def __init__(
        self, profile: Profile = DS8000, backend_factory: BackendFactory = memory_backend
    ) -> None:
        self.profile = profile
        self.backend_factory = backend_factory
        self.volumes: dict[str, Volume] = {}
        self.relationships: dict[str, Relationship] = {}
        self.incoming: dict[str, str] = {}  # target volume -> relationship id
        self.outgoing: dict[str, list[str]] = {}  # source volume -> ids, establish order
        # volume -> the ranges of it held: (first, end, operation id), disjoint, sorted; a
        # range held shared by n operations is one entry (first, end, -n). A lock is a range
        # (`LockKey`), so locking a million tracks costs what locking one does.
        self.locks: dict[str, tuple[tuple[int, int, int], ...]] = {}
        self._families: dict[str, tuple[str, ...]] = {}
        # What the rules derive from the relationships alone, per (what, volume): the lock
        # shape of an I/O (`Locking.lock_keys`) and whether a volume's changes are recorded
        # (`records_changes`). Emptied with the families, whenever a
        # relationship is added, removed, linked or unlinked; a State is driven by one Rules.
        self.derived: dict[tuple[str, str], Any] = {}
        self._next_op = 0

    # -- lookups ---------------------------------------------------------------------------
    def volume(self, name: str) -> Volume:
        try:
            return self.volumes[name]
        except KeyError:
            raise VolumeError(f"unknown volume {name}") from None

    def relationship(self, rel_id: str) -> Relationship:
        try:
            return self.relationships[rel_id]
        except KeyError:
            raise RelationshipError(f"unknown relationship {rel_id}") from None

    def incoming_relationship(self, volume: str) -> Relationship | None:
        rel_id = self.incoming.get(volume)
        return None if rel_id is None else self.relationships[rel_id]

    def family(self, volume: str) -> tuple[str, ...]:
        """Every volume of `volume`'s relationship tree, sorted (the global lock order)."""
        cached = self._families.get(volume)
        if cached is not None:
            return cached
        root = volume
        while root in self.incoming:
            rel = self.relationships[self.incoming[root]]
            if not rel.linked:  # an offline SVC target reads through nothing
                break
            root = rel.source
        members, todo = [], [root]
        while todo:
            v = todo.pop()
            members.append(v)
            todo.extend(self.relationships[r].target for r in self.outgoing.get(v, ()))
        family = tuple(sorted(members))
        for member in family:
            self._families[member] = family
        return family

    def _relationships_changed(self) -> None:
        self._families.clear()
        self.derived.clear()

    def records_changes(self, volume: str) -> bool:
        """True if some incremental relationship records changes of `volume`."""
        key = ("records", volume)
        known = self.derived.get(key)
        if known is None:  # (once per relationship change: this runs per write)
            known = self.derived[key] = self._records_changes(volume)
        return bool(known)

    def _records_changes(self, volume: str) -> bool:
        relationships = self.relationships
        if self.profile.design == "svc":
            return any(relationships[r].options.incremental for r, _ in self.recorders(volume))
        # the `recorders` of other designs, without building the list: this runs per write
        rel_id = self.incoming.get(volume)
        if rel_id is not None and relationships[rel_id].options.incremental:
            return True
        return any(relationships[r].options.incremental for r in self.outgoing.get(volume, ()))

    def recorders(self, volume: str) -> list[tuple[str, bool]]:
        """The relationships that record changes of `volume` (rule 7), each with True if
        `volume` is its source side: a DS8000 relationship from or to it; an SVC mapping whose
        origin or target it is, in any state (a stopped incremental mapping records too, and
        a cascade member reads through another volume than its origin: rule S8)."""
        if self.profile.design == "svc":
            ids = [
                (r, True) for r, rel in self.relationships.items() if rel.options.source == volume
            ]
        else:
            ids = [(r, True) for r in self.outgoing.get(volume, ())]
        if volume in self.incoming:
            ids.append((self.incoming[volume], False))
        return ids

    def next_op_id(self) -> int:
        """A new operation number (the lock table names holders by it)."""
        self._next_op += 1
        return self._next_op

    # -- changes ---------------------------------------------------------------------------
    def add_volume(self, name: str, tracks: int, track_size: int) -> None:
        self.volumes[name] = Volume(
            name, tracks, track_size, self.backend_factory(name, tracks, track_size)
        )

    def add_volume_like(self, name: str, model: str) -> None:
        """A new volume of `model`'s geometry (a redirect-on-write snapshot)."""
        vol = self.volumes[model]
        self.add_volume(name, vol.tracks, vol.track_size)

    def remove_volume(self, name: str) -> None:
        self.volumes.pop(name).backend.close()
        self._relationships_changed()

    def add_relationship(self, rel: Relationship) -> None:
        self.relationships[rel.id] = rel
        self.incoming[rel.target] = rel.id
        if rel.linked:
            self.outgoing.setdefault(rel.source, []).append(rel.id)
        self._relationships_changed()

    def remove_relationship(self, rel: Relationship) -> None:
        del self.relationships[rel.id]
        del self.incoming[rel.target]
        if rel.linked:
            self.unlink(rel)
        self._relationships_changed()

    def unlink(self, rel: Relationship) -> None:
        """Take `rel` out of its source's outgoing list (it reads through nothing now)."""
        self.outgoing[rel.source].remove(rel.id)
        if not self.outgoing[rel.source]:
            del self.outgoing[rel.source]
        self._relationships_changed()

    def link(self, rel: Relationship, source: str) -> None:
        """`rel` reads through `source` from now on (a cascade's new upstream)."""
        rel.source = source
        self.outgoing.setdefault(source, []).append(rel.id)
        self._relationships_changed()

    def flip_relationship(self, rel: Relationship) -> None:
        self.remove_relationship(rel)
        rel.source, rel.target = rel.target, rel.source
        self.add_relationship(rel)

    def clear_bits(self, rel_id: str, first: int, end: int) -> None:
        rel = self.relationships.get(rel_id)
        if rel is None:
            return
        rel.bitmap.clear_range(first, end)
        if not rel.bitmap.count and rel.ends_when_copied:
            self.remove_relationship(rel)  # rule 5: the copy is complete

    def record_changes(
        self, volume: str, runs: Iterable[tuple[int, int]], exclude: str | None = None
    ) -> None:
        """Rule 7: every incremental relationship on `volume` (either side) marks `runs`."""
        runs = tuple(runs)
        if not runs:
            return
        for rel_id, source_side in self.recorders(volume):
            rel = self.relationships[rel_id]
            if rel_id == exclude or not rel.options.incremental:
                continue
            marks = rel.source_changes if source_side else rel.target_changes
            assert marks is not None
            for first, end in runs:
                marks.set_range(first, end)

    def note_allocation(self, volume: str, first: int, end: int) -> None:
        """A space-efficient target now holds tracks [first, end)."""
        rel = self.incoming_relationship(volume)
        if rel is not None and rel.allocated is not None:
            rel.allocated.set_range(first, end)

    def holder(self, key: LockKey) -> LockKey | None:
        """The held lock that overlaps `key` (volume, first, end) and so blocks it, if any: a
        `Shared` key is blocked by an exclusive hold, or a shared one of another range."""
        volume, first, end = key
        held = self.locks.get(volume)
        if not held:
            return None
        # ranges are disjoint and sorted: only the last one starting before `end` can overlap
        i = bisect_left(held, (end,)) - 1
        if i >= 0 and held[i][1] > first:
            lo, hi, owner = held[i]
            if owner < 0 and isinstance(key, Shared) and (lo, hi) == (first, end):
                return None
            return (volume, lo, hi)
        return None

    def try_acquire(self, op_id: int, keys: Sequence[LockKey]) -> bool:
        """Take all of `keys` (disjoint from each other) for operation `op_id` if none is
        blocked (`holder`), else none of them: False."""
        holder = self.holder
        for key in keys:
            if holder(key) is not None:
                return False
        self._take(op_id, keys)
        return True

    def _take(self, op_id: int, keys: Sequence[LockKey]) -> None:
        locks = self.locks
        for key in keys:
            if key[0] not in locks and type(key) is tuple:  # the common case: nothing held
                locks[key[0]] = ((key[1], key[2], op_id),)
                continue
            volume, first, end = key
            held = locks.get(volume, ())
            i = bisect_left(held, (first,))
            if not isinstance(key, Shared):
                locks[volume] = (*held[:i], (first, end, op_id), *held[i:])
            elif i < len(held) and held[i][:2] == (first, end):  # one more holder
                locks[volume] = (*held[:i], (first, end, held[i][2] - 1), *held[i + 1 :])
            else:
                locks[volume] = (*held[:i], (first, end, -1), *held[i:])

    def release(self, keys: Sequence[LockKey]) -> None:
        locks = self.locks
        for key in keys:
            volume, first, end = key
            held = locks[volume]
            one = held[0] if len(held) == 1 else None  # held exclusively: owner >= 0
            if one is not None and one[:2] == (first, end) and one[2] >= 0 and type(key) is tuple:
                del locks[volume]  # the common case: the one range held, exclusively
                continue
            i = bisect_left(held, (first,))
            assert held[i][:2] == (first, end), f"({volume}, {first}, {end}) is not held"
            owner = held[i][2]
            assert (owner < 0) == isinstance(key, Shared), f"{key} is held in the other mode"
            if owner < -1:  # other holders keep it shared
                rest = (*held[:i], (first, end, owner + 1), *held[i + 1 :])
            else:
                rest = held[:i] + held[i + 1 :]
            if rest:
                locks[volume] = rest
            else:
                del locks[volume]

    # -- state as data -----------------------------------------------------------------------
    def fingerprint(self) -> tuple[object, ...]:
        """A hashable image of the whole state (physical bytes included): tiny volumes only.
        Two parts: the data (volumes, relationships) and the locks."""
        return (
            (
                tuple(
                    (v.name, v.tracks, v.track_size, v.consistent, v.backend.snapshot())
                    for v in self.volumes.values()
                ),
                tuple(self.relationships[r].fingerprint() for r in sorted(self.relationships)),
                tuple(sorted((v, tuple(ids)) for v, ids in self.outgoing.items())),
            ),
            self.locks_fingerprint(),
        )

    def locks_fingerprint(self) -> tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]:
        return tuple(sorted(self.locks.items()))

    def clone(self) -> Self:
        """An independent copy of the same class (memory backends only): for explorers that
        branch. Attributes a subclass adds are shared, so they must not change."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.volumes = {}
        for name, vol in self.volumes.items():
            backend = vol.backend
            if not isinstance(backend, MemoryBackend):
                raise TypeError(f"volume {name}: only memory backends can be cloned")
            twin.volumes[name] = Volume(
                name, vol.tracks, vol.track_size, backend.clone(), vol.consistent
            )
        twin.relationships = {r: rel.clone() for r, rel in self.relationships.items()}
        twin.incoming = dict(self.incoming)
        twin.outgoing = {v: list(ids) for v, ids in self.outgoing.items()}
        twin.locks = dict(self.locks)  # of tuples: nothing shared is ever changed in place
        twin._families = dict(self._families)  # a cache of the relationships, copied alike
        twin.derived = dict(self.derived)
        return twin

    def with_own_locks(self) -> Self:
        """A copy that shares this state's volumes and relationships and owns only its locks:
        for an explorer branching on a step that changes nothing but locks. Neither copy may
        change the shared parts afterwards (clone() one first)."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.locks = dict(self.locks)  # of tuples: nothing shared is ever changed in place
        return twin

    def close(self) -> None:
        for vol in self.volumes.values():
            vol.backend.close()
