"""Host workloads in simulated time: the issuers of each `[[workload]]` and one host I/O from
issue to completion.

A closed loop keeps `iodepth` issuers, each issuing its next I/O when the previous completes;
an open loop issues at Poisson arrivals of `rate_iops` whatever the latency; a trace replays
its records at their (scaled) times (open) or as fast as `iodepth` issuers allow (closed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from flashsim.sim.devices import HOST_PRIORITY, Array
from flashsim.sim.driver import Driver, Proc
from flashsim.sim.gates import Gates
from flashsim.sim.inputs.synthetic import BATCH, Workload
from flashsim.sim.scenario import WorkloadSpec

if TYPE_CHECKING:
    from flashsim.sim.cache import Controller

Payload = Callable[[int], bytes]


def payloads(workload: Workload) -> Payload:
    """Real bytes for writes: a per-workload random block, stamped with a counter (so no two
    writes of 8 bytes or more carry the same bytes). The block's tail of each length is cut
    once: a payload costs one copy, never per-byte Python work."""
    largest = int(workload.sizes.max())
    base = workload.rng.bytes(largest)
    tails: dict[int, bytes] = {}
    counter = [0]

    def make(length: int) -> bytes:
        counter[0] += 1
        if length < 8:
            return base[:length]
        tail = tails.get(length)
        if tail is None:
            tail = tails[length] = base[8:length]
        return counter[0].to_bytes(8, "little") + tail

    return make


class Host:
    """The host side of a run: I/O through the `driver`, waiting at closed `gates` (and, for
    writes, at `frozen` sources), each completion recorded by the driver's recorder; with a
    `controller`, every host I/O goes through its cache (`flashsim.sim.cache`)."""

    def __init__(
        self, driver: Driver, gates: Gates, frozen: Gates, controller: Controller | None = None
    ) -> None:
        self.env = driver.env
        self.system = driver.system
        self.drive = driver.drive
        self.array_of = driver.array_of
        self.record = driver.recorder.io
        self.gates = gates
        self.frozen = frozen
        self.controller = controller
        if controller is not None:
            self.io = self._cached_io  # type: ignore[method-assign]

    def start(self, index: int, spec: WorkloadSpec, rng: np.random.Generator) -> None:
        """Start the issuers of workload `index`, drawing from `rng`."""
        workload = Workload(spec, rng)
        payload = payloads(workload)
        process = self.env.process
        if spec.trace is not None and spec.trace.loop == "open":
            process(self._trace_open(index, spec, payload))
        elif spec.trace is not None:
            assert spec.iodepth is not None
            cursor = [0]
            for _ in range(spec.iodepth):
                process(self._trace_closed(index, spec, payload, cursor))
        elif spec.rate_iops is not None:
            process(self._open_loop(index, workload, payload))
        else:
            assert spec.iodepth is not None
            for _ in range(spec.iodepth):
                process(self._closed_loop(index, workload, payload))

    def _pass_gates(self, volume: str, is_read: bool) -> Proc:
        """Wait while a gate on `volume` is closed (for a write, also a freeze)."""
        while True:
            gate = self.gates.get(volume)
            if gate is None and not is_read:
                gate = self.frozen.get(volume)
            if gate is None:
                return
            yield gate[1]

    def io(self, index: int, volume: str, is_read: bool, offset: int, data: bytes | int) -> Proc:
        """One host I/O from issue to completion; recorded when it completes."""
        env = self.env
        issue = env.now
        if self.gates or self.frozen:
            yield from self._pass_gates(volume, is_read)
        system = self.system
        if is_read:
            length = data
            op = system.start_read(volume, offset, length)  # type: ignore[arg-type]
        else:
            length = len(data)  # type: ignore[arg-type]
            op = system.start_write(volume, offset, data)  # type: ignore[arg-type]
        yield from self.drive(op, HOST_PRIORITY)
        if op.error is not None and env.now == issue:
            # A rejected I/O is answered by the controller: it still takes the array's
            # latency (and so cannot spin a closed loop at one instant).
            arr: Array = self.array_of[volume]
            yield env.timeout(arr.read_latency_s if is_read else arr.write_latency_s)
        self.record(index, is_read, issue, env.now - issue, offset, length, op.error)  # type: ignore[arg-type]

    def _cached_io(
        self, index: int, volume: str, is_read: bool, offset: int, data: bytes | int
    ) -> Proc:
        """`io` through the controller's cache: the same gates, then the cache's read or
        write (a separate method, so that a run without a cache pays nothing for it)."""
        env = self.env
        issue = env.now
        if self.gates or self.frozen:
            yield from self._pass_gates(volume, is_read)
        controller = self.controller
        assert controller is not None
        if is_read:
            length = data
            op = yield from controller.read(volume, offset, length)  # type: ignore[arg-type]
        else:
            length = len(data)  # type: ignore[arg-type]
            op = yield from controller.write(volume, offset, data)  # type: ignore[arg-type]
        if op.error is not None and env.now == issue:
            yield env.timeout(controller.hit_s)  # rejected by the controller, from its cache
        self.record(index, is_read, issue, env.now - issue, offset, length, op.error)  # type: ignore[arg-type]

    def _closed_loop(self, index: int, workload: Workload, payload: Payload) -> Proc:
        env = self.env
        spec = workload.spec
        yield env.timeout(spec.start_s)
        stop = spec.stop_s
        volume = spec.volume
        limit = spec.io_limit_bytes
        while env.now < stop:
            if limit is not None and workload.issued_bytes >= limit:
                return  # time_based = false: one pass of `size` bytes is done
            is_read, offset, length = workload.next()
            workload.issued_bytes += length
            data: bytes | int = length if is_read else payload(length)
            yield from self.io(index, volume, is_read, offset, data)

    def _open_loop(self, index: int, workload: Workload, payload: Payload) -> Proc:
        env = self.env
        spec = workload.spec
        yield env.timeout(spec.start_s)
        stop = spec.stop_s
        volume = spec.volume
        process = env.process
        limit = spec.io_limit_bytes
        while True:
            for gap in workload.interarrivals(BATCH).tolist():
                yield env.timeout(gap)
                if env.now >= stop or (limit is not None and workload.issued_bytes >= limit):
                    return
                is_read, offset, length = workload.next()
                workload.issued_bytes += length
                data: bytes | int = length if is_read else payload(length)
                process(self.io(index, volume, is_read, offset, data))

    def _trace_open(self, index: int, spec: WorkloadSpec, payload: Payload) -> Proc:
        """A trace replayed open-loop: each I/O issued at start_s + its (scaled) time."""
        env = self.env
        assert spec.trace is not None
        rec = spec.trace.records
        at = (rec["time_s"] + spec.start_s).tolist()
        stop = spec.stop_s
        volume = spec.volume
        process = env.process
        for t, write, offset, length in zip(
            at, rec["write"].tolist(), rec["offset"].tolist(), rec["length"].tolist(), strict=True
        ):
            if t >= stop:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            data: bytes | int = payload(length) if write else length
            process(self.io(index, volume, not write, offset, data))

    def _trace_closed(
        self, index: int, spec: WorkloadSpec, payload: Payload, cursor: list[int]
    ) -> Proc:
        """One of `iodepth` issuers of a closed-loop trace replay: they share the `cursor`
        and each issues the next record as soon as its previous I/O completes."""
        env = self.env
        assert spec.trace is not None
        rec = spec.trace.records
        yield env.timeout(spec.start_s)
        stop = spec.stop_s
        volume = spec.volume
        total = len(rec)
        while env.now < stop and cursor[0] < total:
            i = cursor[0]
            cursor[0] += 1
            length = int(rec["length"][i])
            data: bytes | int = payload(length) if rec["write"][i] else length
            yield from self.io(index, volume, not rec["write"][i], int(rec["offset"][i]), data)
