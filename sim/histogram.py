"""Latency distributions in bounded memory: a log-bucketed histogram.

A run may complete billions of host I/Os; keeping every latency to take exact percentiles
would make memory grow with simulated time. Instead each latency falls into a bucket of
relative width 2^(1/256) - 1 (0.27 %), counted; a percentile is the bucket's geometric
midpoint, so its relative error is at most 2^(1/512) - 1 (`RELATIVE_ERROR`, 0.14 %), the
same order as the histograms fio and HdrHistogram report from. The count, the sum (so the
mean) and the extremes are exact, and so is any bucket that saw one value only (a fixed
service time).

Percentiles interpolate between ranks the way `numpy.percentile` does by default (rank
(n - 1) p / 100): a rank's value is its bucket's midpoint clamped to the least and greatest
value the bucket saw, and the first and last rank of a bucket are those values exactly.
Histograms merge by adding counts, so a phase, a workload or the whole run is the sum of
the histograms of the pieces it is made of.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate

#: Latency percentiles reported everywhere, and their key suffixes (p99.9 -> "p99_9").
PERCENTILES = (50.0, 95.0, 99.0, 99.9)
QUANTILE_KEYS = ("p50", "p95", "p99", "p99_9")
#: The keys of `latency_ms`.
LATENCY_FIGURES = ("mean", *QUANTILE_KEYS, "max")

#: Buckets per doubling of latency.
BUCKETS_PER_OCTAVE = 256
#: The largest relative error of a reported percentile (before interpolation).
RELATIVE_ERROR = 2.0 ** (0.5 / BUCKETS_PER_OCTAVE) - 1.0
#: The bucket of latencies of zero (an answer in the same simulated instant).
ZERO = -(1 << 62)

_log2 = math.log2
_floor = math.floor


def bucket(value: float) -> int:
    """The bucket of latency `value` (seconds, >= 0)."""
    if value <= 0.0:
        return ZERO
    return _floor(_log2(value) * BUCKETS_PER_OCTAVE)


def midpoint(key: int) -> float:
    """The value a bucket stands for: its geometric midpoint (0 for `ZERO`)."""
    if key == ZERO:
        return 0.0
    return 2.0 ** ((key + 0.5) / BUCKETS_PER_OCTAVE)


class Histogram:
    """Counts of latencies by bucket, each bucket with the least and greatest value it saw
    (so a bucket of one repeated value, a fixed service time, reports it exactly), and the
    exact number and sum of all values."""

    __slots__ = ("buckets", "n", "total")

    def __init__(self) -> None:
        # bucket -> [count, least, greatest]
        self.buckets: dict[int, list[float]] = {}
        self.n = 0
        self.total = 0.0

    def add(self, value: float, key: int) -> None:
        """Count latency `value`, whose bucket is `key` (`bucket(value)`, computed once)."""
        entry = self.buckets.get(key)
        if entry is None:
            self.buckets[key] = [1, value, value]
        else:
            entry[0] += 1
            if value < entry[1]:
                entry[1] = value
            elif value > entry[2]:
                entry[2] = value
        self.n += 1
        self.total += value

    def merge(self, other: Histogram) -> None:
        """Add every count of `other` to this one."""
        buckets = self.buckets
        for key, (n, low, high) in other.buckets.items():
            entry = buckets.get(key)
            if entry is None:
                buckets[key] = [n, low, high]
            else:
                entry[0] += n
                entry[1] = min(entry[1], low)
                entry[2] = max(entry[2], high)
        self.n += other.n
        self.total += other.total

    @classmethod
    def of(cls, parts: Iterable[Histogram]) -> Histogram:
        """The sum of `parts`."""
        out = cls()
        for part in parts:
            out.merge(part)
        return out

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    @property
    def high(self) -> float:
        """The greatest value (exact; NaN when empty)."""
        return self.buckets[max(self.buckets)][2] if self.n else math.nan

    @property
    def low(self) -> float:
        """The least value (exact; NaN when empty)."""
        return self.buckets[min(self.buckets)][1] if self.n else math.nan

    def quantiles(self, percents: Iterable[float]) -> list[float]:
        """The `percents` (0-100) percentiles, interpolated between ranks (empty: NaN)."""
        percents = list(percents)
        if not self.n:
            return [math.nan] * len(percents)
        keys = sorted(self.buckets)
        entries = [self.buckets[k] for k in keys]
        # ends[i]: one past the last rank (0-based) that falls into bucket keys[i]
        ends = list(accumulate(int(e[0]) for e in entries))
        last = self.n - 1

        def at(rank: int) -> float:
            i = bisect_right(ends, rank)
            n, low, high = entries[i]
            if rank == ends[i] - n:
                return low  # the first rank of a bucket is its least value
            if rank == ends[i] - 1:
                return high  # and the last its greatest
            return min(max(midpoint(keys[i]), low), high)

        out = []
        for p in percents:
            h = last * p / 100.0
            below = math.floor(h)
            value = at(below)
            if h > below:
                value += (h - below) * (at(below + 1) - value)
            out.append(value)
        return out


def r(value: float | None, digits: int = 6) -> float | None:
    """`value` rounded to fixed precision (None for None and NaN), so files are stable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def latency_ms(hist: Histogram) -> dict[str, float | None]:
    """mean, p50, p95, p99, p99_9 and max of `hist`, in ms (None when empty)."""
    if not hist.n:
        return dict.fromkeys(LATENCY_FIGURES)
    values = [hist.mean, *hist.quantiles(PERCENTILES), hist.high]
    return {k: r(v * 1000.0) for k, v in zip(LATENCY_FIGURES, values, strict=True)}
