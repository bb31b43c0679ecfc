"""Typed operations: what one op-log line (docs/oplog.md, "Operations") asks of a FlashCopy system.

`apply(system, op)` runs one operation against anything with the `FlashCopyAPI` methods:
the engine (`flashsim.models.system.System`) and the naive oracle (`flashsim.models.oracle.Oracle`)
alike, which is what lets the tests and `flashsim replay` compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

OUT_OF_SPACE_POLICIES = ("fail_relationship", "inhibit_source_writes")
PROFILE_NAMES = ("ds8000", "svc", "row")


@dataclass(frozen=True, slots=True)
class Create:
    volume: str
    tracks: int
    track_size: int


@dataclass(frozen=True, slots=True)
class Write:
    volume: str
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Read:
    volume: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Establish:
    """One relationship to establish; also a member of `EstablishGroup`."""

    id: str
    source: str
    target: str
    background_copy: bool = True
    incremental: bool = False
    persistent: bool = False
    inhibit_target_writes: bool = False
    target_capacity_tracks: int | None = None
    out_of_space: str = "fail_relationship"
    autodelete: bool = False  # SVC profile: the mapping is deleted once it is copied
    # the design the relationship is meant for; None: the system's. A system runs one design,
    # so another is rejected (docs/semantics.md, "One design per system").
    design: str | None = None


@dataclass(frozen=True, slots=True)
class EstablishGroup:
    relationships: tuple[Establish, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class BackgroundCopy:
    id: str
    tracks: int


@dataclass(frozen=True, slots=True)
class Refresh:
    id: str


@dataclass(frozen=True, slots=True)
class Reverse:
    id: str
    fast: bool = False


@dataclass(frozen=True, slots=True)
class Withdraw:
    id: str


@dataclass(frozen=True, slots=True)
class SetProfile:
    """Choose the system's profile (`ds8000`, `svc`, `row`): only before any other operation."""

    name: str


@dataclass(frozen=True, slots=True)
class Prepare:
    """SVC: define a mapping and prepare it (target offline until `start`)."""

    spec: Establish


@dataclass(frozen=True, slots=True)
class PrepareAgain:
    """SVC: prepare a stopped or idle_or_copied mapping again, for a restart (rule S7)."""

    id: str


@dataclass(frozen=True, slots=True)
class Start:
    """SVC: start a prepared mapping: its point in time."""

    id: str


@dataclass(frozen=True, slots=True)
class Stop:
    """SVC: stop a mapping (cleaning first); `force` also stops the mappings that depend on it."""

    id: str
    force: bool = False


@dataclass(frozen=True, slots=True)
class Suspend:
    """SVC: the mapping's bitmap becomes unreachable (a node or its metadata volume offline):
    suspended, its source and target offline (rule S9)."""

    id: str


@dataclass(frozen=True, slots=True)
class Resume:
    """SVC: access to a suspended mapping's bitmap returns: copying again (rule S9)."""

    id: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Redirect-on-write: a new read-only snapshot volume `snapshot` of `volume`."""

    volume: str
    snapshot: str


@dataclass(frozen=True, slots=True)
class DeleteSnapshot:
    snapshot: str


@dataclass(frozen=True, slots=True)
class Space:
    """Redirect-on-write: the blocks of the pool and of each volume (the op log prints them)."""


Op = (
    Create
    | Write
    | Read
    | Establish
    | EstablishGroup
    | BackgroundCopy
    | Refresh
    | Reverse
    | Withdraw
    | SetProfile
    | Prepare
    | PrepareAgain
    | Start
    | Stop
    | Suspend
    | Resume
    | Snapshot
    | DeleteSnapshot
    | Space
)

#: What `space()` returns: {"pool": blocks, "referenced": {volume: n}, "unique": {volume: n}}.
SpaceReport = dict[str, object]


class FlashCopyAPI(Protocol):
    """The operations every FlashCopy implementation in flashsim offers."""

    def create(self, volume: str, tracks: int, track_size: int) -> None: ...
    def write(self, volume: str, offset: int, data: bytes) -> None: ...
    def read(self, volume: str, offset: int, length: int) -> bytes: ...
    def establish(self, spec: Establish) -> None: ...
    def establish_group(self, specs: tuple[Establish, ...]) -> None: ...
    def background_copy(self, rel_id: str, tracks: int) -> int: ...
    def refresh(self, rel_id: str) -> None: ...
    def reverse(self, rel_id: str, fast: bool = False) -> None: ...
    def withdraw(self, rel_id: str) -> None: ...
    def set_profile(self, name: str) -> None: ...
    def prepare(self, spec: Establish) -> None: ...
    def prepare_again(self, rel_id: str) -> None: ...
    def start(self, rel_id: str) -> None: ...
    def stop(self, rel_id: str, force: bool = False) -> None: ...
    def suspend(self, rel_id: str) -> None: ...
    def resume(self, rel_id: str) -> None: ...
    def snapshot(self, volume: str, snapshot: str) -> None: ...
    def delete_snapshot(self, snapshot: str) -> None: ...
    def space(self) -> SpaceReport: ...


def apply(system: FlashCopyAPI, op: Op) -> bytes | SpaceReport | None:
    """Run `op` on `system`; return the data of a read, the report of `space`, None otherwise.

    Raises the `FlashCopyError` the system raises; the system is then unchanged.
    """
    match op:
        case Read(volume, offset, length):
            return system.read(volume, offset, length)
        case Write(volume, offset, data):
            system.write(volume, offset, data)
        case Create(volume, tracks, track_size):
            system.create(volume, tracks, track_size)
        case Establish():
            system.establish(op)
        case EstablishGroup(relationships):
            system.establish_group(relationships)
        case BackgroundCopy(rel_id, tracks):
            system.background_copy(rel_id, tracks)
        case Refresh(rel_id):
            system.refresh(rel_id)
        case Reverse(rel_id, fast):
            system.reverse(rel_id, fast)
        case Withdraw(rel_id):
            system.withdraw(rel_id)
        case SetProfile(name):
            system.set_profile(name)
        case Prepare(spec):
            system.prepare(spec)
        case PrepareAgain(rel_id):
            system.prepare_again(rel_id)
        case Start(rel_id):
            system.start(rel_id)
        case Stop(rel_id, force):
            system.stop(rel_id, force)
        case Suspend(rel_id):
            system.suspend(rel_id)
        case Resume(rel_id):
            system.resume(rel_id)
        case Snapshot(volume, snapshot):
            system.snapshot(volume, snapshot)
        case DeleteSnapshot(snapshot):
            system.delete_snapshot(snapshot)
        case Space():
            return system.space()
    return None
