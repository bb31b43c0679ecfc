"""`summary.json`: the run's answers in one document (schema in `flashsim.sim.metrics`)."""

from __future__ import annotations

import json
from typing import Any

from flashsim.sim.devices import KINDS, PROFILE_KINDS
from flashsim.sim.engine import Result
from flashsim.sim.metrics.figures import io_figures, latency_ms, phase_figures, r
from flashsim.sim.recording import RelationshipStats
from flashsim.sim.scenario import MIB


def workload_figures(result: Result) -> list[dict[str, Any]]:
    """Per workload: its figures over its active time (first issue to last completion)."""
    segments = result.segments
    out = []
    for index, spec in enumerate(result.scenario.workloads):
        span = segments.span(index)
        tally = segments.whole(index)
        entry: dict[str, Any] = {"name": spec.name, "volume": spec.volume, "rw": spec.rw}
        entry["first_issue_s"] = None if span is None else r(span[0])
        entry["last_completion_s"] = None if span is None else r(span[1])
        entry |= io_figures(tally, 0.0 if span is None else span[1] - span[0],
                            result.errors[spec.name])  # fmt: skip
        entry["read_latency_ms"] = latency_ms(tally.read)
        entry["write_latency_ms"] = latency_ms(tally.write)
        if spec.trace is not None:
            entry["trace"] = {
                "path": spec.trace.path,
                "format": spec.trace.format,
                "loop": spec.trace.loop,
                "time_scale": spec.trace.time_scale,
                "mapping": spec.trace.mapping,
                "records": len(spec.trace.records),
                "skipped_lines": spec.trace.skipped_lines,
                "ignored_records": spec.trace.ignored,
            }
        out.append(entry)
    return out


def copy_window(stats: RelationshipStats, end_s: float) -> tuple[float, float] | None:
    """The first point in time's copy window: establish to copy complete, else to the
    relationship's failure or end, else to the end of the run (None if never established)."""
    start = stats.established_at_s
    if start is None:
        return None
    stops = [
        t
        for t in (
            stats.points_in_time[0]["copy_complete_at_s"] if stats.points_in_time else None,
            stats.failed_at_s,
            stats.ended_at_s,
        )
        if t is not None
    ]
    return start, min([*stops, end_s])


def impact(result: Result, t0: float, t1: float) -> dict[str, Any]:
    """Every workload before `t0`, in [t0, t1) and after `t1` (by issue time)."""
    end = result.scenario.run.duration_s
    phases = {"before": (0.0, t0), "during": (t0, t1), "after": (t1, end)}
    return {
        spec.name: {
            name: phase_figures(result.segments, index, a, b) for name, (a, b) in phases.items()
        }
        for index, spec in enumerate(result.scenario.workloads)
    }


def relationship_figures(result: Result) -> dict[str, Any]:
    end = result.scenario.run.duration_s
    out = {}
    for spec in result.scenario.flashcopies:
        s = result.relationships[spec.id]
        window = copy_window(s, end)
        points = []
        for p in s.points_in_time:
            done = p["copy_complete_at_s"]
            at = p["at_s"]
            copy_s = None if done is None or at is None else done - at
            points.append({"at_s": r(at), "copy_complete_at_s": r(done), "copy_s": r(copy_s)})
        entry: dict[str, Any] = {
            "source": spec.source,
            "target": spec.target,
            "background_copy": spec.background_copy,
            "copy_rate_mib_s": r(spec.copy_rate_bytes_s / MIB),
            "established_at_s": r(s.established_at_s),
            "copy_complete_at_s": r(s.copy_complete_at_s),
            "copy_s": points[0]["copy_s"] if points else None,
            "ended_at_s": r(s.ended_at_s),
            "withdrawn_at_s": r(s.withdrawn_at_s),
            "failed": s.failed,
            "failed_at_s": r(s.failed_at_s),
            "error": s.error,
            "cow_copies": s.cow_copies,
            "redirected_reads": s.redirected_reads,
            "background_tracks_copied": s.background_tracks_copied,
            "target_precopies": s.target_precopies,
            "target_write_clears": s.target_write_clears,
            "points_in_time": points,
        }
        if window is not None:
            entry["impact"] = {
                "copy_window_s": [r(window[0]), r(window[1])],
                "workloads": impact(result, *window),
            }
        out[spec.id] = entry
    return out


