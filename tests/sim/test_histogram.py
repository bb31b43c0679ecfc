"""The latency histogram's percentiles against numpy's exact ones: within the stated relative
error, exact where the histogram keeps the value (extremes, a bucket of one repeated value),
and equal whether the pieces are merged or counted together."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.sim.histogram import (
    PERCENTILES,
    RELATIVE_ERROR,
    Histogram,
    bucket,
    latency_ms,
)

# latencies from 1 us to 100 s, as a simulation produces them (zero included)
LATENCY = st.one_of(
    st.just(0.0), st.floats(min_value=1e-6, max_value=100.0, allow_nan=False, allow_subnormal=False)
)
PERCENTS = [0.0, 1.0, *PERCENTILES, 99.99, 100.0]


def of(values: list[float]) -> Histogram:
    hist = Histogram()
    for v in values:
        hist.add(v, bucket(v))
    return hist


@settings(max_examples=300, deadline=None)
@given(st.lists(LATENCY, min_size=1, max_size=400))
def test_percentiles_are_within_the_stated_relative_error_of_numpys(values: list[float]) -> None:
    # every rank's value is within RELATIVE_ERROR of the exact one, and an interpolation
    # between two such values stays within it (a convex combination of positive numbers)
    hist = of(values)
    exact = np.percentile(np.array(values), PERCENTS)
    for p, got, want in zip(PERCENTS, hist.quantiles(PERCENTS), exact, strict=True):
        assert abs(got - want) <= RELATIVE_ERROR * want + 1e-15, p


@settings(max_examples=200, deadline=None)
@given(st.lists(LATENCY, min_size=1, max_size=200))
def test_count_sum_and_extremes_are_exact(values: list[float]) -> None:
    hist = of(values)
    assert hist.n == len(values)
    assert hist.low == min(values) and hist.high == max(values)
    assert hist.mean == pytest.approx(float(np.mean(values)), rel=1e-12, abs=1e-300)
    lo, hi = hist.quantiles([0.0, 100.0])
    assert (lo, hi) == (min(values), max(values))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(LATENCY, max_size=60), min_size=1, max_size=6))
def test_merged_pieces_equal_one_histogram_of_all(pieces: list[list[float]]) -> None:
    merged = Histogram.of(of(piece) for piece in pieces)
    whole = of([v for piece in pieces for v in piece])
    assert merged.n == whole.n
    assert merged.buckets == whole.buckets
    if whole.n:
        assert merged.quantiles(PERCENTS) == whole.quantiles(PERCENTS)


@given(st.floats(min_value=1e-6, max_value=100.0), st.integers(min_value=1, max_value=500))
def test_a_fixed_service_time_is_reported_exactly(value: float, n: int) -> None:
    hist = of([value] * n)
    assert hist.quantiles(PERCENTS) == [value] * len(PERCENTS)


def test_a_bucket_of_one_value_among_others_is_exact() -> None:
    # 99 hits at exactly 0.1 ms and one slow I/O: p50 and p95 fall in the hits' bucket, which
    # saw one value only, so they are that value (a midpoint would be off by up to 0.14 %)
    hist = of([1e-4] * 99 + [5e-3])
    p50, p95 = hist.quantiles([50.0, 95.0])
    assert p50 == p95 == 1e-4


def test_an_empty_histogram_has_no_figures() -> None:
    hist = Histogram()
    assert all(math.isnan(v) for v in hist.quantiles(PERCENTS))
    assert set(latency_ms(hist).values()) == {None}


def test_latency_ms_reports_milliseconds_rounded_to_nanoseconds() -> None:
    figures = latency_ms(of([0.001, 0.002, 0.003]))
    assert figures["mean"] == 2.0 and figures["max"] == 3.0
    assert figures["p50"] == pytest.approx(2.0, rel=RELATIVE_ERROR)
