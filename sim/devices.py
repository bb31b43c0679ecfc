"""Back-end arrays: priority queues of I/O slots with a parallelism and a service time.

Service time of one back-end I/O = the array's latency for its direction + bytes / bandwidth
(`bandwidth_mib_s` is the transfer rate of one I/O slot; an array of parallelism P moves at
most P x bandwidth). Host I/O (priority 0) is served before background copy (priority 1);
service is non-preemptive unless the array says `preemptive = true`, in which case a host
request interrupts a background transfer, which then waits and serves the remaining time.

With `service_time` other than "fixed" the latency of each I/O is drawn from the array's
distribution (`flashsim.sim.service_time`), read and write from their own child streams of
the array's seed; the transfer time stays bytes / bandwidth.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from flashsim.sim.scenario import MIB, ArraySpec
from flashsim.sim.service_time import latency_stream

HOST_PRIORITY, BACKGROUND_PRIORITY = 0, 1
KINDS = ("host", "copy_before_write", "target_precopy", "redirected", "background", "rule0")
#: Kinds only one profile issues, reported when used: redirect-on-write's block-map updates
#: and the reads of the old blocks partial writes merge; an svc stop's cleaning copies.
PROFILE_KINDS = ("row_remap", "row_merge", "cleaning")


class Array:
    """One back-end array: a resource plus counters of busy time and I/O by kind."""

    def __init__(
        self, env: simpy.Environment, spec: ArraySpec, seed: np.random.SeedSequence | None = None
    ) -> None:
        self.env = env
        self.spec = spec
        self.preemptive = spec.preemptive
        if spec.preemptive:
            self.resource: simpy.PriorityResource = simpy.PreemptiveResource(env, spec.parallelism)
        # Non-preemptive arrays count their free slots and queue waiters by (priority, arrival)
        # themselves, as simpy.PriorityResource does, without a Request and a Release event per
        # I/O: a back-end I/O on a free slot costs one timeout.
        self._free = spec.parallelism
        self._waiting: list[tuple[int, int, simpy.Event]] = []
        self._arrivals = 0
        self.read_latency_s = spec.read_latency_ms / 1000.0
        self.write_latency_s = spec.write_latency_ms / 1000.0
        self.seconds_per_byte = 1.0 / (spec.bandwidth_mib_s * MIB)
        self.busy_s = 0.0
        self.ios = dict.fromkeys(KINDS + PROFILE_KINDS, 0)
        self.bytes = dict.fromkeys(KINDS + PROFILE_KINDS, 0)
        if spec.service_time != "fixed":
            if seed is None:
                raise ValueError(
                    f"array {spec.name}: service_time {spec.service_time} needs a seed"
                )
            read_seed, write_seed = seed.spawn(2)
            self._read_latency = latency_stream(
                spec.service_time,
                self.read_latency_s,
                spec.service_time_cv,
                spec.read_percentiles,
                np.random.default_rng(read_seed),
            )
            self._write_latency = latency_stream(
                spec.service_time,
                self.write_latency_s,
                spec.service_time_cv,
                spec.write_percentiles,
                np.random.default_rng(write_seed),
            )
            # An instance attribute shadows the fixed method: `io` stays as it was for the
            # default, and a drawn service time costs one call more.
            self.service_s = self._drawn_service_s  # type: ignore[method-assign]

    def _drawn_service_s(self, write: bool, nbytes: int) -> float:
        latency = self._write_latency() if write else self._read_latency()
        return latency + nbytes * self.seconds_per_byte

    def service_s(self, write: bool, nbytes: int) -> float:
        latency = self.write_latency_s if write else self.read_latency_s
        return latency + nbytes * self.seconds_per_byte

    def charge(self, write: bool, nbytes: int, kind: str) -> float:
        """Count one back-end I/O and return its service time (drawn now, at its issue)."""
        service = self.service_s(write, nbytes)
        self.ios[kind] += 1
        self.bytes[kind] += nbytes
        self.busy_s += service
        return service

    def acquire(self, priority: int) -> simpy.Event | None:
        """A slot of a non-preemptive array: None if one was free (it is taken), else the
        event by which the I/O that frees one hands it over, in (priority, arrival) order.
        The I/O then holds it for `env.timeout(service)` and calls `release`: the driver
        inlines `io` this way (one generator less per back-end I/O, the same events)."""
        if self._free:
            self._free -= 1
            return None
        turn = self.env.event()
        heapq.heappush(self._waiting, (priority, self._arrivals, turn))
        self._arrivals += 1
        return turn

    def release(self) -> None:
        """Hand the slot to the first waiter, or free it."""
        if self._waiting:
            heapq.heappop(self._waiting)[2].succeed()
        else:
            self._free += 1

    def io(
        self, write: bool, nbytes: int, kind: str, priority: int
    ) -> Generator[simpy.Event, Any, None]:
        """One back-end I/O: queue, then hold a slot for its service time."""
        service = self.charge(write, nbytes, kind)
        env = self.env
        if not self.preemptive:
            turn = self.acquire(priority)
            if turn is not None:
                yield turn  # the slot is handed over by the I/O that frees it
            yield env.timeout(service)
            self.release()
            return
        resource = self.resource
        left = service
        while left > 0:
            request = resource.request(priority, preempt=priority == HOST_PRIORITY)  # type: ignore[call-arg]
            yield request
            started = env.now
            try:
                yield env.timeout(left)
                left = 0.0
            except simpy.Interrupt:
                left -= env.now - started
            resource.release(request)
