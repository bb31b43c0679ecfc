"""The sequential FlashCopy API on top of the state and the rules.

`System` is the state every driver shares plus the rules it runs (`System.rules`, the DS8000
rules unless a variant or a seeded bug is given). The op-log replayer and the tests call its
API, each call running the steps of `flashsim.models.rules.steps` to completion; the simulator
and the checker create `InFlight` operations and advance them step by step instead.
"""

from __future__ import annotations

from flashsim.models.errors import UnsupportedOperationError
from flashsim.models.ops import (
    DeleteSnapshot,
    Establish,
    EstablishGroup,
    Op,
    Prepare,
    PrepareAgain,
    Refresh,
    Resume,
    Reverse,
    Snapshot,
    SpaceReport,
    Start,
    Stop,
    Suspend,
    Withdraw,
)
from flashsim.models.rules import control, steps
from flashsim.models.rules.control import unsupported
from flashsim.models.rules.inflight import CONTROL, COPY, READ, WRITE, InFlight
from flashsim.models.rules.plans import copy_extent_tracks
from flashsim.models.rules.profiles import rules_for
from flashsim.models.rules.steps import Rules
from flashsim.models.state.backend import BackendFactory, memory_backend
from flashsim.models.state.relationship import DS8000, PROFILES, Profile
from flashsim.models.state.store import State


class System(State):
    """Volumes of real bytes and the FlashCopy relationships between them, under the rules
    of its profile (DS8000 unless told; `rules` replaces them, e.g. by a seeded bug).

    >>> s = System()
    >>> s.create("A", 4, 4); s.create("B", 4, 4)
    >>> s.write("A", 0, b"aaaabbbb")
    >>> s.establish(Establish("r1", "A", "B", background_copy=False))
    >>> s.write("A", 0, b"NEW!")
    >>> s.read("B", 0, 8), s.read("A", 0, 8)
    (b'aaaabbbb', b'NEW!bbbb')
    """

    def __init__(
        self,
        profile: Profile = DS8000,
        backend_factory: BackendFactory = memory_backend,
        rules: Rules | None = None,
    ) -> None:
        super().__init__(profile, backend_factory)
        self.rules = rules_for(profile) if rules is None else rules

    def set_profile(self, name: str) -> None:
        """Choose the profile (op log `profile`): only while the system is still empty."""
        if name not in PROFILES:
            raise UnsupportedOperationError(
                f"unknown profile {name!r} (known: {', '.join(sorted(PROFILES))})"
            )
        if self.volumes:
            raise UnsupportedOperationError("the profile is chosen before any volume is created")
        self.profile = PROFILES[name]
        self.use_rules(rules_for(self.profile))

    def use_rules(self, rules: Rules) -> None:
        """Drive this system by `rules` from now on (e.g. a seeded bug after a correct setup):
        what the old rules derived from the relationships (`State.derived`) is forgotten."""
        self.rules = rules
        self.derived.clear()

    # -- the rules, on this system ---------------------------------------------------------
    def enabled(self, op: InFlight) -> bool:
        """True if `op`'s next step can run now."""
        return self.rules.enabled(self, op)

    def step(self, op: InFlight) -> None:
        """Run `op`'s next atomic step (the caller checked `enabled`)."""
        self.rules.step(self, op)

    def run(self, op: InFlight) -> InFlight:
        """Run `op` to completion, alone (the sequential executor)."""
        return self.rules.run(self, op)

    def resolve(self, volume: str, first: int, end: int) -> list[tuple[str, int, int]]:
        """Where tracks [first, end) of `volume`'s image physically are (rules 1 and 9)."""
        return self.rules.resolve(self, volume, first, end)

    def control_scope(self, op: Op | None) -> tuple[str, ...]:
        """Volumes whose tracks must be unlocked before a whole-volume operation runs."""
        return self.rules.control_scope(self, op)

    # -- in-flight operations --------------------------------------------------------------
    def _new(self, kind: str, **fields: object) -> InFlight:
        return InFlight(self.next_op_id(), kind, **fields)  # type: ignore[arg-type]

    def start_write(self, volume: str, offset: int, data: bytes) -> InFlight:
        # positional: once per host I/O, and keywords cost a dict
        return InFlight(self.next_op_id(), WRITE, volume, offset, len(data), bytes(data))

    def start_read(self, volume: str, offset: int, length: int) -> InFlight:
        return InFlight(self.next_op_id(), READ, volume, offset, length)

    def start_copy(self, rel_id: str, limit_tracks: int = 1) -> InFlight:
        """Background copy of the lowest set run of `rel_id`, at most `limit_tracks` long."""
        return self._new(COPY, relationship=rel_id, limit=limit_tracks)

    def start_control(self, op: Op) -> InFlight:
        return self._new(CONTROL, control=op)

    def _finish(self, op: InFlight) -> InFlight:
        self.run(op)
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
        if not self.rules.offers_background_copy:
            raise unsupported(self, "background_copy")
        steps.require_background_copy(self, rel_id, tracks)
        rel = self.relationships[rel_id]
        extent = copy_extent_tracks(self.volumes[rel.source].track_size)
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

    def prepare(self, spec: Establish) -> None:
        self._finish(self.start_control(Prepare(spec)))

    def prepare_again(self, rel_id: str) -> None:
        self._finish(self.start_control(PrepareAgain(rel_id)))

    def start(self, rel_id: str) -> None:
        self._finish(self.start_control(Start(rel_id)))

    def stop(self, rel_id: str, force: bool = False) -> None:
        self._finish(self.start_control(Stop(rel_id, force)))

    def suspend(self, rel_id: str) -> None:
        self._finish(self.start_control(Suspend(rel_id)))

    def resume(self, rel_id: str) -> None:
        self._finish(self.start_control(Resume(rel_id)))

    def snapshot(self, volume: str, snapshot: str) -> None:
        self._finish(self.start_control(Snapshot(volume, snapshot)))

    def delete_snapshot(self, snapshot: str) -> None:
        self._finish(self.start_control(DeleteSnapshot(snapshot)))

    def space(self) -> SpaceReport:
        """Blocks of the pool and of each volume (redirect-on-write, rule R4)."""
        return self.rules.space(self)
