"""The unreduced breadth-first search (`explore` without reductions): its hot loop works on
ints, never on `World` objects.

A state is one int: its ident (engine id, oracle id, each process record's id; see
`flashsim.models.check.memo`) packed in 32-bit fields. A step's outcome from (engine, move,
record, oracle) is remembered as the difference it makes to that int, so an edge costs one
tuple look-up, one addition and one look-up in `seen`; a `World` is put together (from the
memo's tables of engine, oracle and record objects) only where a step has to run for the
first time, a state property is checked for the first time, or a state is terminal. The
frontier is the list of states itself: BFS expands states in the order it numbers them, so
state i's ident is `keys[i]` and no queue is kept. Each move's enabledness is remembered per
(engine, process, record). Counterexamples replay their schedule for the timeline
(`result._events`): the search keeps no step per state.

Same numbering, edges, verdicts and counterexamples as the general loop (`explorer`), which
runs the reductions and depth-first order.
"""

from __future__ import annotations

import itertools
import struct
from array import array
from typing import TYPE_CHECKING

from flashsim.models.check import properties as props
from flashsim.models.check import result as report
from flashsim.models.check.world import (
    World,
    initial_world,
    is_final,
    process_moves,
    state_checks,
    transition,
)

if TYPE_CHECKING:
    from flashsim.models.check.config import CheckConfig
    from flashsim.models.check.records import ProcState
    from flashsim.models.check.result import CheckResult
    from flashsim.models.oracle import Oracle

#: An edge out of a state: (move, its difference to the packed state, violations, witnesses)
_Edge = tuple[int, int, tuple[object, ...], tuple[str, ...]]

#: Bits per field of a packed state: ids below 2**32 (a search of 4 G states is far off).
FIELD_BITS = 32
_MASK = (1 << FIELD_BITS) - 1
_LOW = (1 << (2 * FIELD_BITS)) - 1  # the engine and oracle fields


def pack(ident: tuple[int, ...]) -> int:
    """A world's ident as one int (field i at bits 32i..32i+31)."""
    value = 0
    for i, part in enumerate(ident):
        assert 0 <= part <= _MASK, f"an id outgrew {FIELD_BITS} bits"
        value |= part << (FIELD_BITS * i)
    return value


def unpack(value: int, fields: int) -> tuple[int, ...]:
    return tuple((value >> (FIELD_BITS * i)) & _MASK for i in range(fields))


