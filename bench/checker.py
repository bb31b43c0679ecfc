"""Checker benchmark: distinct states per second on reference configuration (a) without
reduction, the states each reduction leaves (partial order, symmetry on data values, both;
symmetry on interchangeable volumes, and all three),
and a plain-dict BFS of a toy model as the same-run baseline. Prints figures; asserts nothing
about time. Each search runs `repeat` times (5); the fastest run counts (the machine is shared).

At scale (`bench_large`): `LARGE`, a configuration of over a million states, explored without
reduction in a child process (its memory per state from the child's resident memory), against
a BASELINE in the same run: a BFS over the same configuration's successor function
(`world.choices`, `world.transition`) with a plain set of states and nothing else (no
properties, no parent pointers, no edge memo). And the multi-core figure: the same list of
independent searches (every bundled configuration, correct and with every seeded bug) on one
worker and on every core (`flashsim.models.check.parallel`), swarm-style; and ONE search split
over every core (`flashsim.models.check.partition`) against the single-process search of the
same configuration (`bench_partitioned`).

    python -m flashsim.bench.checker [CONFIG.toml]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from flashsim.bundled import check_configs, root
from flashsim.models.check.config import CheckConfig, load_config, parse_config
from flashsim.models.check.explorer import CheckResult, explore
from flashsim.models.check.mutants import MUTANTS, design_of
from flashsim.models.check.parallel import default_workers, explore_all
from flashsim.models.check.world import choices, initial_world, transition

REFERENCE_A = root() / "check" / "a_pair.toml"

MODES: dict[str, dict[str, bool | str]] = {
    "no reduction": {},
    "partial order": {"reduce": True},
    "symmetry": {"symmetry": True},
    "both": {"reduce": True, "symmetry": True},
    "volume symmetry": {"symmetry": "volumes"},
    "all": {"reduce": True, "symmetry": "both"},  # partial order, data and volume symmetry
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


def _fastest(config_path: str | Path, repeat: int, options: dict[str, bool | str]) -> CheckResult:
    runs = [
        explore(
            load_config(config_path),
            progress=False,
            reduce=bool(options.get("reduce", False)),
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


def _write(volume: str, offset: int, data: str) -> dict[str, object]:
    return {"op": "write", "volume": volume, "offset": offset, "data": data}


def _read(volume: str, offset: int, length: int) -> dict[str, object]:
    return {"op": "read", "volume": volume, "offset": offset, "length": length}


def large_raw(readers: int = 5) -> dict[str, Any]:
    """Configuration (a) grown: one pair A->B of 3 tracks x 2 bytes with background copy, two
    source writers, two target writers, `readers` readers and the copier. The checker's
    bounds are raised to fit."""
    reads = [_read("B", 0, 6), _read("A", 0, 6), _read("B", 2, 4), _read("B", 0, 2),
             _read("A", 2, 2)][:readers]  # fmt: skip
    return {
        "check": {"description": "bench: (a) grown", "max_states": 5_000_000, "max_depth": 400},
        "volumes": [
            {"name": "A", "tracks": 3, "track_size_bytes": 2},
            {"name": "B", "tracks": 3, "track_size_bytes": 2},
        ],
        "setup": [
            _write("A", 0, "a0a1a2a3a4a5"),
            {"op": "establish", "id": "r1", "source": "A", "target": "B"},
        ],
        "processes": [
            {"name": "src_writer", "ops": [_write("A", 1, "51"), _write("A", 2, "5252")]},
            {"name": "src_writer2", "ops": [_write("A", 4, "7172"), _write("A", 0, "73")]},
            {"name": "tgt_writer", "ops": [_write("B", 0, "61"), _write("B", 2, "6262")]},
            {"name": "tgt_writer2", "ops": [_write("B", 4, "8182")]},
            *({"name": f"reader{i}", "ops": [op]} for i, op in enumerate(reads)),
            {"name": "copier", "copier": "r1"},
        ],
    }


def large_config(readers: int = 5) -> CheckConfig:
    return parse_config(large_raw(readers), f"bench:large({readers} readers)")


def baseline_bfs(config: CheckConfig) -> tuple[int, float]:
    """BASELINE: a plain BFS over the configuration's successor function, a set of states and
    a queue, nothing checked; (states, seconds)."""
    start = time.perf_counter()
    setting, world0 = initial_world(config)
    seen = {world0.ident_}
    frontier = deque([world0])
    while frontier:
        world = frontier.popleft()
        for proc in choices(world, setting):
            new = transition(world, setting, proc)[0]
            if new.ident_ not in seen:
                seen.add(new.ident_)
                frontier.append(new)
    return len(seen), time.perf_counter() - start


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _large_child(readers: int, what: str) -> dict[str, float]:
    """In a fresh process: the search (`explore`, progress on as `flashsim check` runs it) or
    the baseline on the large configuration, its time and the memory it added per state."""
    config = large_config(readers)
    before = _rss_kib("VmRSS")
    cpu = time.process_time()
    if what == "explore":
        result = explore(config)
        states, seconds, edges = result.states, result.elapsed_s, result.edges
        notes = result.notes
    elif what == "single":  # as the partitioned search runs: no graph kept
        result = explore(config, progress=False)
        states, seconds, edges = result.states, result.elapsed_s, result.edges
        notes = result.notes
    elif what.startswith("partitioned"):
        from flashsim.models.check.partition import explore_partitioned

        result = explore_partitioned(config, workers=int(what.split(":")[1]))
        states, seconds, edges = result.states, result.elapsed_s, result.edges
        notes = [*result.notes, *(f"worker CPU {cpu:.2f} s" for cpu in result.worker_cpu_s)]
    else:
        (states, seconds), edges, notes = baseline_bfs(config), 0, []
    peak = _rss_kib("VmHWM")
    return {
        "states": states,
        "edges": edges,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,  # this process's own: the machine is shared
        "bytes_per_state": (peak - before) * 1024 / states,
        "peak_mib": peak / 1024,
        "notes": notes,  # type: ignore[dict-item]
    }


def _in_child(readers: int, what: str) -> dict[str, Any]:
    code = (
        "import json, sys\n"
        "from flashsim.bench.checker import _large_child\n"
        f"print(json.dumps(_large_child({readers}, {what!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def bench_large(readers: int = 5) -> dict[str, float]:
    """The search at scale against the BASELINE (same run), each in a child of its own."""
    ours = _in_child(readers, "explore")
    base = _in_child(readers, "baseline")
    toy_states, toy_rate = toy_bfs_states_per_s()
    rate = ours["states"] / ours["seconds"]
    base_rate = base["states"] / base["seconds"]
    print(f"configuration: bench large ({readers} readers), no reduction, progress analysis on")
    print(
        f"  search:           {ours['states']:,} states, {ours['edges']:,} edges, "
        f"{ours['seconds']:.1f} s, {rate:,.0f} states/s, "
        f"{ours['bytes_per_state']:,.0f} bytes/state (peak {ours['peak_mib']:,.0f} MiB); "
        f"CPU {ours['cpu_seconds']:.1f} s, {ours['states'] / ours['cpu_seconds']:,.0f} states "
        f"per CPU second"
    )
    for note in ours["notes"]:
        print(f"    note: {note}")
    print(
        f"  BASELINE BFS:     {base['states']:,} states, {base['seconds']:.1f} s, "
        f"{base_rate:,.0f} states/s, {base['bytes_per_state']:,.0f} bytes/state "
        f"(plain set + queue over the same successor function; search: "
        f"{rate / base_rate:.2f}x of it)"
    )
    print(
        f"  toy dict BFS:     {toy_states} states, {toy_rate:,.0f} states/s "
        f"(the CPython ceiling with trivial states; search: {rate / toy_rate:.3f}x of it)"
    )
    return {
        "states": ours["states"],
        "states_per_s": rate,
        "states_per_cpu_s": ours["states"] / ours["cpu_seconds"],
        "bytes_per_state": ours["bytes_per_state"],
        "baseline_states": base["states"],
        "baseline_states_per_s": base_rate,
        "baseline_bytes_per_state": base["bytes_per_state"],
        "toy_bfs_states_per_s": toy_rate,
    }


def bench_partitioned(readers: int = 4, workers: int | None = None) -> dict[str, float]:
    """One search split over `workers` processes (every core; `partition`) against the
    single-process search of the same configuration without a graph, each in a child of its
    own (the partitioned one's workers are its children; its memory is not measured)."""
    workers = workers or max(default_workers(), 2)
    single = _in_child(readers, "single")
    split = _in_child(readers, f"partitioned:{workers}")
    same = (single["states"], single["edges"]) == (split["states"], split["edges"])
    speed_up = single["seconds"] / split["seconds"]
    print(
        f"configuration: bench large ({readers} readers), no reduction, no graph: one search "
        f"on 1 process {single['seconds']:.1f} s ({single['states']:,} states, "
        f"{single['edges']:,} edges), partitioned over {workers} processes "
        f"{split['seconds']:.1f} s ({split['states']:,} states, {split['edges']:,} edges"
        f"{', the same' if same else ', DIFFERENT'}): speed-up x{speed_up:.2f}"
    )
    cpus = [float(n.split()[2]) for n in split["notes"] if n.startswith("worker CPU")]
    cpu_speed_up = single["cpu_seconds"] / max(cpus)
    print(
        f"  CPU: one process {single['cpu_seconds']:.1f} s; the partitioned workers "
        + ", ".join(f"{cpu:.2f} s" for cpu in cpus)
        + f" (one process's CPU over the busiest worker's: x{cpu_speed_up:.2f}"
        ", the speed-up idle cores would allow, coordination aside; all the workers' CPU over"
        f" one process's: x{sum(cpus) / single['cpu_seconds']:.2f}, the work the split adds)"
    )
    return {
        "states": split["states"],
        "workers": workers,
        "speed_up": speed_up,
        "cpu_speed_up": cpu_speed_up,
        "same": same,
    }


def bench_workers(
    configs: list[Path] | None = None, workers: int | None = None
) -> dict[str, float]:
    """The same independent searches (every configuration, correct and with every seeded bug)
    on one worker and on `workers` (every core); the speed-up."""
    loaded = [load_config(p) for p in (configs if configs is not None else check_configs())]
    # each mutant on the configurations of its profile (a profile's seeded bugs are its own)
    jobs: list[tuple[CheckConfig, str | None]] = [
        (c, m)
        for c in loaded
        for m in (None, *MUTANTS)
        if m is None or design_of(m) == c.profile.design
    ]
    workers = workers or default_workers()
    start = time.perf_counter()
    one = explore_all(jobs, 1)
    one_s = time.perf_counter() - start
    start = time.perf_counter()
    many = explore_all(jobs, workers)
    many_s = time.perf_counter() - start
    assert [r.states for r in one] == [r.states for r in many]  # the same searches
    states = sum(r.states for r in one)
    print(
        f"  {len(jobs)} searches ({states:,} states): 1 worker {one_s:.1f} s, {workers} workers "
        f"{many_s:.1f} s, speed-up x{one_s / many_s:.2f}"
    )
    return {"searches": len(jobs), "workers": workers, "speed_up": one_s / many_s}


if __name__ == "__main__":
    bench(sys.argv[1] if len(sys.argv) > 1 else REFERENCE_A)