def group_figures(result: Result) -> dict[str, Any]:
    """Per consistency group: how long writes to its sources were held, and what that did."""
    out = {}
    for spec in result.scenario.groups:
        g = result.groups[spec.id]
        entry: dict[str, Any] = {
            "members": list(g.members),
            "sources": list(g.sources),
            "frozen_at_s": r(g.frozen_at_s),
            "thawed_at_s": r(g.thawed_at_s),
            "writes_held_s": None,
            "failed": g.error is not None,
            "error": g.error,
        }
        if g.frozen_at_s is not None:
            thaw = result.scenario.run.duration_s if g.thawed_at_s is None else g.thawed_at_s
            entry["writes_held_s"] = r(thaw - g.frozen_at_s)
            frozen = {w.name for w in result.scenario.workloads if w.volume in g.sources}
            phases = impact(result, g.frozen_at_s, thaw)
            entry["impact"] = {
                "freeze_window_s": [r(g.frozen_at_s), r(thaw)],
                "workloads": {name: p for name, p in phases.items() if name in frozen},
            }
        out[spec.id] = entry
    return out


#: Timeline events that start a new phase (a group's thaw follows its establish at once).
PHASE_EVENTS = ("establish", "refresh", "reverse", "withdraw", "freeze", "thaw", "timeout", "fail")


def boundaries(result: Result) -> list[tuple[float, str]]:
    """The instants that change what the host sees, with what happened: establishes and other
    whole-volume operations, freezes, thaws, failures (timeline) and copy completions."""
    marks: dict[float, list[str]] = {}
    for e in result.timeline:
        label = str(e["event"])
        kind = label.split(" ", 1)[0]
        # an operation that failed changed nothing; a timeout or a failure is itself the change
        if kind in PHASE_EVENTS and (e["error"] is None or kind in ("timeout", "fail")):
            marks.setdefault(float(e["at_s"]), []).append(label)  # type: ignore[arg-type]
    for rid, stats in result.relationships.items():
        for point in stats.points_in_time:
            done = point["copy_complete_at_s"]
            if done is not None:
                marks.setdefault(float(done), []).append(f"copy complete {rid}")
    end = result.scenario.run.duration_s
    return [(t, ", ".join(labels)) for t, labels in sorted(marks.items()) if 0 < t < end]


def phases(result: Result) -> list[dict[str, Any]]:
    """The run cut at every boundary: per phase and workload, I/Os issued in it, IOPS over
    its active part, errors and latency percentiles (a compact `impact` for every event)."""
    cuts = boundaries(result)
    starts = [(0.0, "start"), *cuts]
    ends = [t for t, _ in cuts] + [result.scenario.run.duration_s]
    out = []
    for (t0, what), t1 in zip(starts, ends, strict=True):
        workloads = {}
        for index, spec in enumerate(result.scenario.workloads):
            f = phase_figures(result.segments, index, t0, t1)
            lat = f["latency_ms"]
            workloads[spec.name] = {
                "ios": f["ios"],
                "iops": f["iops"],
                "errors": f["errors"],
                "latency_ms": {k: lat[k] for k in ("p50", "p99", "p99_9", "max")},
            }
        out.append({"from_s": r(t0), "to_s": r(t1), "after": what, "workloads": workloads})
    return out


def array_figures(result: Result) -> dict[str, Any]:
    duration = result.scenario.run.duration_s
    out = {}
    for name, arr in result.arrays.items():
        capacity_s = arr.spec.parallelism * duration
        kinds = KINDS + tuple(k for k in PROFILE_KINDS if arr.ios[k])
        out[name] = {
            "utilisation": r(min(arr.busy_s, capacity_s) / capacity_s, 6),
            "busy_s": r(arr.busy_s),
            "ios": {k: arr.ios[k] for k in kinds},
            "bytes": {k: arr.bytes[k] for k in kinds},
            "mib_s": {k: r(arr.bytes[k] / MIB / duration, 3) for k in kinds},
        }
    return out


def summary(result: Result) -> dict[str, Any]:
    scenario = result.scenario
    run = scenario.run
    out = {
        "run": {
            "scenario": scenario.path.replace("\\", "/").rsplit("/", 1)[-1],
            "duration_s": run.duration_s,
            "seed": run.seed,
            "window_s": run.window_s,
            "host_ios": result.host_ios,
            "host_errors": result.host_errors,
        },
        "workloads": workload_figures(result),
        "relationships": relationship_figures(result),
        "groups": group_figures(result),
        "phases": phases(result),
        "arrays": array_figures(result),
        "timeline": [
            {"at_s": r(e["at_s"]), "event": e["event"], "error": e["error"]}
            for e in result.timeline
        ],
    }
    if result.controller is not None:  # only with a [controller] cache (`flashsim.sim.cache`)
        out["controller"] = result.controller
    return out


def summary_json(result: Result) -> str:
    return json.dumps(summary(result), indent=2) + "\n"
