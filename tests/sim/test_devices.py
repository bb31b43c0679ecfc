"""Back-end arrays serve I/O by priority, then arrival, on a fixed number of slots."""

from __future__ import annotations

import simpy

from flashsim.sim.devices import BACKGROUND_PRIORITY, HOST_PRIORITY, Array
from flashsim.sim.scenario import ArraySpec


def _serve(parallelism: int, preemptive: bool = False) -> list[tuple[str, float]]:
    """A background I/O holds the slots first; then a background, a host and a host I/O
    arrive 0.1 s apart, each 1 s of service (1,000 ms latency, no transfer time)."""
    env = simpy.Environment()
    spec = ArraySpec("a0", 1000.0, 1000.0, 1e12, parallelism, preemptive)
    array = Array(env, spec)
    done: list[tuple[str, float]] = []

    def io(name: str, at: float, priority: int):
        yield env.timeout(at)
        yield from array.io(True, 0, "host", priority)
        done.append((name, round(env.now, 6)))

    for name, at, priority in (
        ("first", 0.0, BACKGROUND_PRIORITY),
        ("background", 0.1, BACKGROUND_PRIORITY),
        ("host1", 0.2, HOST_PRIORITY),
        ("host2", 0.3, HOST_PRIORITY),
    ):
        env.process(io(name, at, priority))
    env.run()
    return done


def test_a_freed_slot_goes_to_the_host_first_then_by_arrival():
    assert _serve(1) == [("first", 1.0), ("host1", 2.0), ("host2", 3.0), ("background", 4.0)]


def test_free_slots_serve_at_once_and_busy_time_is_counted():
    assert _serve(4) == [("first", 1.0), ("background", 1.1), ("host1", 1.2), ("host2", 1.3)]


def test_a_preemptive_array_interrupts_background_for_the_host():
    # one slot: host1 preempts "first" at 0.2 (0.8 s left); the background I/Os then go in
    # arrival order of their (re)requests: "background" (0.1), then "first" (0.2)
    assert _serve(1, preemptive=True) == [
        ("host1", 1.2), ("host2", 2.2), ("background", 3.2), ("first", 4.0),
    ]  # fmt: skip
    # two slots: each host I/O preempts a background one, which resume as the hosts finish
    assert _serve(2, preemptive=True) == [
        ("host1", 1.2), ("host2", 1.3), ("first", 2.0), ("background", 2.1),
    ]  # fmt: skip
