"""The rules of each profile: the profile chooses the rules (docs/semantics.md, "Profiles").

`Rules` (`flashsim.models.rules.steps`) is the DS8000: a source copies to every target that
still needs a track. The two other designs are subclasses that replace the methods they
change and nothing else, so the same steps (`Rules.enabled`, `Rules.step`), locks and plans
drive all three:

- `CascadeRules`: what SVC FlashCopy and redirect-on-write share. The mappings of one source
  form a cascade in start order: only the newest reads through the source; each older one
  reads through the next newer one's target (rule C1). Taking a mapping out of the middle
  first hands its dependent what it still reads through the leaving target (rule C2).
- `SVCRules`: mapping states (prepared, copying, stopped; idle_or_copied), prepare, start,
  stop with cleaning or force, delete, restart, incremental restart, suspended (S1-S9).
- `RedirectOnWriteRules`: read-only snapshots whose blocks the origin leaves behind when it
  writes (rules R1-R4), with space accounting per volume.

`rules_for(profile)` gives the correct rules of a profile; the seeded bugs of the checker
subclass these.
"""

from __future__ import annotations

from collections.abc import Sequence

from flashsim.models.errors import (
    EstablishError,
    RelationshipError,
    VolumeError,
    VolumeOfflineError,
    WriteInhibitedError,
)
from flashsim.models.ops import (
    DeleteSnapshot,
    Establish,
    Op,
    Prepare,
    PrepareAgain,
    Resume,
    Snapshot,
    SpaceReport,
    Start,
    Stop,
    Suspend,
)
from flashsim.models.rules.actions import (
    CLEANING,
    ROW_MERGE,
    ROW_REMAP,
    Action,
    ApplyData,
    ClearBits,
    ReadTracks,
    WriteTracks,
)
from flashsim.models.rules.control import check_design, unsupported, validate_establish
from flashsim.models.rules.inflight import InFlight
from flashsim.models.rules.plans import Runs, copy_extent_tracks
from flashsim.models.rules.steps import DS8000_RULES, Rules
from flashsim.models.state.bitmap import Bitmap
from flashsim.models.state.relationship import (
    COPYING,
    PREPARED,
    STOPPED,
    SUSPENDED,
    Profile,
    Relationship,
)
from flashsim.models.state.store import State


def origin_count(state: State, source: str) -> int:
    """Mappings whose origin is `source`, in any state (the SVC's 256 per source)."""
    return sum(r.options.source == source for r in state.relationships.values())


def cascade_parents(rel: Relationship) -> tuple[str, ...]:
    """A cascade member depends on its origin and on the volume it reads through (rule 9)."""
    return (rel.options.source, rel.source)


