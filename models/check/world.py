"""The transition system the checker explores: a `System` plus one record per process.

A world is the engine state, each process's program counter and in-flight operation, and the
oracle fed with every operation at its linearisation point (LOCK). `choices(world)` lists the
processes whose next step is `enabled`, in process order; `advance(world, i)` returns a new
world (the old one is never changed) with the step's event, the violations it caused and the
sometimes-properties it witnessed. The explorer, the replay and the Hypothesis machine all
drive these two functions, which drive `models.steps`: the very steps the simulator runs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import NamedTuple

from models import ops as opsmod
from models.actions import (
    ApplyData,
    ClearBits,
    FailRelationship,
    RaiseError,
    ReadBytes,
    ReadTracks,
    RecordChanges,
    WriteTracks,
)
from models.check import properties as props
from models.check.config import CheckConfig, Process
from models.errors import FlashCopyError
from models.ops import Read, Write
from models.oracle import Oracle
from models.steps import ACT, COPY, DONE, LOCK, PHASES, PLAN, READ, UNLOCK, WRITE, InFlight
from models.steps import enabled as step_enabled
from models.steps import step as step_once
from models.system import System


class ProcState(NamedTuple):
    pc: int  # index of the next op to start (host processes)
    op: InFlight | None  # the operation in flight; never mutated once stored
    expected: props.Expected | None  # its serial outcome, once it took its locks


class Event(NamedTuple):
    """One step, as the timeline shows it."""

    process: str
    operation: str
    phase: str
    detail: str


class Violation(NamedTuple):
    property: str
    message: str


@dataclass(slots=True)
class World:
    system: System
    oracle: Oracle
    oracle_fp: tuple[object, ...]
    procs: tuple[ProcState, ...]

    def key(self) -> tuple[object, ...]:
        return (
            self.system.fingerprint(),
            tuple(
                (p.pc, None if p.op is None else p.op.fingerprint(), p.expected) for p in self.procs
            ),
            self.oracle_fp,
        )


@dataclass(slots=True)
class Setting:
    """What every world of one search shares: the configuration and the initial images."""

    config: CheckConfig
    mutant: str | None
    initial: dict[str, bytes] = field(default_factory=dict)
    copied: tuple[str, ...] = ()  # relationships some copier serves
    #: (oracle state, operation) -> (oracle after it, its fingerprint, expected outcome);
    #: oracles are never changed in place once stored, so sharing them is safe
    linearised: dict[tuple[object, ...], tuple[Oracle, tuple[object, ...], props.Expected]] = field(
        default_factory=dict
    )


def initial_world(config: CheckConfig, mutant: str | None = None) -> tuple[Setting, World]:
    """Create the volumes, run the setup on engine and oracle alike, start every process."""
    system = System(config.profile)
    oracle = Oracle(config.profile.max_targets_per_source)
    for spec in config.volumes:
        system.create(spec.name, spec.tracks, spec.track_size)
        oracle.create(spec.name, spec.tracks, spec.track_size)
    for op in config.setup:
        opsmod.apply(system, op)
        opsmod.apply(oracle, op)
    system.mutant = mutant  # the setup runs correct; the seeded bug acts in the search only
    setting = Setting(
        config,
        mutant,
        {name: props.engine_image(system, name) for name in sorted(system.volumes)},
        tuple(sorted({p.copier for p in config.processes if p.copier is not None})),
    )
    procs = tuple(ProcState(0, None, None) for _ in config.processes)
    return setting, World(system, oracle, props.oracle_fingerprint(oracle), procs)


def _start(system: System, process: Process, index: int, pc: int) -> InFlight | None:
    """A fresh operation for the process's next op (None: nothing left to do now)."""
    if process.copier is not None:
        rel = system.relationships.get(process.copier)
        if rel is None or not rel.bitmap.count or rel.failed or not rel.options.background_copy:
            return None  # nothing to copy now (a refresh may give it work again)
        op = system.start_copy(process.copier, 1)
    elif pc >= len(process.ops):
        return None
    else:
        spec = process.ops[pc]
        if isinstance(spec, Write):
            op = system.start_write(spec.volume, spec.offset, spec.data)
        elif isinstance(spec, Read):
            op = system.start_read(spec.volume, spec.offset, spec.length)
        else:
            op = system.start_control(spec)
    op.id = index + 1  # one operation per process at a time: lock owners stay deterministic
    return op


_SLOTS = InFlight.__slots__


def copy_op(op: InFlight) -> InFlight:
    """A shallow copy of an in-flight operation (its fields are immutable or replaced whole)."""
    twin = object.__new__(InFlight)
    for name in _SLOTS:
        object.__setattr__(twin, name, getattr(op, name))
    return twin


def _next_op(world: World, setting: Setting, index: int) -> InFlight | None:
    proc = world.procs[index]
    if proc.op is not None:
        return copy_op(proc.op)  # step() changes the op: never touch a stored one
    return _start(world.system, setting.config.processes[index], index, proc.pc)


