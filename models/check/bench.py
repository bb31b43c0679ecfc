"""Checker benchmark: distinct states per second on reference configuration (a), without and
with the partial-order reduction, and a plain-dict BFS of a toy model as the same-run
baseline. Prints figures; asserts nothing about time.

    python -m models.check.bench [CONFIG.toml]
"""

from __future__ import annotations

import resource
import sys
import time
from collections import deque
from pathlib import Path

from models.check.config import load_config
from models.check.explorer import explore

REFERENCE_A = Path(__file__).resolve().parents[2] / "scenarios" / "check" / "a_pair.toml"


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


def bench(config_path: str | Path = REFERENCE_A) -> dict[str, float]:
    """Explore `config_path` without and with reduction; return and print the figures."""
    config = load_config(config_path)
    full = explore(config, progress=False)
    reduced = explore(config, progress=False, reduce=True)
    toy_states, toy_rate = toy_bfs_states_per_s()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "states": full.states,
        "edges": full.edges,
        "states_per_s": full.states_per_s,
        "reduced_states": reduced.states,
        "reduced_states_per_s": reduced.states_per_s,
        "reduction_factor": full.states / reduced.states,
        "toy_bfs_states": toy_states,
        "toy_bfs_states_per_s": toy_rate,
        "peak_rss_mib": peak_mib,
    }
    print(f"configuration: {config.path}")
    rate = full.states_per_s
    print(f"  no reduction:     {full.states} states, {full.edges} edges, {rate:,.0f} states/s")
    print(
        f"  partial order:    {reduced.states} states, {reduced.edges} edges, "
        f"{reduced.states_per_s:,.0f} states/s (x{figures['reduction_factor']:.2f} fewer states)"
    )
    print(f"  toy dict BFS:     {toy_states} states, {toy_rate:,.0f} states/s (same run)")
    print(f"  peak RSS:         {peak_mib:.0f} MiB")
    return figures


if __name__ == "__main__":
    bench(sys.argv[1] if len(sys.argv) > 1 else REFERENCE_A)
