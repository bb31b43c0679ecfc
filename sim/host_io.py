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
import simpy

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
    `controller`, every host I/O goes through its cache (`flashsim.sim.cache`).

    A host I/O is no SimPy process: it is issued by a call (`issue`) and goes on by the
    callbacks of the events it waits on (`Driver.start`); a closed loop issues its next I/O
    from the completion of the previous one. Through a cache, an I/O is a process
    (`_cached_io`)."""

    def __init__(
        self, driver: Driver, gates: Gates, frozen: Gates, controller: Controller | None = None
    ) -> None:
        self.env = driver.env
        self.system = driver.system
        self.drive = driver.start
        self.array_of = driver.array_of
        self.record = driver.recorder.io
        self.gates = gates
        self.frozen = frozen
        self.controller = controller
        if controller is not None:
            self.issue = self._issue_cached  # type: ignore[method-assign]

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

    def _gate(self, volume: str, is_read: bool) -> simpy.Event | None:
        """The event of a closed gate on `volume` (for a write, also a freeze), or None."""
        gate = self.gates.get(volume)
        if gate is None and not is_read:
            gate = self.frozen.get(volume)
        return None if gate is None else gate[1]

    def issue(
        self,
        index: int,
        volume: str,
        is_read: bool,
        offset: int,
        data: bytes | int,
        *,
        then: Callable[[], object] | None = None,
        issued: float | None = None,
    ) -> None:
        """Issue one host I/O now (issued at `issued`, if it waited at a gate); it is recorded
        when it completes, then `then()` is called."""
        issue = self.env.now if issued is None else issued
        if self.gates or self.frozen:
            gate = self._gate(volume, is_read)
            if gate is not None:
                gate.callbacks.append(
                    lambda _: self.issue(
                        index, volume, is_read, offset, data, then=then, issued=issue
                    )
                )
                return
        system = self.system
        if is_read:
            length = data
            op = system.start_read(volume, offset, length)  # type: ignore[arg-type]
        else:
            length = len(data)  # type: ignore[arg-type]
            op = system.start_write(volume, offset, data)  # type: ignore[arg-type]

        env = self.env
        record = self.record

        def done() -> None:
            if op.error is not None and env.now == issue:
                # A rejected I/O is answered by the controller: it still takes the array's
                # latency (and so cannot spin a closed loop at one instant).
                arr: Array = self.array_of[volume]
                latency = arr.read_latency_s if is_read else arr.write_latency_s
                env.timeout(latency).callbacks.append(lambda _: finish())
                return
            finish()

        def finish() -> None:
            record(index, is_read, issue, env.now - issue, offset, length, op.error)  # type: ignore[arg-type]
            if then is not None:
                then()

        if self.drive(op, HOST_PRIORITY, done):
            done()

    def _issue_cached(
        self,
        index: int,
        volume: str,
        is_read: bool,
        offset: int,
        data: bytes | int,
        *,
        then: Callable[[], object] | None = None,
    ) -> None:
        """`issue` through the controller's cache: a process of `_cached_io`."""
        process = self.env.process(self._cached_io(index, volume, is_read, offset, data))
        if then is not None:
            process.callbacks.append(lambda _: then())

    def _pass_gates(self, volume: str, is_read: bool) -> Proc:
        """Wait while a gate on `volume` is closed (for a write, also a freeze)."""
        while (gate := self._gate(volume, is_read)) is not None:
            yield gate

    def _cached_io(
        self, index: int, volume: str, is_read: bool, offset: int, data: bytes | int
    ) -> Proc:
        """One host I/O through the controller's cache: the same gates, then the cache's read
        or write (a separate method, so that a run without a cache pays nothing for it)."""
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
        """One issuer of a closed loop: from `start_s`, each I/O issued as the previous one
        completes, until `stop_s` (or `size` bytes, time_based = false)."""
        env = self.env
        spec = workload.spec
        yield env.timeout(spec.start_s)
        stop = spec.stop_s
        volume = spec.volume
        limit = spec.io_limit_bytes
        issue = self.issue

        def next_io() -> None:
            if env.now >= stop:
                return
            if limit is not None and workload.issued_bytes >= limit:
                return  # time_based = false: one pass of `size` bytes is done
            is_read, offset, length = workload.next()
            workload.issued_bytes += length
            data: bytes | int = length if is_read else payload(length)
            issue(index, volume, is_read, offset, data, then=next_io)

        next_io()

    def _open_loop(self, index: int, workload: Workload, payload: Payload) -> Proc:
        """An open loop from `start_s`: each arrival is the callback of the timeout of the gap
        before it (no process resumed per I/O), until `stop_s` (or `size` bytes)."""
        env = self.env
        spec = workload.spec
        yield env.timeout(spec.start_s)
        stop = spec.stop_s
        volume = spec.volume
        issue = self.issue
        limit = spec.io_limit_bytes
        timeout = env.timeout
        gaps: list[float] = []

        def arrive(_: object) -> None:
            if env.now >= stop or (limit is not None and workload.issued_bytes >= limit):
                return
            is_read, offset, length = workload.next()
            workload.issued_bytes += length
            issue(index, volume, is_read, offset, length if is_read else payload(length))
            wait()

        def wait() -> None:
            nonlocal gaps
            if not gaps:
                gaps = workload.interarrivals(BATCH).tolist()
                gaps.reverse()  # taken from the end, in drawing order
            timeout(gaps.pop()).callbacks.append(arrive)

        wait()

    def _trace_open(self, index: int, spec: WorkloadSpec, payload: Payload) -> Proc:
        """A trace replayed open-loop: each I/O issued at start_s + its (scaled) time."""
        env = self.env
        assert spec.trace is not None
        rec = spec.trace.records
        at = (rec["time_s"] + spec.start_s).tolist()
        stop = spec.stop_s
        volume = spec.volume
        issue = self.issue
        for t, write, offset, length in zip(
            at, rec["write"].tolist(), rec["offset"].tolist(), rec["length"].tolist(), strict=True
        ):
            if t >= stop:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            data: bytes | int = payload(length) if write else length
            issue(index, volume, not write, offset, data)

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
        issue = self.issue

        def next_io() -> None:
            if env.now >= stop or cursor[0] >= total:
                return
            i = cursor[0]
            cursor[0] += 1
            length = int(rec["length"][i])
            data: bytes | int = payload(length) if rec["write"][i] else length
            issue(index, volume, not rec["write"][i], int(rec["offset"][i]), data, then=next_io)

        next_io()