def choices(world: World, setting: Setting) -> list[int]:
    """Indices of the processes whose next step can run now, in process order."""
    ready = []
    system = world.system
    for index, proc in enumerate(world.procs):
        op = proc.op
        if op is None:
            op = _start(system, setting.config.processes[index], index, proc.pc)
            if op is None:
                continue
        elif op.phase == LOCK:
            op = copy_op(op)  # enabled() may fix first/end of an op waiting for its locks
        if step_enabled(system, op):
            ready.append(index)
    return ready


def _tracks(volume: str, first: int, end: int) -> list[tuple[str, int]]:
    return [(volume, t) for t in range(first, end)]


def is_local(world: World, index: int) -> bool:
    """True if process `index`'s next step is independent of every other process's steps and
    invisible to the properties, so the partial-order reduction may take it alone (an ample
    set of one).

    Local steps: PLAN, and the ACT actions that only read or change tracks the operation holds
    locked (ReadTracks, WriteTracks, ApplyData, ReadBytes, RecordChanges). They leave the
    locks, the bitmaps, the relationships and the oracle as they are, so they commute with
    any step of another operation that keeps the lock discipline (the correct model: every
    action touches only tracks its operation holds), they are never a completion and never
    reach a quiescent state (invisible), and each advances a finite plan (no cycle of local
    steps: the cycle proviso holds). Space-efficient targets share an allocation count, so
    with one in the system nothing is local.
    """
    op = world.procs[index].op
    if op is None or not op.locks or op.phase not in (PLAN, ACT):
        return False
    system = world.system
    if any(rel.allocated is not None for rel in system.relationships.values()):
        return False
    if op.phase == PLAN:
        return True
    action = op.plan[op.pc]
    held = set(op.locks)
    if isinstance(action, ReadTracks):
        keys = [k for v, f, e in action.runs for k in _tracks(v, f, e)]
    elif isinstance(action, WriteTracks):
        keys = _tracks(action.volume, action.first, action.first + len(op.buffer or ()))
    elif isinstance(action, ApplyData):
        keys = _tracks(
            action.volume,
            *system.volumes[action.volume].track_range(action.offset, len(action.data)),
        )
    elif isinstance(action, ReadBytes):
        keys = [
            k
            for v, o, n in action.segments
            for k in _tracks(v, *system.volumes[v].track_range(o, n))
        ]
    elif isinstance(action, RecordChanges):
        keys = _tracks(action.volume, action.first, action.end)
    else:
        return False
    return all(key in held for key in keys)


def is_final(world: World, setting: Setting) -> bool:
    """Every host process ran all its ops and no copier has work left."""
    return all(
        _start(world.system, proc, i, world.procs[i].pc) is None and world.procs[i].op is None
        for i, proc in enumerate(setting.config.processes)
    )


def _linearise(oracle: Oracle, op: InFlight) -> props.Expected:
    """Apply `op` to the oracle (a shallow copy: the oracle replaces its state on change)."""
    target_of = source_image = None
    try:
        if op.kind == WRITE:
            assert op.data is not None
            oracle.write(op.volume, op.offset, op.data)
            return props.Expected(None, None, None, None)
        if op.kind == READ:
            rel = oracle._state.relationship_into(op.volume)
            if rel is not None:
                target_of = rel.id
                src = props.oracle_image(oracle, rel.source)
                if src is not None:
                    source_image = src[op.offset : op.offset + op.length]
            data = oracle.read(op.volume, op.offset, op.length)
            return props.Expected(data, None, target_of, source_image)
        if op.kind == COPY:
            if op.phase == DONE and op.error is None:  # the engine found nothing to copy
                return props.Expected(None, None, None, None)
            assert op.relationship is not None
            oracle.background_copy(op.relationship, op.limit)
            return props.Expected(None, None, None, None)
        assert op.control is not None
        opsmod.apply(oracle, op.control)
        return props.Expected(None, None, None, None)
    except FlashCopyError as error:
        return props.Expected(None, type(error).__name__, target_of, source_image)


def _span(first: int, end: int) -> str:
    return f"t{first}" + (f"-{end - 1}" if end - first > 1 else "")


def _act_detail(op: InFlight, action: object) -> str:
    """What one micro-action did, with the volumes, tracks and values (hex) it touched."""
    if isinstance(action, ReadTracks):
        where = " ".join(f"{v} {_span(f, e)}" for v, f, e in action.runs)
        return f"read {where} = {_show_images(op.buffer or ())} ({action.purpose})"
    if isinstance(action, WriteTracks):
        span = _span(action.first, action.first + len(op.buffer or ()))
        return f"write {action.volume} {span} = {_show_images(op.buffer or ())} ({action.purpose})"
    if isinstance(action, ClearBits):
        return f"clear {action.relationship} {_span(action.first, action.end)}"
    if isinstance(action, ApplyData):
        end = action.offset + len(action.data)
        return f"apply {action.volume}[{action.offset}:{end}] = {action.data.hex()}"
    if isinstance(action, RecordChanges):
        return f"record {action.volume} {_span(action.first, action.end)}"
    if isinstance(action, ReadBytes):
        src = ",".join(f"{v}[{o}:{o + n}]" for v, o, n in action.segments)
        return f"read {src} = {(op.result or b'').hex()}"
    if isinstance(action, FailRelationship):
        return f"fail {action.relationship}"
    if isinstance(action, RaiseError):
        return f"error {type(action.error).__name__}"
    return repr(action)


