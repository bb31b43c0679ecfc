"""The transition system the checker explores: a `System` plus one record per process.

A world is the engine state, each process's program counter and in-flight operation, and the
oracle fed with every operation at its linearisation point (LOCK). `choices(world)` lists the
moves whose next step is `enabled`, in process order; `advance(world, m)` returns a new
world (the old one is never changed) with the step's event, the violations it caused and the
sometimes-properties it witnessed. A move is a process index `i` (its next step), or, for a
choosing process about to start an op, `i + P * (k + 1)` (P processes): start its k-th
choice (`Process.choices`, sorted), so every choice is a successor, in a fixed order. The
explorer, the replay and the Hypothesis machine all drive these two functions, which drive
`flashsim.models.rules.steps`: the very steps the simulator runs.
"""

from __future__ import annotations

import copy
import operator
from dataclasses import dataclass, field

from flashsim.models import ops as opsmod
from flashsim.models.check import properties as props
from flashsim.models.check.config import CheckConfig, CheckConfigError, Process, describe_op
from flashsim.models.check.memo import NO_OP, Memo, Step
from flashsim.models.check.mutants import design_of, rules_of
from flashsim.models.check.records import Event, ProcState, Violation
from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Read, Write
from flashsim.models.oracle import Oracle
from flashsim.models.rules.actions import (
    RaiseError,
    ReadBytes,
    ReadTracks,
)
from flashsim.models.rules.inflight import (
    ACT,
    CONTROL,
    COPY,
    DONE,
    LOCK,
    PLAN,
    READ,
    UNLOCK,
    WRITE,
    InFlight,
)
from flashsim.models.state.relationship import SUSPENDED
from flashsim.models.system import System


class World:
    """The engine, the oracle and every process's record: one state of the search."""

    __slots__ = ("ident_", "memo", "oracle", "oracle_id", "procs", "system", "system_id")

    def __init__(  # noqa: PLR0917 - built in the hot loop: positional on purpose
        self,
        system: System,
        oracle: Oracle,
        procs: tuple[ProcState, ...],
        system_id: int,
        oracle_id: int,
        memo: Memo,
        ident: tuple[int, ...] | None = None,
    ) -> None:
        self.system = system  # shared with other worlds: never changed in place
        self.oracle = oracle  # likewise
        self.procs = procs
        self.system_id = system_id
        self.oracle_id = oracle_id
        self.memo = memo
        #: the world's identity within its search: (system id, oracle id, process record ids)
        self.ident_ = (system_id, oracle_id, *(p.id for p in procs)) if ident is None else ident

    def ident(self) -> tuple[int, ...]:
        """The world's identity within its search: small ints (see `flashsim.models.check.memo`)."""
        return self.ident_

    def key(self) -> tuple[object, ...]:
        """The world's identity across searches: engine and oracle fingerprints and each
        process's (pc, operation fingerprint, expected outcome)."""
        return self.memo.key(self.ident())


@dataclass(slots=True)
class Setting:
    """What every world of one search shares: the configuration and the initial images."""

    config: CheckConfig
    mutant: str | None
    initial: dict[str, bytes] = field(default_factory=dict)
    copied: tuple[str, ...] = ()  # relationships some copier serves
    #: controls_from[i][pc]: process i has a whole-volume operation at pc or later
    controls_from: tuple[tuple[bool, ...], ...] = ()
    memo: Memo = field(default_factory=Memo)
    #: move -> its name in schedules (`move_label`), and back
    labels: dict[int, str] = field(default_factory=dict)
    moves: dict[str, int] = field(default_factory=dict)


def set_up(config: CheckConfig) -> tuple[System, Oracle]:
    """The engine and the oracle with the configuration's volumes, after its setup."""
    system = System(config.profile)
    oracle = Oracle(config.profile.max_targets_per_source, config.profile.design)
    for spec in config.volumes:
        system.create(spec.name, spec.tracks, spec.track_size)
        oracle.create(spec.name, spec.tracks, spec.track_size)
    for op in config.setup:
        opsmod.apply(system, op)
        opsmod.apply(oracle, op)
    return system, oracle


