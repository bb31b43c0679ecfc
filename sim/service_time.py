"""Service-time distributions of an array's latency component.

The service time of one back-end I/O is latency + bytes / bandwidth (`flashsim.sim.devices`).
The transfer time is deterministic; the latency of each direction (read, write) is drawn
from the array's `service_time` distribution:

- ``fixed``: the direction's `*_latency_ms`, always (no random draw);
- ``exponential``: exponential with that mean (cv 1): an M/M/c server;
- ``lognormal``: lognormal with that mean and coefficient of variation `service_time_cv`;
- ``empirical``: the quantile function through the given percentiles, linear between them
  (a measured latency distribution, e.g. fio's clat percentiles: `flashsim calibrate`).

Each direction draws from its own numpy stream, BATCH values at a time (a draw per I/O
through numpy costs more than the rest of a back-end I/O).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

DISTRIBUTIONS = ("fixed", "exponential", "lognormal", "empirical")
#: Above this cv a lognormal's mean is carried by so rare draws that no run of a sane length
#: reproduces it (at cv 10 half of the mean comes from the top 0.6% of draws).
MAX_CV = 10.0
BATCH = 4096

Percentiles = tuple[tuple[float, float], ...]  # (percentile 0-100, latency in ms), ascending


def lognormal_parameters(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of the normal whose exponential has this mean and cv."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def percentile_mean(points: Percentiles) -> float:
    """The mean of the empirical distribution through `points` (flat below the first and
    above the last): the integral of its piecewise-linear quantile function."""
    ps = [p for p, _ in points]
    vs = [v for _, v in points]
    total = ps[0] / 100 * vs[0] + (100 - ps[-1]) / 100 * vs[-1]
    for i in range(len(points) - 1):
        total += (ps[i + 1] - ps[i]) / 100 * (vs[i] + vs[i + 1]) / 2
    return total


def quantile(points: Percentiles, fractions: np.ndarray) -> np.ndarray:
    """The empirical distribution's quantiles (ms) at `fractions` in [0, 1]."""
    ps = np.array([p for p, _ in points]) / 100
    vs = np.array([v for _, v in points])
    return np.interp(fractions, ps, vs)


class LatencyStream:
    """Latencies (seconds) of one direction, drawn a batch at a time from `draw(n)`."""

    __slots__ = ("_buffer", "_draw")

    def __init__(self, draw: Callable[[int], np.ndarray]) -> None:
        self._draw = draw
        self._buffer: list[float] = []

    def __call__(self) -> float:
        buffer = self._buffer
        if not buffer:
            buffer = self._buffer = self._draw(BATCH).tolist()
        return buffer.pop()


def latency_stream(
    kind: str,
    mean_s: float,
    cv: float | None,
    percentiles: Percentiles,
    rng: np.random.Generator,
) -> LatencyStream:
    """The latency stream of one direction: `kind` one of DISTRIBUTIONS other than fixed."""
    if kind == "exponential":
        return LatencyStream(lambda n: rng.exponential(mean_s, n))
    if kind == "lognormal":
        assert cv is not None
        if mean_s == 0:
            return LatencyStream(np.zeros)
        mu, sigma = lognormal_parameters(mean_s, cv)
        return LatencyStream(lambda n: rng.lognormal(mu, sigma, n))
    if kind == "empirical":
        return LatencyStream(lambda n: quantile(percentiles, rng.random(n)) / 1000.0)
    raise ValueError(f"no latency stream for service_time {kind!r}")