def _show_images(images: list[bytes | None] | tuple[()]) -> str:
    return ",".join("--" if image is None else bytes(image).hex() for image in images)


def _step_detail(before: int, op: InFlight, action: object) -> tuple[str, str]:
    """The timeline's phase and detail of the step `op` just took from phase `before`."""
    if before == LOCK:
        span = _span(op.first, op.end)
        if op.phase == LOCK and op.locks:  # (mutant lock_volume_by_volume) part of its locks
            detail = f"lock {','.join(sorted({v for v, _ in op.locks}))} {span}, waits for more"
        elif op.phase == LOCK:  # (mutant copy_no_recheck) the track chosen, nothing locked
            detail = f"choose {span}"
        elif op.kind == "control":
            detail = f"error {type(op.error).__name__}" if op.error else "done"
        elif op.phase == DONE:
            detail = f"error {type(op.error).__name__}" if op.error else "nothing to do"
        else:
            vols = sorted({v for v, _ in op.locks})
            detail = f"lock {','.join(vols) or 'nothing'} {span}"
        phase = "control" if op.kind == "control" else "lock"
    elif before == PLAN:
        phase = "plan"
        detail = f"error {type(op.error).__name__}" if op.error else f"{len(op.plan)} actions"
    elif before == ACT:
        phase = "act"
        detail = _act_detail(op, action)
    else:
        phase = PHASES[before]
        detail = f"-> {op.result.hex()}" if before == UNLOCK and op.result is not None else ""
        if before == UNLOCK and op.error is not None:
            detail = f"-> error {type(op.error).__name__}"
    return phase, detail


def advance(
    world: World, setting: Setting, index: int, check_state: bool = True
) -> tuple[World, Event, list[Violation], list[str]]:
    """Run process `index`'s next step on a copy of `world` (the caller checked it is enabled).

    Returns the new world, the step's event, the safety violations the step caused (checked
    before any deduplication: a violation belongs to the transition) and the witnesses. The
    state properties (`state_checks`) depend on the new state alone: an explorer may pass
    `check_state=False` and check each distinct state once.
    """
    process = setting.config.processes[index]
    proc = world.procs[index]
    system = world.system.clone()
    op = _next_op(world, setting, index)
    assert op is not None, f"process {process.name} has no next step"
    before = op.phase
    action = op.plan[op.pc] if before == ACT else None
    step_once(system, op)
    oracle, oracle_fp, expected = world.oracle, world.oracle_fp, proc.expected
    violations: list[Violation] = []
    witnesses: list[str] = []

    if before == LOCK and op.phase != LOCK:  # the linearisation point
        nothing = op.kind == COPY and op.phase == DONE and op.error is None
        memo: tuple[object, ...] = (oracle_fp, op.kind, op.volume, op.offset, op.length)
        memo += (op.data, op.relationship, op.control, op.limit, nothing)
        cached = setting.linearised.get(memo)
        if cached is None:
            oracle = copy.copy(oracle)
            expected = _linearise(oracle, op)
            if oracle._state is not world.oracle._state:
                oracle_fp = props.oracle_fingerprint(oracle)
            setting.linearised[memo] = (oracle, oracle_fp, expected)
        else:  # the same operation from the same oracle state: the same outcome
            oracle, oracle_fp, expected = cached
    phase, detail = _step_detail(before, op, action)
    event = Event(process.name, props.describe(op), phase, detail)

    pc = proc.pc
    if op.phase == DONE:
        assert expected is not None
        if op.kind == READ:
            found = props.read_agrees(op, expected)
            if found is not None:
                violations.append(Violation(*found))
        else:
            message = props.outcome_agreement(op, expected)
            if message is not None:
                violations.append(Violation("outcome_agreement", message))
        if not violations:
            witnesses.extend(props.completion_witnesses(op, expected, setting.initial))
        if process.copier is None:
            pc += 1
        new_proc = ProcState(pc, None, None)
    else:
        new_proc = ProcState(pc, op, expected)
    procs = (*world.procs[:index], new_proc, *world.procs[index + 1 :])
    new = World(system, oracle, oracle_fp, procs)
    if check_state:
        found_v, found_w = state_checks(new)
        violations.extend(found_v)
        witnesses.extend(found_w)
    return new, event, violations, witnesses


def state_checks(world: World) -> tuple[list[Violation], list[str]]:
    """The state properties (quiescent states only: no lock held) and their witnesses."""
    system = world.system
    if system.locks:
        return [], []
    violations = []
    for name, check in props.STATE_CHECKS:
        message = check(system, world.oracle)
        if message is not None:
            violations.append(Violation(name, message))
    return violations, props.state_witnesses(system)


__all__ = [
    "Event",
    "ProcState",
    "Setting",
    "Violation",
    "World",
    "advance",
    "choices",
    "initial_world",
    "is_final",
    "is_local",
    "state_checks",
]
