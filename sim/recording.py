"""What a run records as it goes: one row per completed host I/O (compact columns), error
counts per workload, counters per relationship, the timeline of whole-volume operations,
and the cumulative counters at every window boundary (`flashsim.sim.metrics` turns these
into the output files)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from flashsim.models.rules.actions import COPY_BEFORE_WRITE, ROW_REMAP, ClearBits, WriteTracks
from flashsim.models.rules.inflight import InFlight
from flashsim.models.system import System
from flashsim.sim.devices import KINDS, Array
from flashsim.sim.scenario import Scenario


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

    def __init__(self, scenario: Scenario, system: System, arrays: dict[str, Array]) -> None:
        self.system = system
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
        self.windows: list[dict[str, float]] = []
        self._names = [w.name for w in scenario.workloads]
        self._workload = array("i")
        self._read = array("b")
        self._issue = array("d")
        self._latency = array("d")
        self._offset = array("q")
        self._length = array("q")
        self._error = array("b")

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
        self._workload.append(index)
        self._read.append(is_read)
        self._issue.append(issue)
        self._latency.append(latency)
        self._offset.append(offset)
        self._length.append(length)
        if error is None:
            self._error.append(0)
        else:
            self._error.append(1)
            counts = self.errors[self._names[index]]
            name = type(error).__name__
            counts[name] = counts.get(name, 0) + 1
        if self._fallible and not is_read:
            self._look_for_failures(issue + latency)

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

    @property
    def host_ios(self) -> int:
        return len(self._issue)

    def records(self) -> dict[str, np.ndarray]:
        """The per-I/O columns as numpy arrays (views of the recorded buffers)."""
        return {
            "workload": np.frombuffer(self._workload, dtype=np.int32),
            "read": np.frombuffer(self._read, dtype=np.int8),
            "issue_s": np.frombuffer(self._issue, dtype=np.float64),
            "latency_s": np.frombuffer(self._latency, dtype=np.float64),
            "offset": np.frombuffer(self._offset, dtype=np.int64),
            "length": np.frombuffer(self._length, dtype=np.int64),
            "error": np.frombuffer(self._error, dtype=np.int8),
        }

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
            stats.copy_complete_at_s = now
            if stats.points_in_time:
                stats.points_in_time[-1]["copy_complete_at_s"] = now
            if rel is None:
                stats.ended_at_s = now

    def established(self, rid: str, now: float, tracks: int) -> None:
        stats = self.stats[rid]
        stats.established_at_s = now
        stats.tracks = tracks
        stats.points_in_time.append({"at_s": now, "copy_complete_at_s": None})

    def new_point_in_time(self, rid: str, now: float) -> None:
        """A refresh or reverse of `rid` took effect: a new copy to complete."""
        stats = self.stats[rid]
        stats.copy_complete_at_s = None
        stats.points_in_time.append({"at_s": now, "copy_complete_at_s": None})
        self.check_complete(rid, now)

    def withdrawn(self, rid: str, now: float) -> None:
        stats = self.stats[rid]
        stats.withdrawn_at_s = stats.ended_at_s = now

    def fail(self, rid: str, now: float, message: str) -> None:
        """`rid` failed at `now` (or could not be established): why."""
        stats = self.stats[rid]
        if stats.failed:
            return
        stats.failed = True
        stats.failed_at_s = now
        stats.error = message

    def mark_failed(self, now: float) -> None:
        """At the end: catch a failure no write completed after (the run ended first)."""
        if self._fallible:
            self._look_for_failures(now)

    def frozen(self, gid: str, sources: tuple[str, ...], now: float) -> None:
        group = self.groups[gid]
        group.sources = sources
        group.frozen_at_s = now

    def thawed(self, gid: str, now: float, error: str | None) -> None:
        group = self.groups[gid]
        group.thawed_at_s = now
        group.error = error

    # -- timeline and windows ------------------------------------------------------------------
    def event(self, at_s: float, event: str, error: str | None) -> None:
        """A line of the timeline: a whole-volume operation or a group's freeze and thaw."""
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
        self.windows.append(row)
