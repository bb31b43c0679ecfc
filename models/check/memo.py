"""What one search remembers, so that each distinct step runs once.

A step of process i depends only on the engine state and on process i's own state, never on
the other processes or the oracle; many worlds share both (they differ in another process's
program counter or in the oracle). So the memo numbers every distinct engine state, oracle
state, operation and process record once (interning: a fingerprint is hashed once, then
ints stand for it) and remembers, per (engine state, process, process state), the step's
outcome: the next engine state (shared by every world that reaches it, never changed in
place), the next operation and its timeline line. A world is then a handful of ints and a
step found in the memo costs a few dict look-ups instead of a clone, a step and a fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flashsim.models.check.properties import Expected
from flashsim.models.check.records import NO_OP, Event, ProcState, Violation
from flashsim.models.check.timeline import step_event
from flashsim.models.oracle import Oracle
from flashsim.models.rules.inflight import InFlight
from flashsim.models.system import System

__all__ = ["NO_OP", "Interned", "Memo", "Step"]


class Step:
    """A step's outcome, the same in every world with the same engine and process state."""

    __slots__ = ("_event", "action", "before", "op", "op_id", "process", "system", "system_id")

    def __init__(  # noqa: PLR0917 - a record
        self,
        system: System,
        system_id: int,
        op: InFlight,
        op_id: int,
        before: int,
        action: object,
        process: str,
    ) -> None:
        self.system = system  # the engine after the step (shared, never changed in place)
        self.system_id = system_id
        self.op = op  # the operation after the step; never changed once stored
        self.op_id = op_id
        self.before = before  # the phase the step ran
        self.action = action  # the micro-action it performed (ACT), else None
        self.process = process
        self._event: Event | None = None

    @property
    def event(self) -> Event:
        """Its line of the timeline, drawn up on first use (the explorer rarely needs one)."""
        if self._event is None:
            self._event = step_event(self.process, self.before, self.op, self.action)
        return self._event


@dataclass(slots=True)
class Interned:
    """Distinct values numbered in order of first appearance."""

    ids: dict[object, int] = field(default_factory=dict)
    values: list[object] = field(default_factory=list)

    def id(self, value: object) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass(slots=True)
class Memo:
    """Everything one search remembers: the interned tables and the memoised outcomes."""

    systems: Interned = field(default_factory=Interned)  # engine fingerprints
    oracles: Interned = field(default_factory=Interned)  # oracle fingerprints
    ops: Interned = field(default_factory=Interned)  # InFlight fingerprints
    procs: Interned = field(default_factory=Interned)  # (pc, op id, expected)
    #: system id -> the one System object worlds with that engine state share
    system_objects: dict[int, System] = field(default_factory=dict)
    classes: Interned = field(default_factory=Interned)  # symmetry classes (canonical keys)
    classes_of: dict[tuple[int, ...], int] = field(default_factory=dict)  # ident -> class
    #: a part of a world (symmetry.class_id) -> its data bytes, in walk order
    part_data: dict[tuple[object, ...], list[bytes]] = field(default_factory=dict)
    #: (part, renaming table) -> the part renamed
    #: (part, volume permutation) -> the part with its names renamed (symmetry.orbit_id)
    part_named: dict[tuple[object, ...], object] = field(default_factory=dict)
    part_renamed: dict[tuple[object, ...], object] = field(default_factory=dict)
    #: (system id, process, pc, op id) -> the step's outcome
    steps: dict[tuple[int, int, int, int], Step] = field(default_factory=dict)
    #: (system id, process, pc, op id) -> whether the process can take a step
    enabled: dict[tuple[int, int, int, int], bool] = field(default_factory=dict)
    #: (system id, process, pc, op id) -> whether its next step is local (world.is_local)
    local: dict[tuple[int, int, int, int], bool] = field(default_factory=dict)
    #: (system id, process, pc, op id) -> the keys its next step touches (world.footprint)
    footprints: dict[tuple[int, int, int, int], frozenset[tuple[str, int]] | None] = field(
        default_factory=dict
    )
    #: (step key, expected) -> a completion's (violations, witnesses, next process record)
    completed: dict[
        tuple[object, ...], tuple[tuple[Violation, ...], tuple[str, ...], ProcState]
    ] = field(default_factory=dict)
    #: (system id, oracle id) -> the state properties' (violations, witnesses)
    checked: dict[tuple[int, int], tuple[list[Violation], list[str]]] = field(default_factory=dict)
    #: (oracle id, operation) -> (oracle after it, its id, expected outcome); oracles are
    #: never changed in place once stored, so sharing them is safe
    linearised: dict[tuple[object, ...], tuple[Oracle, int, Expected]] = field(default_factory=dict)

    def key(self, ident: tuple[int, ...]) -> tuple[object, ...]:
        """A world's identity across searches from its `World.ident()`: the engine and oracle
        fingerprints and each process's (pc, op fingerprint or None, expected)."""
        procs = []
        for proc_id in ident[2:]:
            record: tuple[int, int, object] = self.procs.values[proc_id]  # type: ignore[assignment]
            pc, op_id, expected = record
            procs.append((pc, None if op_id == NO_OP else self.ops.values[op_id], expected))
        return (self.systems.values[ident[0]], tuple(procs), self.oracles.values[ident[1]])