class CascadeRules(Rules):
    """A source's targets as a cascade in start order (rules C1, C2)."""

    def resolve(self, state: State, volume: str, first: int, end: int) -> Runs:
        """Rules 1 and 9 through the cascade; an offline target (a prepared or stopped
        mapping) holds its own tracks and reads through nothing."""
        rel_id = state.incoming.get(volume)
        if rel_id is not None and not state.relationships[rel_id].linked:
            return [(volume, first, end)]
        return super().resolve(state, volume, first, end)

    def copy_extent(self, state: State, rel: Relationship, op: InFlight) -> tuple[int, int] | None:
        if not rel.linked or rel.state == SUSPENDED:
            return None  # a stopped mapping copies nothing; a suspended one cannot
        return super().copy_extent(state, rel, op)

    def join_cascade(self, state: State, rel: Relationship) -> None:
        """Rule C1: `rel` (just started, reading through its origin) is the newest of its
        origin's cascade: the previous newest reads through `rel`'s target from now on (whose
        image is the origin's image now, so no image changes)."""
        origin = rel.options.source
        for other_id in tuple(state.outgoing.get(origin, ())):
            other = state.relationships[other_id]
            if other_id != rel.id and other.options.source == origin:
                state.unlink(other)
                state.link(other, rel.target)

    def plan_cleaning(
        self, state: State, leaving: Relationship, dependent: Relationship, purpose: str
    ) -> list[Action]:
        """Rule C2: the grains `dependent` reads through `leaving`'s target that this target
        holds itself (`leaving`'s bit clear, `dependent`'s set), copied to `dependent`."""
        needed = dependent.bitmap.difference(leaving.bitmap)
        step = copy_extent_tracks(state.volumes[leaving.target].track_size)
        actions: list[Action] = []
        for first, end in needed.runs(0, len(needed)):
            for lo in range(first, end, step):
                hi = min(end, lo + step)
                actions.append(ReadTracks(((leaving.target, lo, hi),), purpose))
                actions.append(WriteTracks(dependent.target, lo, purpose))
                actions.append(ClearBits(dependent.id, lo, hi))
        return actions

    def leave_cascade(self, state: State, rel: Relationship, purpose: str) -> list[Action]:
        """Rule C2: `rel`'s target stops being read through. Each cascade dependent (a
        mapping of the same origin reading through it) receives what the target holds and it
        needs, then reads through `rel`'s own upstream; the mappings whose origin is the target
        itself receive, by rule 0, the tracks whose image the target loses."""
        target, upstream = rel.target, rel.source
        performed: list[Action] = []
        for dep_id in tuple(state.outgoing.get(target, ())):
            dep = state.relationships[dep_id]
            if dep.options.source == target:
                continue
            performed += self.execute(state, self.plan_cleaning(state, rel, dep, purpose))
            if dep_id in state.relationships:  # an autodelete mapping may have ended
                state.unlink(dep)
                state.link(dep, upstream)
        runs = rel.bitmap.runs(0, len(rel.bitmap))
        performed += self.change(state, target, runs, exclude=rel.id)
        return performed

    def new_relationship(self, state: State, spec: Establish, mapping_state: str | None) -> None:
        tracks = state.volume(spec.target).tracks
        changes = (Bitmap(tracks), Bitmap(tracks)) if spec.incremental else (None, None)
        rel = Relationship(
            spec.id, spec.source, spec.target, spec, Bitmap(tracks, fill=True), *changes
        )
        rel.state = mapping_state
        state.add_relationship(rel)
        if rel.linked:
            self.join_cascade(state, rel)
            state.volume(spec.target).consistent = True

    def commit_establish(self, state: State, spec: Establish) -> None:
        self.new_relationship(state, spec, COPYING)

    def check_online(self, state: State, volume: str) -> None:
        rel = state.incoming_relationship(volume)
        if rel is not None and (not rel.linked or rel.state == SUSPENDED):
            raise VolumeOfflineError(
                f"volume {volume} is offline: it is the target of mapping {rel.id}, which is "
                f"{rel.state}"
            )
        self.check_origin_online(state, volume)

    def check_origin_online(self, state: State, volume: str) -> None:
        """An origin is online (the svc profile's suspended mappings take theirs offline)."""

    def plan_write(self, state: State, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
        self.check_online(state, volume)
        return super().plan_write(state, volume, offset, data)

    def plan_read(self, state: State, volume: str, offset: int, length: int) -> tuple[Action, ...]:
        self.check_online(state, volume)
        return super().plan_read(state, volume, offset, length)

    def refresh(self, state: State, rel_id: str) -> list[Action]:
        raise unsupported(state, "refresh")

    def reverse(self, state: State, rel_id: str, fast: bool = False) -> list[Action]:
        raise unsupported(state, "reverse")


class SVCRules(CascadeRules):
    """SAN Volume Controller FlashCopy: mappings in cascade, mapping states, stop with cleaning
    (rules S1-S9). The track is the grain."""

    def validate_spec(
        self, state: State, spec: Establish, others: Sequence[Establish] = ()
    ) -> None:
        check_design(state, spec)
        if spec.target_capacity_tracks is not None:
            raise EstablishError(
                f"mapping {spec.id}: target_capacity_tracks is an option of the ds8000 profile"
            )
        if spec.persistent:
            raise EstablishError(
                f"mapping {spec.id}: persistent is an option of the ds8000 profile (an svc "
                "mapping stays until deleted; autodelete ends it once copied)"
            )
        validate_establish(state, spec, others, origin_count, cascade_parents)

    def perform_profile_control(self, state: State, op: Op | None) -> list[Action]:
        if isinstance(op, Prepare):
            return self.prepare(state, op.spec)
        if isinstance(op, PrepareAgain):
            return self.prepare_again(state, op.id)
        if isinstance(op, Start):
            return self.start(state, op.id)
        if isinstance(op, Stop):
            return self.stop(state, op.id, op.force)
        if isinstance(op, Suspend):
            return self.suspend(state, op.id)
        if isinstance(op, Resume):
            return self.resume(state, op.id)
        return super().perform_profile_control(state, op)

    def prepare(self, state: State, spec: Establish) -> list[Action]:
        """Rule S1: a prepared mapping: its target is offline until the start; nothing else
        changes (the flush of the source's cache is instantaneous here)."""
        self.validate_spec(state, spec)
        self.new_relationship(state, spec, PREPARED)
        return []

    def prepare_again(self, state: State, rel_id: str) -> list[Action]:
        """Rule S7: a stopped or idle_or_copied mapping is prepared again for a restart; its
        target is offline from now on. An idle_or_copied mapping first leaves its cascade as a
        stop does: cleaning hands the older mappings what they read through its target."""
        rel = state.relationship(rel_id)
        if rel.state == STOPPED:
            rel.state = PREPARED
            return []
        if rel.mapping_state != "idle_or_copied":
            raise RelationshipError(
                f"mapping {rel_id} is {rel.mapping_state}: only a stopped or idle_or_copied "
                "mapping can be prepared again"
            )
        performed = self.leave_cascade(state, rel, CLEANING)
        state.unlink(rel)
        rel.state = PREPARED
        return performed

    def restart_bitmap(self, rel: Relationship) -> Bitmap:
        """Rule S7: the grains a (re)started mapping copies: all of them (its new point in
        time; what the target held before is stale). Rule S8: an incremental mapping copies
        only those it had not copied and those changed on its origin or target since its
        last start (its recording then restarts empty)."""
        if rel.options.incremental:
            grains = rel.bitmap.union(rel.recorded())
            assert rel.source_changes is not None and rel.target_changes is not None
            rel.source_changes.clear_all()
            rel.target_changes.clear_all()
            return grains
        return Bitmap(len(rel.bitmap), fill=True)

    def start(self, state: State, rel_id: str) -> list[Action]:
        """Rule S1: a prepared mapping starts: the point in time, as an establish (rule S7:
        a restarted one reads through its origin again, its grains to copy again)."""
        rel = state.relationship(rel_id)
        if rel.state != PREPARED:
            raise RelationshipError(
                f"mapping {rel_id} is {rel.mapping_state}: only a prepared mapping can start"
            )
        tracks = len(rel.bitmap)
        # the start's own change of the target is not one to copy again (rule S8)
        performed = self.change(state, rel.target, ((0, tracks),), exclude=rel.id)
        state.remove_relationship(rel)
        rel.state = COPYING
        rel.source = rel.options.source
        rel.bitmap = self.restart_bitmap(rel)
        state.add_relationship(rel)
        self.join_cascade(state, rel)
        state.volume(rel.target).consistent = True
        return performed

    def stop(self, state: State, rel_id: str, force: bool = False) -> list[Action]:
        """Rules S3, S4: a copying mapping stops (stopping, then stopped): without `force`,
        cleaning first hands its dependents the grains they still read through its target;
        with `force`, every mapping that still reads through its target stops too."""
        rel = state.relationship(rel_id)
        if rel.state == STOPPED or rel.mapping_state == "idle_or_copied":
            raise RelationshipError(
                f"mapping {rel_id} is {rel.mapping_state}: there is nothing to stop"
            )
        if rel.state == SUSPENDED and not force:
            raise RelationshipError(
                f"mapping {rel_id} is suspended: its bitmap is unreachable, so it cannot be "
                "cleaned; resume it, or stop it with force"
            )
        if rel.state == PREPARED:
            state.remove_relationship(rel)
            rel.state = STOPPED
            state.add_relationship(rel)
            return []
        performed: list[Action] = []
        if force:
            self.force_stop(state, rel)
        else:
            performed = self.leave_cascade(state, rel, CLEANING)
            self.park(state, rel)
        return performed

    def check_origin_online(self, state: State, volume: str) -> None:
        """Rule S9: the origin of a suspended mapping is offline too (its copy-before-writes
        would need the unreachable bitmap)."""
        for rel in state.relationships.values():  # in a cascade it reads through another
            if rel.state == SUSPENDED and rel.options.source == volume:
                raise VolumeOfflineError(
                    f"volume {volume} is offline: it is the source of mapping {rel.id}, which "
                    "is suspended"
                )

    def suspend(self, state: State, rel_id: str) -> list[Action]:
        """Rule S9: access to a copying mapping's bitmap is lost: it is suspended, its
        source and target offline, nothing copied, until `resume`."""
        rel = state.relationship(rel_id)
        if rel.mapping_state != COPYING:
            raise RelationshipError(
                f"mapping {rel_id} is {rel.mapping_state}: only a copying mapping can be suspended"
            )
        rel.state = SUSPENDED
        return []

    def resume(self, state: State, rel_id: str) -> list[Action]:
        """Rule S9: access returns: the mapping is copying again, as it was."""
        rel = state.relationship(rel_id)
        if rel.state != SUSPENDED:
            raise RelationshipError(
                f"mapping {rel_id} is {rel.mapping_state}: only a suspended mapping can resume"
            )
        rel.state = COPYING
        if rel.ends_when_copied and not rel.bitmap.count:  # cleaned meanwhile: autodelete
            state.remove_relationship(rel)
        return []

    def force_stop(self, state: State, rel: Relationship) -> None:
        for dep_id in tuple(state.outgoing.get(rel.target, ())):
            dep = state.relationships[dep_id]
            if dep.bitmap.count:
                self.force_stop(state, dep)
        self.park(state, rel)

    def park(self, state: State, rel: Relationship) -> None:
        """Stopped: out of the cascade, target offline; not consistent if grains are missing."""
        state.unlink(rel)
        rel.state = STOPPED
        if rel.bitmap.count:
            state.volume(rel.target).consistent = False

    def withdraw(self, state: State, rel_id: str) -> list[Action]:
        """Rule S5: delete a mapping that is prepared, stopped or idle_or_copied (a copying
        one is stopped first); its target is online again with what it holds."""
        rel = state.relationship(rel_id)
        if rel.state == SUSPENDED:
            raise RelationshipError(
                f"mapping {rel_id} is suspended: stop it with force before deleting it"
            )
        if rel.state == COPYING and rel.bitmap.count:
            raise RelationshipError(
                f"mapping {rel_id} is copying ({rel.bitmap.count} grains to copy): stop it "
                "before deleting it"
            )
        state.remove_relationship(rel)
        return []


class RedirectOnWriteRules(CascadeRules):
    """Redirect-on-write snapshots (qcow2, dm-thin, ZFS style; rules R1-R4).

    A snapshot is a read-only volume sharing its origin's blocks. A write to a shared block
    of the origin leaves the old block to the newest snapshot and gives the origin a new one:
    in the model the old track is moved into the snapshot's store (purpose ROW_REMAP: a
    metadata update, no data copy, as the simulator charges it); older snapshots read through
    newer ones (rule C1), so a block is held once however many snapshots share it."""

    source_write_purpose = ROW_REMAP
    offers_background_copy = False

    def perform_profile_control(self, state: State, op: Op | None) -> list[Action]:
        if isinstance(op, Snapshot):
            return self.snapshot(state, op.volume, op.snapshot)
        if isinstance(op, DeleteSnapshot):
            return self.delete_snapshot(state, op.snapshot)
        return super().perform_profile_control(state, op)

    def plan_write(self, state: State, volume: str, offset: int, data: bytes) -> tuple[Action, ...]:
        if volume in state.incoming:
            raise WriteInhibitedError(f"volume {volume} is a snapshot: snapshots are read-only")
        actions = super().plan_write(state, volume, offset, data)
        merged = self.merged_tracks(state, volume, offset, len(data))
        if not merged:
            return actions
        # Rule R2b: the merge reads precede the data (the old block, then the new one written)
        at = next(i for i, a in enumerate(actions) if type(a) is ApplyData)
        reads = tuple(ReadTracks(((volume, t, t + 1),), ROW_MERGE) for t in merged)
        return actions[:at] + reads + actions[at:]

    def merged_tracks(self, state: State, volume: str, offset: int, length: int) -> list[int]:
        """Rule R2b: the blocks a write covers only in part that it takes from a snapshot (the
        newest one's bit is set, rule R2) and that hold data: the new block is the old one
        with the host's bytes merged in, so the old one is read first (a hole is zeros)."""
        vol = state.volumes[volume]
        ts = vol.track_size
        first, end = vol.track_range(offset, length)
        cuts = ((first, offset % ts), (end - 1, (offset + length) % ts))
        ends = sorted({t for t, cut in cuts if cut})
        shared = [
            t
            for t in ends
            if any(
                not state.relationships[r].failed and state.relationships[r].bitmap.test(t)
                for r in state.outgoing.get(volume, ())
            )
        ]
        return [t for t in shared if vol.backend.load(t, t + 1)[0] is not None]

    def establish(self, state: State, spec: Establish) -> list[Action]:
        raise unsupported(state, "establish")

    def establish_group(self, state: State, specs: Sequence[Establish]) -> list[Action]:
        raise unsupported(state, "establish_group")

    def withdraw(self, state: State, rel_id: str) -> list[Action]:
        raise unsupported(state, "withdraw")

    def snapshot(self, state: State, origin: str, name: str) -> list[Action]:
        """Rule R1: `name` reads as `origin` does now, sharing all its blocks."""
        state.volume(origin)
        if name in state.volumes:
            raise VolumeError(f"snapshot {name}: a volume of that name exists already")
        if origin in state.incoming:
            raise EstablishError(f"snapshot {name}: {origin} is a snapshot itself")
        limit = state.profile.max_targets_per_source
        if origin_count(state, origin) >= limit:
            raise EstablishError(
                f"snapshot {name}: {origin} already has {limit} snapshots, the "
                f"{state.profile.name} limit"
            )
        state.add_volume_like(name, origin)
        spec = Establish(name, origin, name, background_copy=False, inhibit_target_writes=True)
        self.new_relationship(state, spec, None)
        return []

    def delete_snapshot(self, state: State, name: str) -> list[Action]:
        """Rule R3: the blocks of `name` an older snapshot still reads pass to it (metadata);
        the others are freed."""
        state.volume(name)
        rel = state.relationships.get(name)
        if rel is None or rel.target != name:
            raise RelationshipError(f"volume {name} is not a snapshot")
        performed = self.leave_cascade(state, rel, ROW_REMAP)
        state.remove_relationship(rel)
        state.remove_volume(name)
        return performed

    def space(self, state: State) -> SpaceReport:
        """Rule R4: the pool's blocks and each volume's referenced and unique blocks. A block
        is a track some volume holds (never a hole); a volume references the block each of its
        tracks reads from."""
        users: dict[tuple[str, int], list[str]] = {}
        for name in sorted(state.volumes):
            vol = state.volumes[name]
            for holder, lo, hi in self.resolve(state, name, 0, vol.tracks):
                images = state.volumes[holder].backend.load(lo, hi)
                for track, image in enumerate(images, lo):
                    if image is not None:
                        users.setdefault((holder, track), []).append(name)
        referenced = dict.fromkeys(sorted(state.volumes), 0)
        unique = dict.fromkeys(sorted(state.volumes), 0)
        for names in users.values():
            for name in names:
                referenced[name] += 1
            if len(names) == 1:
                unique[names[0]] += 1
        return {"pool": len(users), "referenced": referenced, "unique": unique}


SVC_RULES = SVCRules()
ROW_RULES = RedirectOnWriteRules()
_BY_PROFILE: dict[str, Rules] = {"ds8000": DS8000_RULES, "svc": SVC_RULES, "row": ROW_RULES}


def rules_for(profile: Profile) -> Rules:
    """The correct rules of `profile` (its design chooses them)."""
    return _BY_PROFILE[profile.design]


__all__ = [
    "ROW_RULES",
    "SVC_RULES",
    "CascadeRules",
    "RedirectOnWriteRules",
    "SVCRules",
    "rules_for",
]
