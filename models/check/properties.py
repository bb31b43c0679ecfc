"""The properties of docs/checker.md ("Properties") as named functions, shared by the
explorer, the replay and the Hypothesis machine.

The reference is the naive `Oracle`, fed each operation at its linearisation point (when it
takes its locks: every operation holds them to the end, so the lock order is a serial order).

Safety (a function returns a message on violation, None when it holds):
- `pit`: a completed read of a target returns the oracle's image: the source as of the
  establish or refresh, overlaid with the target's own writes since.
- `freshness`: a completed read of a volume that is no target returns its latest write.
- `outcome_agreement`: every operation succeeds or fails exactly as in the serial run
  (a failing relationship never costs the source a write).
- `bitmap_soundness`: with no lock held, a clear bit means the target physically holds the
  track its image shows.
- `group_consistency`: with no lock held, the targets of the relationships one
  establish_group made show the group's one instant (named: the member that does not).
- `restore`: with no lock held, the volume the last refresh or reverse of a relationship
  restored reads as that instant (a fast reverse: its old target too, reverted).
- `isolation`: with no lock held, the source of every failed, space-efficient or withdrawn
  relationship reads as its latest writes (running out of space or a withdraw never loses
  source data).
- `consistency`: with no lock held, every volume's consistency flag (cleared by a withdraw
  with tracks left to copy and on the old target of a fast reverse) is the oracle's.
- `image_agreement`: with no lock held, every volume reads as the oracle's image.
Progress: `no_deadlock`, `copy_completes` (a terminal state leaves no relationship with a
copier incomplete) and `no_copy_starvation_cycle` (no reachable cycle: explorer).

Each has a *sometimes* partner in `SOMETIMES` that a configuration can require to be reached,
so that a model that does nothing fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from flashsim.models.rules.actions import (
    COPY_BEFORE_WRITE,
    TARGET_PRECOPY,
    FailRelationship,
    ReadTracks,
)
from flashsim.models.rules.inflight import COPY, READ, WRITE
from flashsim.models.state.relationship import SUSPENDED

if TYPE_CHECKING:
    from flashsim.models.oracle import Oracle
    from flashsim.models.rules.inflight import InFlight
    from flashsim.models.state.relationship import Relationship
    from flashsim.models.system import System

SAFETY = (
    "pit", "freshness", "outcome_agreement", "bitmap_soundness", "group_consistency", "restore",
    "isolation", "consistency", "relationship_agreement", "image_agreement",
)  # fmt: skip
PROGRESS = ("no_deadlock", "copy_completes", "no_copy_starvation_cycle")

#: sometimes-property -> what must be reachable.
SOMETIMES: dict[str, str] = {
    "target_read_differs_from_source": (
        "pit: a target read returns data its source no longer holds (a source write happened "
        "after the point in time and the target kept the old data)"
    ),
    "target_read_redirected": "pit: a target read is served (partly) from another volume",
    "fresh_read_sees_a_write": (
        "freshness: a read of a volume that is no target returns data written during the search"
    ),
    "operation_rejected": "outcome_agreement: some operation is rejected with an error",
    "partly_copied_relationship": (
        "bitmap_soundness: a quiescent state has a relationship with both set and clear bits"
    ),
    "group_instant_kept": (
        "group_consistency: a quiescent state where a consistency group's target reads other "
        "data than its source (the group kept its instant while the source moved on)"
    ),
    "restore_changes_an_image": (
        "restore: a reverse changed the image of the volume it restored (a quiescent state "
        "where it reads, on a track still to copy back, other data than it physically holds)"
    ),
    "relationship_failed_with_source_written": (
        "isolation: a source write fails a full space-efficient relationship and still "
        "writes the source"
    ),
    "copy_before_write": "image_agreement: a host write copies the old track to a target first",
    "target_precopy": "image_agreement: a partial target write pulls its track first",
    "background_copy_copies_a_track": "copy_completes: the copier copies a track",
    "volume_marked_inconsistent": (
        "consistency: a quiescent state where a volume is marked inconsistent (a withdraw "
        "with tracks left to copy, or a fast reverse)"
    ),
}


class Expected(NamedTuple):
    """An operation's outcome in the serial (oracle) run, fixed when it took its locks."""

    result: bytes | None
    error: str | None
    target_of: str | None  # a read: the relationship its volume was the target of
    source_image: bytes | None  # a target read: the same bytes of the source, at that instant


