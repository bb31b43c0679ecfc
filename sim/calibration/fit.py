"""Fitting an `[[array]]` to fio measurements (docs/simulator.md, "Calibration").

The array's model: P slots, each serving an I/O in latency + bytes / bandwidth, the latency
drawn from a per-direction empirical distribution. From the jobs:

- **bandwidth** (per slot): two jobs of one direction at its lowest depth with different block
  sizes: the mean latency grows by the extra bytes over the bandwidth (reads preferred);
- **latency** of each direction: the job of that direction at the lowest depth with the
  smallest blocks: its latency percentiles (fio's clat percentiles, the mean submission
  latency added; min and max as p0 and p100) less the transfer time of its block size.
  Linear between fio's sparse tail percentiles (p99.5 to p99.9 may span 0.1 to 2.5 ms) the
  distribution's mean can differ from the measured one; percentiles are added inside the
  widest spans, at the lower (or upper) end's latency over at most half the span, until the
  mean is fio's mean (as near as half of each span allows): the given percentiles are kept;
- **parallelism**: the deepest job, by Little's law on the slots: busy slots = IOPS x mean
  service time (the latency part fitted above plus the transfer of its blocks), rounded.

What the jobs do not show is said in `FittedArray.notes` and left at a stated default: with
one block size the bandwidth (the transfer time is then in the latency), with one direction
the other's latency (copied), with every job at depth 1 the parallelism (1).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from flashsim.sim.calibration.fio_results import DIRECTIONS, Measurement, Part
from flashsim.sim.service_time import percentile_mean

MIB = 1 << 20
#: The bandwidth written when the jobs cannot show it: 1 MiB moves in 1 us.
UNFITTED_BANDWIDTH_MIB_S = 1e6


@dataclass
class FittedArray:
    """The fitted `[[array]]`: its figures, the job each came from, what was not fitted."""

    name: str
    bandwidth_mib_s: float
    parallelism: int
    percentiles_ms: dict[str, tuple[tuple[float, float], ...]]  # direction -> (p, ms)
    sources: dict[str, str]  # what -> the job it came from
    notes: list[str] = field(default_factory=list)

    def table(self) -> dict[str, Any]:
        """The `[[array]]` table, as a scenario holds it."""
        return {
            "name": self.name,
            "bandwidth_mib_s": self.bandwidth_mib_s,
            "parallelism": self.parallelism,
            "service_time": "empirical",
            **{
                f"{d}_latency_percentiles_ms": {f"p{p:g}": v for p, v in self.percentiles_ms[d]}
                for d in DIRECTIONS
            },
        }

    def toml(self, source: str) -> str:
        """The table as TOML text, with the fit's sources and notes as comments."""
        lines = [f"# flashsim calibrate {source}: an [[array]] fitted to fio's measurements"]
        lines += [f"# {what}: {job}" for what, job in self.sources.items()]
        lines += [f"# note: {note}" for note in self.notes]
        lines += [
            "[[array]]",
            f"name = {json.dumps(self.name)}",  # a TOML basic string
            f"bandwidth_mib_s = {self.bandwidth_mib_s!r}",
            f"parallelism = {self.parallelism}",
            'service_time = "empirical"',
        ]
        for d in DIRECTIONS:
            points = ", ".join(f'"p{p:g}" = {v!r}' for p, v in self.percentiles_ms[d])
            lines.append(f"{d}_latency_percentiles_ms = {{ {points} }}")
        return "\n".join(lines) + "\n"


def _parts(jobs: list[Measurement], direction: str) -> list[tuple[Measurement, Part]]:
    return [(m, p) for m in jobs for p in m.parts if p.direction == direction]


def _lowest_depth(parts: list[tuple[Measurement, Part]]) -> list[tuple[Measurement, Part]]:
    depth = min(m.depth for m, _ in parts)
    return sorted(((m, p) for m, p in parts if m.depth == depth), key=lambda mp: mp[1].block)


