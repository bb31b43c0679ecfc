"""The figures of a set of host I/Os: counts, IOPS and MiB/s over the time they were active,
errors apart, latency percentiles. Failed I/Os never enter IOPS, bytes or latency."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flashsim.sim.scenario import MIB

#: Latency percentiles reported everywhere, and their key suffixes (p99.9 -> "p99_9").
PERCENTILES = (50.0, 95.0, 99.0, 99.9)
QUANTILE_KEYS = ("p50", "p95", "p99", "p99_9")


def r(value: float | None, digits: int = 6) -> float | None:
    """`value` rounded to fixed precision (None for None and NaN), so files are stable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def latency_ms(latencies_s: np.ndarray) -> dict[str, float | None]:
    """mean, p50, p95, p99, p99_9 and max of `latencies_s`, in ms (None when empty)."""
    keys = ("mean", *QUANTILE_KEYS, "max")
    if not len(latencies_s):
        return dict.fromkeys(keys)
    ms = latencies_s * 1000.0
    quantiles = np.percentile(ms, PERCENTILES)
    values = [ms.mean(), *quantiles, ms.max()]
    return {k: r(v) for k, v in zip(keys, values, strict=True)}


def active_span(rec: dict[str, np.ndarray], mine: np.ndarray) -> tuple[float, float] | None:
    """First issue to last completion of the I/Os selected by `mine` (None if there are none)."""
    if not mine.any():
        return None
    issue = rec["issue_s"][mine]
    return float(issue.min()), float((issue + rec["latency_s"][mine]).max())


def io_figures(
    rec: dict[str, np.ndarray], mine: np.ndarray, span_s: float, kinds: dict[str, int] | None
) -> dict[str, Any]:
    """The figures of the I/Os selected by `mine` over `span_s` seconds of activity."""
    ok = mine & (rec["error"] == 0)
    failed = mine & (rec["error"] == 1)
    ios = int(ok.sum())
    errors = int(failed.sum())
    nbytes = int(rec["length"][ok].sum())
    per_s = 1.0 / span_s if span_s > 0 else 0.0
    figures: dict[str, Any] = {
        "active_s": r(span_s),
        "ios": ios,
        "iops": r(ios * per_s, 3),
        "mib_s": r(nbytes / MIB * per_s, 3),
        "reads": int((ok & (rec["read"] == 1)).sum()),
        "writes": int((ok & (rec["read"] == 0)).sum()),
        "bytes": nbytes,
        "errors": errors,
        "errors_per_s": r(errors * per_s, 3),
    }
    if kinds is not None:
        figures["error_kinds"] = dict(sorted(kinds.items()))
    figures["latency_ms"] = latency_ms(rec["latency_s"][ok])
    return figures


def phase_figures(
    rec: dict[str, np.ndarray], mine: np.ndarray, t0: float, t1: float
) -> dict[str, Any]:
    """The I/Os of `mine` issued in [t0, t1): their figures over the part of that phase in
    which the workload was active (so a job that starts late is not diluted)."""
    span = active_span(rec, mine)
    issue = rec["issue_s"]
    inside = mine & (issue >= t0) & (issue < t1)
    if span is None:
        active = 0.0
    else:
        active = max(0.0, min(t1, span[1]) - max(t0, span[0]))
    figures = io_figures(rec, inside, active, None)
    del figures["reads"], figures["writes"], figures["bytes"]
    figures["write_latency_ms"] = latency_ms(
        rec["latency_s"][inside & (rec["error"] == 0) & (rec["read"] == 0)]
    )
    return figures
