"""Breadth-first explicit-state search over a check configuration, with shortest
counterexamples.

The hot loop keeps plain dicts, lists and int arrays: `seen` maps a world's ident (interned
engine, oracle and process records) to its index, `parent[i]` and `by[i]` the state and the
process that first reached it, `steps_to[i]` the step (its timeline line is drawn up only for
a counterexample). A step's outcome is remembered per (engine, process, process record,
oracle), so an edge to a known state costs a look-up and a tuple, no `World`. Safety
properties are checked on every transition before deduplication; BFS order makes the first
violation found one of the shortest. networkx holds the explored graph only for the progress
analysis (strongly connected components), built from the edge arrays after the search.
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from typing import TYPE_CHECKING

from flashsim.models.check import bfs
from flashsim.models.check import properties as props
from flashsim.models.check import result as report
from flashsim.models.check.config import CheckConfig
from flashsim.models.check.independence import independent, may_go_alone
from flashsim.models.check.memo import Step
from flashsim.models.check.records import Event, ProcState, Violation
from flashsim.models.check.result import (
    MAX_GRAPH_STATES,
    CheckResult,
    Counterexample,
    _find_cycle,
    _finish,
    _path,
    state_graph,
)
from flashsim.models.check.symmetry import class_id, data_canonical, orbit_id
from flashsim.models.check.volume_symmetry import volume_group
from flashsim.models.check.world import (
    World,
    choices,
    initial_world,
    is_final,
    state_checks,
    transition,
)
from flashsim.models.oracle import Oracle

if TYPE_CHECKING:
    pass

#: A step's outcome from one (engine, process record, oracle): the step, the process's next
#: record, the oracle after it and its id, the violations it caused and its witnesses.
_Outcome = tuple[Step, ProcState, Oracle, int, tuple[Violation, ...], tuple[str, ...]]


def explore(  # noqa: PLR0917 - the bounds are positional in the CLI's order
    config: CheckConfig,
    mutant: str | None = None,
    max_states: int | None = None,
    max_depth: int | None = None,
    progress: bool = True,
    reduce: bool = False,
    depth_first: bool = False,
    states_out: set[tuple[object, ...]] | None = None,
    symmetry: bool | str = False,
    keep_graph: bool = False,
) -> CheckResult:
    """Search every interleaving of `config`'s processes (within the bounds).

    Returns a `CheckResult` with the first (shortest) counterexample found, if any. With
    `progress`, the explored graph is kept and checked for cycles. With `reduce`, the
    partial-order reduction: an ample set of one local step (`independence.may_go_alone`)
    where there is one, and sleep sets over the declared independence of steps
    (`independence.independent`).
    With `symmetry` (`SYMMETRIES`: "data", or True; "volumes"; "both"), worlds equal up to
    a renaming of data values (`flashsim.models.check.symmetry`), of interchangeable
    volumes (`flashsim.models.check.volume_symmetry`) or of both are one state. Either
    reduction skips the cycle analysis (it runs on the full graph only). `depth_first`
    explores in DFS order instead (same states when exhaustive; counterexamples are then
    not the shortest): a cross-check of the search itself. `states_out`, if given, receives
    the keys of every state found. `keep_graph` (no reduction) leaves the explored graph in
    `result.graph` (networkx; see `state_graph`).
    """
    max_states = config.max_states if max_states is None else max_states
    max_depth = config.max_depth if max_depth is None else max_depth
    if not (reduce or symmetry or depth_first):
        return bfs.search(config, mutant, max_states, max_depth, progress, states_out, keep_graph)
    started = time.perf_counter()
    mode = symmetry_mode(symmetry)
    setting, world0 = initial_world(config, mutant)
    result = CheckResult(config.path, mutant, reduced=reduce, symmetric=mode is not None)
    result.symmetry = mode or ""
    if mode in ("volumes", "both"):
        group, note = volume_group(config, mutant, mode == "both", data_canonical)
        if note is not None:
            result.notes.append(note)

        def class_of(world: World) -> int:
            return orbit_id(world, setting, group, mode == "both")
    else:

        def class_of(world: World) -> int:
            return class_id(world, setting)

    symmetry = mode is not None
    seen: dict[object, int] = {class_of(world0) if symmetry else world0.ident_: 0}
    #: a representative's ident per state, kept only for states_out
    idents = [world0.ident()] if states_out is not None else []
    #: parent[i], by[i]: the state that first reached state i and the process that stepped
    #: (two int arrays: 8 bytes a state, where a list of pairs costs 72)
    parent, by = array("l", [-1]), array("l", [-1])
    steps_to: list[Step | None] = [None]  # the step that reached each state (the first none)
    depths = [0]
    #: sleep sets (reduce): the processes whose next step needs no exploring from a state
    sleep: list[frozenset[int]] = [frozenset()]
    expanded = [False]
    #: the edges (from, to, process), kept only for a graph (the cycle analysis or a
    #: drawing) and only up to MAX_GRAPH_STATES states: three int arrays
    edge_from, edge_to, edge_by = array("l"), array("l"), array("l")
    idle: list[int] = []  # states with successors where no copier is enabled
    keep_edges = (progress or keep_graph) and not reduce and not symmetry
    graph_capped = False  # the graph outgrew MAX_GRAPH_STATES: its edges were dropped
    quiet: list[int] = [0]  # quiescent states (no lock held), for the drawing
    ends: list[int] = []  # terminal states (no process can step), for the drawing
    edge_count = 0
    witnessed: set[str] = set()
    #: (state, its world, None or the processes a smaller sleep set woke up there)
    frontier: deque[tuple[int, World, frozenset[int] | None]] = deque([(0, world0, None)])
    names = setting.labels  # move -> its name in schedules (world.choices)
    count = len(config.processes)
    #: (engine, move, its process's record, oracle) -> the step's outcome (see the loop)
    outcomes: dict[tuple[int, int, int, int], _Outcome] = {}

    def fail(at: int, proc: int, event: Event, violation: Violation) -> None:
        steps = _path(at, parent)
        result.counterexample = Counterexample(
            violation.property,
            violation.message,
            (*tuple(names[by[i]] for i in steps), names[proc]),
            (*_events_of(steps, steps_to), event),
        )

    while frontier and result.counterexample is None:
        index, world, woken = frontier.pop() if depth_first else frontier.popleft()
        depth = depths[index]
        ready = choices(world, setting)
        if not ready:
            ends.append(index)
            if not is_final(world, setting):
                steps = _path(index, parent)
                result.counterexample = Counterexample(
                    "no_deadlock",
                    "no process can take a step, yet not every process is done",
                    tuple(names[by[i]] for i in steps),
                    _events_of(steps, steps_to),
                )
                break
            message = props.copy_completes(world.system, setting.copied)
            if message is not None:
                fail_at = _path(index, parent)
                result.counterexample = Counterexample(
                    "copy_completes",
                    message,
                    tuple(names[by[i]] for i in fail_at),
                    _events_of(fail_at, steps_to),
                )
                break
            continue
        if keep_edges and not any(config.processes[p % count].copier for p in ready):
            idle.append(index)  # no copier can step here (weak fairness, `_find_cycle`)
        if depth >= max_depth:
            result.exhaustive = False
            result.bound = f"max depth {max_depth}"
            continue
        asleep = sleep[index] if reduce else frozenset()
        if reduce:
            if len(ready) > 1:
                for proc in ready:
                    if may_go_alone(world, setting, proc):
                        ready = [proc]
                        break
            if woken is None:
                todo = [p for p in ready if p not in asleep]
            else:
                todo = [p for p in ready if p in woken]
        else:
            todo = ready
        if reduce:
            expanded[index] = True
        done: list[int] = []
        new_sleep: frozenset[int] = frozenset()
        records, system_id, oracle_id, base = (
            world.procs,
            world.system_id,
            world.oracle_id,
            world.ident_,
        )
        for proc in todo:  # a move: a process, or a chooser's choice of op (world.choices)
            # A step's outcome depends on the engine, the oracle and this process's record
            # only: remembered per (engine, move, record, oracle), so a world reached
            # again through another process's step costs a look-up and two small tuples.
            pi = proc % count
            edge_key = (system_id, proc, records[pi].id, oracle_id)
            known = outcomes.get(edge_key)
            if known is None:
                new, step, caused, found = transition(world, setting, proc)
                outcomes[edge_key] = known = (
                    step, new.procs[pi], new.oracle, new.oracle_id, caused, found
                )  # fmt: skip
                new_ident = new.ident_
            else:
                new = None  # built below only if the state is new (or symmetry needs it)
                step, new_record, _, new_oracle_id, caused, found = known
                ident = list(base)
                ident[0], ident[1], ident[2 + pi] = step.system_id, new_oracle_id, new_record.id
                new_ident = tuple(ident)
            if found:
                witnessed.update(found)
            if caused:
                fail(index, proc, step.event, caused[0])
                break
            if reduce:  # asleep after this step: what commutes with it needs no second order
                new_sleep = frozenset(
                    q for q in (*asleep, *done) if independent(world, setting, proc, q)
                )
                done.append(proc)
            if new is None and symmetry:
                new = _world(world, pi, known, new_ident)
            key = class_of(new) if symmetry else new_ident  # type: ignore[arg-type]
            target = seen.get(key)
            if target is None:
                if new is None:
                    new = _world(world, pi, known, new_ident)
                violations, seen_here = state_checks(new)
                witnessed.update(seen_here)
                if violations:
                    fail(index, proc, step.event, violations[0])
                    break
                if len(seen) >= max_states:
                    result.exhaustive = False
                    result.bound = f"max states {max_states}"
                    frontier.clear()
                    break
                target = len(parent)
                if keep_edges and not new.system.locks:
                    quiet.append(target)
                seen[key] = target
                if states_out is not None:
                    idents.append(new.ident_)
                parent.append(index)
                by.append(proc)
                steps_to.append(step)
                depths.append(depth + 1)
                if reduce:  # sleep sets: for the partial-order reduction only
                    sleep.append(new_sleep)
                    expanded.append(False)
                frontier.append((target, new, None))
            elif reduce and not sleep[target] <= new_sleep:
                # reached again with a smaller sleep set: what it lost must be explored
                lost = sleep[target] - new_sleep
                sleep[target] &= new_sleep
                if expanded[target]:
                    if new is None:
                        new = _world(world, pi, known, new_ident)
                    frontier.append((target, new, lost))
            edge_count += 1
            if keep_edges:
                edge_from.append(index)
                edge_to.append(target)
                edge_by.append(proc)
                if target >= report.MAX_GRAPH_STATES:  # too big to analyse: stop keeping the graph
                    keep_edges, graph_capped = False, True
                    edge_from, edge_to, edge_by = array("l"), array("l"), array("l")
                    quiet.clear()
                    idle.clear()
    if states_out is not None:
        states_out.update(setting.memo.key(ident) for ident in idents)
    result.states = len(parent)
    result.edges = edge_count
    result.depth = max(depths)
    result.witnessed = tuple(sorted(witnessed))
    _finish(
        result, config, mutant, progress, keep_graph, keep_edges, graph_capped,
        reduce or symmetry, (edge_from, edge_to, edge_by), depths, quiet, ends, idle, parent,
        by, names, witnessed,
    )  # fmt: skip
    result.elapsed_s = time.perf_counter() - started
    return result


#: The symmetry reductions `explore` (and `flashsim check --symmetry MODE`) knows.
SYMMETRIES = ("data", "volumes", "both")


def symmetry_mode(symmetry: bool | str | None) -> str | None:
    """The symmetry reduction asked for: None (off), or one of `SYMMETRIES` (True: data)."""
    if symmetry is None or symmetry is False:
        return None
    if symmetry is True:
        return "data"
    if symmetry not in SYMMETRIES:
        raise ValueError(f"symmetry: expected one of {', '.join(SYMMETRIES)}, got {symmetry!r}")
    return symmetry


def _world(world: World, proc: int, known: _Outcome, ident: tuple[int, ...]) -> World:
    """The world `proc`'s remembered step leads to from `world` (`known`: its outcome)."""
    step, record, oracle, oracle_id = known[:4]
    procs = list(world.procs)
    procs[proc] = record
    return World(step.system, oracle, tuple(procs), step.system_id, oracle_id, world.memo, ident)


def _events_of(path: list[int], steps_to: list[Step | None]) -> tuple[Event, ...]:
    return tuple(step.event for i in path if (step := steps_to[i]) is not None)


__all__ = [
    "MAX_GRAPH_STATES",
    "SYMMETRIES",
    "CheckResult",
    "Counterexample",
    "_find_cycle",
    "explore",
    "state_graph",
    "symmetry_mode",
]
