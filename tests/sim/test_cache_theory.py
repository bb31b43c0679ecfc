"""The controller cache (`[controller]`, flashsim.sim.cache) against theory (issue 10,
deliverable 3): who waits for the back-end time, the destage rate, LRU hits."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.sim.engine import simulate

MIB = 1 << 20
TRACK = 64 * 1024


def controller(write_mib: float = 0, read_mib: float = 0, hit_ms: float = 0.1, par: int = 4) -> str:
    return (
        f"\n[controller]\nwrite_cache_mib = {write_mib}\nread_cache_mib = {read_mib}\n"
        f"cache_hit_latency_ms = {hit_ms}\ndestage_parallelism = {par}\n"
    )


WRITES = """
[[workload]]
volume = "A"
rw = "randwrite"
bs = "64k"
rate_iops = 1000
stop_s = 4
"""


def test_with_a_large_write_cache_a_nocopy_copy_costs_the_host_nothing_but_still_copies() -> None:
    # Every write is acknowledged from NVS after exactly the hit latency, with or without an
    # active NOCOPY relationship; the copy-before-writes move to the destage: one source
    # read and one target write per copied track, all done once the destage has drained.
    base = array(lat=0.5, bw=500, par=4) + volume("A", 64) + volume("B", 64)
    nocopy = flashcopy("r1", "A", "B", 0, background_copy=False)
    cache = controller(write_mib=256, hit_ms=0.1)
    runs = {
        name: simulate(scenario(base + extra + cache + WRITES, duration_s=6))
        for name, extra in (("alone", ""), ("nocopy", nocopy))
    }
    for result in runs.values():
        latency = result.records["latency_s"]
        assert len(latency) > 3500
        np.testing.assert_allclose(latency, 0.0001, rtol=0, atol=1e-12)
    copied = runs["nocopy"]
    cows = copied.relationships["r1"].cow_copies
    assert cows > 1000
    assert copied.arrays["a0"].ios["copy_before_write"] == 2 * cows
    assert copied.controller is not None
    assert copied.controller["destage_ios"]["copy_before_write"] == 2 * cows
    assert copied.controller["dirty_bytes_at_end"] == 0
    assert copied.controller["writes_waited_for_room"] == 0
    alone = runs["alone"]
    assert alone.arrays["a0"].ios["copy_before_write"] == 0
    # Each dirty track is destaged once: writes minus those coalesced into a dirty track.
    for result in runs.values():
        assert result.controller is not None
        writes = len(result.records["latency_s"])
        destaged = writes - result.controller["coalesced_track_writes"]
        assert result.arrays["a0"].ios["host"] == destaged


def test_without_the_cache_the_same_nocopy_copy_puts_the_copies_on_the_hosts_path() -> None:
    # The same run with no [controller]: a write that copies waits for a read and a write
    # before its own (3 x 0.5 ms), so the latencies are not the one hit latency.
    body = (
        array(lat=0.5, bw=500, par=4)
        + volume("A", 64)
        + volume("B", 64)
        + flashcopy("r1", "A", "B", 0, background_copy=False)
        + WRITES
    )
    latency = simulate(scenario(body, duration_s=6)).records["latency_s"]
    assert np.percentile(latency, 50) >= 0.0005
    assert latency.max() >= 3 * 0.0005


@pytest.mark.parametrize("nocopy", [False, True], ids=["alone", "nocopy"])
def test_a_burst_larger_than_the_write_cache_is_admitted_at_the_destage_rate(nocopy: bool) -> None:
    # N sequential one-track writes arrive at lambda = 20,000/s into a cache of C = 512
    # tracks; D = 4 destages drain it at mu = D / (k S) tracks/s, each back-end I/O taking
    # S = 1 ms and a track needing k of them: k = 1 (its data) alone, k = 3 under a NOCOPY
    # relationship (every track is written for the first time: copy-before-write read,
    # target write, then the data). lambda > mu: once full, writes are admitted at mu, and
    # the N-th is admitted (N - C) / mu after the burst began.
    n, c, d, service_s, hit_s, lam = 2048, 512, 4, 0.001, 0.0001, 20000
    k = 3 if nocopy else 1
    mu = d / (k * service_s)
    body = (
        array(lat=service_s * 1000, bw=1e9, par=d)
        + volume("A", n * TRACK // MIB)
        + volume("B", n * TRACK // MIB)
        + (flashcopy("r1", "A", "B", 0, background_copy=False) if nocopy else "")
        + controller(write_mib=c * TRACK / MIB, hit_ms=hit_s * 1000, par=d)
        + f"""
