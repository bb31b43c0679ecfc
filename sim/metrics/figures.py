"""The figures of a set of host I/Os (a `flashsim.sim.tallies.Tally`): counts, IOPS and MiB/s
over the time they were active, errors apart, latency percentiles. Failed I/Os never enter
IOPS, bytes or latency."""

from __future__ import annotations

from typing import Any

from flashsim.sim.histogram import PERCENTILES, QUANTILE_KEYS, latency_ms, r
from flashsim.sim.scenario import MIB
from flashsim.sim.tallies import Segments, Tally

__all__ = ["PERCENTILES", "QUANTILE_KEYS", "io_figures", "latency_ms", "phase_figures", "r"]


def io_figures(tally: Tally, span_s: float, kinds: dict[str, int] | None) -> dict[str, Any]:
    """The figures of the I/Os of `tally` over `span_s` seconds of activity."""
    per_s = 1.0 / span_s if span_s > 0 else 0.0
    figures: dict[str, Any] = {
        "active_s": r(span_s),
        "ios": tally.ios,
        "iops": r(tally.ios * per_s, 3),
        "mib_s": r(tally.bytes / MIB * per_s, 3),
        "reads": tally.read.n,
        "writes": tally.write.n,
        "bytes": tally.bytes,
        "errors": tally.errors,
        "errors_per_s": r(tally.errors * per_s, 3),
    }
    if kinds is not None:
        figures["error_kinds"] = dict(sorted(kinds.items()))
    figures["latency_ms"] = latency_ms(tally.latency())
    return figures


def phase_figures(segments: Segments, index: int, t0: float, t1: float) -> dict[str, Any]:
    """The I/Os of workload `index` issued in [t0, t1): their figures over the part of that
    phase in which the workload was active (so a job that starts late is not diluted)."""
    span = segments.span(index)
    active = 0.0 if span is None else max(0.0, min(t1, span[1]) - max(t0, span[0]))
    tally = segments.between(index, t0, t1)
    figures = io_figures(tally, active, None)
    del figures["reads"], figures["writes"], figures["bytes"]
    figures["write_latency_ms"] = latency_ms(tally.write)
    return figures