def initial_world(config: CheckConfig, mutant: str | None = None) -> tuple[Setting, World]:
    """Create the volumes, run the setup on engine and oracle alike, start every process."""
    system, oracle = set_up(config)
    if mutant is not None:  # the setup runs correct; the seeded bug acts in the search
        if design_of(mutant) != config.profile.design:
            raise CheckConfigError(
                f"{config.path}: mutant {mutant} seeds a bug in the {design_of(mutant)} rules; "
                f"this configuration's profile is {config.profile.design}"
            )
        system.use_rules(rules_of(mutant))
    setting = Setting(
        config,
        mutant,
        {name: props.engine_image(system, name) for name in sorted(system.volumes)},
        tuple(sorted({p.copier for p in config.processes if p.copier is not None})),
        tuple(
            tuple(
                any(not isinstance(op, Read | Write) for k in range(pc, p.length)
                    for op in p.options(k))
                for pc in range(p.length + 1)
            )
            for p in config.processes
        ),
    )  # fmt: skip
    count = len(config.processes)
    for i, proc in enumerate(config.processes):
        setting.labels[i] = proc.name
        for k, op in enumerate(proc.choices):
            setting.labels[i + count * (k + 1)] = f"{proc.name}: {describe_op(op)}"
    setting.moves = {label: move for move, label in setting.labels.items()}
    memo = setting.memo
    start = ProcState(0, None, None, NO_OP, memo.procs.id((0, NO_OP, None)))
    world = World(
        system,
        oracle,
        tuple(start for _ in config.processes),
        memo.systems.id(system.fingerprint()),
        memo.oracles.id(props.oracle_fingerprint(oracle)),
        memo,
    )
    return setting, world


def start_op(
    system: System, process: Process, index: int, pc: int, choice: int = 0
) -> InFlight | None:
    """A fresh operation for the process's next op, its `choice`-th option (None: nothing
    left to do now)."""
    if process.copier is not None:
        rel = system.relationships.get(process.copier)
        if (
            rel is None
            or not rel.bitmap.count
            or rel.failed
            or not rel.linked
            or rel.state == SUSPENDED  # its bitmap is unreachable until a resume
            or not rel.options.background_copy
        ):
            return None  # nothing to copy now (a refresh or a resume may give it work again)
        op = system.start_copy(process.copier, 1)
    elif pc >= process.length:
        return None
    else:
        spec = process.options(pc)[choice]
        if isinstance(spec, Write):
            op = system.start_write(spec.volume, spec.offset, spec.data)
        elif isinstance(spec, Read):
            op = system.start_read(spec.volume, spec.offset, spec.length)
        else:
            op = system.start_control(spec)
    op.id = index + 1  # one operation per process at a time: lock owners stay deterministic
    return op


_FIELDS = operator.attrgetter(*InFlight.__slots__)


def copy_op(op: InFlight) -> InFlight:
    """A shallow copy of an in-flight operation (its fields are immutable or replaced whole)."""
    return InFlight(*_FIELDS(op))


