"""Windowed metrics (`windows.csv`) and per-I/O records (`ios.csv`), written with the csv
module (a name holding a comma or a quote is quoted, never shifts a column)."""

from __future__ import annotations

import csv
import io
from typing import Any, TextIO

from flashsim.sim.engine import Result


def windows(result: Result) -> tuple[list[str], list[list[float | None]]]:
    """Windowed metrics: the header and rows of `windows.csv` (`flashsim.sim.window_table`,
    reduced as each window closed)."""
    table = result.window_table
    return table.header, list(table.rows)


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
    if rec is None:
        raise ValueError("this run kept no per-I/O records (run.records = false)")
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
