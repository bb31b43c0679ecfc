"""The explored state graph of a configuration as a TLA+ module that TLC can check.

The export is explicit, not symbolic: the checker explores the configuration without
reduction (the very steps of `flashsim.models.rules.steps`), numbers its distinct states
0..N-1 in BFS order, and writes the transition relation as finite data. A symbolic encoding
would restate the rules in TLA+, a second copy of every rule, which this project does not
keep; the graph is what the steps do, and TLC re-explores it independently (its own state
hashing, its own BFS), so the two state counts cross-check the search itself.

The module (one variable `s`, the state's number):
- `Succ_<process>`: a tuple, `Succ_p[i + 1]` the states process p's step leads to from i;
- `Terminal`: the states where every process is done (the checker's terminal states), which
  stutter, so that TLC's deadlock check reports exactly the states where nothing can step
  and something is not done (the checker's `no_deadlock`);
- `Quiescent`: the states where no lock is held (where the state properties are checked);
- `Init`, `Next`, `Spec`, `TypeOK` (an invariant to give TLC);
- in comments, the configuration, the mutant and the checker's own counts.

Limits: states are opaque numbers (volume images, locks and programs stay in the checker);
the safety properties are the checker's (evaluated while exploring), not restated as TLA+
invariants; the graph must fit in memory and in a module: `MAX_EXPORT_STATES`.
"""

from __future__ import annotations

import re
from pathlib import Path

from flashsim.models.check.config import CheckConfig
from flashsim.models.check.explorer import CheckResult, explore

#: Most states an exported module holds (each is a line of data in the module).
MAX_EXPORT_STATES = 200_000
_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")


class ExportError(Exception):
    """The configuration cannot be exported (too many states, a violation, a bound)."""


def module_name(stem: str) -> str:
    """A TLA+ module name for a file stem: letters, digits and `_`, not starting with a digit
    (TLC wants the module name to be the file's)."""
    name = _NOT_IDENT.sub("_", stem)
    return f"M_{name}" if not name or name[0].isdigit() else name


def export_tla(
    config: CheckConfig,
    name: str,
    mutant: str | None = None,
    max_states: int = MAX_EXPORT_STATES,
) -> tuple[str, CheckResult]:
    """The TLA+ module `name` of `config`'s explored state graph (see the module doc), and
    the search it comes from."""
    bound = min(max_states, config.max_states)
    result = explore(config, mutant, max_states=bound, progress=False, keep_graph=True)
    if not result.exhaustive:
        raise ExportError(
            f"{config.path}: the search stopped at {result.bound}: an export needs the whole "
            f"graph (at most {bound:,} states)"
        )
    graph = result.graph
    assert graph is not None
    names = [p.name for p in config.processes]
    succ: list[list[set[int]]] = [[set() for _ in range(result.states)] for _ in names]
    for a, b, move in graph.edges(data="proc"):
        # an edge is a move; a choosing process has one move per choice (world.choices)
        succ[move % len(names)][a].add(b)
    terminal = sorted(n for n, done in graph.nodes(data="terminal") if done)
    quiet = sorted(n for n, q in graph.nodes(data="quiescent") if q)
    idents = [module_name(f"Step_{n}") for n in names]
    lines = [
        f"---- MODULE {name} ----",
        f"\\* The explored state graph of {Path(config.path).name} (mutant: {mutant or 'none'}),",
        "\\* exported by `flashsim check --export-tla`: each state is its number in the",
        "\\* checker's BFS order, the transition relation the steps of each process.",
        f"\\* The checker found {result.states} distinct states and {result.edges} edges, "
        f"depth {result.depth}.",
    ]
    if result.counterexample is not None:
        cex = result.counterexample
        lines.append(
            f"\\* It stopped at a violation of {cex.property}: the graph is the part explored."
        )
    lines += [
        "EXTENDS Naturals",
        "VARIABLE s",
        f"N == {result.states}",
    ]
    for proc, ident in enumerate(idents):
        rows = ", ".join(_set(targets) for targets in succ[proc])
        lines.append(f"Succ_{ident} == << {rows} >>")
    lines += [
        f"Terminal == {_set(terminal)}",
        f"Quiescent == {_set(quiet)}",
        "TypeOK == s \\in 0..(N - 1)",
        "Init == s = 0",
    ]
    for ident in idents:
        lines.append(f"{ident} == s' \\in Succ_{ident}[s + 1]")
    stutter = "(s \\in Terminal /\\ UNCHANGED s)"
    lines += [
        "Next == " + " \\/ ".join([*idents, stutter]),
        "Spec == Init /\\ [][Next]_s",
        "====",
        "",
    ]
    return "\n".join(lines), result


def _set(items: object) -> str:
    return "{" + ", ".join(str(i) for i in sorted(items)) + "}"  # type: ignore[call-overload]


def tlc_config() -> str:
    """A TLC configuration for an exported module: the spec and the type invariant (TLC checks
    deadlock by default)."""
    return "SPECIFICATION Spec\nINVARIANT TypeOK\n"