def outcome(op: InFlight) -> tuple[bytes | None, str | None]:
    """What the engine's completed operation returned: (data, error class name)."""
    return (op.result if op.kind == READ else None, _error_name(op.error))


def _error_name(error: BaseException | None) -> str | None:
    return None if error is None else type(error).__name__


def _show(value: bytes | None, error: str | None) -> str:
    return error if error is not None else ("nothing" if value is None else value.hex())


def read_agrees(op: InFlight, expected: Expected) -> tuple[str, str] | None:
    """`pit` for a read of a target, `freshness` for any other read: (property, message)."""
    got = outcome(op)
    if got == (expected.result, expected.error):
        return None
    name = "pit" if expected.target_of is not None else "freshness"
    where = f"read {op.volume}[{op.offset}:{op.offset + op.length}]"
    return (
        name,
        f"{where} returned {_show(*got)}, expected {_show(expected.result, expected.error)}",
    )


def outcome_agreement(op: InFlight, expected: Expected) -> str | None:
    """A write, copy or control operation ends as it does in the serial run."""
    got = outcome(op)
    if got == (expected.result, expected.error):
        return None
    return (
        f"{describe(op)} ended with {got[1] or 'success'}, "
        f"the serial run with {expected.error or 'success'}"
    )


def oracle_image(oracle: Oracle, volume: str) -> bytes | None:
    """The oracle's image of `volume`; None if it is the target of a failed relationship or
    offline (a prepared or stopped SVC mapping's target)."""
    state = oracle._state
    rel = state.relationship_into(volume)
    if rel is not None and (rel.failed or rel.state in ("prepared", "stopped")):
        return None
    return bytes(state.volumes[volume].image)


def oracle_fingerprint(oracle: Oracle) -> tuple[object, ...]:
    """A hashable image of the oracle's whole state."""
    state = oracle._state
    return (
        tuple((n, bytes(v.image), v.consistent) for n, v in sorted(state.volumes.items())),
        tuple(
            (
                r.id, r.source, r.target, tuple(sorted(r.pending)), tuple(sorted(r.stale.items())),
                tuple(sorted(r.src_changes)), tuple(sorted(r.tgt_changes)),
                tuple(sorted(r.allocated)), r.failed, r.group, r.restored,
                r.state, r.autodelete, r.upstream,
                # the options: two oracles that differ only there behave differently later
                r.background_copy, r.persistent, r.incremental, r.inhibit_target_writes,
                r.capacity_tracks, r.out_of_space,
            )
            for _, r in sorted(state.relationships.items())
        ),
        tuple(sorted(state.withdrawn.items())),
        tuple((v, tuple(b)) for v, b in sorted(state.blocks.items())),
        tuple(sorted(state.refs.items())), state.next_block,
        tuple(sorted(state.snapshots.items())),
    )  # fmt: skip


def engine_image(system: System, volume: str) -> bytes:
    """What `volume` reads as in the engine, through the model's own resolution."""
    vol = system.volumes[volume]
    ts = vol.track_size
    return b"".join(
        system.volumes[holder].backend.read(lo * ts, (hi - lo) * ts)
        for holder, lo, hi in system.resolve(volume, 0, vol.tracks)
    )


def _failed_target(system: System, volume: str) -> bool:
    """The target of a failed relationship, or offline (SVC): it cannot be read."""
    rel = system.incoming_relationship(volume)
    return rel is not None and (rel.failed or not rel.linked)


def image_agreement(system: System, oracle: Oracle) -> str | None:
    """With no lock held, every volume reads as the oracle's image (targets of failed
    relationships, which cannot be read, excepted)."""
    for name in sorted(system.volumes):
        want = oracle_image(oracle, name)
        if want is None or _failed_target(system, name):
            continue
        got = engine_image(system, name)
        if got != want:
            return f"volume {name} reads as {got.hex()}, expected {want.hex()}"
    return None


