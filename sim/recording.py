"""What a run records as it goes, in memory that does not grow with simulated time: the
completed host I/Os aggregated by segment and by window (`flashsim.sim.tallies`), each
window's `windows.csv` row as it closes (`flashsim.sim.window_table`), error counts per
workload, counters per relationship and the timeline of whole-volume operations; with
`run.records`, one row per I/O streamed to disk (`flashsim.sim.record_spool`).
`flashsim.sim.metrics` turns these into the output files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from flashsim.models.rules.actions import COPY_BEFORE_WRITE, ROW_REMAP, ClearBits, WriteTracks
from flashsim.models.rules.inflight import InFlight
from flashsim.models.system import System
from flashsim.sim.devices import KINDS, Array
from flashsim.sim.histogram import bucket
from flashsim.sim.record_spool import RecordSpool
from flashsim.sim.scenario import Scenario
from flashsim.sim.tallies import Segments, Windows
from flashsim.sim.window_table import WindowTable


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
    failed_at_s: float | None = None
    points_in_time: list[dict[str, float | None]] = field(default_factory=list)
    error: str | None = None
    tracks: int = 0


@dataclass
class GroupStats:
    """What happened to one `[[group]]`: its freeze, thaw, and why it failed if it did."""

    id: str
    members: tuple[str, ...]
    sources: tuple[str, ...] = ()
    frozen_at_s: float | None = None
    thawed_at_s: float | None = None
    error: str | None = None


class Recorder:
    """The records of one run of `scenario` on `system` and `arrays`."""

    def __init__(
        self,
        scenario: Scenario,
        system: System,
        arrays: dict[str, Array],
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.system = system
        # the simulated clock: a failure noted at a completion is cut at exactly that instant
        # (issue + latency can round to just before it, behind a cut already made there)
        self._clock = clock
        self.arrays = arrays
        self.stats = {f.id: RelationshipStats(f.id) for f in scenario.flashcopies}
        self.groups = {g.id: GroupStats(g.id, tuple(g.members)) for g in scenario.groups}
        # Only a space-efficient target under fail_relationship can fail mid-run; the driver
        # sends no event when it does, so each completed write looks for it (see `io`).
        self._fallible = [
            f
            for f in scenario.flashcopies
            if f.target_capacity_tracks is not None and f.out_of_space == "fail_relationship"
        ]
        self.timeline: list[dict[str, object]] = []
        self.errors: dict[str, dict[str, int]] = {w.name: {} for w in scenario.workloads}
        self._names = [w.name for w in scenario.workloads]
        n = len(self._names)
        run = scenario.run
        self.segments = Segments(n, run.duration_s)
        self._windows = Windows(run.window_s, run.duration_s, n)
        self.table = WindowTable(self._names, [f.id for f in scenario.flashcopies], arrays)
        self._snapshots = 0
        self._last: dict[str, float] | None = None
        self.spool = RecordSpool() if run.records else None
        self.host_ios = 0
        self.host_errors = 0

    # -- host I/O ------------------------------------------------------------------------------
    def io(  # noqa: PLR0917 - one row's columns, once per host I/O: positional is cheapest
        self,
        index: int,
        is_read: bool,
        issue: float,
        latency: float,
        offset: int,
        length: int,
        error: Exception | None,
    ) -> None:
        """One completed host I/O of workload `index`."""
        self.host_ios += 1
        failed = error is not None
        key = None if failed else bucket(latency)
        self.segments.add(index, is_read, issue, latency, length, key)
        self._windows.add(index, is_read, issue + latency, latency, length, key)
        if self.spool is not None:
            self.spool.append(index, is_read, failed, issue, latency, offset, length)
        if error is not None:
            self.host_errors += 1
            counts = self.errors[self._names[index]]
            name = type(error).__name__
            counts[name] = counts.get(name, 0) + 1
        if self._fallible and not is_read:
            self._look_for_failures(issue + latency if self._clock is None else self._clock())

    def _look_for_failures(self, now: float) -> None:
        """Note relationships the core failed since the last look: at the completion of the
        write whose plan failed them (its FailRelationship step takes no device time)."""
        for spec in list(self._fallible):
            rel = self.system.relationships.get(spec.id)
            if rel is None or not rel.failed:
                continue
            self._fallible.remove(spec)
            message = (
                f"space-efficient target {spec.target} is full ({spec.target_capacity_tracks} "
                f"tracks) and out_of_space = fail_relationship"
            )
            self.fail(spec.id, now, message)
            self.event(now, f"fail {spec.id}", message)

    def records(self) -> dict[str, np.ndarray] | None:
        """The per-I/O columns (memory-mapped from the spool), None with records off."""
        return None if self.spool is None else self.spool.columns()

    def cut(self, now: float) -> None:
        """Something the summary cuts the run at happened `now` (`flashsim.sim.tallies`)."""
        self.segments.cut(now)

    # -- relationships -------------------------------------------------------------------------
    def redirected_read(self, volume: str) -> None:
        """A read of target `volume` redirected to its source."""
        stats = self.stats.get(self.system.incoming.get(volume))  # type: ignore[arg-type]
        if stats is not None:
            stats.redirected_reads += 1

    def cleared(self, op: InFlight, action: ClearBits) -> None:
        """Bits `op` clears: counted by the copy that preceded them, else as target writes."""
        stats = self.stats.get(action.relationship)
        if stats is None:
            return
        tracks = action.end - action.first
        before = op.plan[op.pc - 1] if op.pc else None
        if type(before) is WriteTracks and before.first == action.first:
            if before.purpose in (COPY_BEFORE_WRITE, ROW_REMAP):  # ROW: a block handed over
                stats.cow_copies += tracks
            elif before.purpose == "background":
                stats.background_tracks_copied += tracks
            else:
                stats.target_precopies += tracks
        else:
            stats.target_write_clears += tracks

    def check_complete(self, rid: str, now: float) -> None:
        """Note the instant relationship `rid` has nothing left to copy (or has ended)."""
        stats = self.stats.get(rid)
        if stats is None or stats.copy_complete_at_s is not None:
            return
        rel = self.system.relationships.get(rid)
        if rel is None or rel.bitmap.count == 0:
            self.cut(now)
            stats.copy_complete_at_s = now
            if stats.points_in_time:
                stats.points_in_time[-1]["copy_complete_at_s"] = now
            if rel is None:
                stats.ended_at_s = now

    def established(self, rid: str, now: float, tracks: int) -> None:
        self.cut(now)
        stats = self.stats[rid]
        stats.established_at_s = now
        stats.tracks = tracks
        stats.points_in_time.append({"at_s": now, "copy_complete_at_s": None})

    def new_point_in_time(self, rid: str, now: float) -> None:
        """A refresh or reverse of `rid` took effect: a new copy to complete."""
        self.cut(now)
        stats = self.stats[rid]
        stats.copy_complete_at_s = None
        stats.points_in_time.append({"at_s": now, "copy_complete_at_s": None})
        self.check_complete(rid, now)

    def restarted(self, rid: str, now: float) -> None:
        """An svc restart of `rid` at `now` (rule S7): it no longer counts as ended at its
        stop (`new_point_in_time` follows)."""
        self.cut(now)
        stats = self.stats[rid]
        stats.withdrawn_at_s = stats.ended_at_s = None

    def withdrawn(self, rid: str, now: float) -> None:
        self.cut(now)
        stats = self.stats[rid]
        stats.withdrawn_at_s = stats.ended_at_s = now

    def fail(self, rid: str, now: float, message: str) -> None:
        """`rid` failed at `now` (or could not be established): why."""
        stats = self.stats[rid]
        if stats.failed:
            return
        self.cut(now)
        stats.failed = True
        stats.failed_at_s = now
        stats.error = message

    def frozen(self, gid: str, sources: tuple[str, ...], now: float) -> None:
        self.cut(now)
        group = self.groups[gid]
        group.sources = sources
        group.frozen_at_s = now

    def thawed(self, gid: str, now: float, error: str | None) -> None:
        self.cut(now)
        group = self.groups[gid]
        group.thawed_at_s = now
        group.error = error

    # -- timeline and windows ------------------------------------------------------------------
    def event(self, at_s: float, event: str, error: str | None) -> None:
        """A line of the timeline: a whole-volume operation or a group's freeze and thaw."""
        self.cut(at_s)
        self.timeline.append({"at_s": at_s, "event": event, "error": error})

    def snapshot(self, now: float) -> None:
        """The cumulative counters at `now` (a window boundary)."""
        row: dict[str, float] = {"time_s": now}
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
        if self._last is not None:
            k = self._snapshots - 1
            self.table.close(self._last["time_s"], now, self._windows.close(k), self._last, row)
        self._last = row
        self._snapshots += 1

    def finish(self, now: float) -> None:
        """At the end of the run (after the last snapshot): failures no write completed
        after, and the I/Os still waiting for their segment."""
        if self._fallible:
            self._look_for_failures(now)
        self.segments.finish()
