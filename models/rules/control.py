"""Whole-volume operations: create, establish (single and group), withdraw, refresh, reverse.

Each is one atomic step: validate everything first (an error changes nothing), plan the
rule-0 copies with `Plans.plan_receive`, then perform them and commit. The validations are
functions; what each operation copies is a method of `Control`, so a variant replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from flashsim.models.errors import (
    EstablishError,
    RelationshipError,
    UnsupportedOperationError,
    VolumeError,
)
from flashsim.models.limits import MAX_TRACK_SIZE, MAX_TRACKS
from flashsim.models.ops import (
    OUT_OF_SPACE_POLICIES,
    Establish,
    EstablishGroup,
    Op,
    Refresh,
    Reverse,
    Withdraw,
)
from flashsim.models.rules.actions import RULE0, Action
from flashsim.models.rules.inflight import CONTROL, InFlight
from flashsim.models.rules.locks import Locking
from flashsim.models.state.bitmap import Bitmap
from flashsim.models.state.relationship import Relationship
from flashsim.models.state.store import State


def create(system: State, name: str, tracks: int, track_size: int) -> None:
    if name in system.volumes:
        raise VolumeError(f"volume {name} exists already")
    if tracks < 1:
        raise VolumeError(f"volume {name}: tracks must be >= 1, got {tracks}")
    if track_size < 1:
        raise VolumeError(f"volume {name}: track_size must be >= 1, got {track_size}")
    if tracks > MAX_TRACKS:
        raise VolumeError(
            f"volume {name}: {tracks} tracks is over the limit of {MAX_TRACKS} (a bitmap is "
            f"{MAX_TRACKS // 8 // (1 << 20)} MiB there)"
        )
    if track_size > MAX_TRACK_SIZE:
        raise VolumeError(
            f"volume {name}: track_size {track_size} is over the limit of {MAX_TRACK_SIZE} bytes"
        )
    system.add_volume(name, tracks, track_size)


def outgoing_count(system: State, source: str) -> int:
    """The targets `source` has, for the targets-per-source limit (DS8000: its relationships)."""
    return len(system.outgoing.get(source, ()))


def check_design(state: State, spec: Establish) -> None:
    """One design per system: a relationship meant for another design is an EstablishError
    (docs/semantics.md, "One design per system")."""
    if spec.design is not None and spec.design != state.profile.design:
        raise EstablishError(design_mismatch(spec.id, spec.design, state.profile.design))


def design_mismatch(rel_id: str, wanted: str, running: str) -> str:
    """The message of a relationship whose design is not its system's (the oracle's too)."""
    return (
        f"relationship {rel_id}: design {wanted}, but this system runs the {running} profile "
        "(one system runs one design: choose it with a first profile line)"
    )


def validate_establish(
    system: State,
    spec: Establish,
    others: Sequence[Establish] = (),
    fanout: Callable[[State, str], int] = outgoing_count,
    parents: Callable[[Relationship], tuple[str, ...]] = lambda rel: (rel.source,),
) -> None:
    """Rules 8, 9, 12, 13: raise EstablishError if `spec` may not be established now, with
    `others` (the rest of a consistency group) counted as established already; `fanout`
    counts the targets a source has and `parents` names the volumes a relationship's target
    depends on (a profile's own way)."""
    rid = spec.id
    if rid in system.relationships:
        old = system.relationships[rid]
        raise EstablishError(f"relationship id {rid} is in use ({old.source} -> {old.target})")
    source = system.volume(spec.source)
    target = system.volume(spec.target)
    if spec.source == spec.target:
        raise EstablishError(f"relationship {rid}: source and target are both volume {spec.source}")
    if (source.tracks, source.track_size) != (target.tracks, target.track_size):
        raise EstablishError(
            f"relationship {rid}: source {source.name} has {source.tracks} tracks of "
            f"{source.track_size} bytes but target {target.name} has {target.tracks} tracks of "
            f"{target.track_size} bytes"
        )
    parent: dict[str, set[str]] = {}
    for v, r in system.incoming.items():
        parent[v] = set(parents(system.relationships[r]))
    for o in others:
        parent.setdefault(o.target, set()).add(o.source)
    if spec.target in parent:
        holder = system.incoming.get(spec.target) or next(
            o.id for o in others if o.target == spec.target
        )
        raise EstablishError(
            f"relationship {rid}: volume {spec.target} is already the target of {holder}"
        )
    todo, seen = [spec.source], set()
    while todo:
        ancestor = todo.pop()
        if ancestor == spec.target:
            raise EstablishError(
                f"relationship {rid}: {spec.source} -> {spec.target} would make a cycle "
                f"({spec.target} is already {spec.source} or one of its sources)"
            )
        if ancestor not in seen:
            seen.add(ancestor)
            todo.extend(parent.get(ancestor, ()))
    limit = system.profile.max_targets_per_source
    targets = fanout(system, spec.source) + sum(o.source == spec.source for o in others)
    if targets >= limit:
        raise EstablishError(
            f"relationship {rid}: source {spec.source} already has {targets} targets, the "
            f"{system.profile.name} limit is {limit}"
        )
    _validate_space_efficient(system, spec, others)


def _validate_space_efficient(system: State, spec: Establish, others: Sequence[Establish]) -> None:
    rid = spec.id
    if spec.out_of_space not in OUT_OF_SPACE_POLICIES:
        raise EstablishError(
            f"relationship {rid}: out_of_space must be one of {', '.join(OUT_OF_SPACE_POLICIES)}, "
            f"got {spec.out_of_space!r}"
        )
    source_in = system.incoming_relationship(spec.source)
    if source_in is not None and source_in.allocated is not None:
        raise EstablishError(
            f"relationship {rid}: source {spec.source} is a space-efficient target (of "
            f"{source_in.id}) and cannot be a source"
        )
    capacity = spec.target_capacity_tracks
    if capacity is None:
        return
    if spec.background_copy:
        raise EstablishError(
            f"relationship {rid}: a space-efficient target (target_capacity_tracks) needs "
            "background_copy false (NOCOPY)"
        )
    if spec.incremental:
        raise EstablishError(f"relationship {rid}: a space-efficient target cannot be incremental")
    if capacity < 1:
        raise EstablishError(
            f"relationship {rid}: target_capacity_tracks must be >= 1, got {capacity}"
        )
    if system.outgoing.get(spec.target) or any(o.source == spec.target for o in others):
        raise EstablishError(
            f"relationship {rid}: {spec.target} is a source and cannot be a space-efficient target"
        )


Check = Callable[[State, Establish, Sequence[Establish]], None]


def validate_group(system: State, specs: Sequence[Establish], check: Check) -> None:
    """Rule 10: the group as a whole; `check` validates one member against the others."""
    if not specs:
        raise EstablishError("establish_group: no relationships given")
    ids = [s.id for s in specs]
    targets = [s.target for s in specs]
    for what, names in (("id", ids), ("target", targets)):
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise EstablishError(
                f"establish_group: {what} {repeated[0]} appears twice in the group"
            )
    both = sorted({s.source for s in specs} & set(targets))
    if both:
        raise EstablishError(
            f"establish_group: volume {both[0]} is both a source and a target in the group"
        )
    for i, spec in enumerate(specs):
        try:
            check(system, spec, [o for j, o in enumerate(specs) if j != i])
        except (EstablishError, VolumeError) as error:
            raise type(error)(f"establish_group: member {i} ({spec.id}): {error}") from None


def _commit_establish(system: State, spec: Establish) -> None:
    tracks = system.volume(spec.target).tracks
    incremental = spec.incremental
    rel = Relationship(
        spec.id,
        spec.source,
        spec.target,
        spec,
        Bitmap(tracks, fill=True),
        Bitmap(tracks) if incremental else None,
        Bitmap(tracks) if incremental else None,
        Bitmap(tracks) if spec.target_capacity_tracks is not None else None,
    )
    system.add_relationship(rel)
    system.volume(spec.target).consistent = True


def _restart_recording(rel: Relationship) -> None:
    assert rel.source_changes is not None and rel.target_changes is not None
    rel.source_changes.clear_all()
    rel.target_changes.clear_all()


def _validate_reverse(system: State, rel: Relationship, fast: bool) -> None:
    rel_id = rel.id
    if not rel.options.incremental:
        raise RelationshipError(f"relationship {rel_id} is not incremental: it cannot be reversed")
    if rel.bitmap.count and not fast:
        raise RelationshipError(
            f"relationship {rel_id}: copy not complete ({rel.bitmap.count} tracks still to "
            "copy); wait for it or use a fast reverse"
        )
    other = system.incoming_relationship(rel.source)
    if other is not None:
        raise RelationshipError(
            f"relationship {rel_id}: source {rel.source} is the target of {other.id}; "
            "it cannot be reversed"
        )
    limit = system.profile.max_targets_per_source
    if len(system.outgoing.get(rel.target, ())) >= limit:
        raise RelationshipError(
            f"relationship {rel_id}: {rel.target} already has {limit} targets, the "
            f"{system.profile.name} limit; it cannot become the source"
        )


def unsupported(state: State, op: object) -> UnsupportedOperationError:
    """The error of an operation the system's profile does not offer."""
    kind = op if isinstance(op, str) else type(op).__name__.lower()
    name = {"setprofile": "profile", "deletesnapshot": "delete_snapshot"}.get(kind, kind)
    return UnsupportedOperationError(
        f"operation {name} is not offered by the {state.profile.name} profile"
    )


class Control(Locking):
    """The whole-volume operations, each run as one atomic step (`perform_control`)."""

    def perform_control(self, state: State, op: Op | None) -> list[Action]:
        """Run a whole-volume operation; returns the rule-0 copies it made (ReadTracks,
        WriteTracks, ClearBits), for a driver that charges their cost."""
        if isinstance(op, Establish):
            return self.establish(state, op)
        if isinstance(op, EstablishGroup):
            return self.establish_group(state, op.relationships)
        if isinstance(op, Withdraw):
            return self.withdraw(state, op.id)
        if isinstance(op, Refresh):
            return self.refresh(state, op.id)
        if isinstance(op, Reverse):
            return self.reverse(state, op.id, op.fast)
        return self.perform_profile_control(state, op)

    def perform_profile_control(self, state: State, op: Op | None) -> list[Action]:
        """A whole-volume operation of another profile (prepare, stop, snapshot, ...): the
        rules of the profiles that offer it override this."""
        raise unsupported(state, op)

    def execute(self, state: State, actions: Sequence[Action]) -> list[Action]:
        """Perform a plan at once (inside one atomic whole-volume step); returns it, so that
        the whole-volume operation can say which rule-0 copies it made."""
        scratch = InFlight(-1, CONTROL)
        for action in actions:
            self.perform(state, scratch, action)
        return list(actions)

    def change(
        self,
        state: State,
        volume: str,
        runs: Iterable[tuple[int, int]],
        exclude: str | None = None,
    ) -> list[Action]:
        """Rule 0 then change recording, for a whole-volume operation changing `volume`."""
        runs = tuple(runs)
        performed = self.execute(state, self.plan_receive(state, volume, runs, RULE0))
        state.record_changes(volume, runs, exclude=exclude)
        return performed

    def validate_spec(
        self, state: State, spec: Establish, others: Sequence[Establish] = ()
    ) -> None:
        """Rules 8, 9, 12, 13 for one establish (the SVC profile adds its own checks)."""
        check_design(state, spec)
        if spec.autodelete:
            raise EstablishError(
                f"relationship {spec.id}: autodelete is an option of the svc profile, not of "
                f"the {state.profile.name} profile"
            )
        validate_establish(state, spec, others)

    def commit_establish(self, state: State, spec: Establish) -> None:
        """The relationship exists from now on (the SVC profile joins it to a cascade)."""
        _commit_establish(state, spec)

    def establish(self, state: State, spec: Establish) -> list[Action]:
        self.validate_spec(state, spec)
        tracks = state.volume(spec.target).tracks
        performed = self.change(state, spec.target, ((0, tracks),))
        self.commit_establish(state, spec)
        return performed

    def establish_group(self, state: State, specs: Sequence[Establish]) -> list[Action]:
        """Establish every member at one instant, or none (rules 0, 7, 10)."""
        validate_group(state, specs, self.validate_spec)
        plans = [
            self.plan_receive(state, s.target, ((0, state.volume(s.target).tracks),), RULE0)
            for s in specs
        ]
        performed: list[Action] = []
        for spec, actions in zip(specs, plans, strict=True):
            performed += self.execute(state, actions)
            state.record_changes(spec.target, ((0, state.volume(spec.target).tracks),))
        for spec in specs:
            self.commit_establish(state, spec)
        return performed

    def withdraw(self, state: State, rel_id: str) -> list[Action]:
        """Rule 6: end at once; uncopied tracks show the target's own old content."""
        rel = state.relationship(rel_id)
        runs = rel.bitmap.runs(0, len(rel.bitmap))
        performed = self.withdraw_handoff(state, rel, runs)
        state.remove_relationship(rel)
        if runs:
            state.volume(rel.target).consistent = False
        return performed

    def withdraw_handoff(
        self, state: State, rel: Relationship, runs: list[tuple[int, int]]
    ) -> list[Action]:
        """Rule 0 at a withdraw: the target's image changes on its uncopied `runs` (it shows
        its own old content there), so its own targets first receive them."""
        return self.change(state, rel.target, runs, exclude=rel.id)

    def refresh_tracks(self, rel: Relationship) -> Bitmap:
        """Rule 7: the tracks a refresh copies again (besides the uncopied ones): those
        changed on either side since the last point in time."""
        return rel.recorded()

    def refresh(self, state: State, rel_id: str) -> list[Action]:
        """Rule 7: a new point in time; uncopied plus recorded tracks are to copy again."""
        rel = state.relationship(rel_id)
        if not rel.options.incremental:
            raise RelationshipError(
                f"relationship {rel_id} is not incremental: it cannot be refreshed"
            )
        recorded = self.refresh_tracks(rel)
        changing = recorded.difference(rel.bitmap)
        performed = self.change(state, rel.target, changing.runs(0, len(changing)), rel.id)
        rel.bitmap = rel.bitmap.union(recorded)
        _restart_recording(rel)
        state.volume(rel.target).consistent = True
        return performed

    def reverse_tracks(self, rel: Relationship) -> Bitmap:
        """Rule 11: the tracks a reverse restores on the source: those changed on either
        side since the last point in time."""
        return rel.recorded()

    def reverse(self, state: State, rel_id: str, fast: bool = False) -> list[Action]:
        """Rule 11: restore the source to the target's image and flip the direction."""
        rel = state.relationship(rel_id)
        _validate_reverse(state, rel, fast)
        recorded = self.reverse_tracks(rel)
        uncopied = rel.bitmap
        source_runs = recorded.runs(0, len(recorded))
        target_runs = uncopied.runs(0, len(uncopied))
        actions = self.plan_receive(state, rel.source, source_runs, RULE0, exclude=rel.id)
        actions += self.plan_receive(state, rel.target, target_runs, RULE0)
        performed = self.execute(state, actions)
        state.record_changes(rel.source, source_runs, exclude=rel.id)
        state.record_changes(rel.target, target_runs, exclude=rel.id)
        state.flip_relationship(rel)
        rel.bitmap = recorded
        _restart_recording(rel)
        assert rel.source_changes is not None
        for first, end in target_runs:  # reverted tracks: the new source differs from its target
            rel.source_changes.set_range(first, end)
        state.volume(rel.target).consistent = True
        if target_runs:
            state.volume(rel.source).consistent = False
        return performed
