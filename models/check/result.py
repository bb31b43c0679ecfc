"""What a search reports (`CheckResult`, `Counterexample`) and the tail both search loops
share (`explorer`, `bfs`): the explored graph (networkx, for the progress analysis and the
drawing), the cycle analysis under weak fairness of the copier, the counterexample's
timeline re-run from its schedule."""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flashsim.models.check.config import CheckConfig
from flashsim.models.check.records import Event
from flashsim.models.check.world import advance, initial_world

if TYPE_CHECKING:
    import networkx as nx

#: Above this many states the progress (cycle) analysis is skipped, and the result says so.
MAX_GRAPH_STATES = 500_000


@dataclass(frozen=True, slots=True)
class Counterexample:
    property: str
    message: str
    schedule: tuple[str, ...]  # process names, one per step
    events: tuple[Event, ...]


@dataclass(slots=True)
class CheckResult:
    """What a search found; `exhaustive` is False when a bound stopped it."""

    config: str
    mutant: str | None
    states: int = 0
    edges: int = 0
    depth: int = 0
    exhaustive: bool = True
    bound: str = ""  # which bound stopped the search
    counterexample: Counterexample | None = None
    witnessed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # required sometimes-properties never reached
    progress_checked: bool = False
    reduced: bool = False  # partial-order reduction on
    symmetric: bool = False  # a symmetry reduction on
    symmetry: str = ""  # which: data, volumes or both (explorer.SYMMETRIES)
    elapsed_s: float = 0.0
    worker_cpu_s: tuple[float, ...] = ()  # a partitioned search: each worker's CPU time
    notes: list[str] = field(default_factory=list)
    graph: nx.DiGraph | None = None  # the explored graph, if asked for (keep_graph)

    @property
    def vacuous(self) -> bool:
        """An exhaustive search never reached a required sometimes-property."""
        return self.exhaustive and bool(self.missing)

    @property
    def holds(self) -> bool:
        """No violation and not vacuous (within the stated search: see `summary`)."""
        return self.counterexample is None and not self.vacuous

    @property
    def states_per_s(self) -> float:
        return self.states / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        """One line: the verdict and the size of the search, honest about bounds."""
        if self.counterexample is not None:
            cex = self.counterexample
            return (
                f"violation of {cex.property} after {len(cex.events)} steps "
                f"(searched {self.states} states)"
            )
        if self.exhaustive:
            on = {"volumes": "volume symmetry", "both": "data and volume symmetry"}
            symmetric = on.get(self.symmetry, "symmetry")
            with_ = [("partial-order", self.reduced), (symmetric, self.symmetric)]
            used = " and ".join(name for name, on in with_ if on)
            kind = f"exhaustive with {used} reduction" if used else "exhaustive"
            extent = f"{kind}: {self.states} states, {self.edges} edges, depth {self.depth}"
        else:
            extent = f"bounded: {self.states} states, depth {self.depth} ({self.bound})"
        if self.vacuous:
            verdict = f"vacuous: never reached {', '.join(self.missing)}"
        elif self.missing:
            verdict = f"properties hold, not yet reached: {', '.join(self.missing)}"
        else:
            verdict = "properties hold"
        return f"{verdict} ({extent})"


def _path(index: int, parent: array[int]) -> list[int]:
    path = []
    while index > 0:
        path.append(index)
        index = parent[index]
    path.reverse()
    return path


def _finish(  # noqa: PLR0917 - the tail both search loops share
    result: CheckResult,
    config: CheckConfig,
    mutant: str | None,
    progress: bool,
    keep_graph: bool,
    keep_edges: bool,
    graph_capped: bool,
    reduced: bool,
    edges: tuple[array[int], array[int], array[int]],
    depths: list[int] | None,
    quiet: list[int],
    ends: list[int],
    idle: list[int],
    parent: array[int],
    by: array[int],
    names: Mapping[int, str],
    witnessed: set[str],
) -> None:
    """Build the graph if kept, run the progress (cycle) analysis on it and say why it did
    not run if it did not; the sometimes-properties never reached."""
    edge_from, edge_to, edge_by = edges
    graph = None
    if keep_edges:
        graph = state_graph(
            result.states,
            zip(edge_from, edge_to, edge_by, strict=True),
            depths=depths,
            quiet=quiet,
            names=names,
            ends=ends,
        )
        if keep_graph:
            result.graph = graph
    if result.counterexample is None:
        result.missing = tuple(s for s in config.sometimes if s not in witnessed)
        if progress and graph is not None and result.exhaustive:
            result.progress_checked = True
            copiers = frozenset(i for i, p in enumerate(config.processes) if p.copier)
            cycle = _find_cycle(graph, copiers, frozenset(idle))
            if cycle is not None:
                entry, loop = cycle
                prefix = [names[by[i]] for i in _path(entry, parent)]
                schedule = (*prefix, *(names[p] for p in loop))
                result.counterexample = Counterexample(
                    "no_copy_starvation_cycle",
                    f"steps {len(prefix) + 1}-{len(schedule)} return to the state after step "
                    f"{len(prefix)}: a cycle that can repeat forever, the copy never completing",
                    schedule,
                    _events(config, mutant, schedule),
                )
        elif progress and reduced:
            result.notes.append("progress (cycles) not checked: it needs the unreduced graph")
        elif progress and graph_capped:
            result.notes.append(
                f"progress (cycles) not checked: the state graph outgrew the graph-size cap "
                f"({MAX_GRAPH_STATES:,} states), so its edges were not kept"
            )
        elif progress:
            result.notes.append("progress (cycles) not checked: the search was bounded")