def bitmap_soundness(system: System, oracle: Oracle) -> str | None:
    """With no lock held, a clear bit means the target physically holds its image's track."""
    for rel_id in sorted(system.relationships):
        rel = system.relationships[rel_id]
        want = oracle_image(oracle, rel.target)
        if rel.failed or want is None:
            continue
        vol = system.volumes[rel.target]
        ts = vol.track_size
        for t in range(vol.tracks):
            if rel.bitmap.test(t):
                continue
            held = vol.backend.read(t * ts, ts)
            if held != want[t * ts : (t + 1) * ts]:
                return (
                    f"relationship {rel_id}: bit {t} is clear but {rel.target} holds "
                    f"{held.hex()} on track {t}, its image is {want[t * ts : (t + 1) * ts].hex()}"
                )
    return None


def _difference(system: System, oracle: Oracle, volume: str, reference: str) -> str | None:
    """`volume`'s first track that reads otherwise than the oracle's image, as "V track t
    reads as X, <reference> Y"; None if it agrees or cannot be read (a failed target), as in
    `image_agreement`, so the properties built on it never fire where that one holds."""
    want = oracle_image(oracle, volume)
    if want is None or _failed_target(system, volume):
        return None
    got = engine_image(system, volume)
    if got == want:
        return None
    ts = system.volumes[volume].track_size
    t = next(i for i in range(0, len(got), ts) if got[i : i + ts] != want[i : i + ts]) // ts
    span = slice(t * ts, (t + 1) * ts)
    return f"{volume} track {t} reads as {got[span].hex()}, {reference} {want[span].hex()}"


def group_consistency(system: System, oracle: Oracle) -> str | None:
    """With no lock held, every target of a consistency group (the members one establish_group
    made, as the oracle records them) reads as the group's instant: its source at the group's
    establish, overlaid with the target's own writes since."""
    rels = oracle._state.relationships
    for rel_id in sorted(rels):
        rel = rels[rel_id]
        if rel.group:
            found = _difference(system, oracle, rel.target, "the group's instant gives")
            if found is not None:
                return (
                    f"group {','.join(rel.group)}: member {rel_id} ({rel.source}->{rel.target}) "
                    f"shows another instant: {found}"
                )
    return None


def restore(system: System, oracle: Oracle) -> str | None:
    """With no lock held, the volume a relationship's last refresh or reverse restored (its
    target now) reads as the restored instant; after a fast reverse the old target (its source
    now) also reads as the oracle says, its never-received tracks reverted."""
    rels = oracle._state.relationships
    for rel_id in sorted(rels):
        rel = rels[rel_id]
        if rel.restored is None:
            continue
        checks = [("restored", rel.target, "the restored instant gives")]
        if rel.restored == "fast reverse":
            checks.append(("reverted", rel.source, "its reverted image gives"))
        for verb, volume, reference in checks:
            found = _difference(system, oracle, volume, reference)
            if found is not None:
                return f"{rel.restored} of {rel_id}: {verb} {found}"
    return None


def isolation(system: System, oracle: Oracle) -> str | None:
    """With no lock held, the source of every failed, space-efficient (it fails or rejects
    source writes when full) or withdrawn relationship reads as its latest writes."""
    rels = oracle._state.relationships
    sources = []
    for rel_id in sorted(rels):
        rel = rels[rel_id]
        engine_rel = system.relationships.get(rel_id)
        failed = rel.failed or (engine_rel is not None and engine_rel.failed)
        if failed or rel.capacity_tracks is not None:
            what = "failed" if failed else f"space-efficient, {rel.out_of_space}"
            sources.append((rel_id, what, rel.source))
    sources += [(r, "withdrawn", v) for r, v in sorted(oracle._state.withdrawn.items())]
    for rel_id, what, source in sources:
        found = _difference(system, oracle, source, "its latest writes give")
        if found is not None:
            return f"relationship {rel_id} ({what}): source {found}"
    return None


