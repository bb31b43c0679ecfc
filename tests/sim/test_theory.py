"""The simulator against theory, not against itself (issue 4, "Validation")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.sim.engine import simulate
from flashsim.sim.metrics import summary, windows

MIB = 1 << 20


def test_copy_with_no_host_io_completes_at_establish_plus_size_over_rate() -> None:
    # 64 MiB at 16 MiB/s from t = 1 s: complete at 5 s. The pacing admits one extent
    # (0.05 s of copy) early, and each extent costs a little device time: well under 1%.
    body = (
        array(bw=4000)
        + volume("A", 64)
        + volume("B", 64)
        + flashcopy("r1", "A", "B", 1, copy_rate_mib_s=16)
    )
    result = simulate(scenario(body, duration_s=10))
    stats = result.relationships["r1"]
    assert stats.established_at_s == 1.0
    assert stats.copy_complete_at_s == pytest.approx(1 + 64 / 16, abs=0.05)
    assert stats.background_tracks_copied == 64 * MIB // (64 * 1024)
    assert "r1" not in result.system.relationships  # rule 5: it ended by itself


@pytest.mark.parametrize(("copy_rate", "mib_s"), [(50, 2), (91, 64)])
def test_svc_copy_rate_scale_sets_the_copy_time(copy_rate: int, mib_s: int) -> None:
    body = (
        array(bw=4000)
        + volume("A", 16)
        + volume("B", 16)
        + f"""
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0
copy_rate = {copy_rate}
"""
    )
    result = simulate(scenario(body, duration_s=20))
    assert result.relationships["r1"].copy_complete_at_s == pytest.approx(16 / mib_s, rel=0.02)


def test_copy_is_never_faster_than_the_array_allows() -> None:
    # Asked for 1 GiB/s on an array that moves 8 MiB/s with one slot: each extent is read
    # then written on the same array, so 16 MiB take 2 x 16 / 8 = 4 s (plus latencies).
    body = (
        array(lat=0.1, bw=8, par=1)
        + volume("A", 16)
        + volume("B", 16)
        + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0
copy_rate_mib_s = 1024
"""
    )
    result = simulate(scenario(body, duration_s=20))
    done = result.relationships["r1"].copy_complete_at_s
    assert done is not None
    extents = 16 * MIB / (4 * MIB)
    assert done == pytest.approx(2 * 16 / 8 + 2 * extents * 0.0001, rel=0.01)


