"""The simulator's speed against two baselines measured in the same run (issue 14).

`bench_simulator()` runs 4 KiB uniform random writes at a fixed IOPS onto a 64 GiB volume in
three cases: an active NOCOPY relationship (most writes copy-before-write: 3 device
accesses, real bytes), no relationship (1 device access), and a background copy at copy rate
100 beside the host writes. Each case is run by flashsim and by the BASELINE toy below (the
~60-line SimPy model a user would write instead: a bitmap, no bytes, no locks), and then bare
`simpy.PriorityResource` request/hold/release cycles; it prints host I/Os per CPU second,
flashsim's ratio to the toy, and flashsim's simulated device accesses per CPU second against
the bare cycles (one cycle = one device access). CPU seconds (`time.process_time`), not wall
seconds: the machine may be shared. Not a pass/fail test: machines are noisy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from flashsim.sim.engine import simulate
from flashsim.sim.scenario import loads
from flashsim.sim.scenario.units import GIB, KIB, MIB, svc_copy_rate_bytes_s

# The scenario's figures, shared by flashsim's scenario text and the toy.
LATENCY_MS = 0.5
BANDWIDTH_MIB_S = 500
PARALLELISM = 32
VOLUME_GIB = 64
TRACK_KIB = 64
BLOCK = 4 * KIB
COPY_RATE = 100  # SVC scale: 64 MiB/s

ARRAY = f"""
[run]
duration_s = {{duration_s}}
records = false
plots = false
[[array]]
name = "a0"
read_latency_ms = {LATENCY_MS}
write_latency_ms = {LATENCY_MS}
bandwidth_mib_s = {BANDWIDTH_MIB_S}
parallelism = {PARALLELISM}
[[volume]]
name = "A"
size_gib = {VOLUME_GIB}
track_size_kib = {TRACK_KIB}
array = "a0"
[[volume]]
name = "B"
size_gib = {VOLUME_GIB}
track_size_kib = {TRACK_KIB}
array = "a0"
"""
RELATIONSHIP = """[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0
"""
WORKLOAD = """[[workload]]
volume = "A"
rw = "{rw}"
bs = "4k"
rate_iops = {rate_iops}
start_s = 0.001
"""
#: The cases: (label, relationship lines or None, toy case).
CASES = (
    ("NOCOPY, copy-before-write", "background_copy = false\n", "cow"),
    ("no relationship", None, "none"),
    (f"background copy at rate {COPY_RATE} + host", f"copy_rate = {COPY_RATE}\n", "background"),
)
#: Kept for callers of the old module: two volumes with a NOCOPY pair, 4 KiB random writes.
PAIR_SCENARIO = ARRAY + RELATIONSHIP + "background_copy = false\n"
SCENARIO = PAIR_SCENARIO + WORKLOAD.replace("{rw}", "randwrite")


def scenario_text(
    relationship: str | None, duration_s: float, rate_iops: int, rw: str = "randwrite"
) -> str:
    text = ARRAY.format(duration_s=duration_s)
    if relationship is not None:
        text += RELATIONSHIP + relationship
    return text + WORKLOAD.format(rw=rw, rate_iops=rate_iops)


def bare_simpy_cycles_per_s(cycles: int, capacity: int = 32, hold_s: float = 0.0005) -> float:
    """Request/hold/release cycles of a PriorityResource by `capacity` looping processes, per
    CPU second."""
    env = simpy.Environment()
    resource = simpy.PriorityResource(env, capacity)
    per_process = max(1, cycles // capacity)

    def user() -> simpy.events.ProcessGenerator:
        for _ in range(per_process):
            request = resource.request(0)
            yield request
            yield env.timeout(hold_s)
            resource.release(request)

    for _ in range(capacity):
        env.process(user())
    start = time.process_time()
    env.run()
    return per_process * capacity / max(time.process_time() - start, 1e-9)


# ===========================================================================================
# BASELINE: the hand-written toy (issue 14). Not flashsim: the model a user would write in an
# afternoon instead, to compare flashsim's speed with. A bytearray of tracks still to copy;
# a host write to a track whose bit is set costs a device read and a device write (the copy),
# clears the bit, then writes; anything else is one device access. Devices are
# simpy.PriorityResource slots with the scenario's service times. No bytes, no locks.
# ===========================================================================================
def toy_host_ios_per_s(
    case: str, duration_s: float, rate_iops: int, seed: int = 1
) -> tuple[float, int]:
    """(host I/Os per CPU second, host I/Os) of the toy for `case` ("cow", "none" or
    "background")."""
    env = simpy.Environment()
    array = simpy.PriorityResource(env, PARALLELISM)
    track = TRACK_KIB * KIB
    tracks = VOLUME_GIB * GIB // track
    to_copy = bytearray(tracks) if case == "none" else bytearray(b"\x01") * tracks
    latency_s, s_per_byte = LATENCY_MS / 1000, 1 / (BANDWIDTH_MIB_S * MIB)
    rng = np.random.default_rng(seed)
    done = [0]

    def access(nbytes: int, priority: int) -> Generator[simpy.Event, Any, None]:
        with array.request(priority) as request:
            yield request
            yield env.timeout(latency_s + nbytes * s_per_byte)

    def host_write(offset: int) -> Generator[simpy.Event, Any, None]:
        t = offset // track
        if to_copy[t]:
            yield from access(track, 0)  # read the old track
            yield from access(track, 0)  # write it to the target
            to_copy[t] = 0
        yield from access(BLOCK, 0)
        done[0] += 1

    def arrivals() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(0.001)
        while True:
            gaps = rng.exponential(1 / rate_iops, 4096).tolist()
            blocks = rng.integers(0, VOLUME_GIB * GIB // BLOCK, 4096).tolist()
            for gap, block in zip(gaps, blocks, strict=True):
                yield env.timeout(gap)
                env.process(host_write(block * BLOCK))

    def background() -> Generator[simpy.Event, Any, None]:
        rate = svc_copy_rate_bytes_s(COPY_RATE)
        extent = max(1, int(rate * 0.05) // track)  # flashsim's default extent
        pos, ready = 0, 0.0
        while (pos := to_copy.find(1, pos)) >= 0:
            end = min(pos + extent, tracks)
            n = to_copy.count(1, pos, end)
            start = env.now
            yield from access(n * track, 1)
            yield from access(n * track, 1)
            to_copy[pos:end] = bytes(end - pos)
            ready = max(ready, start) + n * track / rate
            if ready > env.now:
                yield env.timeout(ready - env.now)

    env.process(arrivals())
    if case == "background":
        env.process(background())
    start = time.process_time()
    env.run(until=duration_s)
    return done[0] / max(time.process_time() - start, 1e-9), done[0]


# ===========================================================================================


def _flashsim(text: str) -> tuple[float, int, int, int]:
    """(host I/Os per CPU second, host I/Os, copy-before-writes, device accesses)."""
    scenario = loads(text, "bench.toml")
    start = time.process_time()
    result = simulate(scenario)
    cpu = max(time.process_time() - start, 1e-9)
    rel = result.relationships.get("r1")
    accesses = sum(sum(a.ios.values()) for a in result.arrays.values())
    result.close()
    return result.host_ios / cpu, result.host_ios, rel.cow_copies if rel else 0, accesses


def bench_simulator(
    duration_s: float = 4.0, rate_iops: int = 5000, repeat: int = 1
) -> dict[str, float]:
    """flashsim against the toy (host I/Os per CPU s) and bare SimPy (device accesses per CPU
    s) in the three cases, all in this run; returns the figures by name. With `repeat` > 1
    each rate is the best of that many runs, flashsim's and the toy's alternating (the least
    disturbed by other load on the machine)."""
    figures: dict[str, float] = {}
    lines = []
    runs = []
    for label, relationship, case in CASES:
        text = scenario_text(relationship, duration_s, rate_iops)
        ios_per_s = toy_per_s = 0.0
        for _ in range(repeat):
            rate, ios, cows, accesses = _flashsim(text)
            ios_per_s = max(ios_per_s, rate)
            toy_rate, toy_ios = toy_host_ios_per_s(case, duration_s, rate_iops)
            toy_per_s = max(toy_per_s, toy_rate)
        runs.append((label, case, ios_per_s, ios, cows, accesses, toy_per_s, toy_ios))
    reads_text = scenario_text(None, duration_s, rate_iops, "randread")
    reads_per_s = 0.0
    for _ in range(repeat):
        rate, reads, _, _ = _flashsim(reads_text)
        reads_per_s = max(reads_per_s, rate)
    total_accesses = sum(r[5] for r in runs)
    cycles = max(PARALLELISM, total_accesses // len(runs))
    cycles_per_s = max(bare_simpy_cycles_per_s(cycles) for _ in range(repeat))
    figures["bare_simpy_cycles_per_s"] = cycles_per_s
    for label, case, ios_per_s, ios, cows, accesses, toy_per_s, toy_ios in runs:
        accesses_per_s = ios_per_s * accesses / max(ios, 1)
        figures[f"{case}_host_ios"] = float(ios)
        figures[f"{case}_cow_copies"] = float(cows)
        figures[f"{case}_host_ios_per_cpu_s"] = ios_per_s
        figures[f"{case}_toy_host_ios_per_cpu_s"] = toy_per_s
        figures[f"{case}_ratio_to_toy"] = ios_per_s / toy_per_s
        figures[f"{case}_device_accesses_per_cpu_s"] = accesses_per_s
        figures[f"{case}_ratio_to_bare_simpy"] = accesses_per_s / cycles_per_s
        lines.append(
            f"{label}: flashsim {ios_per_s:,.0f} host I/Os per CPU s ({ios:,} I/Os, {cows:,} "
            f"copied before write, {accesses / max(ios, 1):.2f} device accesses each); "
            f"BASELINE toy {toy_per_s:,.0f}/s ({toy_ios:,} I/Os): {ios_per_s / toy_per_s:.2f}x "
            f"the toy (goal >= 1x); {accesses_per_s:,.0f} device accesses per CPU s: "
            f"{accesses_per_s / cycles_per_s:.3f}x bare SimPy (goal >= 0.5x)"
        )
    figures["reads_no_relationship_per_cpu_s"] = reads_per_s
    figures["reads_ratio_to_bare_simpy"] = reads_per_s / cycles_per_s
    # kept names: the NOCOPY case against bare SimPy per host I/O, as before issue 14
    figures["host_ios"] = figures["cow_host_ios"]
    figures["cow_copies"] = figures["cow_cow_copies"]
    figures["sim_host_ios_per_wall_s"] = figures["cow_host_ios_per_cpu_s"]
    figures["ratio"] = figures["cow_ratio_to_bare_simpy"]
    best = f", best of {repeat} runs each" if repeat > 1 else ""
    print(
        f"4 KiB random writes at {rate_iops:,} IOPS on a {VOLUME_GIB} GiB volume, "
        f"{duration_s:g} s simulated, real bytes, full semantics{best}:\n  "
        + "\n  ".join(lines)
        + f"\n  for contrast, 4 KiB random reads, no relationship: {reads_per_s:,.0f}/s "
        f"({reads:,} I/Os; {reads_per_s / cycles_per_s:.3f}x bare SimPy)\n"
        f"bare SimPy PriorityResource request/hold/release: {cycles_per_s:,.0f} cycles per CPU s"
    )
    return figures


def _child(case: str, duration_s: float, rate_iops: int, toy: bool) -> None:
    """One run in a child process (`bench_instructions`): prints its host I/Os."""
    relationship = next(c[1] for c in CASES if c[2] == case)
    if toy:
        print(toy_host_ios_per_s(case, duration_s, rate_iops)[1])
    else:
        print(_flashsim(scenario_text(relationship, duration_s, rate_iops))[1])


def _instructions(case: str, duration_s: float, rate_iops: int, toy: bool) -> tuple[int, int]:
    """(instructions, host I/Os) of one child run under valgrind's callgrind."""
    code = (
        "from flashsim.bench.simulator import _child; "
        f"_child({case!r}, {duration_s!r}, {rate_iops!r}, {toy!r})"
    )
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*command, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if collected is None:
        raise RuntimeError(f"callgrind printed no count: {done.stderr[-500:]}")
    return int(collected.group(1)), int(done.stdout.split()[-1])


def bench_instructions(
    durations: tuple[float, float] = (0.2, 1.0), rate_iops: int = 5000
) -> dict[str, float]:
    """Instructions per simulated host I/O of flashsim and of the BASELINE toy in the three
    cases, counted by valgrind (callgrind) in child processes: a figure the machine's load
    cannot move. Each is the difference of a short and a longer run (so start-up cancels),
    divided by the difference of their host I/Os. Slow (minutes); `--only instructions`."""
    if shutil.which("valgrind") is None:
        print("instructions: skipped, valgrind is not installed (Debian package valgrind)")
        return {}
    figures: dict[str, float] = {}
    lines = []
    for label, _, case in CASES:
        per_io = {}
        for toy in (False, True):
            (i0, n0), (i1, n1) = (_instructions(case, d, rate_iops, toy) for d in durations)
            per_io[toy] = (i1 - i0) / max(n1 - n0, 1)
        figures[f"{case}_instructions_per_io"] = per_io[False]
        figures[f"{case}_toy_instructions_per_io"] = per_io[True]
        figures[f"{case}_instructions_ratio"] = per_io[True] / per_io[False]
        lines.append(
            f"{label}: flashsim {per_io[False]:,.0f} instructions per host I/O, BASELINE toy "
            f"{per_io[True]:,.0f}: {per_io[True] / per_io[False]:.2f}x the toy's rate "
            "(goal >= 1x)"
        )
    print(
        f"instructions per host I/O (valgrind callgrind; runs of {durations[0]:g} s and "
        f"{durations[1]:g} s at {rate_iops:,} IOPS, the difference):\n  " + "\n  ".join(lines)
    )
    return figures


if __name__ == "__main__":
    bench_simulator()