[[workload]]
volume = "A"
rw = "write"
bs = "64k"
rate_iops = {lam}
time_based = false
"""
    )
    result = simulate(scenario(body, duration_s=3))
    rec = result.records
    assert len(rec["issue_s"]) == n
    admitted = np.sort(rec["issue_s"] + rec["latency_s"] - hit_s)
    start = float(rec["issue_s"].min())
    assert admitted[-1] - start == pytest.approx((n - c) / mu, rel=0.02)
    # The cache fills when lambda t = C + mu t: after lambda C / (lambda - mu) writes.
    filled = round(lam * c / (lam - mu))
    steady = admitted[filled + 4 * d :]
    rate = (len(steady) - 1) / (steady[-1] - steady[0])
    assert rate == pytest.approx(mu, rel=0.02)
    stats = result.controller
    assert stats is not None
    assert stats["dirty_high_water_bytes"] == c * TRACK
    assert stats["writes_waited_for_room"] == pytest.approx(n - filled, rel=0.03)
    assert stats["destage_ios"]["host"] == n
    assert stats["destage_ios"]["copy_before_write"] == (2 * n if nocopy else 0)


@pytest.mark.parametrize(
    ("working_set_tracks", "hits_after_first_pass"), [(32, True), (128, False)]
)
def test_read_cache_lru_hits_a_working_set_that_fits_and_never_one_that_cycles_past_it(
    working_set_tracks: int, hits_after_first_pass: bool
) -> None:
    # One issuer reads a region of W tracks in a loop, one track at a time, with a read
    # cache of 64 tracks. W = 32 fits: the first pass misses (array time), every later read
    # hits (the hit latency). W = 128 does not: a cyclic scan evicts each track from an LRU
    # cache before it comes round again, so every read misses.
    read_ms, bw, hit_s = 0.5, 500, 0.0001
    miss_s = read_ms / 1000 + TRACK / (bw * MIB)
    body = (
        array(lat=read_ms, bw=bw, par=4)
        + volume("A", 64)
        + controller(read_mib=64 * TRACK / MIB, hit_ms=hit_s * 1000)
        + f"""
[[workload]]
volume = "A"
rw = "read"
bs = "64k"
iodepth = 1
size = "{working_set_tracks * 64}k"
"""
    )
    result = simulate(scenario(body, duration_s=0.5))
    order = np.argsort(result.records["issue_s"], kind="stable")
    latency = result.records["latency_s"][order]
    first, rest = latency[:working_set_tracks], latency[working_set_tracks:]
    np.testing.assert_allclose(first, miss_s, rtol=1e-9)
    assert len(rest) > working_set_tracks
    np.testing.assert_allclose(rest, hit_s if hits_after_first_pass else miss_s, rtol=1e-9)
    stats = result.controller
    assert stats is not None
    assert stats["read_hits"] == (len(rest) if hits_after_first_pass else 0)


def test_a_redirected_target_read_hits_the_read_cache_on_the_source_tracks() -> None:
    # NOCOPY A->B, nothing written: B's tracks resolve to A's. Reading A's tracks first
    # caches them, so the same tracks read through B hit (counted as redirected reads).
    body = (
        array(lat=0.5, bw=500, par=4)
        + volume("A", 4)
        + volume("B", 4)
        + flashcopy("r1", "A", "B", 0, background_copy=False)
        + controller(read_mib=16, hit_ms=0.1)
        + """
[[workload]]
volume = "A"
rw = "read"
bs = "64k"
iodepth = 1
time_based = false
start_s = 0.01

[[workload]]
volume = "B"
rw = "read"
bs = "64k"
iodepth = 1
time_based = false
start_s = 0.5
"""
    )
    result = simulate(scenario(body, duration_s=1))
    rec = result.records
    on_b = rec["workload"] == 1
    assert on_b.sum() == 64
    np.testing.assert_allclose(rec["latency_s"][on_b], 0.0001, rtol=1e-9)
    assert result.relationships["r1"].redirected_reads == 64


def test_a_cached_run_is_deterministic_and_keeps_the_point_in_time() -> None:
    # Writes to source and target while the copy runs, through a cache small enough to fill
    # (one destage of >= 2 ms against ~1,150 writes/s): the images still read as the oracle's.
    from flashsim.sim.verify import simulate_and_verify

    body = (
        array(lat=2, bw=500, par=4)
        + volume("A", 4)
        + volume("B", 4)
        + flashcopy("r1", "A", "B", 0.2, copy_rate_mib_s=4)
        + controller(write_mib=1, read_mib=1, hit_ms=0.1, par=1)
        + """
[[workload]]
volume = "A"
rw = "randrw"
bs = "16k"
rate_iops = 2000

[[workload]]
volume = "B"
rw = "randrw"
bs = "8k"
rate_iops = 300
"""
    )
    first, verification = simulate_and_verify(scenario(body, duration_s=1.5))
    assert verification.ok, verification.problems
    assert first.controller is not None and first.controller["writes_waited_for_room"] > 0
    again = simulate(scenario(body, duration_s=1.5))
    assert again.controller == first.controller
    for column, values in first.records.items():
        np.testing.assert_array_equal(values, again.records[column])
