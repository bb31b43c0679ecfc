"""Operations of the core driven in simulated time, each ACT step charged the device time of
its micro-action (`flashsim.models.rules.actions`):

- ReadTracks / ReadBytes: a read on the array of each physical volume in its runs/segments;
- WriteTracks / ApplyData: a write on the array of the volume written;
- ClearBits, RecordChanges, FailRelationship, RaiseError: no device time;
- under redirect-on-write (purpose ROW_REMAP), a block handed to a snapshot: no data moves, so
  its ReadTracks costs nothing and its WriteTracks is one metadata write of METADATA_BYTES
  (the block map's update) on the volume's array. A write covering such a block only in part
  first reads the old block (ReadTracks of purpose ROW_MERGE, a read of the whole block, rule
  R2b); its ApplyData then writes the new block whole: the host's bytes plus the rest of each
  merged block (`merged_write_bytes`).

So a copy-before-write costs a source read and a target write before the host write lands,
and a redirected target read loads the source's array, because that is what the plan says.

With a controller cache, host I/O is stepped untimed instead (`Driver.drive_untimed`) and the
controller charges its micro-actions (`flashsim.sim.cache`).

An operation whose LOCK step is not enabled (another operation holds its tracks) waits on an
event signalled when locks are released. This is the one module that calls the core's
`lock_and_plan`, `enabled`, `step` and `lock_request`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Op
from flashsim.models.rules.actions import (
    CLEANING,
    REDIRECTED,
    ROW_MERGE,
    ROW_REMAP,
    Action,
    ApplyData,
    ClearBits,
    ReadBytes,
    ReadTracks,
    WriteTracks,
)
from flashsim.models.rules.inflight import ACT, DONE, LOCK, UNLOCK, InFlight
from flashsim.models.system import System
from flashsim.sim.devices import BACKGROUND_PRIORITY, HOST_PRIORITY, Array
from flashsim.sim.recording import Recorder

Proc = Generator[simpy.Event, Any, Any]

#: Bytes of the metadata write that repoints a redirect-on-write block map entry.
METADATA_BYTES = 4096
OpLog = list[tuple[str, tuple[Any, ...]]]


def merged_write_bytes(plan: tuple[Action, ...], data: ApplyData, track_size: int) -> int:
    """The bytes the host write `data` writes: its own, plus, for each block a ROW_MERGE read
    of `plan` merges it into, the rest of that block (the new block is written whole)."""
    nbytes = len(data.data)
    lo, hi = data.offset, data.offset + len(data.data)
    for action in plan:
        if type(action) is ReadTracks and action.purpose == ROW_MERGE:
            for _, first, end in action.runs:
                for t in range(first, end):
                    covered = min(hi, (t + 1) * track_size) - max(lo, t * track_size)
                    nbytes += track_size - covered
    return nbytes


def split_cleaning(plan: tuple[Action, ...]) -> tuple[tuple[Action, ...], tuple[Action, ...]]:
    """A whole-volume operation's actions: (the rule-0 and other copies, the cleaning copies:
    each ReadTracks of purpose CLEANING with the WriteTracks and ClearBits after it)."""
    rule0: list[Action] = []
    cleaning: list[Action] = []
    into = rule0
    for action in plan:
        if type(action) is ReadTracks:
            into = cleaning if action.purpose == CLEANING else rule0
        into.append(action)
    return tuple(rule0), tuple(cleaning)


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
        self.cleaning: tuple[Action, ...] = ()  # the last stop's, charged by `clean`
        self.merges = system.profile.design == "row"  # only ROW plans merge blocks
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
        if waits:  # (mostly empty: nothing waits for a lock)
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
    def start(self, op: InFlight, priority: int, then: Callable[[], object]) -> bool:
        """Advance `op` towards DONE now, charging device time for each ACT step, and go on
        from the events it waits on by callbacks (no SimPy process per operation: a host I/O
        costs its device timeouts and nothing else). True if `op` is DONE at once; else
        `then()` is called when it is."""
        system = self.system
        while op.phase == LOCK:  # LOCK, and PLAN with it: nothing runs between the two here
            if not system.rules.lock_and_plan(system, op):
                self._wait_for(op).callbacks.append(
                    lambda _: self.start(op, priority, then) and then()
                )
                return False
        if op.phase == DONE:
            return True
        if self.oplog is not None:
            self.inflight[op.id] = op
        return self._act(_Driven(self, op, priority, then))

    def drive(self, op: InFlight, priority: int) -> Proc:
        """`start` for a SimPy process: returns once `op` is DONE."""
        done = self.env.event()
        if not self.start(op, priority, done.succeed):
            yield done

    def _act(self, run: _Driven) -> bool:
        """Run the ACT steps of `run`'s operation until one waits for a back-end I/O (False:
        its callback goes on, and calls `then()` at DONE), then UNLOCK (True)."""
        op = run.op
        plan = op.plan
        system = self.system
        step = system.rules.step
        while op.phase == ACT:
            action = plan[op.pc]
            if type(action) is ClearBits:
                self.recorder.cleared(op, action)
                run.touched.append(action.relationship)
                step(system, op)
                continue
            accesses = self._accesses(op, action)
            if accesses:
                run.accesses = accesses
                run.i = 0
                run.access()
                return False
            self._acted(op, action)
        if op.phase == UNLOCK:
            self._step(op)
        if run.touched:
            now = self.env.now
            for rid in run.touched:
                self.recorder.check_complete(rid, now)
        return True

    def _acted(self, op: InFlight, action: Action) -> None:
        """The ACT step of `action`, once its back-end I/Os are done."""
        if type(action) is ReadBytes and action.purpose == REDIRECTED:
            self.recorder.redirected_read(op.volume)
        self.system.rules.step(self.system, op)

    def _accesses(self, op: InFlight, action: Action) -> tuple[tuple[Array, bool, int, str], ...]:
        """The back-end I/Os of one micro-action: (array, write, bytes, kind) each, in order."""
        kind = type(action)
        array_of = self.array_of
        if kind is ApplyData:
            if self.merges:  # redirect-on-write: a block merged is written whole (rule R2b)
                nbytes = merged_write_bytes(op.plan, action, self.track_size[action.volume])  # type: ignore[arg-type]
            else:
                nbytes = len(action.data)  # type: ignore[union-attr]
            return ((array_of[action.volume], True, nbytes, "host"),)  # type: ignore[union-attr]
        if kind is ReadTracks:
            if action.purpose == ROW_REMAP:  # type: ignore[union-attr]
                return ()
            ts = self.track_size
            runs = action.runs  # type: ignore[union-attr]
            if len(runs) == 1:  # the common case, without a generator
                vol, first, end = runs[0]
                return ((array_of[vol], False, (end - first) * ts[vol], action.purpose),)  # type: ignore[union-attr]
            return tuple(
                (array_of[vol], False, (end - first) * ts[vol], action.purpose)  # type: ignore[union-attr]
                for vol, first, end in runs
            )
        if kind is WriteTracks:
            assert op.buffer is not None
            if action.purpose == ROW_REMAP:  # type: ignore[union-attr]
                nbytes = METADATA_BYTES
            else:
                nbytes = len(op.buffer) * self.track_size[action.volume]  # type: ignore[union-attr]
            return ((array_of[action.volume], True, nbytes, action.purpose),)  # type: ignore[union-attr]
        if kind is ReadBytes:
            return tuple(
                (array_of[vol], False, length, action.purpose)  # type: ignore[union-attr]
                for vol, _, length in action.segments  # type: ignore[union-attr]
            )
        return ()

    def _step(self, op: InFlight) -> None:
        """Run `op`'s next step; after its UNLOCK, log it (`--verify`) and wake what waits
        for the locks it held."""
        unlocking = op.phase == UNLOCK
        held = op.locks
        self.system.rules.step(self.system, op)
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
        self.cleaning = ()
        if inflight.error is None and inflight.plan:
            rule0, self.cleaning = split_cleaning(inflight.plan)
            yield from self._rule0_copies(rule0)
        return inflight.error

    def take_cleaning(self) -> tuple[Action, ...]:
        """The cleaning copies of the last whole-volume operation (an svc stop, rule S3), which
        `control` did not charge: the caller charges them at the cleaning rate (`clean`)."""
        cleaning, self.cleaning = self.cleaning, ()
        return cleaning

    def clean(self, actions: tuple[Action, ...], rate_bytes_s: float) -> Proc:
        """Charge an svc stop's cleaning copies (kind `cleaning`, background priority) paced
        at `rate_bytes_s`, as the background copy is: each extent a read then a write, the
        next one no sooner than its bytes at the rate after the previous one started. The
        mapping is stopping until the last one is done. The model made them at once (the
        images are already final), so host I/O goes on meanwhile."""
        arrays, track_size, env = self.array_of, self.track_size, self.env
        ready = env.now
        touched: set[str] = set()
        reads: list[tuple[str, int]] = []
        for action in actions:
            if type(action) is ReadTracks:
                reads = [(vol, (end - first) * track_size[vol]) for vol, first, end in action.runs]
            elif type(action) is WriteTracks:
                start = env.now
                for vol, n in reads:
                    yield from arrays[vol].io(False, n, CLEANING, BACKGROUND_PRIORITY)
                nbytes = sum(n for _, n in reads)
                yield from arrays[action.volume].io(True, nbytes, CLEANING, BACKGROUND_PRIORITY)
                ready = max(ready, start) + nbytes / rate_bytes_s
                if ready > env.now:
                    yield env.timeout(ready - env.now)
            elif type(action) is ClearBits:
                touched.add(action.relationship)
        for rid in sorted(touched):
            self.recorder.check_complete(rid, env.now)

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


class _Driven:
    """An operation `Driver.start` drives by callbacks: where it is in the back-end I/Os of
    its current ACT step (`accesses`, `i`), and the relationships whose bits it cleared."""

    __slots__ = ("accesses", "array", "driver", "i", "op", "priority", "service", "then", "touched")

    def __init__(
        self, driver: Driver, op: InFlight, priority: int, then: Callable[[], object]
    ) -> None:
        self.driver = driver
        self.op = op
        self.priority = priority
        self.then = then
        self.touched: list[str] = []
        self.accesses: tuple[tuple[Array, bool, int, str], ...] = ()
        self.i = 0
        self.array: Array | None = None
        self.service = 0.0

    def access(self) -> None:
        """Back-end I/O `i` of the current step; `accessed` when it is done."""
        array, write, nbytes, kind = self.accesses[self.i]
        env = self.driver.env
        if array.preemptive:  # interrupted transfers: the array's own process
            self.array = None
            env.process(array.io(write, nbytes, kind, self.priority)).callbacks.append(
                self.accessed
            )
            return
        self.array = array
        service = array.charge(write, nbytes, kind)
        turn = array.acquire(self.priority)
        if turn is None:
            env.timeout(service).callbacks.append(self.accessed)
        else:  # the slot is handed over by the I/O that frees it
            self.service = service
            turn.callbacks.append(self._turn)

    def _turn(self, _: simpy.Event) -> None:
        self.driver.env.timeout(self.service).callbacks.append(self.accessed)

    def accessed(self, _: simpy.Event) -> None:
        """The back-end I/O is done: the next one, or the step and those after it."""
        if self.array is not None:
            self.array.release()
        self.i += 1
        if self.i < len(self.accesses):
            self.access()
            return
        driver = self.driver
        op = self.op
        driver._acted(op, op.plan[op.pc])
        if driver._act(self):
            self.then()
