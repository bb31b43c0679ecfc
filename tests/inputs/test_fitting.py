"""Fitting traces onto volumes: mappings, time scale, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from flashsim.sim.inputs.fitting import fit_to_volume
from flashsim.sim.inputs.traces import RECORD, Trace, TraceError


def trace(rows):
    return Trace("t.csv", "msr", np.array(rows, dtype=RECORD), True)


ROWS = [(0.0, True, 0, 512), (1.0, False, 10_000, 1000), (2.0, True, 20_000, 4096)]


def fitted(rows, size, mapping="as-is", scale=1.0):
    out = fit_to_volume(trace(rows), size, mapping, scale)
    return [(float(t), bool(w), int(o), int(n)) for t, w, o, n in out]


def test_as_is_keeps_offsets_and_time_scale_divides_times():
    assert fitted(ROWS, 24_096, scale=2.0) == [
        (0.0, True, 0, 512),
        (0.5, False, 10_000, 1000),
        (1.0, True, 20_000, 4096),
    ]


def test_as_is_rejects_an_io_past_the_end_by_record():
    with pytest.raises(
        TraceError,
        match=r"t.csv: record 2 \(offset 20000, 4096 bytes\) passes the end of the volume \(24000 bytes\); use mapping modulo or scaled",
    ):
        fitted(ROWS, 24_000)


def test_modulo_wraps_and_never_crosses_the_end():
    assert fitted(ROWS, 8192, "modulo") == [
        (0.0, True, 0, 512),
        (1.0, False, 1808, 1000),
        (2.0, True, 3616, 4096),
    ]
    assert fitted([(0.0, True, 8000, 4096)], 8192, "modulo") == [(0.0, True, 4096, 4096)]


def test_scaled_maps_the_address_span_onto_the_volume():
    assert fitted(ROWS, 2 * 24_096, "scaled") == [
        (0.0, True, 0, 512),
        (1.0, False, 20_000, 1000),
        (2.0, True, 40_000, 4096),
    ]


def test_bad_options_and_oversized_ios_are_named():
    with pytest.raises(TraceError, match=r"unknown address mapping 'wrap'"):
        fitted(ROWS, 1 << 20, "wrap")
    with pytest.raises(TraceError, match=r"time_scale must be > 0, got 0"):
        fitted(ROWS, 1 << 20, scale=0)
    with pytest.raises(
        TraceError, match=r"record 2 is 4096 bytes, longer than the volume \(4000 bytes\)"
    ):
        fitted(ROWS, 4000, "modulo")