def split_move(move: int, count: int) -> tuple[int, int]:
    """A move's (process index, choice): see the module docstring."""
    return move % count, max(move // count - 1, 0)


def next_op(world: World, setting: Setting, move: int) -> InFlight | None:
    index, choice = split_move(move, len(world.procs))
    proc = world.procs[index]
    if proc.op is not None:
        return copy_op(proc.op)  # step() changes the op: never touch a stored one
    return start_op(world.system, setting.config.processes[index], index, proc.pc, choice)


def choices(world: World, setting: Setting) -> list[int]:
    """The moves that can run now: in process order, a choosing process's in choice order."""
    ready: list[int] = []
    for index, proc in enumerate(world.procs):
        ready.extend(process_moves(world.system, world.system_id, setting, index, proc))
    return ready


def process_moves(
    system: System, system_id: int, setting: Setting, index: int, proc: ProcState
) -> tuple[int, ...]:
    """Process `index`'s moves that can run now on engine `system` (id `system_id`), its
    record being `proc`: what `choices` lists for it, in choice order."""
    op = proc.op
    if op is not None and op.phase != LOCK:  # past its LOCK: always a next step
        return (index,)
    processes = setting.config.processes
    count = len(processes)
    if op is None and processes[index].choices:
        if proc.pc >= processes[index].max_ops:
            return ()
        moves = range(index + count, index + count * (len(processes[index].choices) + 1), count)
    else:
        moves = range(index, index + 1)
    memo = setting.memo.enabled
    ready = []
    for move in moves:
        key = (system_id, move, proc.pc, proc.op_id)
        can = memo.get(key)
        if can is None:
            can = memo[key] = _enabled(system, setting, move, proc)
        if can:
            ready.append(move)
    return tuple(ready)


def _enabled(system: System, setting: Setting, move: int, proc: ProcState) -> bool:
    op = proc.op
    if op is None:
        index, choice = split_move(move, len(setting.config.processes))
        op = start_op(system, setting.config.processes[index], index, proc.pc, choice)
        if op is None:
            return False
    elif op.phase == LOCK:
        op = copy_op(op)  # enabled() may fix first/end of an op waiting for its locks
    return system.rules.enabled(system, op)


def is_final(world: World, setting: Setting) -> bool:
    """Every host process ran all its ops and no copier has work left."""
    return all(
        start_op(world.system, proc, i, world.procs[i].pc) is None and world.procs[i].op is None
        for i, proc in enumerate(setting.config.processes)
    )


def _linearise(oracle: Oracle, op: InFlight) -> props.Expected:
    """Apply `op` to the oracle (a shallow copy: the oracle replaces its state on change)."""
    target_of = source_image = None
    try:
        if op.kind == WRITE:
            assert op.data is not None
            into = oracle._state.relationship_into(op.volume)
            if into is not None and into.capacity_tracks is not None:
                # a write that fails a full space-efficient relationship marks it failed in
                # place (the oracle's one exception): never on a state other worlds share
                oracle._state = copy.deepcopy(oracle._state)
            oracle.write(op.volume, op.offset, op.data)
            return props.Expected(None, None, None, None)
        if op.kind == READ:
            rel = oracle._state.relationship_into(op.volume)
            origin = oracle._state.snapshots.get(op.volume)  # redirect-on-write
            if rel is not None or origin is not None:
                target_of = op.volume if rel is None else rel.id
                src = props.oracle_image(oracle, rel.source if rel is not None else str(origin))
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


def advance(
    world: World, setting: Setting, index: int, check_state: bool = True
) -> tuple[World, Event, list[Violation], list[str]]:
    """Run move `index`'s next step on a copy of `world` (the caller checked it is enabled).

    Returns the new world, the step's event, the safety violations the step caused (checked
    before any deduplication: a violation belongs to the transition) and the witnesses. The
    state properties (`state_checks`) depend on the new state alone: an explorer may pass
    `check_state=False` and check each distinct state once.
    """
    new, step, caused, witnessed = transition(world, setting, index)
    violations, witnesses = list(caused), list(witnessed)
    if check_state:
        found_v, found_w = state_checks(new)
        violations.extend(found_v)
        witnesses.extend(found_w)
    return new, step.event, violations, witnesses


def transition(
    world: World, setting: Setting, move: int
) -> tuple[World, Step, tuple[Violation, ...], tuple[str, ...]]:
    """`advance` without the state properties, its step's `Step` (whose `event` is drawn up
    only when asked for) instead of the event, and tuples the caller must not change."""
    index = move % len(world.procs)
    proc = world.procs[index]
    memo = setting.memo
    step_key = (world.system_id, move, proc.pc, proc.op_id)
    found_step = memo.steps.get(step_key)
    if found_step is None:
        found_step = memo.steps[step_key] = _run_step(world, setting, move)
    op = found_step.op
    oracle, oracle_id, expected = world.oracle, world.oracle_id, proc.expected
    if found_step.before == LOCK and op.phase != LOCK:  # the linearisation point
        nothing = op.kind == COPY and op.phase == DONE and op.error is None
        lin_key: tuple[object, ...] = (oracle_id, op.kind, op.volume, op.offset, op.length)
        lin_key += (op.data, op.relationship, op.control, op.limit, nothing)
        cached = memo.linearised.get(lin_key)
        if cached is None:
            oracle = copy.copy(oracle)
            expected = _linearise(oracle, op)
            if oracle._state is not world.oracle._state:
                oracle_id = memo.oracles.id(props.oracle_fingerprint(oracle))
            memo.linearised[lin_key] = (oracle, oracle_id, expected)
        else:  # the same operation from the same oracle state: the same outcome
            oracle, oracle_id, expected = cached
    if op.phase == DONE:
        done_key = (step_key, expected)
        completed = memo.completed.get(done_key)
        if completed is None:
            completed = memo.completed[done_key] = _complete(setting, index, proc.pc, op, expected)
        violations, witnesses, new_proc = completed
    else:
        violations, witnesses = (), ()
        new_proc = ProcState(
            proc.pc,
            op,
            expected,
            found_step.op_id,
            memo.procs.id((proc.pc, found_step.op_id, expected)),
        )
    procs = list(world.procs)
    procs[index] = new_proc
    ident = list(world.ident_)
    ident[0], ident[1], ident[2 + index] = found_step.system_id, oracle_id, new_proc.id
    new = World(
        found_step.system, oracle, tuple(procs), found_step.system_id, oracle_id, memo, tuple(ident)
    )
    return new, found_step, violations, witnesses


def _complete(
    setting: Setting, index: int, pc: int, op: InFlight, expected: props.Expected | None
) -> tuple[tuple[Violation, ...], tuple[str, ...], ProcState]:
    """What completing `op` gives: the violations of its outcome, the sometimes-properties
    it witnesses and its process's next record (a host process moves to its next op)."""
    assert expected is not None
    violations: list[Violation] = []
    if op.kind == READ:
        bad = props.read_agrees(op, expected)
        if bad is not None:
            violations.append(Violation(*bad))
    else:
        message = props.outcome_agreement(op, expected)
        if message is not None:
            violations.append(Violation("outcome_agreement", message))
    witnesses = [] if violations else props.completion_witnesses(op, expected, setting.initial)
    if setting.config.processes[index].copier is None:
        pc += 1
    record = ProcState(pc, None, None, NO_OP, setting.memo.procs.id((pc, NO_OP, None)))
    return tuple(violations), tuple(witnesses), record


#: Micro-actions that change only the operation's own record (its buffer, result or error).
_READ_ONLY_ACTIONS = (ReadTracks, ReadBytes, RaiseError)


def _run_step(world: World, setting: Setting, move: int) -> Step:
    """Run the step on a copy of the engine: what every world with this engine state and
    this process state gets. PLAN and reading actions leave the engine as it is (no copy at
    all), LOCK, UNLOCK and a PLAN that drops locks (`Locking.released_at_plan`) change only
    the locks (a copy sharing the data); everything else runs on a full clone."""
    memo = setting.memo
    index = move % len(world.procs)
    op = next_op(world, setting, move)
    assert op is not None, f"process {setting.config.processes[index].name} has no next step"
    before = op.phase
    action = op.plan[op.pc] if before == ACT else None
    unlocks = before == UNLOCK or (before == PLAN and bool(world.system.rules.released_at_plan(op)))
    if (before == PLAN and not unlocks) or isinstance(action, _READ_ONLY_ACTIONS):
        system, system_id = world.system, world.system_id
        system.rules.step(system, op)
    elif unlocks or (before == LOCK and op.kind != CONTROL):
        system = world.system.with_own_locks()
        system.rules.step(system, op)
        data = memo.systems.values[world.system_id][0]  # type: ignore[index]
        system_id = memo.systems.id((data, system.locks_fingerprint()))
    else:
        system = world.system.clone()
        system.rules.step(system, op)
        system_id = memo.systems.id(system.fingerprint())
    system = memo.system_objects.setdefault(system_id, system)  # one object per state
    op_id = NO_OP if op.phase == DONE else memo.ops.id(op.fingerprint())
    return Step(system, system_id, op, op_id, before, action, setting.config.processes[index].name)


def state_checks(world: World) -> tuple[list[Violation], list[str]]:
    """The state properties (quiescent states only: no lock held) and their witnesses."""
    system = world.system
    if system.locks:
        return [], []
    key = (world.system_id, world.oracle_id)
    found = world.memo.checked.get(key)
    if found is None:
        violations: list[Violation] = []
        for name, check in props.STATE_CHECKS:
            message = check(system, world.oracle)
            if message is not None:
                violations.append(Violation(name, message))
        found = world.memo.checked[key] = (violations, props.state_witnesses(system, world.oracle))
    return list(found[0]), list(found[1])


__all__ = [
    "Setting",
    "World",
    "advance",
    "choices",
    "initial_world",
    "is_final",
    "next_op",
    "process_moves",
    "start_op",
    "state_checks",
]
