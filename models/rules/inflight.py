"""An operation in flight as an explicit record: what it is, which phase it is in and what it
holds. Its state is data (`InFlight.fingerprint()`), never a suspended generator, so an
explorer can store it; `flashsim.models.rules.steps` advances it one atomic step at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Op
from flashsim.models.rules.actions import Action
from flashsim.models.state.backend import TrackImages

LOCK, PLAN, ACT, UNLOCK, DONE = range(5)
PHASES = ("lock", "plan", "act", "unlock", "done")

READ, WRITE, COPY, CONTROL = "read", "write", "copy", "control"


@dataclass(slots=True, eq=False)
class InFlight:
    """One operation in flight: what it is, which phase it is in and what it holds."""

    id: int
    kind: str
    volume: str = ""
    offset: int = 0
    length: int = 0
    data: bytes | None = None
    relationship: str | None = None  # COPY: the relationship copied
    control: Op | None = None  # CONTROL: the whole-volume operation
    limit: int = 1  # COPY: most tracks this extent may copy
    phase: int = LOCK
    first: int = 0
    end: int = 0
    locks: tuple[tuple[str, int, int], ...] = ()  # ranges (volume, first, end)
    plan: tuple[Action, ...] = ()
    pc: int = 0
    buffer: TrackImages | None = None
    result: bytes | None = None
    error: FlashCopyError | None = None
    copied: int = 0  # COPY: tracks this extent copied

    @property
    def done(self) -> bool:
        return self.phase == DONE

    def fingerprint(self) -> tuple[object, ...]:
        buffer = None if self.buffer is None else tuple(self.buffer)
        return (
            self.kind, self.volume, self.offset, self.length, self.data, self.relationship,
            self.control, self.limit, self.phase, self.first, self.end, self.locks, self.plan,
            self.pc, buffer, self.result, None if self.error is None else str(self.error),
        )  # fmt: skip