def consistency(system: System, oracle: Oracle) -> str | None:
    """With no lock held, every volume is marked consistent (a full point-in-time image) or
    not exactly as in the oracle: a target withdrawn with tracks still to copy, or the old
    target of a fast reverse, is not."""
    state = oracle._state
    for name in sorted(system.volumes):
        got, want = system.volumes[name].consistent, state.volumes[name].consistent
        if got != want:
            return (
                f"volume {name} is marked {'in' * (not got)}consistent, the serial run "
                f"marks it {'in' * (not want)}consistent"
            )
    return None


def relationship_agreement(system: System, oracle: Oracle) -> str | None:
    """With no lock held, the engine has exactly the oracle's relationships, each with its
    target, its origin, its tracks still to copy, its recorded changes (incremental), its
    allocated tracks (space-efficient), its failed flag and its mapping state (svc; the tracks
    of a prepared or stopped mapping are not compared: it copies nothing until deleted, the
    oracle gives a prepared one its tracks only at start, and what a stopped one missed is
    its target's consistency flag, `consistency`'s): what a
    later operation depends on, compared where it lies, not only once something reads it.
    (Redirect-on-write snapshots are the oracle's block maps, compared by their images.)"""
    if system.profile.design == "row":
        return None
    state = oracle._state
    got, want = sorted(system.relationships), sorted(state.relationships)
    if got != want:
        mine, theirs = ", ".join(got) or "none", ", ".join(want) or "none"
        return f"relationships {mine}, the serial run has {theirs}"
    for rel_id in got:
        rel, ref = system.relationships[rel_id], state.relationships[rel_id]
        fields: tuple[tuple[str, object, object], ...] = (
            ("target", rel.target, ref.target),
            ("origin", rel.options.source if rel.state is not None else rel.source, ref.source),
            ("failed", rel.failed, ref.failed),
            ("state", rel.state, ref.state),
        )
        if rel.linked:  # a prepared or stopped mapping copies nothing (see the docstring)
            fields += (("tracks to copy", rel.bitmap.tracks(), sorted(ref.pending)),)
        if rel.source_changes is not None and rel.target_changes is not None:
            fields += (
                ("source changes", rel.source_changes.tracks(), sorted(ref.src_changes)),
                ("target changes", rel.target_changes.tracks(), sorted(ref.tgt_changes)),
            )
        if rel.allocated is not None:
            fields += (("allocated tracks", rel.allocated.tracks(), sorted(ref.allocated)),)
        for what, engine_value, oracle_value in fields:
            if engine_value != oracle_value:
                return (
                    f"relationship {rel_id}: {what} {engine_value}, the serial run {oracle_value}"
                )
    return None


#: The state properties, checked on every quiescent state (no lock held), in this order: the
#: narrow ones first, so a violation is named by the most specific property.
STATE_CHECKS: tuple[tuple[str, Callable[[System, Oracle], str | None]], ...] = (
    ("group_consistency", group_consistency),
    ("restore", restore),
    ("isolation", isolation),
    ("bitmap_soundness", bitmap_soundness),
    ("consistency", consistency),
    ("relationship_agreement", relationship_agreement),
    ("image_agreement", image_agreement),
)


def copy_completes(system: System, copied: Iterable[str]) -> str | None:
    """In a terminal state, every relationship a copier serves has no set bit left (unless
    it was established NOCOPY: a chooser may establish its id either way, or it is an SVC
    mapping that is prepared or stopped: out of the cascade, it copies nothing; or one left
    suspended: it copies nothing until a resume)."""
    for rel_id in copied:
        rel = system.relationships.get(rel_id)
        if (
            rel is not None
            and rel.bitmap.count
            and not rel.failed
            and rel.options.background_copy
            and rel.linked
            and rel.state != SUSPENDED
        ):
            return (
                f"terminal state: relationship {rel_id} still has {rel.bitmap.count} tracks to copy"
            )
    return None


