"""Checker benchmark: distinct states per second on reference configuration (a) without
reduction, the states each reduction leaves (partial order, symmetry on data values, both),
and a plain-dict BFS of a toy model as the same-run baseline. Prints figures; asserts nothing
about time. Each search runs `repeat` times (5); the fastest run counts (the machine is shared).

    python -m flashsim.bench.checker [CONFIG.toml]
"""

from __future__ import annotations

import resource
import sys
import time
from collections import deque
from pathlib import Path

from flashsim.bundled import root
from flashsim.models.check.config import load_config
from flashsim.models.check.explorer import CheckResult, explore

REFERENCE_A = root() / "check" / "a_pair.toml"

MODES: dict[str, dict[str, bool]] = {
    "no reduction": {},
    "partial order": {"reduce": True},
    "symmetry": {"symmetry": True},
    "both": {"reduce": True, "symmetry": True},
}


def toy_bfs_states_per_s(processes: int = 4, steps: int = 9) -> tuple[int, float]:
    """A plain-dict BFS over `processes` counters each advancing to `steps`: the ceiling a
    CPython explicit-state loop reaches here with trivial states."""
    start = time.perf_counter()
    initial = (0,) * processes
    seen: dict[tuple[int, ...], tuple[int, ...] | None] = {initial: None}
    frontier = deque([initial])
    while frontier:
        state = frontier.popleft()
        for i in range(processes):
            if state[i] < steps:
                new = (*state[:i], state[i] + 1, *state[i + 1 :])
                if new not in seen:
                    seen[new] = state
                    frontier.append(new)
    return len(seen), len(seen) / (time.perf_counter() - start)


def _fastest(config_path: str | Path, repeat: int, options: dict[str, bool]) -> CheckResult:
    runs = [
        explore(
            load_config(config_path),
            progress=False,
            reduce=options.get("reduce", False),
            symmetry=options.get("symmetry", False),
        )
        for _ in range(repeat)
    ]
    return min(runs, key=lambda r: r.elapsed_s)


def bench(config_path: str | Path = REFERENCE_A, repeat: int = 5) -> dict[str, float]:
    """Explore `config_path` in every mode; return and print the figures."""
    results = {name: _fastest(config_path, repeat, opts) for name, opts in MODES.items()}
    toy_states, toy_rate = max(
        (toy_bfs_states_per_s() for _ in range(repeat)), key=lambda figures: figures[1]
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full = results["no reduction"]
    figures: dict[str, float] = {
        "states": full.states,
        "edges": full.edges,
        "states_per_s": full.states_per_s,
        "toy_bfs_states": toy_states,
        "toy_bfs_states_per_s": toy_rate,
        "peak_rss_mib": peak_mib,
    }
    print(f"configuration: {config_path}")
    for name, result in results.items():
        factor = full.states / result.states
        key = name.replace(" ", "_")
        figures[f"{key}_states"] = result.states
        figures[f"{key}_factor"] = factor
        print(
            f"  {name + ':':<17} {result.states} states, {result.edges} edges, "
            f"{result.states_per_s:,.0f} states/s, x{factor:.2f} fewer states"
        )
    print(
        f"  toy dict BFS:     {toy_states} states, {toy_rate:,.0f} states/s "
        f"(unreduced search: {full.states_per_s / toy_rate:.3f}x of it)"
    )
    print(f"  peak RSS:         {peak_mib:.0f} MiB")
    return figures


if __name__ == "__main__":
    bench(sys.argv[1] if len(sys.argv) > 1 else REFERENCE_A)
