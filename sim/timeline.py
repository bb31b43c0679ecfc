"""The scenario's timeline in simulated time: each `[[flashcopy]]` established at its `at_s`,
each `[[group]]` frozen then established together, each `[[event]]` (withdraw, refresh,
reverse, an svc stop: its cleaning at the mapping's cleaning rate), and the background copy
an established relationship runs.

A whole-volume operation first closes a gate on the volumes it touches, so new I/O there
waits while it drains the in-flight operations, then runs as one step; a consistency group's
freeze holds new writes to its sources in the same way.
"""

from __future__ import annotations

import simpy

from flashsim.models.ops import (
    Establish,
    EstablishGroup,
    Op,
    PrepareAgain,
    Refresh,
    Reverse,
    Snapshot,
    Start,
    Stop,
    Withdraw,
)
from flashsim.sim.devices import BACKGROUND_PRIORITY
from flashsim.sim.driver import Driver, Proc
from flashsim.sim.gates import Gates
from flashsim.sim.scenario import EventSpec, FlashCopySpec, GroupSpec, Scenario


def establish_op(spec: FlashCopySpec, profile: str = "ds8000") -> Establish | Snapshot:
    """The core's operation that establishes `spec` (under redirect-on-write: a snapshot)."""
    if profile == "row":
        return Snapshot(spec.source, spec.target)
    return relationship_op(spec)


def relationship_op(spec: FlashCopySpec) -> Establish:
    """The establish of `spec` (a member of a group, too)."""
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