def test_cow_count_of_uniform_single_track_writes_follows_n_times_one_minus_exp() -> None:
    # NOCOPY over N tracks; w uniform single-track writes copy N(1 - exp(-w/N)) tracks.
    tracks = 4096
    body = (
        array(bw=100_000, par=64)
        + volume("A", 256)
        + volume("B", 256)
        + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 0
background_copy = false

[[workload]]
volume = "A"
rw = "randwrite"
bs = "64k"
rate_iops = 1000
start_s = 0.001
"""
    )
    result = simulate(scenario(body, duration_s=6))
    writes = summary(result)["workloads"][0]["writes"]
    expected = tracks * (1 - math.exp(-writes / tracks))
    cows = result.relationships["r1"].cow_copies
    sigma = math.sqrt(tracks * math.exp(-writes / tracks))  # a loose bound on the spread
    assert writes > 5000
    assert abs(cows - expected) < 4 * sigma, (cows, expected)


def test_single_array_with_poisson_arrivals_and_fixed_service_matches_md1_mean_wait() -> None:
    # M/D/1: rho = lambda S; mean wait in queue Wq = rho S / (2 (1 - rho)).
    service_s = 0.001
    rate = 600.0
    body = (
        array(lat=1.0, bw=1e9, par=1)
        + volume("A", 64)
        + f"""
[[workload]]
volume = "A"
rw = "randread"
bs = "4k"
rate_iops = {rate}
"""
    )
    result = simulate(scenario(body, duration_s=150))
    rho = rate * service_s
    wq = rho * service_s / (2 * (1 - rho))
    mean = float(np.mean(result.records["latency_s"]))
    assert mean - service_s == pytest.approx(wq, rel=0.05)


def test_p99_write_latency_rises_while_cows_happen_and_returns_after_the_copy() -> None:
    # A write that finds its track uncopied waits for a source read and a target write
    # first (3 back-end I/Os instead of 1): p99 rises while at least 1% of writes do that,
    # that is during the first part of the copy, and falls back once the copy is complete.
    body = (
        array(lat=0.5, bw=200, par=4)
        + volume("A", 256)
        + volume("B", 256)
        + """
[[flashcopy]]
id = "r1"
source = "A"
target = "B"
at_s = 10
copy_rate_mib_s = 32

[[workload]]
volume = "A"
rw = "randwrite"
bs = "4k"
rate_iops = 400
"""
    )
    result = simulate(scenario(body, duration_s=30, window_s=1))
    done = result.relationships["r1"].copy_complete_at_s
    assert done is not None and 13 < done < 18.1
    header, rows = windows(result)
    p99 = header.index("write_latency_ms_p99")
    before = [r[p99] for r in rows if r[1] <= 10]
    during = [r[p99] for r in rows if r[0] >= 10 and r[1] <= 10 + (done - 10) / 2]
    after = [r[p99] for r in rows if r[0] >= done + 1]
    assert during
    assert min(during) > 1.5 * max(before)
    assert max(after) < 1.2 * max(before)


def _busy_cycle_mean(issue_s: np.ndarray, latency_s: np.ndarray) -> tuple[float, float]:
    """The mean response time of a one-slot FIFO queue and the half-width of its 4-sigma
    confidence band, by the regenerative method: the busy cycles (an I/O that finds the
    array idle starts one) are independent and identically distributed, so the ratio of the
    cycles' latency sums to their counts is asymptotically normal with a variance estimated
    from the cycles themselves; the band narrows as 1/sqrt(cycles) with the run's length."""
    done = issue_s + latency_s
    starts = np.flatnonzero(np.r_[True, issue_s[1:] >= np.maximum.accumulate(done)[:-1]])
    sums = np.add.reduceat(latency_s, starts)[:-1]  # the last cycle may be cut by the end
    counts = np.diff(np.r_[starts, len(issue_s)])[:-1]
    mean = sums.sum() / counts.sum()
    spread = np.std(sums - mean * counts, ddof=1)
    return float(mean), 4 * float(spread / (np.sqrt(len(sums)) * counts.mean()))


@pytest.mark.parametrize(
    ("service_time", "cv2", "theory"),
    [
        # M/M/1: mean response 1 / (mu - lambda).
        ('"exponential"', 1.0, lambda lam, mu: 1 / (mu - lam)),
        # M/D/1 (Pollaczek-Khinchine with no variance): S + rho S / (2 (1 - rho)).
        ('"fixed"', 0.0, lambda lam, mu: 1 / mu + (lam / mu) / mu / (2 * (1 - lam / mu))),
        # M/G/1 with a lognormal of cv 0.5: S + lambda E[S^2] / (2 (1 - rho)), E[S^2] = S^2 1.25.
        (
            '"lognormal"\nservice_time_cv = 0.5',
            0.25,
            lambda lam, mu: 1 / mu + lam * 1.25 / mu**2 / (2 * (1 - lam / mu)),
        ),
    ],
    ids=["mm1", "md1", "mg1-lognormal"],
)
def test_poisson_stream_on_one_slot_matches_the_queueing_mean(
    service_time: str, cv2: float, theory
) -> None:
    # 1 ms of latency, no transfer time to speak of, 500 reads/s: rho = 0.5.
    lam, mu = 500.0, 1000.0
    body = (
        f"""
[[array]]
name = "a0"
read_latency_ms = 1.0
write_latency_ms = 1.0
bandwidth_mib_s = 1e9
parallelism = 1
service_time = {service_time}
"""
        + volume("A", 64)
        + f"""
[[workload]]
volume = "A"
rw = "randread"
bs = "4k"
rate_iops = {lam}
"""
    )
    records = simulate(scenario(body, duration_s=200, records=True)).records
    mean, band = _busy_cycle_mean(records["issue_s"], records["latency_s"])
    expected = theory(lam, mu)
    assert expected == pytest.approx(1 / mu + lam * (1 + cv2) / mu**2 / (2 * (1 - lam / mu)))
    assert band < 0.05 * expected  # the run is long enough for the check to mean something
    assert abs(mean - expected) < band, (mean, expected, band)
