"""Operations of the core driven in simulated time, each ACT step charged the device time of
its micro-action (`flashsim.models.rules.actions`):

- ReadTracks / ReadBytes: a read on the array of each physical volume in its runs/segments;
- WriteTracks / ApplyData: a write on the array of the volume written;
- ClearBits, RecordChanges, FailRelationship, RaiseError: no device time;
- under redirect-on-write (purpose ROW_REMAP), a block handed to a snapshot: no data moves, so
  its ReadTracks costs nothing and its WriteTracks is one metadata write of METADATA_BYTES
  (the block map's update) on the volume's array.

So a copy-before-write costs a source read and a target write before the host write lands,
and a redirected target read loads the source's array, because that is what the plan says.

With a controller cache, host I/O is stepped untimed instead (`Driver.drive_untimed`) and the
controller charges its micro-actions (`flashsim.sim.cache`).

An operation whose LOCK step is not enabled (another operation holds its tracks) waits on an
event signalled when locks are released. This is the one module that calls the core's
`enabled`, `step` and `lock_request`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Op
from flashsim.models.rules.actions import (
    REDIRECTED,
    ROW_REMAP,
    Action,
    ApplyData,
    ClearBits,
    ReadBytes,
    ReadTracks,
    WriteTracks,
)
from flashsim.models.rules.inflight import ACT, DONE, UNLOCK, InFlight
from flashsim.models.system import System
from flashsim.sim.devices import HOST_PRIORITY, Array
from flashsim.sim.recording import Recorder

Proc = Generator[simpy.Event, Any, Any]

#: Bytes of the metadata write that repoints a redirect-on-write block map entry.
METADATA_BYTES = 4096
OpLog = list[tuple[str, tuple[Any, ...]]]


class Driver:
    """Drives the operations of `system` on the arrays of its volumes (`array_of`), counting
    what they copy in `recorder`; with an `oplog` list, also logs every state change in
    serialisation order (for --verify)."""

    def __init__(
        self,
        env: simpy.Environment,
        system: System,
        array_of: dict[str, Array],
        recorder: Recorder,
        oplog: OpLog | None = None,
    ) -> None:
        self.env = env
        self.system = system
        self.array_of = array_of
        self.track_size = {name: vol.track_size for name, vol in system.volumes.items()}
        self.recorder = recorder
        self.oplog = oplog
        self.inflight: dict[int, InFlight] = {}  # with an oplog: those holding locks
        self._released = env.event()
        self._key_waits: dict[tuple[str, int, int], simpy.Event] = {}  # held lock -> waiters

    # -- locks ---------------------------------------------------------------------------------
    def _wait_for(self, op: InFlight) -> simpy.Event:
        """The event to wait on while `op` is not enabled. A host I/O waits for one lock that
        blocks it (thousands of I/Os queued on a few tracks must not all re-check at every
        release); anything else, or an I/O whose blocking lock cannot be told, waits for any
        release."""
        if op.kind in ("read", "write"):
            try:
                request = self.system.rules.lock_request(self.system, op)
                wanted = None if request is None else request[2]
            except FlashCopyError:
                wanted = None
            holder = self.system.holder
            for key in wanted or ():
                blocking = holder(key)
                if blocking is not None:  # woken when exactly that lock is released
                    event = self._key_waits.get(blocking)
                    if event is None:
                        event = self._key_waits[blocking] = self.env.event()
                    return event
        return self._released

    def signal_release(self, keys: tuple[tuple[str, int, int], ...] | None = None) -> None:
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

    # -- operations ----------------------------------------------------------------------------
    def drive(self, op: InFlight, priority: int) -> Proc:
        """Advance `op` to DONE, charging device time for each ACT step."""
        system = self.system
        while not system.enabled(op):
            yield self._wait_for(op)
        if self.oplog is not None:
            self.inflight[op.id] = op
        array_of = self.array_of
        track_size = self.track_size
        recorder = self.recorder
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
                        recorder.redirected_read(op.volume)
                elif kind is ReadTracks:
                    if action.purpose != ROW_REMAP:
                        for vol, first, end in action.runs:
                            nbytes = (end - first) * track_size[vol]
                            yield from array_of[vol].io(False, nbytes, action.purpose, priority)
                elif kind is WriteTracks:
                    assert op.buffer is not None
                    nbytes = len(op.buffer) * track_size[action.volume]
                    if action.purpose == ROW_REMAP:
                        nbytes = METADATA_BYTES
                    yield from array_of[action.volume].io(True, nbytes, action.purpose, priority)
                elif kind is ClearBits:
                    recorder.cleared(op, action)
                    touched = touched or []
                    touched.append(action.relationship)
            self._step(op)
        if touched:
            now = self.env.now
            for rid in touched:
                recorder.check_complete(rid, now)

    def _step(self, op: InFlight) -> None:
        """Run `op`'s next step; after its UNLOCK, log it (`--verify`) and wake what waits
        for the locks it held."""
        unlocking = op.phase == UNLOCK
        held = op.locks
        self.system.step(op)
        if unlocking:
            if self.oplog is not None:
                self._log(op)
                del self.inflight[op.id]
            self.signal_release(held)
        elif len(op.locks) < len(held):  # a read's shared space pool, released at PLAN
            self.signal_release(tuple(key for key in held if key not in op.locks))

    def drive_untimed(self, op: InFlight) -> Proc:
        """Advance `op` to DONE without charging device time (it waits for locks only) and
        return the micro-actions it performed: with a controller cache
        (`flashsim.sim.cache`) the controller charges them, off the operation's path."""
        system = self.system
        while not system.enabled(op):
            yield self._wait_for(op)
        if self.oplog is not None:
            self.inflight[op.id] = op
        recorder = self.recorder
        performed: list[Action] = []
        touched: list[str] = []
        while op.phase != DONE:
            phase = op.phase
            if phase == ACT:
                action = op.plan[op.pc]
                performed.append(action)
                kind = type(action)
                if kind is ReadBytes and action.purpose == REDIRECTED:
                    recorder.redirected_read(op.volume)
                elif kind is ClearBits:
                    recorder.cleared(op, action)
                    touched.append(action.relationship)
            self._step(op)
        now = self.env.now
        for rid in touched:
            recorder.check_complete(rid, now)
        return performed

    def control(self, op: Op) -> Proc:
        """Run a whole-volume operation as one step once it is enabled (its volumes gated and
        drained by the caller), then charge the rule-0 copies it made; returns its error."""
        system = self.system
        inflight = system.start_control(op)
        while not system.enabled(inflight):
            yield self._released
        system.step(inflight)
        if inflight.error is None and inflight.plan:
            yield from self._rule0_copies(inflight.plan)
        return inflight.error

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
            self.recorder.check_complete(rid, now)

    # -- the serial order, for --verify --------------------------------------------------------
    def log_control(self, op: Op) -> None:
        """Record a whole-volume operation that took effect (it ran as one step)."""
        if self.oplog is not None:
            self.oplog.append(("control", (op,)))

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
                self.system.step(op)
                if phase == UNLOCK:
                    self._log(op)