def _events(
    config: CheckConfig, mutant: str | None, schedule: tuple[str, ...]
) -> tuple[Event, ...]:
    """Re-run a schedule (the steps are deterministic) for its events."""
    setting, world = initial_world(config, mutant)
    events = []
    for name in schedule:
        world, event, _, _ = advance(world, setting, setting.moves[name], check_state=False)
        events.append(event)
    return tuple(events)


def state_graph(
    states: int,
    edges: Iterable[tuple[int, int, int]],
    *,
    depths: list[int] | None = None,
    quiet: Iterable[int] = (),
    names: Mapping[int, str] | None = None,
    ends: Iterable[int] = (),
) -> nx.DiGraph:
    """The explored graph: nodes are state indices (attributes `depth`, `quiescent`,
    `terminal`: no process can step), edges carry the index `proc` and the `process` name of
    the step."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(range(states), quiescent=False, terminal=False)
    if depths is not None:
        for node, depth in enumerate(depths):
            graph.nodes[node]["depth"] = depth
    for node in quiet:
        graph.nodes[node]["quiescent"] = True
    for node in ends:
        graph.nodes[node]["terminal"] = True
    for source, target, proc in edges:
        graph.add_edge(source, target, proc=proc, process=names[proc] if names else str(proc))
    return graph


def _find_cycle(
    graph: nx.DiGraph,
    copiers: frozenset[int] = frozenset(),
    idle: frozenset[int] = frozenset(),
) -> tuple[int, list[int]] | None:
    """A reachable cycle the copy never leaves, fair to the copier: (its entry state, the
    processes of its steps), the entry with the lowest index (the shallowest) first; None if
    there is none. Every host process runs a bounded list of operations, so any cycle is a
    copy that never progresses (strongly connected components, networkx). Weak fairness: a
    cycle counts only if a copier takes a step in it (and still never completes) or some
    state of it has no copier enabled (`idle`): one where the copier waits, enabled all the
    way round, is a schedule no fair scheduler runs. The loop returned passes through such a
    step or state."""
    import networkx as nx

    found: tuple[int, list[int]] | None = None
    for component in nx.strongly_connected_components(graph):
        entry = min(component)
        if (len(component) == 1 and not graph.has_edge(entry, entry)) or (
            found is not None and entry >= found[0]
        ):
            continue
        loop = _fair_loop(graph.subgraph(component), entry, copiers, idle)
        if loop is not None:
            found = entry, [graph.edges[a, b]["proc"] for a, b in itertools.pairwise(loop)]
    return found


def _fair_loop(
    graph: nx.DiGraph, entry: int, copiers: frozenset[int], idle: frozenset[int]
) -> list[int] | None:
    """The shortest closed walk from `entry` inside one strongly connected component (`graph`)
    through a copier's step or an idle state (the states in order, `entry` at both ends)."""
    import networkx as nx

    out_of = nx.single_source_shortest_path(graph, entry)
    into = nx.single_source_shortest_path(graph.reverse(copy=False), entry)
    best: list[int] | None = None
    for a, b, proc in graph.edges(data="proc"):
        if proc in copiers:  # entry ... a -> b ... entry
            walk = [*out_of[a], *reversed(into[b])]
            if best is None or len(walk) < len(best):
                best = walk
    for node in sorted(idle & set(graph.nodes)):
        if node == entry:  # once round: out along some step, the shortest way home
            walks = [[entry, *reversed(into[succ])] for succ in graph.successors(entry)]
            walk = min(walks, key=len)
        else:
            walk = [*out_of[node], *list(reversed(into[node]))[1:]]
        if best is None or len(walk) < len(best):
            best = walk
    return best