def fit(jobs: list[Measurement], name: str = "calibrated") -> FittedArray:
    """The array named `name` that reproduces `jobs` (the method: this module's docstring)."""
    sources: dict[str, str] = {}
    notes: list[str] = []
    by_direction = {d: _parts(jobs, d) for d in DIRECTIONS}
    # bandwidth: the smallest and largest blocks at a direction's lowest depth
    seconds_per_byte = 0.0
    for d in DIRECTIONS:
        if not by_direction[d]:
            continue
        low = _lowest_depth(by_direction[d])
        (small_job, small), (large_job, large) = low[0], low[-1]
        if large.block > small.block and large.mean_s > small.mean_s:
            seconds_per_byte = (large.mean_s - small.mean_s) / (large.block - small.block)
            sources["bandwidth"] = (
                f"{d} latency of {large_job.label} ({large.block} B) less {small_job.label} "
                f"({small.block} B), at depth {small_job.depth}"
            )
            break
    if seconds_per_byte:
        bandwidth = round(1 / seconds_per_byte / MIB, 3)
        seconds_per_byte = 1 / (bandwidth * MIB)
    else:
        bandwidth = UNFITTED_BANDWIDTH_MIB_S
        notes.append(
            "bandwidth not fitted (no two block sizes of one direction at one depth, the larger "
            f"one slower): {bandwidth:g} MiB/s, the transfer time stays in the latency; run a "
            "large-block job (e.g. bs=1m) at the same depth to fit it"
        )
    # latency: the lowest depth, the smallest blocks, per direction
    percentiles: dict[str, tuple[tuple[float, float], ...]] = {}
    service_s: dict[str, float] = {}
    for d in DIRECTIONS:
        if not by_direction[d]:
            continue
        job, part = _lowest_depth(by_direction[d])[0]
        transfer = part.block * seconds_per_byte
        points = ((0.0, part.min_s), *part.percentiles_s, (100.0, part.max_s))
        service_s[d] = max(0.0, part.mean_s - transfer)
        shifted = [(p, max(0.0, v - transfer) * 1000) for p, v in _ascending(points)]
        matched = _match_mean(shifted, service_s[d] * 1000)
        percentiles[d] = tuple((p, round(v, 6)) for p, v in matched)
        sources[f"{d} latency"] = f"{job.label}, depth {job.depth}, {part.block} B blocks"
        if part.mean_s < transfer:
            notes.append(f"{d} latency of {job.label} is below its transfer time: 0")
    for d, other in (("read", "write"), ("write", "read")):
        if d not in percentiles:
            percentiles[d], service_s[d] = percentiles[other], service_s[other]
            notes.append(f"{d} latency not measured (no {d} job): the {other} latency's")
    # parallelism: the deepest job, busy slots = IOPS x mean service time
    deepest = max(jobs, key=lambda m: (m.depth, m.iops))
    if deepest.depth == 1:
        parallelism = 1
        notes.append(
            "parallelism not fitted (every job kept one I/O in flight): 1; run a job at a "
            "high iodepth (e.g. libaio, iodepth=32) to fit it"
        )
    else:
        busy = sum(
            p.iops * (service_s[p.direction] + p.block * seconds_per_byte) for p in deepest.parts
        )
        parallelism = min(deepest.depth, max(1, round(busy)))
        sources["parallelism"] = (
            f"{deepest.label}, depth {deepest.depth}: {deepest.iops:.0f} IOPS x mean service "
            f"time = {busy:.2f} busy slots"
        )
        if parallelism == deepest.depth:
            notes.append(
                f"the deepest job ({deepest.label}, depth {deepest.depth}) did not queue: the "
                f"array has at least {parallelism} slots; run a deeper job to see the limit"
            )
    return FittedArray(name, bandwidth, parallelism, percentiles, sources, notes)


def _match_mean(points: list[tuple[float, float]], target: float) -> list[tuple[float, float]]:
    """`points` (percentile, latency) with knots added inside their widest spans so that the
    mean of the distribution, linear between points, is `target` (as near as half of each
    span allows). A knot at (k, a) in a span from (p, a) to (q, b) keeps that span's mass below a
    up to k: the span's share of the mean falls by (k - p) / 100 x (b - a) / 2 (a knot
    at (k, b) raises it by (q - k) / 100 x (b - a) / 2)."""
    excess = percentile_mean(tuple(points)) - target
    spans = sorted(
        range(len(points) - 1),
        key=lambda i: (points[i + 1][0] - points[i][0]) * (points[i + 1][1] - points[i][1]),
        reverse=True,
    )
    knots = []
    for i in spans:
        if abs(excess) <= 1e-9 * max(target, 1e-9):
            break
        (p, a), (q, b) = points[i], points[i + 1]
        if b <= a:
            continue
        half = (b - a) / 2
        # At most half a span's room: its slope at most doubles, so a sample's percentile at
        # p or q is as stable as before (a near-vertical step there would not be).
        take = min(abs(excess), 0.5 * (q - p) / 100 * half)
        width = round(100 * take / half, 4)
        k = p + width if excess > 0 else q - width
        if not p < k < q:
            continue
        knots.append((k, a if excess > 0 else b))
        excess -= math.copysign(width / 100 * half, excess)
    return sorted(points + knots)


def _ascending(points: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    """Distinct percentiles with non-decreasing latencies (fio's min and max bracket its
    percentiles; its histogram buckets can round a percentile past the maximum)."""
    out: list[tuple[float, float]] = []
    for p, v in sorted(points):
        if out and p == out[-1][0]:
            continue
        out.append((p, max(v, out[-1][1]) if out else v))
    return out