def search(  # noqa: PLR0917 - the hot loop, kept in one frame on purpose
    config: CheckConfig,
    mutant: str | None,
    max_states: int,
    max_depth: int,
    progress: bool,
    states_out: set[tuple[object, ...]] | None,
    keep_graph: bool,
) -> CheckResult:
    """`explore(config, mutant, ...)` without reductions, breadth first (see the module)."""
    import time

    started = time.perf_counter()
    setting, world0 = initial_world(config, mutant)
    result = report.CheckResult(config.path, mutant)
    memo = setting.memo
    count = len(config.processes)
    fields = 2 + count
    shifts = [FIELD_BITS * (2 + i) for i in range(count)]
    systems = memo.system_objects
    systems.setdefault(world0.system_id, world0.system)
    oracles: dict[int, Oracle] = {world0.oracle_id: world0.oracle}
    records: dict[int, ProcState] = {p.id: p for p in world0.procs}
    copiers = frozenset(i for i, p in enumerate(config.processes) if p.copier)

    first = pack(world0.ident_)
    seen: dict[int, int] = {first: 0}
    keys = [first]  # state i's packed ident: the frontier is keys[head:]
    #: parent[i], by[i]: the state that first reached state i and the move it took
    parent, by = array("l", [-1]), array("l", [-1])
    level_starts = [0]  # the first state of each depth (BFS numbers states level by level)
    edge_from, edge_to, edge_by = array("l"), array("l"), array("l")
    keep_edges = progress or keep_graph
    graph_capped = False
    idle: list[int] = []
    quiet: list[int] = [0]
    ends: list[int] = []
    edge_count = 0
    witnessed: set[str] = set()
    #: tables[(engine, oracle) packed][record * P + i] (process i of P, its record): the
    #: outcomes of process i's enabled moves there, each (move, the step's difference to the
    #: packed state, the violations it caused, its witnesses). One look-up per process gives
    #: its enabledness and its edges; the keys are small ints, cheap to hash.
    tables: dict[int, dict[int, tuple[_Edge, ...]]] = {}
    width = 4 * fields
    unpack_all = struct.Struct(f"<{fields}I").unpack
    #: (engine, process, record) -> the process's moves that can run there
    moves_of: dict[tuple[int, int, int], tuple[int, ...]] = {}
    quiescent: dict[int, bool] = {}
    checked = memo.checked
    names = setting.labels

    def world_of(value: int) -> World:
        ident = unpack_all(value.to_bytes(width, "little"))
        procs = tuple(records[r] for r in ident[2:])
        return World(systems[ident[0]], oracles[ident[1]], procs, ident[0], ident[1], memo, ident)

    def outcomes_of(base: int, ids: tuple[int, ...], pi: int) -> tuple[_Edge, ...]:
        system_id, oracle_id, record = ids[0], ids[1], ids[2 + pi]
        mkey = (system_id, pi, record)
        moves = moves_of.get(mkey)
        if moves is None:
            moves = moves_of[mkey] = process_moves(
                systems[system_id], system_id, setting, pi, records[record]
            )
        edges: list[_Edge] = []
        shift = shifts[pi]
        world = world_of(base) if moves else None
        for move in moves:
            assert world is not None
            new_world, step, caused, found = transition(world, setting, move)
            new_record = new_world.procs[pi]
            records.setdefault(new_record.id, new_record)
            oracles.setdefault(new_world.oracle_id, new_world.oracle)
            delta = (
                (step.system_id - system_id)
                + ((new_world.oracle_id - oracle_id) << FIELD_BITS)
                + ((new_record.id - record) << shift)
            )
            edges.append((move, delta, caused, found))
            if caused:  # the search stops at this edge: the later moves need not run
                break
        return tuple(edges)

    def fail(at: int, move: int, prop: str, message: str) -> None:
        path = report._path(at, parent)
        schedule = tuple(names[by[i]] for i in path)
        if move >= 0:
            schedule = (*schedule, names[move])
        result.counterexample = report.Counterexample(
            prop, message, schedule, report._events(config, mutant, schedule)
        )

    head = 0
    depth = 0
    next_level = 1  # the first state of depth + 1, once numbered
    while head < len(keys) and result.counterexample is None:
        index = head
        head += 1
        if index >= next_level:
            depth += 1
            level_starts.append(index)
            next_level = len(keys)
        base = keys[index]
        ids = unpack_all(base.to_bytes(width, "little"))
        table = tables.get(base & _LOW)
        if table is None:
            table = tables[base & _LOW] = {}
        groups = []
        copier_ready = False
        for pi, record in enumerate(ids[2:]):
            okey = record * count + pi
            group = table.get(okey)
            if group is None:
                group = table[okey] = outcomes_of(base, ids, pi)
            if group:
                groups.append(group)
                if pi in copiers:
                    copier_ready = True
        if not groups:
            ends.append(index)
            world = world_of(base)
            if not is_final(world, setting):
                fail(
                    index,
                    -1,
                    "no_deadlock",
                    "no process can take a step, yet not every process is done",
                )
                break
            message = props.copy_completes(world.system, setting.copied)
            if message is not None:
                fail(index, -1, "copy_completes", message)
                break
            continue
        if keep_edges and not copier_ready:
            idle.append(index)  # no copier can step here (weak fairness, `_find_cycle`)
        if depth >= max_depth:
            result.exhaustive = False
            result.bound = f"max depth {max_depth}"
            continue
        for move, delta, caused, found in itertools.chain.from_iterable(groups):
            if found:
                witnessed.update(found)
            if caused:
                violation = caused[0]
                fail(index, move, violation.property, violation.message)  # type: ignore[attr-defined]
                break
            new = base + delta
            target = seen.get(new)
            if target is None:
                new_system = new & _MASK
                calm = quiescent.get(new_system)
                if calm is None:
                    calm = quiescent[new_system] = not systems[new_system].locks
                if calm:
                    new_oracle = (new >> FIELD_BITS) & _MASK
                    verdict = checked.get((new_system, new_oracle))
                    if verdict is None:
                        probe = World(
                            systems[new_system], oracles[new_oracle], (), new_system,
                            new_oracle, memo, (),
                        )  # fmt: skip
                        state_checks(probe)
                        verdict = checked[(new_system, new_oracle)]
                    violations, seen_here = verdict
                    witnessed.update(seen_here)
                    if violations:
                        fail(index, move, violations[0].property, violations[0].message)
                        break
                if len(keys) >= max_states:
                    result.exhaustive = False
                    result.bound = f"max states {max_states}"
                    head = len(keys)  # the frontier is dropped
                    break
                target = len(keys)
                if keep_edges and calm:
                    quiet.append(target)
                seen[new] = target
                keys.append(new)
                parent.append(index)
                by.append(move)
            edge_count += 1
            if keep_edges:
                edge_from.append(index)
                edge_to.append(target)
                edge_by.append(move)
                if target >= report.MAX_GRAPH_STATES:  # too big to analyse: stop keeping it
                    keep_edges, graph_capped = False, True
                    edge_from, edge_to, edge_by = array("l"), array("l"), array("l")
                    quiet.clear()
                    idle.clear()
    if states_out is not None:
        states_out.update(memo.key(unpack(value, fields)) for value in keys)
    result.states = len(keys)
    result.edges = edge_count
    # the deepest state numbered (states are numbered level by level)
    result.depth = len(level_starts) - 1 + (1 if next_level < len(keys) else 0)
    result.witnessed = tuple(sorted(witnessed))
    depths = None
    if keep_edges:
        depths = _depths(level_starts, next_level, len(keys))
    report._finish(
        result, config, mutant, progress, keep_graph, keep_edges, graph_capped, False,
        (edge_from, edge_to, edge_by), depths, quiet, ends, idle, parent, by, names, witnessed,
    )  # fmt: skip
    result.elapsed_s = time.perf_counter() - started
    return result


def _depths(level_starts: list[int], next_level: int, states: int) -> list[int]:
    """Each state's depth from the first state of each level (the last level unexpanded)."""
    bounds = [*level_starts, next_level, states]
    depths: list[int] = []
    for depth in range(len(bounds) - 1):
        depths.extend([depth] * (bounds[depth + 1] - bounds[depth]))
    return depths
