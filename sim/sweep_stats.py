"""Confidence intervals of a sweep's replicated figures: Student's t.

n independent replicates x_1..x_n of a figure with mean m and sample standard deviation s
(n - 1 in the denominator): if the figure is normal, (m - mu) / (s / sqrt(n)) has Student's
t distribution with n - 1 degrees of freedom, so mu lies in m +- t * s / sqrt(n) with
probability `level`, t being the quantile of the t distribution at (1 + level) / 2. With no
normality the interval is approximate (and still right as n grows, by the central limit
theorem). The t quantile is found by bisection on the closed forms of the t distribution's
two-sided probability for whole degrees of freedom (Abramowitz and Stegun 26.7.3-4), so no
statistics package is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95


def t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for T of Student's t distribution with `df` (>= 1) degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2 == 1:
        # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...)), df - 2 terms
        total, term = 0.0, 1.0
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c2 * (2 * k) / (2 * k + 1)
        series = math.sin(theta) * math.cos(theta) * total if df > 1 else 0.0
        return 2 / math.pi * (theta + series)
    # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...), df / 2 terms
    total, term = 0.0, 1.0
    for k in range(1, df // 2 + 1):
        total += term
        term *= c2 * (2 * k - 1) / (2 * k)
    return math.sin(theta) * total


def t_quantile(level: float, df: int) -> float:
    """The t such that P(|T| <= t) = `level` (the two-sided critical value)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    low, high = 0.0, 1.0
    while t_two_sided(high, df) < level:
        high *= 2
    for _ in range(200):  # far past double precision: the loop ends on the interval's width
        mid = (low + high) / 2
        if t_two_sided(mid, df) < level:
            low = mid
        else:
            high = mid
        if high - low <= 1e-13 * high:
            break
    return (low + high) / 2


@dataclass(frozen=True, slots=True)
class Interval:
    """The mean of `n` values and its confidence interval (None with fewer than 2 values)."""

    n: int
    mean: float | None
    std: float | None
    low: float | None
    high: float | None


def interval(values: Sequence[float | None], level: float = LEVEL) -> Interval:
    """The mean of the values that are not None and its Student-t interval at `level`."""
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    if n == 0:
        return Interval(0, None, None, None, None)
    mean = math.fsum(xs) / n
    if n == 1:
        return Interval(1, mean, None, None, None)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile(level, n - 1) * std / math.sqrt(n)
    return Interval(n, mean, std, mean - half, mean + half)