class Timeline:
    """The control processes of one run; `start()` starts them in file order."""

    def __init__(self, scenario: Scenario, driver: Driver, gates: Gates, frozen: Gates) -> None:
        self.scenario = scenario
        self.env = driver.env
        self.system = driver.system
        self.driver = driver
        self.recorder = driver.recorder
        self.gates = gates  # all I/O waits
        self.frozen = frozen  # writes wait
        self.specs = {f.id: f for f in scenario.flashcopies}
        self._kick: dict[str, simpy.Event] = {}  # relationship -> its idle copier's wake-up
        self._copiers: set[str] = set()

    def start(self) -> None:
        process = self.env.process
        for spec in self.scenario.flashcopies:
            if spec.group is None:
                process(self._establish(spec))
        for group in self.scenario.groups:
            process(self._group(group))
        for event in self.scenario.events:
            process(self._event(event))

    def control(self, op: Op, label: str) -> Proc:
        """Run a whole-volume operation: gate its volumes, drain them, one step, reopen."""
        scope = self.system.control_scope(op)
        self.gates.close(scope)
        error = yield from self.driver.control(op)
        self.gates.open(scope)
        self.driver.signal_release()  # families may have changed: waiters re-check their locks
        if error is None:
            self.driver.log_control(op)
        self.recorder.event(self.env.now, label, None if error is None else str(error))
        return error

    # -- establish -----------------------------------------------------------------------------
    def _established(self, spec: FlashCopySpec) -> None:
        self.recorder.established(spec.id, self.env.now, self.system.volumes[spec.target].tracks)
        if spec.background_copy and spec.id not in self._copiers:
            self._copiers.add(spec.id)
            self.env.process(self._background(spec))

    def _establish(self, spec: FlashCopySpec) -> Proc:
        yield self.env.timeout(spec.at_s)
        op = establish_op(spec, self.scenario.run.profile)
        error = yield from self.control(op, f"establish {spec.id}")
        if error is None:
            self._established(spec)
        else:
            self.recorder.fail(spec.id, self.env.now, str(error))

    def _group(self, group: GroupSpec) -> Proc:
        env = self.env
        recorder = self.recorder
        yield env.timeout(group.at_s)
        sources = tuple(sorted({self.specs[m].source for m in group.members}))
        self.frozen.close(sources)
        recorder.event(env.now, f"freeze {group.id}", None)
        recorder.frozen(group.id, sources, env.now)
        if group.establish_after_s > group.freeze_timeout_s:
            yield env.timeout(group.freeze_timeout_s)
            self.frozen.open(sources)
            message = (
                f"group {group.id}: freeze timed out after {group.freeze_timeout_s} s; "
                "writes released, nothing established"
            )
            recorder.event(env.now, f"timeout {group.id}", message)
            recorder.thawed(group.id, env.now, message)
            for m in group.members:
                recorder.fail(m, env.now, message)
            return
        yield env.timeout(group.establish_after_s)
        specs = [self.specs[m] for m in group.members]
        op = EstablishGroup(tuple(relationship_op(s) for s in specs))
        error = yield from self.control(op, f"establish group {group.id}")
        self.frozen.open(sources)
        recorder.event(env.now, f"thaw {group.id}", None)
        recorder.thawed(group.id, env.now, None if error is None else str(error))
        for spec in specs:
            if error is None:
                self._established(spec)
            else:
                recorder.fail(spec.id, env.now, str(error))

    # -- withdraw, refresh, reverse ------------------------------------------------------------
    def _event(self, event: EventSpec) -> Proc:
        env = self.env
        at = event.at_s
        while at < self.scenario.run.duration_s:
            yield env.timeout(at - env.now)
            error = None
            if event.action == "withdraw":
                op: Op = Withdraw(event.id)
            elif event.action == "refresh":
                op = Refresh(event.id)
            elif event.action == "stop":  # svc: cleaning, then stopped
                op = Stop(event.id)
            elif event.action == "restart":  # svc rule S7: prepare again, then the start
                error = yield from self.control(PrepareAgain(event.id), f"prepare {event.id}")
                op = Start(event.id)
            else:
                op = Reverse(event.id, event.fast)
            label = f"{event.action}{' fast' if event.fast else ''} {event.id}"
            if event.action != "restart" or error is None:
                error = yield from self.control(op, label)
            cleaning = self.driver.take_cleaning()
            if error is None and cleaning:  # svc rule S3: stopping while the cleaning runs
                self.recorder.event(env.now, f"stopping {event.id}", None)
                rate = self.specs[event.id].cleaning_rate_bytes_s
                yield from self.driver.clean(cleaning, rate)
                self.recorder.event(env.now, f"stopped {event.id}", None)
            if error is None:
                self._after_event(event)
            if event.every_s is None:
                return
            at += event.every_s

    def _after_event(self, event: EventSpec) -> None:
        now = self.env.now
        if event.action in ("withdraw", "stop"):
            self.recorder.withdrawn(event.id, now)
            return
        if event.action == "restart":
            self.recorder.restarted(event.id, now)
        self.recorder.new_point_in_time(event.id, now)
        kick = self._kick.pop(event.id, None)
        if kick is not None:
            kick.succeed()

    # -- background copy -----------------------------------------------------------------------
    def _background(self, spec: FlashCopySpec) -> Proc:
        """Rule 4 at a rate: extents of `copy_extent_tracks`, paced so that the copy never runs
        ahead of `copy_rate_bytes_s` (and never faster than the arrays serve it)."""
        env = self.env
        system = self.system
        rid = spec.id
        seconds_per_track = self.driver.track_size[spec.source] / spec.copy_rate_bytes_s
        ready = env.now
        while True:
            rel = system.relationships.get(rid)
            if rel is None:
                return
            if not rel.bitmap.count or rel.failed or not rel.linked:
                kick = self._kick[rid] = env.event()
                yield kick
                ready = env.now
                continue
            gate = self.gates.get(rel.source)
            if gate is not None:
                yield gate[1]
                continue
            start = env.now
            op = system.start_copy(rid, spec.copy_extent_tracks)
            yield from self.driver.drive(op, BACKGROUND_PRIORITY)
            copied = op.copied or spec.copy_extent_tracks
            ready = max(ready, start) + copied * seconds_per_track
            if ready > env.now:
                yield env.timeout(ready - env.now)
