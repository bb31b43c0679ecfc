"""The simulator's speed against bare SimPy, measured in the same run (issue 4, Performance).

`bench_simulator()` runs 4 KiB uniform random writes at a fixed IOPS onto a 64 GiB source
with an active NOCOPY relationship (so most writes copy-before-write: 3 back-end I/Os, real
bytes), then the same number of bare `simpy.PriorityResource` request/hold/release cycles,
and returns both rates and their ratio. Not a pass/fail test: machines are noisy.
"""

from __future__ import annotations

import time

import simpy

from flashsim.sim.engine import simulate
from flashsim.sim.scenario import loads

#: Two 64 GiB volumes on one array with a NOCOPY pair established at 0 (a `{duration_s}` slot).
PAIR_SCENARIO = """
[run]
duration_s = {duration_s}
records = false
plots = false
[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 500
parallelism = 32
[[volume]]
name = "A"
size_gib = 64
array = "a0"
[[volume]]
name = "B"
size_gib = 64
array = "a0"
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0
background_copy = false
"""
SCENARIO = (
    PAIR_SCENARIO
    + """[[workload]]
volume = "A"
rw = "randwrite"
bs = "4k"
rate_iops = {rate_iops}
start_s = 0.001
"""
)


def bare_simpy_cycles_per_s(cycles: int, capacity: int = 32, hold_s: float = 0.0005) -> float:
    """Request/hold/release cycles of a PriorityResource by `capacity` looping processes."""
    env = simpy.Environment()
    resource = simpy.PriorityResource(env, capacity)
    per_process = cycles // capacity

    def user() -> simpy.events.ProcessGenerator:
        for _ in range(per_process):
            request = resource.request(0)
            yield request
            yield env.timeout(hold_s)
            resource.release(request)

    for _ in range(capacity):
        env.process(user())
    start = time.perf_counter()
    env.run()
    return per_process * capacity / (time.perf_counter() - start)


def _rate(text: str) -> tuple[float, int, int]:
    result = simulate(loads(text, "bench.toml"))
    return result.host_ios / result.wall_s, result.host_ios, result.relationships["r1"].cow_copies


def bench_simulator(duration_s: float = 4.0, rate_iops: int = 5000) -> dict[str, float]:
    """Simulated host I/Os per wall second vs bare SimPy cycles per second, same run.

    The headline is 4 KiB random writes with copy-before-write active on 64 KiB tracks (each
    such write is 3 back-end I/Os); for contrast, the same writes with no relationship and
    4 KiB random reads (1 back-end I/O each)."""
    text = SCENARIO.format(duration_s=duration_s, rate_iops=rate_iops)
    ios_per_s, ios, cows = _rate(text)
    later = text.replace("at_s = 0\n", f"at_s = {duration_s * 0.999}\n")  # effectively none
    plain_writes, _, _ = _rate(later)
    plain_reads, _, _ = _rate(later.replace('rw = "randwrite"', 'rw = "randread"'))
    cycles_per_s = bare_simpy_cycles_per_s(max(32, ios))
    figures = {
        "host_ios": float(ios),
        "cow_copies": float(cows),
        "sim_host_ios_per_wall_s": ios_per_s,
        "bare_simpy_cycles_per_s": cycles_per_s,
        "ratio": ios_per_s / cycles_per_s,
        "writes_no_relationship_per_wall_s": plain_writes,
        "reads_no_relationship_per_wall_s": plain_reads,
        "one_hour_5000_iops_wall_s_estimate": 3600 * 5000 / ios_per_s,
    }
    print(
        f"4 KiB random writes, COW active ({cows:,} of {ios:,} copied before write): "
        f"{ios_per_s:,.0f} host I/Os per wall s\n"
        f"bare SimPy PriorityResource request/hold/release: {cycles_per_s:,.0f} cycles per s\n"
        f"ratio {figures['ratio']:.3f}x (goal >= 0.5x); a 1-hour 5,000 IOPS run of such writes "
        f"would take ~{figures['one_hour_5000_iops_wall_s_estimate']:,.0f} s wall\n"
        f"for contrast, no relationship: writes {plain_writes:,.0f}/s "
        f"({plain_writes / cycles_per_s:.3f}x), reads {plain_reads:,.0f}/s "
        f"({plain_reads / cycles_per_s:.3f}x)"
    )
    return figures


if __name__ == "__main__":
    bench_simulator()
