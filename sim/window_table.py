"""`windows.csv` as the run goes: one row per window of `run.window_s` seconds, reduced from
the window's tallies (I/Os by completion) and the cumulative counters at its two ends when
it closes, then kept as numbers only.

All host I/O: IOPS and latency percentiles in ms, also per reads and writes (failed I/Os
counted in `host_errors` only); per workload `W.iops`, `W.mib_s`, `W.errors` and
`W.latency_ms_*`; per relationship the copy progress at the window's end and the COWs,
background tracks and redirected reads in the window; per array the back-end I/Os and MiB/s
by kind and the utilisation in the window.
"""

from __future__ import annotations

from flashsim.sim.devices import KINDS, Array
from flashsim.sim.histogram import PERCENTILES, QUANTILE_KEYS, Histogram, r
from flashsim.sim.tallies import Rows, Tally

MIB = 1 << 20
LATENCY_KEYS = (*QUANTILE_KEYS, "max")


def _quantiles(hist: Histogram) -> list[float | None]:
    if not hist.n:
        return [None] * len(LATENCY_KEYS)
    return [r(v * 1000.0) for v in (*hist.quantiles(PERCENTILES), hist.high)]


class WindowTable:
    """The header and the rows of `windows.csv` for workloads `names`, relationships
    `rel_ids` and `arrays`."""

    def __init__(self, names: list[str], rel_ids: list[str], arrays: dict[str, Array]) -> None:
        self.names = names
        self.rel_ids = rel_ids
        self.arrays = arrays
        header = ["window_start_s", "window_end_s", "host_iops", "read_iops", "write_iops"]
        whole = {"host_errors"}
        header.append("host_errors")
        for what in ("", "read_", "write_"):
            header += [f"{what}latency_ms_{q}" for q in LATENCY_KEYS]
        for name in names:
            header += [f"{name}.iops", f"{name}.mib_s", f"{name}.errors"]
            whole.add(f"{name}.errors")
            header += [f"{name}.latency_ms_{q}" for q in LATENCY_KEYS]
        for rid in rel_ids:
            counts = [f"{rid}.cow_copies", f"{rid}.background_tracks", f"{rid}.redirected_reads"]
            header += [f"{rid}.progress", *counts]
            whole.update(counts)
        for name in arrays:
            ios = [f"{name}.{kind}_ios" for kind in KINDS]
            header += ios + [f"{name}.{kind}_mib_s" for kind in KINDS]
            header += [f"{name}.utilisation"]
            whole.update(ios)
        self.header = header
        self.rows = Rows(len(header), [h in whole for h in header])

    def close(
        self,
        t0: float,
        t1: float,
        tallies: list[Tally],
        a: dict[str, float],
        b: dict[str, float],
    ) -> None:
        """The row of window [t0, t1): its I/Os `tallies` (by workload), counters `a` and `b`
        at its ends."""
        span = t1 - t0
        if span <= 0:
            return
        every = Tally.of(tallies)
        reads, writes = every.read, every.write
        row: list[float | None] = [
            r(t0),
            r(t1),
            r(every.ios / span, 3),
            r(reads.n / span, 3),
            r(writes.n / span, 3),
            every.errors,
        ]
        for part in (every.latency(), reads, writes):
            row += _quantiles(part)
        for tally in tallies:
            row += [r(tally.ios / span, 3), r(tally.bytes / MIB / span, 3), tally.errors]
            row += _quantiles(tally.latency())
        for rid in self.rel_ids:
            row += [
                r(b[f"{rid}.progress"]),
                b[f"{rid}.cow_copies"] - a[f"{rid}.cow_copies"],
                b[f"{rid}.background_tracks"] - a[f"{rid}.background_tracks"],
                b[f"{rid}.redirected_reads"] - a[f"{rid}.redirected_reads"],
            ]
        for name, arr in self.arrays.items():
            row += [b[f"{name}.{kind}_ios"] - a[f"{name}.{kind}_ios"] for kind in KINDS]
            row += [
                r((b[f"{name}.{kind}_bytes"] - a[f"{name}.{kind}_bytes"]) / MIB / span, 3)
                for kind in KINDS
            ]
            busy = b[f"{name}.busy_s"] - a[f"{name}.busy_s"]
            row.append(r(min(1.0, busy / (span * arr.spec.parallelism))))
        self.rows.append(row)
