"""The FlashCopy system: volumes, relationships and locks as explicit state, and the
`FlashCopyAPI` operations run through the sequential executor.

`System` is the state every driver shares: the op-log replayer and the tests call its API
(each call runs the steps of `flashsim.models.steps` to completion); the simulator and the checker
create `InFlight` operations and advance them step by step instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from flashsim.models import control, steps
from flashsim.models.backend import BackendFactory, MemoryBackend, memory_backend
from flashsim.models.errors import RelationshipError, VolumeError
from flashsim.models.ops import Establish, EstablishGroup, Op, Refresh, Reverse, Withdraw
from flashsim.models.relationship import DS8000, Profile, Relationship
from flashsim.models.steps import CONTROL, COPY, READ, WRITE, InFlight
from flashsim.models.volume import Volume

if TYPE_CHECKING:
    from flashsim.models.actions import Action


class System:
    """Volumes of real bytes and the FlashCopy relationships between them.

    >>> s = System()
    >>> s.create("A", 4, 4); s.create("B", 4, 4)
    >>> s.write("A", 0, b"aaaabbbb")
    >>> s.establish(Establish("r1", "A", "B", background_copy=False))
    >>> s.write("A", 0, b"NEW!")
    >>> s.read("B", 0, 8), s.read("A", 0, 8)
    (b'aaaabbbb', b'NEW!bbbb')
    """

    def __init__(
        self, profile: Profile = DS8000, backend_factory: BackendFactory = memory_backend
    ) -> None:
        self.profile = profile
        self.backend_factory = backend_factory
        self.volumes: dict[str, Volume] = {}
        self.relationships: dict[str, Relationship] = {}
        self.incoming: dict[str, str] = {}  # target volume -> relationship id
        self.outgoing: dict[str, list[str]] = {}  # source volume -> ids, establish order
        self.locks: dict[tuple[str, int], int] = {}  # (volume, track) -> operation id
        self.locked_volumes: dict[str, int] = {}  # volume -> number of locked tracks
        self._families: dict[str, tuple[str, ...]] = {}
        self._next_op = 0
        self.mutant: str | None = (
            None  # a seeded bug of flashsim.models.check.mutants; None = correct
        )

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
            root = self.relationships[self.incoming[root]].source
        members, todo = [], [root]
        while todo:
            v = todo.pop()
            members.append(v)
            todo.extend(self.relationships[r].target for r in self.outgoing.get(v, ()))
        family = tuple(sorted(members))
        for member in family:
            self._families[member] = family
        return family

    def resolve(self, volume: str, first: int, end: int) -> list[tuple[str, int, int]]:
        """Where tracks [first, end) of `volume`'s image physically are (rules 1 and 9):
        runs (holder, first, end), following set bits up the chain of sources."""
        rel_id = self.incoming.get(volume)
        if rel_id is None:
            return [(volume, first, end)]
        rel = self.relationships[rel_id]
        runs = rel.bitmap.runs(first, end)
        if not runs:
            return [(volume, first, end)]
        out: list[tuple[str, int, int]] = []
        pos = first
        for lo, hi in runs:
            if pos < lo:
                out.append((volume, pos, lo))
            if self.mutant == "cascade_read_one_level":  # mutant: one level up, never the chain
                out.append((rel.source, lo, hi))
            else:
                out.extend(self.resolve(rel.source, lo, hi))
            pos = hi
        if pos < end:
            out.append((volume, pos, end))
        return out

    def records_changes(self, volume: str) -> bool:
        """True if some incremental relationship records changes of `volume`."""
        rel_in = self.incoming_relationship(volume)
        if rel_in is not None and rel_in.options.incremental:
            return True
        return any(self.relationships[r].options.incremental for r in self.outgoing.get(volume, ()))

    def control_scope(self, op: Op | None) -> tuple[str, ...]:
        """Volumes whose tracks must be unlocked before a whole-volume operation runs."""
        if isinstance(op, Establish):
            names = [op.source, op.target]
        elif isinstance(op, EstablishGroup):
            members = op.relationships
            if self.mutant == "group_waits_for_first_member":  # mutant: the rest may be busy
                members = members[:1]
            names = [v for s in members for v in (s.source, s.target)]
        elif isinstance(op, Withdraw | Refresh | Reverse) and op.id in self.relationships:
            rel = self.relationships[op.id]
            names = [rel.source, rel.target]
        else:
            return ()
        return tuple(sorted({m for n in names if n in self.volumes for m in self.family(n)}))

    # -- state changes used by actions and control -------------------------------------------
    def add_volume(self, name: str, tracks: int, track_size: int) -> None:
        self.volumes[name] = Volume(
            name, tracks, track_size, self.backend_factory(name, tracks, track_size)
        )

    def add_relationship(self, rel: Relationship) -> None:
        self.relationships[rel.id] = rel
        self.incoming[rel.target] = rel.id
        self.outgoing.setdefault(rel.source, []).append(rel.id)
        self._families.clear()

    def remove_relationship(self, rel: Relationship) -> None:
        del self.relationships[rel.id]
        del self.incoming[rel.target]
        self.outgoing[rel.source].remove(rel.id)
        if not self.outgoing[rel.source]:
            del self.outgoing[rel.source]
        self._families.clear()

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
        ids = list(self.outgoing.get(volume, ()))
        if volume in self.incoming:
            ids.append(self.incoming[volume])
        for rel_id in ids:
            rel = self.relationships[rel_id]
            if rel_id == exclude or not rel.options.incremental:
                continue
            marks = rel.source_changes if rel.source == volume else rel.target_changes
            assert marks is not None
            for first, end in runs:
                marks.set_range(first, end)

    def note_allocation(self, volume: str, first: int, end: int) -> None:
        """A space-efficient target now holds tracks [first, end)."""
        rel = self.incoming_relationship(volume)
        if rel is not None and rel.allocated is not None:
            rel.allocated.set_range(first, end)

    def acquire(self, op_id: int, keys: Sequence[tuple[str, int]]) -> None:
        locks = self.locks
        counts = self.locked_volumes
        for key in keys:
            assert key not in locks, f"{key} is locked by operation {locks[key]}"
            locks[key] = op_id
            counts[key[0]] = counts.get(key[0], 0) + 1

    def release(self, keys: Sequence[tuple[str, int]]) -> None:
        locks = self.locks
        counts = self.locked_volumes
        for key in keys:
            del locks[key]
            left = counts[key[0]] - 1
            if left:
                counts[key[0]] = left
            else:
                del counts[key[0]]

    def perform_control(self, op: Op | None) -> list[Action]:
        """Run a whole-volume operation as one atomic step; returns the rule-0 copies it made
        (ReadTracks, WriteTracks, ClearBits), for a driver that charges their cost."""
        if isinstance(op, Establish):
            return control.establish(self, op)
        if isinstance(op, EstablishGroup):
            return control.establish_group(self, op.relationships)
        if isinstance(op, Withdraw):
            return control.withdraw(self, op.id)
        if isinstance(op, Refresh):
            return control.refresh(self, op.id)
        if isinstance(op, Reverse):
            return control.reverse(self, op.id, op.fast)
        raise AssertionError(f"not a whole-volume operation: {op!r}")

    # -- in-flight operations --------------------------------------------------------------
    def _new(self, kind: str, **fields: object) -> InFlight:
        self._next_op += 1
        return InFlight(self._next_op, kind, **fields)  # type: ignore[arg-type]

    def start_write(self, volume: str, offset: int, data: bytes) -> InFlight:
        return self._new(WRITE, volume=volume, offset=offset, length=len(data), data=bytes(data))

    def start_read(self, volume: str, offset: int, length: int) -> InFlight:
        return self._new(READ, volume=volume, offset=offset, length=length)

    def start_copy(self, rel_id: str, limit_tracks: int = 1) -> InFlight:
        """Background copy of the lowest set run of `rel_id`, at most `limit_tracks` long."""
        return self._new(COPY, relationship=rel_id, limit=limit_tracks)

    def start_control(self, op: Op) -> InFlight:
        return self._new(CONTROL, control=op)

    def _finish(self, op: InFlight) -> InFlight:
        steps.run(self, op)
        if op.error is not None:
            raise op.error
        return op

    # -- FlashCopyAPI ----------------------------------------------------------------------
    def create(self, volume: str, tracks: int, track_size: int) -> None:
        control.create(self, volume, tracks, track_size)

    def write(self, volume: str, offset: int, data: bytes) -> None:
        self._finish(self.start_write(volume, offset, data))

    def read(self, volume: str, offset: int, length: int) -> bytes:
        result = self._finish(self.start_read(volume, offset, length)).result
        assert result is not None
        return result

    def establish(self, spec: Establish) -> None:
        self._finish(self.start_control(spec))

    def establish_group(self, specs: tuple[Establish, ...]) -> None:
        self._finish(self.start_control(EstablishGroup(tuple(specs))))

    def background_copy(self, rel_id: str, tracks: int) -> int:
        """Copy up to `tracks` tracks of `rel_id`, lowest first (rule 4); returns how many."""
        steps.require_background_copy(self, rel_id, tracks)
        rel = self.relationships[rel_id]
        extent = steps.plans.copy_extent_tracks(self.volumes[rel.source].track_size)
        copied = 0
        while copied < tracks and rel_id in self.relationships and rel.bitmap.count:
            op = self._finish(self.start_copy(rel_id, min(extent, tracks - copied)))
            copied += op.copied
        return copied

    def refresh(self, rel_id: str) -> None:
        self._finish(self.start_control(Refresh(rel_id)))

    def reverse(self, rel_id: str, fast: bool = False) -> None:
        self._finish(self.start_control(Reverse(rel_id, fast)))

    def withdraw(self, rel_id: str) -> None:
        self._finish(self.start_control(Withdraw(rel_id)))

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

    def locks_fingerprint(self) -> tuple[tuple[tuple[str, int], int], ...]:
        return tuple(sorted(self.locks.items()))

    def clone(self) -> System:
        """An independent copy (memory backends only): for explorers that branch."""
        twin = System(self.profile, self.backend_factory)
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
        twin.locks = dict(self.locks)
        twin.locked_volumes = dict(self.locked_volumes)
        twin._next_op = self._next_op
        twin._families = dict(self._families)  # a cache of the relationships, copied alike
        twin.mutant = self.mutant
        return twin

    def with_own_locks(self) -> System:
        """A copy that shares this system's volumes and relationships and owns only its locks:
        for an explorer branching on a step that changes nothing but locks. Neither system
        may change the shared parts afterwards (clone() one first)."""
        twin = System.__new__(System)
        twin.__dict__.update(self.__dict__)
        twin.locks = dict(self.locks)
        twin.locked_volumes = dict(self.locked_volumes)
        return twin

    def close(self) -> None:
        for vol in self.volumes.values():
            vol.backend.close()
