"""The unreduced breadth-first search (`explore` without reductions): its hot loop works on
ints, never on `World` objects.

A state is one int (`packing.Layout`): its engine and oracle ids, then each process's slot
(its record id, unique across processes) in 16 bits, or 32 where a slot outgrows 16 (the
search then runs again). A step's outcome from (engine, oracle, process record) is remembered
as the difference it makes to that int, per (engine, oracle), under the process's slot; the
outcomes of the processes whose slots share a 64-bit word are remembered together under that
word, so a state costs one look-up per four processes (two with 32-bit slots), an edge one
addition and one look-up in `seen`. A `World` is put together (from the memo's tables of
engine, oracle and record objects) only where a step has to run for the first time, a state
property is checked for the first time, or a state is terminal. The frontier is the list of
states itself: BFS expands states in the order it numbers them, level by level, so state i's
ident is `keys[i]` and no queue is kept. Each move's enabledness is remembered per (engine,
process, record). Counterexamples replay their schedule for the timeline (`result._events`):
the search keeps no step per state.

Same numbering, edges, verdicts and counterexamples as before the slots were grouped (the
layouts agree: tests/check/test_check_bfs.py), and the same states and edges as the general
loop (`explorer`), which runs the reductions and depth-first order.
"""

from __future__ import annotations

import itertools
import time
from array import array
from typing import TYPE_CHECKING

from flashsim.models.check import properties as props
from flashsim.models.check import result as report
from flashsim.models.check.packing import FIELD_BITS, LOW, MASK, Layout, Outgrown
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
    from flashsim.models.check.records import ProcState, Violation
    from flashsim.models.check.result import CheckResult
    from flashsim.models.oracle import Oracle

#: An edge out of a state: (move, its difference to the packed state, violations, witnesses)
_Edge = tuple[int, int, tuple[object, ...], tuple[str, ...]]

#: a new state's engine and oracle: a lock held (no state property checked), or none held
#: and every state property holds there
LOCKED, CALM = 0, 1
#: the slot widths tried in turn (`packing.Layout`): the narrower, the more processes per
#: table look-up
SLOT_BITS = (16, 32)


def search(  # noqa: PLR0917 - explore's bounds, positional
    config: CheckConfig,
    mutant: str | None,
    max_states: int,
    max_depth: int,
    progress: bool,
    states_out: set[tuple[object, ...]] | None,
    keep_graph: bool,
) -> CheckResult:
    """`explore(config, mutant, ...)` without reductions, breadth first (see the module)."""
    started = time.perf_counter()
    for bits in SLOT_BITS:
        layout = Layout(len(config.processes), bits)
        try:
            result = _search(config, mutant, max_states, max_depth, progress, states_out,
                             keep_graph, layout)  # fmt: skip
        except Outgrown:
            if bits == SLOT_BITS[-1]:
                raise
            continue  # the same search again, with wider slots
        result.elapsed_s = time.perf_counter() - started
        return result
    raise AssertionError("unreachable")


