"""The `[[array]]` tables of a scenario: latencies, bandwidth, slots, and the latency's
distribution (`service_time`, `flashsim.sim.service_time`)."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from flashsim.sim.scenario.specs import ArraySpec
from flashsim.sim.scenario.tables import (
    ScenarioError,
    Table,
    at_least_one,
    non_negative,
    not_empty,
    positive,
    tables_of,
    unique,
)
from flashsim.sim.service_time import DISTRIBUTIONS, MAX_CV, Percentiles, percentile_mean

_PERCENTILE_KEY = re.compile(r"p(\d+(?:\.\d+)?)")
DIRECTIONS = ("read", "write")
EXAMPLE = '{p50 = 0.2, p99 = 1.5, "p99.9" = 4}'


def array_specs(raw: dict[str, Any], file: str) -> tuple[ArraySpec, ...]:
    tables = tables_of(raw, "array", file)
    if not tables:
        raise ScenarioError(f"{file}: array: at least one [[array]] is required")
    unique(tables, "name", "array")
    out = []
    for t in tables:
        name = t.get("name", str, check=not_empty)
        kind = t.get(
            "service_time",
            str,
            "fixed",
            lambda v: None if v in DISTRIBUTIONS else f"must be one of {', '.join(DISTRIBUTIONS)}",
        )
        cv = _cv(t, kind)
        latency: dict[str, float] = {}
        tables_ms: dict[str, Percentiles] = {}
        for direction in DIRECTIONS:
            key, table_key = f"{direction}_latency_ms", f"{direction}_latency_percentiles_ms"
            if kind == "empirical":
                if t.has(key):
                    raise t.error(
                        key, f'with service_time = "empirical" the latency is {table_key}'
                    )
                tables_ms[direction] = _percentiles(t, table_key)
                latency[direction] = percentile_mean(tables_ms[direction])
            else:
                if t.has(table_key):
                    raise t.error(table_key, 'goes with service_time = "empirical" only')
                latency[direction] = t.number(key, check=non_negative)
                tables_ms[direction] = ()
        out.append(
            ArraySpec(
                name=name,
                read_latency_ms=latency["read"],
                write_latency_ms=latency["write"],
                bandwidth_mib_s=t.number("bandwidth_mib_s", check=positive),
                parallelism=t.get("parallelism", int, 1, at_least_one),
                preemptive=t.get("preemptive", bool, False),
                service_time=kind,
                service_time_cv=cv,
                read_percentiles=tables_ms["read"],
                write_percentiles=tables_ms["write"],
            )
        )
        t.finish()
    return tuple(out)


def _cv(t: Table, kind: str) -> float | None:
    if kind != "lognormal":
        if t.has("service_time_cv"):
            raise t.error("service_time_cv", 'goes with service_time = "lognormal" only')
        return None
    return t.number(
        "service_time_cv",
        check=lambda v: None if 0 < v <= MAX_CV else f"must be > 0 and at most {MAX_CV:g}",
    )


def _percentiles(t: Table, key: str) -> Percentiles:
    """``{p50 = 0.2, "p99.9" = 3.5}``: latencies (ms) at percentiles, non-decreasing."""
    t.used.add(key)
    if not t.has(key):
        raise t.error(
            key, 'is required with service_time = "empirical" (e.g. {p50 = 0.2, p99 = 1})'
        )
    data = t.data[key]
    if not isinstance(data, dict) or not data:
        raise t.error(
            key, f"must be a table of percentiles such as {{p50 = 0.2, p99 = 1}}, got {data!r}"
        )
    points = []
    for name, value in data.items():
        where = f"{key}.{name}"
        match = _PERCENTILE_KEY.fullmatch(name)
        if match is None or float(match[1]) > 100:
            raise t.error(where, 'must be named p0 to p100 (e.g. p50, "p99.9")')
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise t.error(where, f"must be a number (milliseconds), got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise t.error(where, f"must be finite and >= 0, got {value!r}")
        points.append((float(match[1]), float(value), where))
    points.sort()
    for (p0, v0, w0), (p1, v1, w1) in itertools.pairwise(points):
        if p0 == p1:
            raise t.error(w1, f"gives the same percentile as {w0.rpartition('.')[2]}")
        if v1 < v0:
            raise t.error(w1, f"must be >= the latency at a lower percentile ({w0}: {v0:g})")
    return tuple((p, v) for p, v, _ in points)
