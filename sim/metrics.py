"""Results of a run as data: `summary.json`, per-I/O records and windowed metrics (CSV).

Every number is computed from the run's `Result` with numpy, rounded to fixed precision and
written with a fixed key order, so equal runs give byte-identical files.

summary.json::

    {"run": {...}, "workloads": [{"name", "volume", "ios", "iops", "reads", "writes",
      "errors", "latency_ms": {"mean", "p50", "p95", "p99", "max"}}, ...],
     "relationships": {id: {"established_at_s", "copy_complete_at_s", "cow_copies",
      "redirected_reads", "background_tracks_copied", ...}},
     "arrays": {name: {"utilisation", "ios": {kind: n}, "bytes": {kind: n}}},
     "timeline": [{"at_s", "event", "error"}, ...],
     "controller": {...}}  (only with a [controller] cache: `flashsim.sim.cache`)
"""

from __future__ import annotations

import io
import json
import math
from itertools import pairwise
from typing import Any, TextIO

import numpy as np

from flashsim.sim.devices import KINDS
from flashsim.sim.engine import Result

PERCENTILES = (50, 95, 99)


def _r(value: float | None, digits: int = 6) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def latency_ms(latencies_s: np.ndarray) -> dict[str, float | None]:
    if not len(latencies_s):
        return {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    ms = latencies_s * 1000.0
    p50, p95, p99 = np.percentile(ms, PERCENTILES)
    return {
        "mean": _r(ms.mean()),
        "p50": _r(p50),
        "p95": _r(p95),
        "p99": _r(p99),
        "max": _r(ms.max()),
    }


def summary(result: Result) -> dict[str, Any]:
    scenario = result.scenario
    run = scenario.run
    rec = result.records
    workloads = []
    for index, spec in enumerate(scenario.workloads):
        mine = rec["workload"] == index
        ok = mine & (rec["error"] == 0)
        active_s = min(spec.stop_s, run.duration_s) - spec.start_s
        ios = int(mine.sum())
        workloads.append(
            {
                "name": spec.name,
                "volume": spec.volume,
                "rw": spec.rw,
                "ios": ios,
                "iops": _r(ios / active_s if active_s > 0 else 0.0, 3),
                "reads": int((mine & (rec["read"] == 1)).sum()),
                "writes": int((mine & (rec["read"] == 0)).sum()),
                "bytes": int(rec["length"][mine].sum()),
                "errors": int((mine & (rec["error"] == 1)).sum()),
                "error_kinds": dict(sorted(result.errors[spec.name].items())),
                "latency_ms": latency_ms(rec["latency_s"][ok]),
                "read_latency_ms": latency_ms(rec["latency_s"][ok & (rec["read"] == 1)]),
                "write_latency_ms": latency_ms(rec["latency_s"][ok & (rec["read"] == 0)]),
            }
        )
        if spec.trace is not None:
            workloads[-1]["trace"] = {
                "path": spec.trace.path,
                "format": spec.trace.format,
                "loop": spec.trace.loop,
                "time_scale": spec.trace.time_scale,
                "mapping": spec.trace.mapping,
                "records": len(spec.trace.records),
                "skipped_lines": spec.trace.skipped_lines,
                "ignored_records": spec.trace.ignored,
            }
    relationships = {}
    for spec in scenario.flashcopies:
        s = result.relationships[spec.id]
        relationships[spec.id] = {
            "source": spec.source,
            "target": spec.target,
            "background_copy": spec.background_copy,
            "copy_rate_mib_s": _r(spec.copy_rate_bytes_s / (1 << 20)),
            "established_at_s": _r(s.established_at_s),
            "copy_complete_at_s": _r(s.copy_complete_at_s),
            "ended_at_s": _r(s.ended_at_s),
            "withdrawn_at_s": _r(s.withdrawn_at_s),
            "cow_copies": s.cow_copies,
            "redirected_reads": s.redirected_reads,
            "background_tracks_copied": s.background_tracks_copied,
            "target_precopies": s.target_precopies,
            "target_write_clears": s.target_write_clears,
            "failed": s.failed,
            "error": s.error,
            "points_in_time": [{k: _r(v) for k, v in p.items()} for p in s.points_in_time],
        }
    arrays = {}
    for name, arr in result.arrays.items():
        capacity_s = arr.spec.parallelism * run.duration_s
        arrays[name] = {
            "utilisation": _r(min(arr.busy_s, capacity_s) / capacity_s, 6),
            "busy_s": _r(arr.busy_s),
            "ios": {k: arr.ios[k] for k in KINDS},
            "bytes": {k: arr.bytes[k] for k in KINDS},
        }
    out = {
        "run": {
            "scenario": scenario.path.replace("\\", "/").rsplit("/", 1)[-1],
            "duration_s": run.duration_s,
            "seed": run.seed,
            "window_s": run.window_s,
            "host_ios": result.host_ios,
        },
        "workloads": workloads,
        "relationships": relationships,
        "arrays": arrays,
        "timeline": [
            {"at_s": _r(e["at_s"]), "event": e["event"], "error": e["error"]}
            for e in result.timeline
        ],
    }
    if result.controller is not None:
        out["controller"] = result.controller
    return out


def summary_json(result: Result) -> str:
    return json.dumps(summary(result), indent=2) + "\n"


def windows(result: Result) -> tuple[list[str], list[list[float | None]]]:
    """Windowed metrics: one row per window of `run.window_s` seconds.

    Host I/O (IOPS, latency percentiles in ms, per reads and writes), per relationship the
    copy progress at the window's end and the COWs, background tracks and redirected reads
    in the window, per array the back-end I/Os by kind and the utilisation in the window.
    """
    scenario = result.scenario
    rec = result.records
    snaps = result.windows
    done = rec["issue_s"] + rec["latency_s"]
    order = np.argsort(done, kind="stable")
    done_sorted = done[order]
    header = ["window_start_s", "window_end_s", "host_iops", "read_iops", "write_iops"]
    for what in ("", "read_", "write_"):
        header += [f"{what}latency_ms_{q}" for q in ("p50", "p95", "p99", "max")]
    rel_ids = [f.id for f in scenario.flashcopies]
    for rid in rel_ids:
        header += [
            f"{rid}.progress",
            f"{rid}.cow_copies",
            f"{rid}.background_tracks",
            f"{rid}.redirected_reads",
        ]
    for name, arr in result.arrays.items():
        header += [f"{name}.{kind}_ios" for kind in KINDS]
        header += [f"{name}.utilisation"]
        del arr
    rows = []
    for a, b in pairwise(snaps):
        t0, t1 = a["time_s"], b["time_s"]
        span = t1 - t0
        if span <= 0:
            continue
        lo, hi = np.searchsorted(done_sorted, [t0, t1], side="left")
        idx = order[lo:hi]
        lat = rec["latency_s"][idx][rec["error"][idx] == 0] * 1000.0
        reads = rec["read"][idx][rec["error"][idx] == 0] == 1
        row: list[float | None] = [
            _r(t0),
            _r(t1),
            _r(len(idx) / span, 3),
            _r(int(reads.sum()) / span, 3),
            _r(int((~reads).sum()) / span, 3),
        ]
        for part in (lat, lat[reads], lat[~reads]):
            if len(part):
                row += [_r(v) for v in np.percentile(part, PERCENTILES)] + [_r(part.max())]
            else:
                row += [None, None, None, None]
        for rid in rel_ids:
            row += [
                _r(b[f"{rid}.progress"]),
                b[f"{rid}.cow_copies"] - a[f"{rid}.cow_copies"],
                b[f"{rid}.background_tracks"] - a[f"{rid}.background_tracks"],
                b[f"{rid}.redirected_reads"] - a[f"{rid}.redirected_reads"],
            ]
        for name, arr in result.arrays.items():
            row += [b[f"{name}.{kind}_ios"] - a[f"{name}.{kind}_ios"] for kind in KINDS]
            busy = b[f"{name}.busy_s"] - a[f"{name}.busy_s"]
            row.append(_r(min(1.0, busy / (span * arr.spec.parallelism))))
        rows.append(row)
    return header, rows


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    for row in rows:
        out.write(
            ",".join("" if v is None else repr(v) if isinstance(v, float) else str(v) for v in row)
        )
        out.write("\n")
    return out.getvalue()


def windows_csv(result: Result) -> str:
    header, rows = windows(result)
    return _csv(header, rows)


#: Rows of ios.csv formatted at a time: memory stays flat however long the run.
RECORD_BLOCK = 1 << 16


def write_records_csv(result: Result, out: TextIO) -> None:
    """Write one row per completed host I/O, in completion order, to `out`, a block of rows
    at a time (a row as Python objects costs ~180 bytes: 18 M rows at once would be 3 GB)."""
    rec = result.records
    names = [w.name for w in result.scenario.workloads]
    volumes = [w.volume for w in result.scenario.workloads]
    out.write("workload,volume,op,issue_s,latency_ms,offset,length,error\n")
    for lo in range(0, len(rec["issue_s"]), RECORD_BLOCK):
        hi = lo + RECORD_BLOCK
        columns = zip(
            rec["workload"][lo:hi].tolist(),
            rec["read"][lo:hi].tolist(),
            rec["issue_s"][lo:hi].tolist(),
            (rec["latency_s"][lo:hi] * 1000.0).tolist(),
            rec["offset"][lo:hi].tolist(),
            rec["length"][lo:hi].tolist(),
            rec["error"][lo:hi].tolist(),
            strict=True,
        )
        out.write(
            "".join(
                f"{names[w]},{volumes[w]},{'read' if r else 'write'},{issue:.9f},{lat:.6f},"
                f"{off},{length},{err}\n"
                for w, r, issue, lat, off, length, err in columns
            )
        )


def records_csv(result: Result) -> str:
    """`write_records_csv` into a string (small runs, tests)."""
    out = io.StringIO()
    write_records_csv(result, out)
    return out.getvalue()
