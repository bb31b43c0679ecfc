"""The simulation: SimPy processes that drive the core's atomic steps in simulated time.

Nothing here decides what FlashCopy copies: every host I/O and background-copy extent is a
`flashsim.models.steps.InFlight` advanced by `enabled`/`step`, and each ACT step is charged device
time
according to its micro-action (`flashsim.models.actions`):

- ReadTracks / ReadBytes: a read on the array of each physical volume in its runs/segments;
- WriteTracks / ApplyData: a write on the array of the volume written;
- ClearBits, RecordChanges, FailRelationship, RaiseError: no device time.

So a copy-before-write costs a source read and a target write before the host write lands, and
a redirected target read loads the source's array, because that is what the plan says.

An operation whose LOCK step is not enabled (another operation holds its tracks) waits on an
event signalled whenever locks are released. A whole-volume operation (establish, withdraw,
refresh, reverse, a group) first closes a gate on the volumes it touches, so new I/O there
waits while it drains the in-flight operations, then runs as one step; a consistency group's
freeze holds new writes to its sources in the same way.

Processes start in a fixed order (monitor, timeline in file order, workloads in file order,
each with its own seeded `numpy` stream), so a run is a function of its scenario and seed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from flashsim.models.actions import (
    COPY_BEFORE_WRITE,
    REDIRECTED,
    Action,
    ApplyData,
    ClearBits,
    ReadBytes,
    ReadTracks,
    WriteTracks,
)
from flashsim.models.backend import file_backend_in
from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Establish, EstablishGroup, Op, Refresh, Reverse, Withdraw
from flashsim.models.steps import ACT, DONE, UNLOCK, InFlight, enabled, step, wanted_locks
from flashsim.models.system import System
from flashsim.sim.devices import BACKGROUND_PRIORITY, HOST_PRIORITY, KINDS, Array
from flashsim.sim.inputs.synthetic import BATCH, Workload
from flashsim.sim.scenario import EventSpec, FlashCopySpec, GroupSpec, Scenario, WorkloadSpec

Proc = Generator[simpy.Event, Any, Any]


@dataclass
class RelationshipStats:
    """What happened to one `[[flashcopy]]` during the run."""

    id: str
    established_at_s: float | None = None
    copy_complete_at_s: float | None = None
    ended_at_s: float | None = None
    withdrawn_at_s: float | None = None
    cow_copies: int = 0
    target_precopies: int = 0
    target_write_clears: int = 0
    redirected_reads: int = 0
    background_tracks_copied: int = 0
    failed: bool = False
    points_in_time: list[dict[str, float | None]] = field(default_factory=list)
    error: str | None = None
    tracks: int = 0


@dataclass
class Result:
    """Everything a run produced, before it is summarised and written."""

    scenario: Scenario
    records: dict[str, np.ndarray]
    windows: list[dict[str, float]]
    relationships: dict[str, RelationshipStats]
    arrays: dict[str, Array]
    timeline: list[dict[str, object]]
    errors: dict[str, dict[str, int]]
    system: System
    wall_s: float
    host_ios: int


class Simulation:
    """One run of a scenario. `run()` returns a `Result`."""

    def __init__(
        self,
        scenario: Scenario,
        progress: bool = False,
        backend_factory: Callable[[str, int, int], Any] | None = None,
        oplog: list[tuple[str, tuple[Any, ...]]] | None = None,
    ) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.system = (
            System() if backend_factory is None else System(backend_factory=backend_factory)
        )
        self.progress = progress
        self.arrays = {a.name: Array(self.env, a) for a in scenario.arrays}
        self.array_of: dict[str, Array] = {}
        self.track_size: dict[str, int] = {}
        for vol in scenario.volumes:
            self.system.create(vol.name, vol.tracks, vol.track_size)
            self.array_of[vol.name] = self.arrays[vol.array]
            self.track_size[vol.name] = vol.track_size
        self.specs = {f.id: f for f in scenario.flashcopies}
        self.stats = {f.id: RelationshipStats(f.id) for f in scenario.flashcopies}
        self.timeline: list[dict[str, object]] = []
        self.errors: dict[str, dict[str, int]] = {w.name: {} for w in scenario.workloads}
        self._released = self.env.event()
        self._key_waits: dict[tuple[str, int], simpy.Event] = {}  # lock -> its waiters
        self._gates: dict[str, list[Any]] = {}  # volume -> [count, event]: all I/O waits
        self._frozen: dict[str, list[Any]] = {}  # volume -> [count, event]: writes wait
        self._kick: dict[str, simpy.Event] = {}
        self._copiers: set[str] = set()
        # per-I/O records, as compact columns
        self._r_workload = array("i")
        self._r_read = array("b")
        self._r_issue = array("d")
        self._r_latency = array("d")
        self._r_offset = array("q")
        self._r_length = array("q")
        self._r_error = array("b")
        self._windows: list[dict[str, float]] = []
        self._shown = False
        self.oplog = oplog  # when a list: operations in serialisation order, for --verify
        self.inflight: dict[int, InFlight] = {}

    # -- locks and gates ---------------------------------------------------------------------
    def _wait_for(self, op: InFlight) -> simpy.Event:
        """The event to wait on while `op` is not enabled. A host I/O waits for one lock that
        blocks it (thousands of I/Os queued on a few tracks must not all re-check at every
        release); anything else, or an I/O whose blocking lock cannot be told, waits for any
        release."""
        if op.kind in ("read", "write"):
            try:
                wanted = wanted_locks(self.system, op)
            except FlashCopyError:
                wanted = None
            locks = self.system.locks
            for key in wanted or ():
                if key in locks:
                    event = self._key_waits.get(key)
                    if event is None:
                        event = self._key_waits[key] = self.env.event()
                    return event
        return self._released

    def _signal_release(self, keys: tuple[tuple[str, int], ...] | None = None) -> None:
        """Wake the waiters of the released `keys` and those waiting for any release; None
        (the families or bitmaps may have changed): wake every waiter."""
        waits = self._key_waits
        if keys is None:
            events = list(waits.values())
            waits.clear()
        else:
            events = [e for e in (waits.pop(k, None) for k in keys) if e is not None]
        for e in events:
            e.succeed()
        event = self._released
        if event.callbacks:
            self._released = self.env.event()
            event.succeed()

    def _close(self, gates: dict[str, list[Any]], volumes: tuple[str, ...]) -> None:
        for v in volumes:
            gate = gates.get(v)
            if gate is None:
                gates[v] = [1, self.env.event()]
            else:
                gate[0] += 1

    def _open(self, gates: dict[str, list[Any]], volumes: tuple[str, ...]) -> None:
        for v in volumes:
            gate = gates[v]
            gate[0] -= 1
            if not gate[0]:
                del gates[v]
                gate[1].succeed()

    def drive(self, op: InFlight, priority: int) -> Proc:
        """Advance `op` to DONE, charging device time for each ACT step."""
        system = self.system
        env = self.env
        while not enabled(system, op):
            yield self._wait_for(op)
        if self.oplog is not None:
            self.inflight[op.id] = op
        array_of = self.array_of
        track_size = self.track_size
        touched: list[str] | None = None
        while op.phase != DONE:
            phase = op.phase
            if phase == ACT:
                action = op.plan[op.pc]
                kind = type(action)
                if kind is ApplyData:
                    yield from array_of[action.volume].io(True, len(action.data), "host", priority)
                elif kind is ReadBytes:
                    for vol, _, length in action.segments:
                        yield from array_of[vol].io(False, length, action.purpose, priority)
                    if action.purpose == REDIRECTED:
                        rid = system.incoming.get(op.volume)
                        if rid in self.stats:
                            self.stats[rid].redirected_reads += 1
                elif kind is ReadTracks:
                    for vol, first, end in action.runs:
                        nbytes = (end - first) * track_size[vol]
                        yield from array_of[vol].io(False, nbytes, action.purpose, priority)
                elif kind is WriteTracks:
                    assert op.buffer is not None
                    nbytes = len(op.buffer) * track_size[action.volume]
                    yield from array_of[action.volume].io(True, nbytes, action.purpose, priority)
                elif kind is ClearBits:
                    self._count_clear(op, action)
                    touched = touched or []
                    touched.append(action.relationship)
            held = op.locks if phase == UNLOCK else ()
            step(system, op)
            if phase == UNLOCK:
                if self.oplog is not None:
                    self._log(op)
                    del self.inflight[op.id]
                self._signal_release(held)
        if touched:
            now = env.now
            for rid in touched:
                self._check_complete(rid, now)

    def _count_clear(self, op: InFlight, action: ClearBits) -> None:
        stats = self.stats.get(action.relationship)
        if stats is None:
            return
        tracks = action.end - action.first
        before = op.plan[op.pc - 1] if op.pc else None
        if type(before) is WriteTracks and before.first == action.first:
            if before.purpose == COPY_BEFORE_WRITE:
                stats.cow_copies += tracks
            elif before.purpose == "background":
                stats.background_tracks_copied += tracks
            else:
                stats.target_precopies += tracks
        else:
            stats.target_write_clears += tracks

    def _check_complete(self, rid: str, now: float) -> None:
        stats = self.stats.get(rid)
        if stats is None or stats.copy_complete_at_s is not None:
            return
        rel = self.system.relationships.get(rid)
        if rel is None or rel.bitmap.count == 0:
            stats.copy_complete_at_s = now
            if stats.points_in_time:
                stats.points_in_time[-1]["copy_complete_at_s"] = now
            if rel is None:
                stats.ended_at_s = now

    def _log(self, op: InFlight) -> None:
        """Record a completed state change in serialisation order (its UNLOCK step: operations
        that conflict hold common locks, so they unlock in the order they took effect)."""
        assert self.oplog is not None
        if op.kind == "write":
            self.oplog.append(("write", (op.volume, op.offset, op.data, op.error is not None)))
        elif op.kind == "copy" and op.copied:
            self.oplog.append(("background_copy", (op.relationship, op.copied)))

    def finish_inflight(self) -> None:
        """Run every operation that holds locks to completion, with no time (for --verify:
        they may have changed the state already). They hold disjoint locks, so any order is
        a valid one."""
        assert self.oplog is not None
        for op_id in sorted(self.inflight):
            op = self.inflight.pop(op_id)
            while op.phase != DONE:
                phase = op.phase
                step(self.system, op)
                if phase == UNLOCK:
                    self._log(op)

    # -- whole-volume operations ---------------------------------------------------------------
    def control(self, op: Op, label: str) -> Proc:
        """Run a whole-volume operation: gate its volumes, drain them, one step, reopen."""
        system = self.system
        scope = system.control_scope(op)
        self._close(self._gates, scope)
        inflight = system.start_control(op)
        while not enabled(system, inflight):
            yield self._released
        step(system, inflight)
        if inflight.error is None and inflight.plan:
            yield from self._rule0_copies(inflight.plan)
        self._open(self._gates, scope)
        self._signal_release()  # families may have changed: waiters re-check their locks
        error = inflight.error
        if self.oplog is not None and error is None:
            self.oplog.append(("control", (op,)))
        self.timeline.append(
            {"at_s": self.env.now, "event": label, "error": None if error is None else str(error)}
        )
        return error

    def _rule0_copies(self, actions: tuple[Action, ...]) -> Proc:
        """Charge the rule-0 copies a whole-volume operation made (it took effect at once;
        its volumes stay gated until the copies are done): each extent a read then a write,
        extents in parallel up to the arrays' slots, at host priority (the command waits)."""
        jobs: list[tuple[list[tuple[str, int]], str, int]] = []  # (reads, write volume, bytes)
        touched = set()
        reads: list[tuple[str, int]] = []
        for action in actions:
            if isinstance(action, ReadTracks):
                reads = [
                    (vol, (end - first) * self.track_size[vol]) for vol, first, end in action.runs
                ]
            elif isinstance(action, WriteTracks):
                jobs.append((reads, action.volume, sum(n for _, n in reads)))
            elif isinstance(action, ClearBits):
                touched.add(action.relationship)
        arrays = self.array_of
        involved = {v for reads_, target, _ in jobs for v in (target, *(r for r, _ in reads_))}
        workers = min(len(jobs), max((arrays[v].spec.parallelism for v in involved), default=1))
        todo = iter(jobs)

        def worker() -> Proc:
            for job_reads, target, nbytes in todo:
                for vol, n in job_reads:
                    yield from arrays[vol].io(False, n, "rule0", HOST_PRIORITY)
                yield from arrays[target].io(True, nbytes, "rule0", HOST_PRIORITY)

        if workers:
            yield self.env.all_of([self.env.process(worker()) for _ in range(workers)])
        now = self.env.now
        for rid in sorted(touched):
            self._check_complete(rid, now)

    def _establish_spec(self, spec: FlashCopySpec) -> Establish:
        return Establish(
            spec.id,
            spec.source,
            spec.target,
            background_copy=spec.background_copy,
            incremental=spec.incremental,
            persistent=spec.persistent,
            inhibit_target_writes=spec.inhibit_target_writes,
            target_capacity_tracks=spec.target_capacity_tracks,
            out_of_space=spec.out_of_space,
        )

    def _established(self, spec: FlashCopySpec) -> None:
        now = self.env.now
        stats = self.stats[spec.id]
        stats.established_at_s = now
        stats.tracks = self.system.volumes[spec.target].tracks
        stats.points_in_time.append({"at_s": now, "copy_complete_at_s": None})
        if spec.background_copy and spec.id not in self._copiers:
            self._copiers.add(spec.id)
            self.env.process(self._background(spec))

    def _establish(self, spec: FlashCopySpec) -> Proc:
        yield self.env.timeout(spec.at_s)
        error = yield from self.control(self._establish_spec(spec), f"establish {spec.id}")
        if error is None:
            self._established(spec)
        else:
            self.stats[spec.id].error = str(error)

    def _group(self, group: GroupSpec) -> Proc:
        env = self.env
        yield env.timeout(group.at_s)
        sources = tuple(sorted({self.specs[m].source for m in group.members}))
        self._close(self._frozen, sources)
        self.timeline.append({"at_s": env.now, "event": f"freeze {group.id}", "error": None})
        if group.establish_after_s > group.freeze_timeout_s:
            yield env.timeout(group.freeze_timeout_s)
            self._open(self._frozen, sources)
            message = (
                f"group {group.id}: freeze timed out after {group.freeze_timeout_s} s; "
                "writes released, nothing established"
            )
            self.timeline.append(
                {"at_s": env.now, "event": f"timeout {group.id}", "error": message}
            )
            for m in group.members:
                self.stats[m].error = message
            return
        yield env.timeout(group.establish_after_s)
        specs = [self.specs[m] for m in group.members]
        op = EstablishGroup(tuple(self._establish_spec(s) for s in specs))
        error = yield from self.control(op, f"establish group {group.id}")
        self._open(self._frozen, sources)
        self.timeline.append({"at_s": env.now, "event": f"thaw {group.id}", "error": None})
        for spec in specs:
            if error is None:
                self._established(spec)
            else:
                self.stats[spec.id].error = str(error)

    def _event(self, event: EventSpec) -> Proc:
        env = self.env
        at = event.at_s
        while at < self.scenario.run.duration_s:
            yield env.timeout(at - env.now)
            if event.action == "withdraw":
                op: Op = Withdraw(event.id)
            elif event.action == "refresh":
                op = Refresh(event.id)
            else:
                op = Reverse(event.id, event.fast)
            label = f"{event.action}{' fast' if event.fast else ''} {event.id}"
            error = yield from self.control(op, label)
            if error is None:
                self._after_event(event)
            if event.every_s is None:
                return
            at += event.every_s

    def _after_event(self, event: EventSpec) -> None:
        now = self.env.now
        stats = self.stats[event.id]
        if event.action == "withdraw":
            stats.withdrawn_at_s = stats.ended_at_s = now
            return
        stats.copy_complete_at_s = None
        stats.points_in_time.append({"at_s": now, "copy_complete_at_s": None})
        self._check_complete(event.id, now)
        kick = self._kick.pop(event.id, None)
        if kick is not None:
            kick.succeed()

    # -- background copy ---------------------------------------------------------------------------
    def _background(self, spec: FlashCopySpec) -> Proc:
        """Rule 4 at a rate: extents of `copy_extent_tracks`, paced so that the copy never runs
        ahead of `copy_rate_bytes_s` (and never faster than the arrays serve it)."""
        env = self.env
        system = self.system
        rid = spec.id
        seconds_per_track = self.track_size[spec.source] / spec.copy_rate_bytes_s
        ready = env.now
        while True:
            rel = system.relationships.get(rid)
            if rel is None:
                return
            if not rel.bitmap.count or rel.failed:
                kick = self._kick[rid] = env.event()
                yield kick
                ready = env.now
                continue
            gate = self._gates.get(rel.source)
            if gate is not None:
                yield gate[1]
                continue
            start = env.now
            op = system.start_copy(rid, spec.copy_extent_tracks)
            yield from self.drive(op, BACKGROUND_PRIORITY)
            copied = op.copied or spec.copy_extent_tracks
            ready = max(ready, start) + copied * seconds_per_track
            if ready > env.now:
                yield env.timeout(ready - env.now)

    # -- host workloads -------------------------------------------------------------------------
    def host_io(
        self, index: int, volume: str, is_read: bool, offset: int, data: bytes | int
    ) -> Proc:
        """One host I/O from issue to completion; recorded when it completes."""
        env = self.env
        issue = env.now
        while True:
            gate = self._gates.get(volume)
            if gate is None and not is_read:
                gate = self._frozen.get(volume)
            if gate is None:
                break
            yield gate[1]
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
            arr = self.array_of[volume]
            yield env.timeout(arr.read_latency_s if is_read else arr.write_latency_s)
        self._r_workload.append(index)
        self._r_read.append(is_read)
        self._r_issue.append(issue)
        self._r_latency.append(env.now - issue)
        self._r_offset.append(offset)
        self._r_length.append(length)  # type: ignore[arg-type]
        if op.error is None:
            self._r_error.append(0)
        else:
            self._r_error.append(1)
            counts = self.errors[self.scenario.workloads[index].name]
            name = type(op.error).__name__
            counts[name] = counts.get(name, 0) + 1

    def _payloads(self, workload: Workload) -> Callable[[int], bytes]:
        """Real bytes for writes: a per-workload random block, stamped with a counter."""
        largest = int(workload.sizes.max())
        base = workload.rng.bytes(largest)
        counter = [0]

        def make(length: int) -> bytes:
            counter[0] += 1
            if length < 8:
                return base[:length]
            return counter[0].to_bytes(8, "little") + base[8:length]

        return make

    def _closed_loop(self, index: int, workload: Workload, payload: Callable[[int], bytes]) -> Proc:
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
            yield from self.host_io(index, volume, is_read, offset, data)

    def _open_loop(self, index: int, workload: Workload, payload: Callable[[int], bytes]) -> Proc:
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
                process(self.host_io(index, volume, is_read, offset, data))

    def _trace_open(self, index: int, spec: WorkloadSpec, payload: Callable[[int], bytes]) -> Proc:
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
            process(self.host_io(index, volume, not write, offset, data))

    def _trace_closed(
        self, index: int, spec: WorkloadSpec, payload: Callable[[int], bytes], cursor: list[int]
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
            yield from self.host_io(index, volume, not rec["write"][i], int(rec["offset"][i]), data)

    # -- monitor ---------------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, float]:
        row: dict[str, float] = {"time_s": self.env.now}
        for name, arr in self.arrays.items():
            for kind in KINDS:
                row[f"{name}.{kind}_ios"] = arr.ios[kind]
                row[f"{name}.{kind}_bytes"] = arr.bytes[kind]
            row[f"{name}.busy_s"] = arr.busy_s
        for rid, stats in self.stats.items():
            rel = self.system.relationships.get(rid)
            if stats.established_at_s is None or stats.tracks == 0:
                progress = 0.0
            elif rel is None:
                progress = 1.0 if stats.copy_complete_at_s is not None else float("nan")
            else:
                progress = 1.0 - rel.bitmap.count / stats.tracks
            row[f"{rid}.progress"] = progress
            row[f"{rid}.cow_copies"] = stats.cow_copies
            row[f"{rid}.background_tracks"] = stats.background_tracks_copied
            row[f"{rid}.redirected_reads"] = stats.redirected_reads
        return row

    def _monitor(self) -> Proc:
        """A snapshot of the cumulative counters at every window boundary (the last one is
        taken by `run` after the clock stops), and the progress bar."""
        env = self.env
        duration = self.scenario.run.duration_s
        window = self.scenario.run.window_s
        wall0 = time.perf_counter()
        k = 0
        while True:
            self._windows.append(self._snapshot())
            k += 1
            at = k * window
            if at >= duration:
                return
            if self.progress:
                elapsed = time.perf_counter() - wall0
                if elapsed > 2.0:
                    self._shown = True
                    frac = env.now / duration
                    bar = "#" * int(30 * frac)
                    sys.stderr.write(
                        f"\rflashsim: [{bar:<30}] {100 * frac:5.1f}%  {env.now:,.0f}/"
                        f"{duration:,.0f} s simulated, {elapsed:,.0f} s wall"
                    )
                    sys.stderr.flush()
            yield env.timeout(at - env.now)

    # -- run ---------------------------------------------------------------------------------------
    def run(self) -> Result:
        scenario = self.scenario
        env = self.env
        wall0 = time.perf_counter()
        env.process(self._monitor())
        for spec in scenario.flashcopies:
            if spec.group is None:
                env.process(self._establish(spec))
        for group in scenario.groups:
            env.process(self._group(group))
        for event in scenario.events:
            env.process(self._event(event))
        seeds = np.random.SeedSequence(scenario.run.seed).spawn(len(scenario.workloads))
        for index, (spec, seed) in enumerate(zip(scenario.workloads, seeds, strict=True)):
            workload = Workload(spec, np.random.default_rng(seed))
            payload = self._payloads(workload)
            if spec.trace is not None and spec.trace.loop == "open":
                env.process(self._trace_open(index, spec, payload))
            elif spec.trace is not None:
                assert spec.iodepth is not None
                cursor = [0]
                for _ in range(spec.iodepth):
                    env.process(self._trace_closed(index, spec, payload, cursor))
            elif spec.rate_iops is not None:
                env.process(self._open_loop(index, workload, payload))
            else:
                assert spec.iodepth is not None
                for _ in range(spec.iodepth):
                    env.process(self._closed_loop(index, workload, payload))
        env.run(until=scenario.run.duration_s)
        self._windows.append(self._snapshot())
        if self._shown:
            sys.stderr.write("\n")
        for rid, stats in self.stats.items():
            rel = self.system.relationships.get(rid)
            if rel is not None and rel.failed:
                stats.failed = True
        records = {
            "workload": np.frombuffer(self._r_workload, dtype=np.int32),
            "read": np.frombuffer(self._r_read, dtype=np.int8),
            "issue_s": np.frombuffer(self._r_issue, dtype=np.float64),
            "latency_s": np.frombuffer(self._r_latency, dtype=np.float64),
            "offset": np.frombuffer(self._r_offset, dtype=np.int64),
            "length": np.frombuffer(self._r_length, dtype=np.int64),
            "error": np.frombuffer(self._r_error, dtype=np.int8),
        }
        return Result(
            scenario,
            records,
            self._windows,
            self.stats,
            self.arrays,
            self.timeline,
            self.errors,
            self.system,
            time.perf_counter() - wall0,
            len(self._r_issue),
        )


def simulate(scenario: Scenario, progress: bool = False) -> Result:
    """Run `scenario` once and return its `Result` (volume bytes are released: with
    `run.backend = "file"` they live in a temporary folder removed at the end)."""
    if scenario.run.backend == "memory":
        return Simulation(scenario, progress=progress).run()
    with tempfile.TemporaryDirectory(prefix="flashsim-volumes-") as folder:
        result = Simulation(scenario, progress, file_backend_in(folder)).run()
        result.system.close()
        return result
