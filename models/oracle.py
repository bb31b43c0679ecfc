"""A deliberately naive second implementation of the FlashCopy semantics, for tests.

The engine (`flashsim.models.system`) reads targets through bitmaps and chains of sources, copies
tracks lazily and must be correct under every interleaving. This oracle takes the opposite
route so that the two can hardly share a mistake: every volume holds its whole *logical*
image (what it reads as) as a bytearray, and an establish copies the source's image in full
at once. Cascades and multiple targets are then correct for free.

What was physically copied still shows (a withdraw with bits set, background copy order,
relationships ending by themselves, change recording, space-efficient allocation), so each
relationship also keeps plain Python sets: `pending` (tracks not yet copied), `stale` (what
the target physically held on a pending track), the change records and the allocated tracks.
Every operation is validated, then run on a deep copy of the whole state that replaces the
old one only if nothing failed: slow, and obviously all or nothing.

The SVC profile keeps the same full images; each mapping also names the volume it reads
uncopied grains through (`upstream`: its source when it starts, the next newer target once a
newer mapping of the same source starts, the stopped mapping's upstream after a stop), which
says who receives a grain before an image changes and what a stopped target physically holds.
The redirect-on-write profile keeps, beside the images, an explicit block map per volume and
a reference count per block (a new block on a write to a shared one, a snapshot takes its
origin's map), so that its space accounting is computed the naive way.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from flashsim.models.errors import (
    AddressError,
    EstablishError,
    OutOfSpaceError,
    RelationshipError,
    RelationshipFailedError,
    UnsupportedOperationError,
    VolumeError,
    VolumeOfflineError,
    WriteInhibitedError,
)
from flashsim.models.limits import (
    DS8000_MAX_TARGETS_PER_SOURCE,
    ROW_MAX_SNAPSHOTS_PER_ORIGIN,
    SVC_MAX_MAPPINGS_PER_SOURCE,
    io_limit_problem,
)
from flashsim.models.ops import OUT_OF_SPACE_POLICIES, PROFILE_NAMES, Establish, SpaceReport

_LIMITS = {
    "ds8000": DS8000_MAX_TARGETS_PER_SOURCE,
    "svc": SVC_MAX_MAPPINGS_PER_SOURCE,
    "row": ROW_MAX_SNAPSHOTS_PER_ORIGIN,
}
_OFFLINE = ("prepared", "stopped")

# (source, target, space_efficient) of an existing or a hypothetical relationship.
_Link = tuple[str, str, bool]


@dataclass
class _Volume:
    tracks: int
    track_size: int
    image: bytearray
    consistent: bool = True

    def track(self, t: int) -> bytes:
        return bytes(self.image[t * self.track_size : (t + 1) * self.track_size])

    def set_track(self, t: int, data: bytes) -> None:
        self.image[t * self.track_size : (t + 1) * self.track_size] = data

    def covered(self, offset: int, length: int) -> set[int]:
        """The tracks a byte range touches, fully or partly."""
        return set(range(offset // self.track_size, (offset + length - 1) // self.track_size + 1))


@dataclass
class _Relationship:
    id: str
    source: str
    target: str
    background_copy: bool
    persistent: bool
    incremental: bool
    inhibit_target_writes: bool
    capacity_tracks: int | None
    out_of_space: str
    pending: set[int]
    stale: dict[int, bytes]
    src_changes: set[int] = field(default_factory=set)
    tgt_changes: set[int] = field(default_factory=set)
    allocated: set[int] = field(default_factory=set)
    failed: bool = False
    # For the checker's properties only: the ids established with it by one establish_group,
    # and the last refresh or reverse ("refresh", "reverse", "fast reverse") that restored it.
    group: tuple[str, ...] = ()
    restored: str | None = None
    # SVC profile only: the mapping state (prepared, copying, stopped), autodelete, and the
    # volume the mapping reads its uncopied grains through (None: its source).
    state: str | None = None
    autodelete: bool = False
    upstream: str | None = None
    started: bool = False  # an incremental restart copies only the changes (rule S8)

    def reads_through(self) -> str | None:
        """The volume whose image changes this relationship must receive first (rule 0)."""
        if self.state in _OFFLINE:
            return None
        return self.source if self.upstream is None else self.upstream

    def receive(self, tracks: set[int]) -> None:
        """The target now physically holds `tracks`: they are no longer pending."""
        self.pending -= tracks
        for t in tracks:
            self.stale.pop(t, None)


@dataclass
class _State:
    volumes: dict[str, _Volume] = field(default_factory=dict)
    relationships: dict[str, _Relationship] = field(default_factory=dict)
    # For the checker's isolation property only: withdrawn relationship id -> its source.
    withdrawn: dict[str, str] = field(default_factory=dict)
    # Redirect-on-write only: each volume's block per track (None: a hole), the references
    # to each block, the next block number, and snapshot -> origin.
    blocks: dict[str, list[int | None]] = field(default_factory=dict)
    refs: dict[int, int] = field(default_factory=dict)
    next_block: int = 0
    snapshots: dict[str, str] = field(default_factory=dict)

    def volume(self, name: str) -> _Volume:
        if name not in self.volumes:
            raise VolumeError(f"volume {name!r} does not exist")
        return self.volumes[name]

    def relationship(self, rel_id: str) -> _Relationship:
        if rel_id not in self.relationships:
            raise RelationshipError(f"relationship {rel_id!r} does not exist")
        return self.relationships[rel_id]

    def relationship_into(self, volume: str) -> _Relationship | None:
        """The relationship `volume` is the target of, if any (a target has one source)."""
        found = [r for r in self.relationships.values() if r.target == volume]
        return found[0] if found else None

    def links(self) -> list[_Link]:
        return [
            (r.source, r.target, r.capacity_tracks is not None) for r in self.relationships.values()
        ]

    def change(self, volume: str, tracks: set[int], exclude: str | None = None) -> None:
        """Volume's image is about to change on `tracks`: rule 0, then change recording.

        Every relationship from `volume` receives the pending tracks (a space-efficient one
        needs room for them, else it fails or the whole operation is rejected, by policy);
        every incremental relationship on `volume` records the tracks. `exclude` is the
        relationship being refreshed or reversed (its records restart empty).
        """
        for rel_id in sorted(self.relationships):
            rel = self.relationships[rel_id]
            if rel_id == exclude:
                continue
            received = rel.pending & tracks
            if rel.reads_through() == volume and received and not rel.failed:
                if rel.capacity_tracks is None:
                    rel.receive(received)
                elif len(rel.allocated | received) <= rel.capacity_tracks:
                    rel.allocated |= received
                    rel.receive(received)
                elif rel.out_of_space == "inhibit_source_writes":
                    raise OutOfSpaceError(
                        f"space-efficient target {rel.target!r} of relationship {rel_id!r} "
                        f"has no room for tracks {sorted(received)} of {volume!r}"
                    )
                else:
                    rel.failed = True  # the change goes on without copying to it
            if rel.incremental and rel.source == volume:
                rel.src_changes |= tracks
            if rel.incremental and rel.target == volume:
                rel.tgt_changes |= tracks

    def end_completed(self) -> None:
        """Rule 5: a non-persistent background-copy relationship with nothing pending ends."""
        for rel_id in sorted(self.relationships):
            rel = self.relationships[rel_id]
            if rel.state is not None:  # SVC: an autodelete mapping once copied
                if rel.state == "copying" and rel.autodelete and not rel.pending:
                    del self.relationships[rel_id]
            elif rel.background_copy and not rel.persistent and not rel.pending:
                del self.relationships[rel_id]


def _ancestors(volume: str, parent: dict[str, str], through: dict[str, str]) -> set[str]:
    """The volumes `volume` depends on (bounded: a bad group may hold a cycle)."""
    seen: set[str] = set()
    todo = [volume]
    while todo:
        v = todo.pop()
        for up in (parent.get(v), through.get(v)):
            if up is not None and up not in seen:
                seen.add(up)
                todo.append(up)
    return seen


def _check_establish(state: _State, spec: Establish, others: list[_Link], limit: int) -> None:
    """Raise the first error (docs/semantics.md order) of establishing `spec`.

    `others` are the other members of its consistency group, counted as if established.
    """
    if spec.id in state.relationships:
        raise EstablishError(f"relationship id {spec.id!r} is in use")
    source, target = state.volume(spec.source), state.volume(spec.target)
    if spec.source == spec.target:
        raise EstablishError(f"relationship {spec.id!r}: volume {spec.source!r} onto itself")
    if (source.tracks, source.track_size) != (target.tracks, target.track_size):
        raise EstablishError(
            f"relationship {spec.id!r}: {spec.source!r} is {source.tracks}x{source.track_size}"
            f" bytes, {spec.target!r} is {target.tracks}x{target.track_size}"
        )
    links = state.links() + others
    parent = {t: s for s, t, _ in links}
    if spec.target in parent:
        raise EstablishError(
            f"relationship {spec.id!r}: {spec.target!r} is already the target of "
            f"{parent[spec.target]!r}"
        )
    # an SVC mapping also depends on the volume it reads through
    through = {r.target: r.upstream for r in state.relationships.values() if r.upstream}
    if spec.target in _ancestors(spec.source, parent, through):
        raise EstablishError(
            f"relationship {spec.id!r}: {spec.target!r} is an ancestor of {spec.source!r}"
        )
    if sum(1 for s, _, _ in links if s == spec.source) >= limit:
        raise EstablishError(
            f"relationship {spec.id!r}: {spec.source!r} already has {limit} targets"
        )
    capacity = spec.target_capacity_tracks
    if capacity is not None and (spec.background_copy or spec.incremental or capacity < 1):
        raise EstablishError(
            f"relationship {spec.id!r}: a space-efficient target needs NOCOPY, not "
            f"incremental, and target_capacity_tracks >= 1 (got {capacity})"
        )
    if spec.out_of_space not in OUT_OF_SPACE_POLICIES:
        raise EstablishError(
            f"relationship {spec.id!r}: unknown out_of_space policy {spec.out_of_space!r}"
        )
    if capacity is not None and any(s == spec.target for s, _, _ in links):
        raise EstablishError(
            f"relationship {spec.id!r}: space-efficient target {spec.target!r} is a source"
        )
    if any(t == spec.source and se for _, t, se in links):
        raise EstablishError(
            f"relationship {spec.id!r}: source {spec.source!r} is a space-efficient target"
        )


def _establish_into(state: _State, spec: Establish) -> None:
    """Apply a validated establish: the target's image becomes a full copy of the source's."""
    source, target = state.volumes[spec.source], state.volumes[spec.target]
    every = set(range(target.tracks))
    stale = {t: target.track(t) for t in every}
    state.change(spec.target, every)
    target.image[:] = source.image
    target.consistent = True
    state.relationships[spec.id] = _Relationship(
        id=spec.id,
        source=spec.source,
        target=spec.target,
        background_copy=spec.background_copy,
        persistent=spec.persistent or spec.incremental,
        incremental=spec.incremental,
        inhibit_target_writes=spec.inhibit_target_writes,
        capacity_tracks=spec.target_capacity_tracks,
        out_of_space=spec.out_of_space,
        pending=set(every),
        stale=stale,
    )


def _svc_mapping(spec: Establish, mapping_state: str) -> _Relationship:
    return _Relationship(
        id=spec.id,
        source=spec.source,
        target=spec.target,
        background_copy=spec.background_copy,
        persistent=False,
        incremental=spec.incremental,
        inhibit_target_writes=spec.inhibit_target_writes,
        capacity_tracks=None,
        out_of_space=spec.out_of_space,
        pending=set(),
        stale={},
        state=mapping_state,
        autodelete=spec.autodelete,
    )


def _svc_start(state: _State, rel: _Relationship) -> None:
    """The mapping's point in time: the target's dependents receive what they read through it
    (rule 0), its image becomes the source's; the previous newest mapping of the source reads
    through this target from now on."""
    source, target = state.volumes[rel.source], state.volumes[rel.target]
    every = set(range(target.tracks))
    again = every
    if rel.incremental and rel.started:  # copy what it lacks or what changed since
        again = rel.pending | rel.src_changes | rel.tgt_changes
    rel.stale = {t: target.track(t) for t in again}
    state.change(rel.target, every)
    rel.src_changes, rel.tgt_changes = set(), set()
    target.image[:] = source.image
    target.consistent = True
    for other in state.relationships.values():
        if other is not rel and other.source == rel.source and other.reads_through() == rel.source:
            other.upstream = rel.target
    rel.pending, rel.state, rel.upstream, rel.started = again, "copying", None, True
    state.relationships[rel.id] = rel


def _svc_park(state: _State, rel: _Relationship) -> None:
    """Stopped: the target (offline) holds what it received; the rest is its old content."""
    target = state.volumes[rel.target]
    for t in rel.pending:
        target.set_track(t, rel.stale[t])
    if rel.pending:
        target.consistent = False
    rel.state = "stopped"


def _svc_force_stop(state: _State, rel: _Relationship) -> None:
    for dep_id in sorted(state.relationships):
        dep = state.relationships[dep_id]
        if dep.reads_through() == rel.target and dep.pending:
            _svc_force_stop(state, dep)
    _svc_park(state, rel)


class Oracle:
    """Naive reference FlashCopy system implementing `flashsim.models.ops.FlashCopyAPI`.

    >>> o = Oracle()
    >>> o.create("A", 4, 2); o.create("B", 4, 2)
    >>> o.write("A", 0, b"aabbccdd")
    >>> o.establish(Establish("r1", "A", "B", background_copy=False))
    >>> o.write("A", 0, b"XY")
    >>> o.read("B", 0, 8)
    b'aabbccdd'
    """

    def __init__(self, max_targets_per_source: int = 12, profile: str = "ds8000") -> None:
        self._max_targets = max_targets_per_source
        self._profile = profile
        self._state = _State()

    def set_profile(self, name: str) -> None:
        if name not in PROFILE_NAMES:
            raise UnsupportedOperationError(f"unknown profile {name!r}")
        if self._state.volumes:
            raise UnsupportedOperationError("the profile is chosen before any volume")
        self._profile = name
        self._max_targets = _LIMITS[name]

    def _offer(self, operation: str, *profiles: str) -> None:
        if self._profile not in profiles:
            raise UnsupportedOperationError(
                f"{operation} is not offered by the {self._profile} profile"
            )

    # -- queries for tests ------------------------------------------------------------------

    def consistent(self, volume: str) -> bool:
        """False after a withdraw or fast reverse left `volume` with tracks it never got."""
        return self._state.volume(volume).consistent

    def relationship_ids(self) -> list[str]:
        """Live relationships (SVC: mappings in any state; ROW: the snapshots)."""
        return sorted([*self._state.relationships, *self._state.snapshots])

    def mapping_states(self) -> dict[str, str]:
        """SVC: each mapping's state as IBM names it (idle_or_copied: started, all copied)."""
        return {
            r.id: "idle_or_copied" if r.state == "copying" and not r.pending else str(r.state)
            for r in self._state.relationships.values()
        }

    def _check_online(self, volume: str) -> None:
        rel = self._state.relationship_into(volume)
        if rel is not None and rel.state in (*_OFFLINE, "suspended"):
            raise VolumeOfflineError(f"volume {volume!r}: mapping {rel.id!r} is {rel.state}")
        for other in self._state.relationships.values():
            if other.state == "suspended" and other.source == volume:
                raise VolumeOfflineError(f"volume {volume!r}: source of suspended {other.id!r}")

    # -- helpers ----------------------------------------------------------------------------

    def _draft(self) -> _State:
        """A copy of the whole state to build an operation's outcome on."""
        return copy.deepcopy(self._state)

    def _commit(self, state: _State) -> None:
        state.end_completed()
        self._state = state

    def _check_io(self, volume: str, offset: int, length: int) -> _Volume:
        vol = self._state.volume(volume)
        size = vol.tracks * vol.track_size
        if offset < 0 or length < 1 or offset + length > size:
            raise AddressError(
                f"volume {volume!r}: I/O at offset {offset} length {length} outside 0..{size}"
            )
        tracks = (offset + length - 1) // vol.track_size - offset // vol.track_size + 1
        problem = io_limit_problem(length, tracks)
        if problem is not None:
            raise AddressError(f"volume {volume!r}: I/O at offset {offset}: {problem}")
        return vol

    # -- FlashCopyAPI -----------------------------------------------------------------------

    def create(self, volume: str, tracks: int, track_size: int) -> None:
        if volume in self._state.volumes:
            raise VolumeError(f"volume {volume!r} exists already")
        if tracks < 1 or track_size < 1:
            raise VolumeError(f"volume {volume!r}: {tracks} tracks of {track_size} bytes")
        self._state.volumes[volume] = _Volume(tracks, track_size, bytearray(tracks * track_size))
        if self._profile == "row":
            self._state.blocks[volume] = [None] * tracks

    def read(self, volume: str, offset: int, length: int) -> bytes:
        vol = self._check_io(volume, offset, length)
        self._check_online(volume)
        rel = self._state.relationship_into(volume)
        if rel is not None and rel.failed:
            raise RelationshipFailedError(f"volume {volume!r}: relationship {rel.id!r} failed")
        return bytes(vol.image[offset : offset + length])

    def write(self, volume: str, offset: int, data: bytes) -> None:
        """Rule 0 for `volume`'s targets, then rule 3 if it is a target, then the data."""
        vol = self._check_io(volume, offset, len(data))
        covered = vol.covered(offset, len(data))
        if self._profile == "row":
            self._row_write(volume, offset, data, covered)
            return
        self._check_online(volume)
        rel = self._state.relationship_into(volume)
        if rel is not None:
            if rel.inhibit_target_writes:
                raise WriteInhibitedError(
                    f"volume {volume!r}: relationship {rel.id!r} inhibits target writes"
                )
            if rel.failed:
                raise RelationshipFailedError(f"volume {volume!r}: relationship {rel.id!r} failed")
            if rel.capacity_tracks is not None and (
                len(rel.allocated | covered) > rel.capacity_tracks
            ):
                message = f"volume {volume!r}: no room for tracks {sorted(covered)}"
                if rel.out_of_space == "inhibit_source_writes":
                    raise OutOfSpaceError(message)
                rel.failed = True  # the documented exception: it fails, as it must
                raise RelationshipFailedError(f"{message}: relationship {rel.id!r} failed")
        state = self._draft()
        state.change(volume, covered)
        into = state.relationship_into(volume)
        if into is not None:
            # A full-track write just clears the bit; a partial one is pre-copied first,
            # which leaves the same image since the target already reads as the source.
            if into.capacity_tracks is not None:
                into.allocated |= covered
            into.receive(covered)
        state.volumes[volume].image[offset : offset + len(data)] = data
        self._commit(state)

    def _check_spec(self, spec: Establish) -> None:
        """The profile's own checks of an establish, before the common ones."""
        if spec.design is not None and spec.design != self._profile:
            raise EstablishError(
                f"relationship {spec.id!r}: design {spec.design} in {self._profile}"
            )
        if self._profile == "svc":
            if spec.target_capacity_tracks is not None:
                raise EstablishError(f"mapping {spec.id!r}: no space-efficient targets in svc")
            if spec.persistent:
                raise EstablishError(f"mapping {spec.id!r}: persistent not in svc")
        elif spec.autodelete:
            raise EstablishError(f"relationship {spec.id!r}: autodelete is an svc option")

    def establish(self, spec: Establish) -> None:
        self._offer("establish", "ds8000", "svc")
        self._check_spec(spec)
        _check_establish(self._state, spec, [], self._max_targets)
        state = self._draft()
        if self._profile == "svc":
            _svc_start(state, _svc_mapping(spec, "copying"))
        else:
            _establish_into(state, spec)
        self._commit(state)

    # -- SVC --------------------------------------------------------------------------------

    def prepare(self, spec: Establish) -> None:
        self._offer("prepare", "svc")
        self._check_spec(spec)
        _check_establish(self._state, spec, [], self._max_targets)
        state = self._draft()
        state.relationships[spec.id] = _svc_mapping(spec, "prepared")
        self._commit(state)

    def suspend(self, rel_id: str) -> None:
        """A copying mapping (grains still to copy) loses its bitmap: source, target offline."""
        self._offer("suspend", "svc")
        rel = self._state.relationship(rel_id)
        if rel.state != "copying" or not rel.pending:
            raise RelationshipError(f"mapping {rel_id!r} is not copying: it cannot be suspended")
        state = self._draft()
        state.relationships[rel_id].state = "suspended"
        self._commit(state)

    def resume(self, rel_id: str) -> None:
        self._offer("resume", "svc")
        if self._state.relationship(rel_id).state != "suspended":
            raise RelationshipError(f"mapping {rel_id!r} is not suspended")
        state = self._draft()
        state.relationships[rel_id].state = "copying"
        self._commit(state)

    def prepare_again(self, rel_id: str) -> None:
        """A stopped mapping, or an idle_or_copied one (whose dependents get what they read
        through its target first, as at a stop), is prepared again: target offline."""
        self._offer("prepare", "svc")
        rel = self._state.relationship(rel_id)
        copied = rel.state == "copying" and not rel.pending
        if rel.state != "stopped" and not copied:
            raise RelationshipError(f"mapping {rel_id!r} cannot be prepared again")
        state = self._draft()
        rel = state.relationships[rel_id]
        if copied:
            for dep_id in sorted(state.relationships):
                dep = state.relationships[dep_id]
                if dep.reads_through() == rel.target and dep.source != rel.target:
                    dep.receive(set(dep.pending))  # the target held all of them
                    dep.upstream = rel.reads_through()
        rel.state = "prepared"
        self._commit(state)

    def start(self, rel_id: str) -> None:
        self._offer("start", "svc")
        if self._state.relationship(rel_id).state != "prepared":
            raise RelationshipError(f"mapping {rel_id!r} is not prepared")
        state = self._draft()
        _svc_start(state, state.relationships[rel_id])
        self._commit(state)

    def stop(self, rel_id: str, force: bool = False) -> None:
        self._offer("stop", "svc")
        rel = self._state.relationship(rel_id)
        if rel.state == "stopped" or (rel.state == "copying" and not rel.pending):
            raise RelationshipError(f"mapping {rel_id!r}: nothing to stop")
        if rel.state == "suspended" and not force:
            raise RelationshipError(f"mapping {rel_id!r} is suspended: resume or force stop")
        state = self._draft()
        rel = state.relationships[rel_id]
        if rel.state == "prepared":
            rel.state = "stopped"
        elif force:
            _svc_force_stop(state, rel)
        else:
            for dep_id in sorted(state.relationships):
                dep = state.relationships[dep_id]
                if dep.reads_through() == rel.target and dep.source != rel.target:
                    dep.receive(dep.pending - rel.pending)  # cleaning
                    dep.upstream = rel.reads_through()
            state.change(rel.target, set(rel.pending), exclude=rel_id)
            _svc_park(state, rel)
        self._commit(state)

    # -- redirect-on-write ------------------------------------------------------------------

    def merge_reads(self, volume: str, offset: int, length: int) -> int:
        """Redirect-on-write: the old blocks a write of `length` bytes at `offset` must read to
        merge (a block it covers only in part, shared with a snapshot, not a hole); 0 in the
        other profiles."""
        if self._profile != "row" or volume in self._state.snapshots:
            return 0
        ts = self._state.volumes[volume].track_size
        blocks, refs = self._state.blocks[volume], self._state.refs
        ends = {
            t
            for t, cut in (
                (offset // ts, offset % ts),
                ((offset + length - 1) // ts, (offset + length) % ts),
            )
            if cut
        }
        shared = [refs[block] > 1 for block in (blocks[t] for t in ends) if block is not None]
        return sum(shared)

    def _row_write(self, volume: str, offset: int, data: bytes, covered: set[int]) -> None:
        if volume in self._state.snapshots:
            raise WriteInhibitedError(f"volume {volume!r} is a snapshot: read-only")
        state = self._draft()
        blocks = state.blocks[volume]
        for t in covered:
            block = blocks[t]
            if block is None or state.refs[block] > 1:  # shared (or a hole): a new block
                if block is not None:
                    state.refs[block] -= 1
                blocks[t] = state.next_block
                state.refs[state.next_block] = 1
                state.next_block += 1
        state.volumes[volume].image[offset : offset + len(data)] = data
        self._state = state

    def snapshot(self, volume: str, snapshot: str) -> None:
        self._offer("snapshot", "row")
        origin = self._state.volume(volume)
        if snapshot in self._state.volumes:
            raise VolumeError(f"volume {snapshot!r} exists already")
        if volume in self._state.snapshots:
            raise EstablishError(f"{volume!r} is a snapshot")
        if sum(o == volume for o in self._state.snapshots.values()) >= self._max_targets:
            raise EstablishError(f"{volume!r} has {self._max_targets} snapshots")
        state = self._draft()
        state.volumes[snapshot] = _Volume(origin.tracks, origin.track_size, bytearray(origin.image))
        state.blocks[snapshot] = list(state.blocks[volume])
        for block in state.blocks[snapshot]:
            if block is not None:
                state.refs[block] += 1
        state.snapshots[snapshot] = volume
        self._state = state

    def delete_snapshot(self, snapshot: str) -> None:
        self._offer("delete_snapshot", "row")
        self._state.volume(snapshot)
        if snapshot not in self._state.snapshots:
            raise RelationshipError(f"volume {snapshot!r} is not a snapshot")
        state = self._draft()
        for block in state.blocks.pop(snapshot):
            if block is not None:
                state.refs[block] -= 1
                if not state.refs[block]:
                    del state.refs[block]  # no one references it: freed
        del state.volumes[snapshot], state.snapshots[snapshot]
        self._state = state

    def space(self) -> SpaceReport:
        self._offer("space", "row")
        state = self._state
        names = sorted(state.volumes)
        return {
            "pool": sum(1 for n in state.refs.values() if n),
            "referenced": {v: sum(b is not None for b in state.blocks[v]) for v in names},
            "unique": {
                v: sum(b is not None and state.refs[b] == 1 for b in state.blocks[v]) for v in names
            },
        }

    def establish_group(self, specs: tuple[Establish, ...]) -> None:
        """Rule 10: validate the group as a whole, then establish all members or none."""
        self._offer("establish_group", "ds8000", "svc")
        if not specs:
            raise EstablishError("a consistency group needs at least one relationship")
        ids = [s.id for s in specs]
        if len(set(ids)) != len(ids):
            raise EstablishError(f"consistency group repeats a relationship id: {ids}")
        for spec in specs:
            if spec.id in self._state.relationships:
                raise EstablishError(f"relationship id {spec.id!r} is in use")
        targets = [s.target for s in specs]
        if len(set(targets)) != len(targets):
            raise EstablishError(f"consistency group repeats a target: {targets}")
        both = {s.source for s in specs} & set(targets)
        if both:
            raise EstablishError(f"consistency group: {sorted(both)} both source and target")
        for i, spec in enumerate(specs):
            others = [
                (o.source, o.target, o.target_capacity_tracks is not None)
                for j, o in enumerate(specs)
                if j != i
            ]
            self._check_spec(spec)
            _check_establish(self._state, spec, others, self._max_targets)
        state = self._draft()
        for spec in specs:
            if self._profile == "svc":
                _svc_start(state, _svc_mapping(spec, "copying"))
            else:
                _establish_into(state, spec)
            state.relationships[spec.id].group = tuple(ids)
        self._commit(state)

    def background_copy(self, rel_id: str, tracks: int) -> int:
        """Rule 4: copy up to `tracks` pending tracks, lowest first; return how many."""
        self._offer("background_copy", "ds8000", "svc")
        rel = self._state.relationship(rel_id)
        if rel.state in (*_OFFLINE, "suspended"):
            raise RelationshipError(f"mapping {rel_id!r} is {rel.state}")
        if not rel.background_copy:
            raise RelationshipError(f"relationship {rel_id!r} is NOCOPY")
        if tracks < 1:
            raise RelationshipError(f"relationship {rel_id!r}: background copy of {tracks}")
        state = self._draft()
        rel = state.relationships[rel_id]
        copied = set(sorted(rel.pending)[:tracks])
        rel.receive(copied)
        self._commit(state)
        return len(copied)

    def refresh(self, rel_id: str) -> None:
        """Rule 7: a new point in time; only recorded tracks need copying again."""
        self._offer("refresh", "ds8000")
        if not self._state.relationship(rel_id).incremental:
            raise RelationshipError(f"relationship {rel_id!r} is not incremental")
        state = self._draft()
        rel = state.relationships[rel_id]
        source, target = state.volumes[rel.source], state.volumes[rel.target]
        recorded = rel.src_changes | rel.tgt_changes
        changed = recorded - rel.pending
        for t in changed:
            rel.stale[t] = target.track(t)
        state.change(rel.target, changed, exclude=rel_id)
        rel.pending |= recorded
        rel.src_changes, rel.tgt_changes = set(), set()
        rel.restored = "refresh"
        target.image[:] = source.image
        target.consistent = True
        self._commit(state)

    def reverse(self, rel_id: str, fast: bool = False) -> None:
        """Rule 11: restore the source to the target's image and flip the direction."""
        self._offer("reverse", "ds8000")
        rel = self._state.relationship(rel_id)
        if not rel.incremental:
            raise RelationshipError(f"relationship {rel_id!r} is not incremental")
        if not fast and rel.pending:
            raise RelationshipError(
                f"relationship {rel_id!r}: {len(rel.pending)} tracks not yet copied; "
                "use fast reverse"
            )
        other = self._state.relationship_into(rel.source)
        if other is not None:
            raise RelationshipError(
                f"relationship {rel_id!r}: source {rel.source!r} is the target of {other.id!r}"
            )
        if sum(1 for r in self._state.relationships.values() if r.source == rel.target) >= (
            self._max_targets
        ):
            raise RelationshipError(
                f"relationship {rel_id!r}: {rel.target!r} already has {self._max_targets} targets"
            )
        state = self._draft()
        rel = state.relationships[rel_id]
        old_source, old_target = state.volumes[rel.source], state.volumes[rel.target]
        recorded = rel.src_changes | rel.tgt_changes
        uncopied, old_stale = set(rel.pending), rel.stale
        restored = bytes(old_target.image)
        rel.source, rel.target = rel.target, rel.source
        rel.restored = "fast reverse" if fast else "reverse"
        rel.pending = set(recorded)
        rel.stale = {t: old_source.track(t) for t in recorded}
        rel.src_changes, rel.tgt_changes = set(), set()
        state.change(rel.target, recorded, exclude=rel_id)
        old_source.image[:] = restored
        old_source.consistent = True
        if uncopied:  # fast reverse: the tracks the old target never received revert
            state.change(rel.source, uncopied, exclude=rel_id)
            for t in uncopied:
                old_target.set_track(t, old_stale[t])
            old_target.consistent = False
            rel.src_changes |= uncopied  # the new source now differs there: refresh recopies
        self._commit(state)

    def withdraw(self, rel_id: str) -> None:
        """Rule 6: end at once; never-copied tracks show the target's old content."""
        self._offer("withdraw", "ds8000", "svc")
        found = self._state.relationship(rel_id)
        if self._profile == "svc":  # delete a mapping: a copying one must be stopped first
            if found.state == "suspended" or (found.state == "copying" and found.pending):
                raise RelationshipError(f"mapping {rel_id!r} is copying: stop it first")
            state = self._draft()
            state.withdrawn[rel_id] = state.relationships.pop(rel_id).source
            self._commit(state)
            return
        state = self._draft()
        rel = state.relationships.pop(rel_id)
        state.withdrawn[rel_id] = rel.source
        target = state.volumes[rel.target]
        state.change(rel.target, rel.pending)
        for t in rel.pending:
            target.set_track(t, rel.stale[t])
        if rel.pending:
            target.consistent = False
        self._commit(state)