# -- sometimes witnesses ---------------------------------------------------------------------
def completion_witnesses(op: InFlight, expected: Expected, initial: dict[str, bytes]) -> list[str]:
    """The sometimes-properties a completed operation witnesses (it agreed with the oracle)."""
    found = []
    if op.error is not None:
        found.append("operation_rejected")
    if op.kind == READ and op.error is None and op.result is not None:
        if expected.target_of is not None:
            if expected.source_image is not None and op.result != expected.source_image:
                found.append("target_read_differs_from_source")
            if any(holder != op.volume for holder, _, _ in op.plan[0].segments):  # type: ignore[union-attr]
                found.append("target_read_redirected")
        elif op.result != initial[op.volume][op.offset : op.offset + op.length]:
            found.append("fresh_read_sees_a_write")
    if op.kind == WRITE:
        purposes = {a.purpose for a in op.plan if isinstance(a, ReadTracks)}
        if COPY_BEFORE_WRITE in purposes:
            found.append("copy_before_write")
        if TARGET_PRECOPY in purposes:
            found.append("target_precopy")
        if any(isinstance(a, FailRelationship) for a in op.plan) and op.error is None:
            found.append("relationship_failed_with_source_written")
    if op.kind == COPY and op.copied:
        found.append("background_copy_copies_a_track")
    return found


def state_witnesses(system: System, oracle: Oracle) -> list[str]:
    """The sometimes-properties a quiescent state witnesses (the state properties hold in it:
    the oracle's images are the engine's)."""
    found = []
    state = oracle._state
    for rel in state.relationships.values():
        if rel.group and state.volumes[rel.target].image != state.volumes[rel.source].image:
            found.append("group_instant_kept")
            break
    rels = system.relationships.values()
    if any(0 < rel.bitmap.count < len(rel.bitmap) for rel in rels):
        found.append("partly_copied_relationship")
    if any(_reverse_changed_image(system, rel) for rel in rels):
        found.append("restore_changes_an_image")
    if any(not vol.consistent for vol in system.volumes.values()):
        found.append("volume_marked_inconsistent")
    return found


def _reverse_changed_image(system: System, rel: Relationship) -> bool:
    """A reversed relationship (its source is the target it was established with) whose
    target reads, on a set bit, other data than it physically holds: the reverse restored a
    track that had changed since the last instant."""
    if rel.source != rel.options.target or not rel.bitmap.count:
        return False
    vol = system.volumes[rel.target]
    ts = vol.track_size
    for first, end in rel.bitmap.runs(0, len(rel.bitmap)):
        for holder, lo, hi in system.resolve(rel.target, first, end):
            image = system.volumes[holder].backend.read(lo * ts, (hi - lo) * ts)
            if image != vol.backend.read(lo * ts, (hi - lo) * ts):
                return True
    return False


def describe(op: InFlight) -> str:
    """A short label of an operation: `write A[1:2]=31`, `read B[0:6]`, `copy r1`."""
    if op.kind == WRITE:
        assert op.data is not None
        return f"write {op.volume}[{op.offset}:{op.offset + op.length}]={op.data.hex()}"
    if op.kind == READ:
        return f"read {op.volume}[{op.offset}:{op.offset + op.length}]"
    if op.kind == COPY:
        return f"copy {op.relationship}"
    return describe_control(op.control)


def describe_control(control: object) -> str:
    name = type(control).__name__.lower()
    if name == "establish":
        return f"establish {control.id} {control.source}->{control.target}"  # type: ignore[attr-defined]
    if name == "establishgroup":
        members = ",".join(describe_control(m).split(" ", 1)[1] for m in control.relationships)  # type: ignore[attr-defined]
        return f"group {members}"
    if name == "prepare":
        spec = control.spec  # type: ignore[attr-defined]
        return f"prepare {spec.id} {spec.source}->{spec.target}"
    if name == "snapshot":
        return f"snapshot {control.volume}->{control.snapshot}"  # type: ignore[attr-defined]
    if name == "deletesnapshot":
        return f"delete_snapshot {control.snapshot}"  # type: ignore[attr-defined]
    if name == "stop" and control.force:  # type: ignore[attr-defined]
        return f"force stop {control.id}"  # type: ignore[attr-defined]
    if name == "reverse" and control.fast:  # type: ignore[attr-defined]
        return f"fast reverse {control.id}"  # type: ignore[attr-defined]
    return f"{name} {control.id}"  # type: ignore[attr-defined]