def _search(  # noqa: PLR0917 - the hot loop, kept in one frame on purpose
    config: CheckConfig,
    mutant: str | None,
    max_states: int,
    max_depth: int,
    progress: bool,
    states_out: set[tuple[object, ...]] | None,
    keep_graph: bool,
    layout: Layout,
) -> CheckResult:
    setting, world0 = initial_world(config, mutant)
    result = report.CheckResult(config.path, mutant)
    memo = setting.memo
    count = len(config.processes)
    shifts, slot_mask = layout.shifts, layout.slot_mask
    systems = memo.system_objects
    systems.setdefault(world0.system_id, world0.system)
    oracles: dict[int, Oracle] = {world0.oracle_id: world0.oracle}
    records: dict[int, ProcState] = {p.id: p for p in world0.procs}
    copiers = [i for i, p in enumerate(config.processes) if p.copier]

    first = layout.pack(world0.ident_)
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
    #: tables[(engine, oracle) packed][slot] (`packing.Layout`): the outcomes of the slot's
    #: process's enabled moves there, each (move, the step's difference to the packed state,
    #: the violations it caused, its witnesses); under a key (a word of slots: above every
    #: slot) its processes' outcomes in one tuple. One look-up per key gives the enabledness
    #: and the edges of all its processes.
    tables: dict[int, dict[int, tuple[_Edge, ...]]] = {}
    width, keys_of = layout.width, layout.keys_of
    #: (engine, process, record) -> the process's moves that can run there
    moves_of: dict[tuple[int, int, int], tuple[int, ...]] = {}
    #: (engine, oracle) packed -> LOCKED or CALM, once its state properties held (and
    #: their witnesses were recorded): one look-up per new state
    verdicts: dict[int, int] = {}
    names = setting.labels

    def world_of(value: int) -> World:
        ident = layout.ident(value)
        procs = tuple(records[r] for r in ident[2:])
        return World(systems[ident[0]], oracles[ident[1]], procs, ident[0], ident[1], memo, ident)

    def key_outcomes(table: dict[int, tuple[_Edge, ...]], base: int, key: int) -> tuple[_Edge, ...]:
        """The outcomes of a key's processes' moves from `base`, in process order."""
        if key <= slot_mask:
            return single_outcomes(table, base, key)
        return tuple(
            itertools.chain.from_iterable(
                single_outcomes(table, base, slot) for slot in layout.slots(key)
            )
        )

    def single_outcomes(
        table: dict[int, tuple[_Edge, ...]], base: int, slot: int
    ) -> tuple[_Edge, ...]:
        group = table.get(slot)
        if group is None:
            group = table[slot] = outcomes_of(base, slot)
        return group

    def outcomes_of(base: int, slot: int) -> tuple[_Edge, ...]:
        system_id, oracle_id = base & MASK, (base >> FIELD_BITS) & MASK
        pi, record = slot % count, slot // count
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
                + ((layout.slot(pi, new_record.id) - slot) << shift)
            )
            edges.append((move, delta, caused, found))
            if caused:  # the search stops at this edge: the later moves need not run
                break
        return tuple(edges)

    def judge(low: int) -> int | Violation:
        """A new state's engine and oracle: LOCKED, CALM (its state properties hold; their
        witnesses recorded), or the first property violated there."""
        system_id, oracle_id = low & MASK, low >> FIELD_BITS
        system = systems[system_id]
        if system.locks:
            verdicts[low] = LOCKED
            return LOCKED
        violations, seen_here = state_checks(
            World(system, oracles[oracle_id], (), system_id, oracle_id, memo, ())
        )
        witnessed.update(seen_here)
        if violations:
            return violations[0]
        verdicts[low] = CALM
        return CALM

    def fail(at: int, move: int, prop: str, message: str) -> None:
        path = report._path(at, parent)
        schedule = tuple(names[by[i]] for i in path)
        if move >= 0:
            schedule = (*schedule, names[move])
        result.counterexample = report.Counterexample(
            prop, message, schedule, report._events(config, mutant, schedule)
        )

    depth = 0
    start, next_level = 0, 1  # this level's states: keys[start:next_level]
    stopped = False
    while True:
        for index in range(start, next_level):
            base = keys[index]
            table = tables.get(base & LOW)
            if table is None:
                table = tables[base & LOW] = {}
            groups = []
            for key in keys_of(base.to_bytes(width, "little"))[2:]:
                group = table.get(key)
                if group is None:
                    group = table[key] = key_outcomes(table, base, key)
                if group:
                    groups.append(group)
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
                    stopped = True
                    break
                message = props.copy_completes(world.system, setting.copied)
                if message is not None:
                    fail(index, -1, "copy_completes", message)
                    stopped = True
                    break
                continue
            if keep_edges and not any(table[(base >> shifts[pi]) & slot_mask] for pi in copiers):
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
                    stopped = True
                    break
                new = base + delta
                target = seen.get(new)
                if target is None:
                    calm = verdicts.get(new & LOW)
                    if calm is None:
                        calm = judge(new & LOW)
                        if not isinstance(calm, int):
                            fail(index, move, calm.property, calm.message)
                            stopped = True
                            break
                    if len(keys) >= max_states:
                        result.exhaustive = False
                        result.bound = f"max states {max_states}"
                        stopped = True  # the frontier is dropped
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
            if stopped:
                break
        if stopped or next_level == len(keys):
            break
        depth += 1
        start, next_level = next_level, len(keys)
        level_starts.append(start)
    if states_out is not None:
        states_out.update(memo.key(layout.ident(value)) for value in keys)
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
    return result


def _depths(level_starts: list[int], next_level: int, states: int) -> list[int]:
    """Each state's depth from the first state of each level (the last level unexpanded)."""
    bounds = [*level_starts, next_level, states]
    depths: list[int] = []
    for depth in range(len(bounds) - 1):
        depths.extend([depth] * (bounds[depth + 1] - bounds[depth]))
    return depths
