"""Windowed metrics (`windows.csv`) and per-I/O records (`ios.csv`), written with the csv
module (a name holding a comma or a quote is quoted, never shifts a column)."""

from __future__ import annotations

import csv
import io
from itertools import pairwise
from typing import Any, TextIO

import numpy as np

from flashsim.sim.devices import KINDS
from flashsim.sim.engine import Result
from flashsim.sim.metrics.figures import PERCENTILES, QUANTILE_KEYS, r
from flashsim.sim.scenario import MIB

LATENCY_KEYS = (*QUANTILE_KEYS, "max")


def _quantiles(lat_ms: np.ndarray) -> list[float | None]:
    if not len(lat_ms):
        return [None] * len(LATENCY_KEYS)
    return [r(v) for v in np.percentile(lat_ms, PERCENTILES)] + [r(lat_ms.max())]


def windows(result: Result) -> tuple[list[str], list[list[float | None]]]:
    """Windowed metrics: one row per window of `run.window_s` seconds, I/Os by completion.

    All host I/O (IOPS and latency percentiles in ms, also per reads and writes; failed I/Os
    counted in `host_errors` only); per workload `W.iops`, `W.mib_s`, `W.errors` and
    `W.latency_ms_*`; per relationship the copy progress at the window's end and the COWs,
    background tracks and redirected reads in the window; per array the back-end I/Os and
    MiB/s by kind and the utilisation in the window.
    """
    scenario = result.scenario
    rec = result.records
    snaps = result.windows
    done = rec["issue_s"] + rec["latency_s"]
    order = np.argsort(done, kind="stable")
    done_sorted = done[order]
    header = ["window_start_s", "window_end_s", "host_iops", "read_iops", "write_iops"]
    header.append("host_errors")
    for what in ("", "read_", "write_"):
        header += [f"{what}latency_ms_{q}" for q in LATENCY_KEYS]
    names = [w.name for w in scenario.workloads]
    for name in names:
        header += [f"{name}.iops", f"{name}.mib_s", f"{name}.errors"]
        header += [f"{name}.latency_ms_{q}" for q in LATENCY_KEYS]
    rel_ids = [f.id for f in scenario.flashcopies]
    for rid in rel_ids:
        header += [
            f"{rid}.progress",
            f"{rid}.cow_copies",
            f"{rid}.background_tracks",
            f"{rid}.redirected_reads",
        ]
    for name in result.arrays:
        header += [f"{name}.{kind}_ios" for kind in KINDS]
        header += [f"{name}.{kind}_mib_s" for kind in KINDS]
        header += [f"{name}.utilisation"]
    rows = []
    for a, b in pairwise(snaps):
        t0, t1 = a["time_s"], b["time_s"]
        span = t1 - t0
        if span <= 0:
            continue
        lo, hi = np.searchsorted(done_sorted, [t0, t1], side="left")
        idx = order[lo:hi]
        ok = rec["error"][idx] == 0
        good = idx[ok]
        lat = rec["latency_s"][good] * 1000.0
        reads = rec["read"][good] == 1
        row: list[float | None] = [
            r(t0),
            r(t1),
            r(len(good) / span, 3),
            r(int(reads.sum()) / span, 3),
            r(int((~reads).sum()) / span, 3),
            int((~ok).sum()),
        ]
        for part in (lat, lat[reads], lat[~reads]):
            row += _quantiles(part)
        who = rec["workload"][good]
        failed_who = rec["workload"][idx[~ok]]
        for index in range(len(names)):
            mine = who == index
            nbytes = int(rec["length"][good][mine].sum())
            row += [
                r(int(mine.sum()) / span, 3),
                r(nbytes / MIB / span, 3),
                int((failed_who == index).sum()),
            ]
            row += _quantiles(lat[mine])
        for rid in rel_ids:
            row += [
                r(b[f"{rid}.progress"]),
                b[f"{rid}.cow_copies"] - a[f"{rid}.cow_copies"],
                b[f"{rid}.background_tracks"] - a[f"{rid}.background_tracks"],
                b[f"{rid}.redirected_reads"] - a[f"{rid}.redirected_reads"],
            ]
        for name, arr in result.arrays.items():
            row += [b[f"{name}.{kind}_ios"] - a[f"{name}.{kind}_ios"] for kind in KINDS]
            row += [
                r((b[f"{name}.{kind}_bytes"] - a[f"{name}.{kind}_bytes"]) / MIB / span, 3)
                for kind in KINDS
            ]
            busy = b[f"{name}.busy_s"] - a[f"{name}.busy_s"]
            row.append(r(min(1.0, busy / (span * arr.spec.parallelism))))
        rows.append(row)
    return header, rows


def _cell(value: Any) -> Any:
    """Empty for a missing value; floats as repr (shortest round-trip, as before)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def write_csv(out: TextIO, header: list[str], rows: Any) -> None:
    """`header` then `rows` as CSV, lines ending in \\n, fields quoted only when needed."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)


def csv_text(header: list[str], rows: Any) -> str:
    out = io.StringIO()
    write_csv(out, header, rows)
    return out.getvalue()


def windows_csv(result: Result) -> str:
    header, rows = windows(result)
    return csv_text(header, rows)


#: Rows of ios.csv formatted at a time: memory stays flat however long the run.
RECORD_BLOCK = 1 << 16

RECORD_HEADER = ["workload", "volume", "op", "issue_s", "latency_ms", "offset", "length", "error"]


def write_records_csv(result: Result, out: TextIO) -> None:
    """Write one row per completed host I/O, in completion order, to `out`, a block of rows
    at a time (a row as Python objects costs ~180 bytes: 18 M rows at once would be 3 GB)."""
    rec = result.records
    names = [w.name for w in result.scenario.workloads]
    volumes = [w.volume for w in result.scenario.workloads]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RECORD_HEADER)
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
        writer.writerows(
            (
                names[w],
                volumes[w],
                "read" if r_ else "write",
                f"{issue:.9f}",
                f"{lat:.6f}",
                off,
                length,
                err,
            )
            for w, r_, issue, lat, off, length, err in columns
        )


def records_csv(result: Result) -> str:
    """`write_records_csv` into a string (small runs, tests)."""
    out = io.StringIO()
    write_records_csv(result, out)
    return out.getvalue()
