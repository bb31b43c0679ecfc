"""Service times with variance (`service_time` of an [[array]]): the drawn latencies have the
distribution asked for, the transfer time stays deterministic, the draws are seeded, and
every bad key is an error naming the file and the key."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sim_helpers import scenario, volume

from flashsim.main import main
from flashsim.sim.engine import simulate
from flashsim.sim.scenario import ScenarioError, loads

MIB = 1 << 20


def _array(service_time: str, lat: float = 1.0, bw: float = 1e9, extra: str = "") -> str:
    latency = (
        ""
        if "empirical" in service_time
        else f"read_latency_ms = {lat}\nwrite_latency_ms = {lat}\n"
    )
    return f"""
[[array]]
name = "a0"
{latency}bandwidth_mib_s = {bw}
parallelism = 1
service_time = {service_time}
{extra}
"""


def _one_at_a_time(array: str, bs: str, duration_s: float, rw: str = "randread", seed: int = 1):
    """One I/O in flight on a one-slot array: each latency is one service time."""
    body = (
        array
        + volume("A", 64)
        + f'\n[[workload]]\nvolume = "A"\nrw = "{rw}"\nbs = "{bs}"\niodepth = 1\n'
    )
    return simulate(scenario(body, duration_s=duration_s, seed=seed, records=True)).records


def test_lognormal_latency_has_the_mean_and_cv_asked_for_and_the_transfer_is_fixed() -> None:
    # 1 ms lognormal latency, cv 0.5, plus 64 KiB at 128 MiB/s = 0.48828125 ms of transfer.
    mean_ms, cv = 1.0, 0.5
    transfer_s = 64 * 1024 / (128 * MIB)
    records = _one_at_a_time(
        _array('"lognormal"', mean_ms, 128, f"service_time_cv = {cv}"), "64k", 60
    )
    latency = records["latency_s"] - transfer_s
    n = len(latency)
    assert n > 30_000
    assert latency.min() > 0  # the transfer time is never drawn
    # Exact central moments of the lognormal (mean m, cv c) for the bands of the estimates.
    sigma2 = math.log1p(cv * cv)
    mu = math.log(mean_ms / 1000) - sigma2 / 2
    raw = [math.exp(k * mu + k * k * sigma2 / 2) for k in range(5)]
    m = raw[1]
    m2 = raw[2] - m**2
    m3 = raw[3] - 3 * m * raw[2] + 2 * m**3
    m4 = raw[4] - 4 * m * raw[3] + 6 * m**2 * raw[2] - 3 * m**4
    sd_mean = math.sqrt(m2 / n)
    # delta method for s / mean: Var = [(m4 - m2^2) / (4 m2 m^2) + m2^2 / m^4 - m3 / m^3] / n
    sd_cv = math.sqrt(((m4 - m2**2) / (4 * m2 * m**2) + m2**2 / m**4 - m3 / m**3) / n)
    assert abs(latency.mean() - mean_ms / 1000) < 4 * sd_mean
    assert abs(latency.std() / latency.mean() - cv) < 4 * sd_cv
    # Had the whole service time been drawn, the cv of latency - transfer would be 0.74.
    assert 4 * sd_cv < 0.05


PERCENTILES = {"p0": 0.1, "p50": 0.3, "p90": 0.8, "p99": 2.0, "p99.9": 5.0, "p100": 8.0}
WRITE_PERCENTILES = {"p10": 0.5, "p50": 1.0, "p99": 3.0}


def _inline(table: dict[str, float]) -> str:
    return "{" + ", ".join(f'"{k}" = {v}' for k, v in table.items()) + "}"


def test_empirical_latencies_reproduce_the_given_percentiles_per_direction() -> None:
    extra = (
        f"read_latency_percentiles_ms = {_inline(PERCENTILES)}\n"
        f"write_latency_percentiles_ms = {_inline(WRITE_PERCENTILES)}\n"
    )
    records = _one_at_a_time(_array('"empirical"', extra=extra), "4k", 60, rw="randrw")
    for read, table in ((1, PERCENTILES), (0, WRITE_PERCENTILES)):
        latency_ms = records["latency_s"][records["read"] == read] * 1000
        n = len(latency_ms)
        assert n > 10_000
        for key, value in table.items():
            p = float(key[1:]) / 100
            # Binomial band of the fraction of draws at or below the p-th percentile; above
            # the highest given percentile the latency is that percentile's, so all are below.
            below = np.mean(latency_ms <= value + 1e-6)  # + 4 KiB at 1e9 MiB/s
            expected = 1.0 if key == list(table)[-1] else p
            assert abs(below - expected) <= 4 * math.sqrt(p * (1 - p) / n), (key, below)
        # below the lowest given percentile the latency is that percentile's
        assert latency_ms.min() == pytest.approx(next(iter(table.values())), abs=0.01)
        # the mean: the integral of the quantile function, linear between the points
        ps = [float(k[1:]) / 100 for k in table]
        vs = list(table.values())
        area = ps[0] * vs[0] + (1 - ps[-1]) * vs[-1]
        area += sum((ps[i + 1] - ps[i]) * (vs[i] + vs[i + 1]) / 2 for i in range(len(ps) - 1))
        assert latency_ms.mean() == pytest.approx(
            area, rel=4 * latency_ms.std() / area / math.sqrt(n)
        )


def test_draws_are_seeded_per_run() -> None:
    array = _array('"exponential"')
    first = _one_at_a_time(array, "4k", 2, seed=7)["latency_s"]
    again = _one_at_a_time(array, "4k", 2, seed=7)["latency_s"]
    other = _one_at_a_time(array, "4k", 2, seed=8)["latency_s"]
    assert first.tobytes() == again.tobytes()
    assert len(set(first.tolist())) > len(first) // 2  # drawn, not fixed
    assert first[:100].tobytes() != other[:100].tobytes()


def test_each_array_draws_from_its_own_stream() -> None:
    # Two identical exponential arrays, one closed-loop reader each: different draws; and
    # an array's draws do not change when another array is added before it.
    two = (
        _array('"exponential"').replace('"a0"', '"a1"')
        + _array('"exponential"')
        + volume("A", 64)
        + volume("B", 64, "a1")
        + '\n[[workload]]\nvolume = "A"\nrw = "randread"\nbs = "4k"\niodepth = 1\n'
        + '\n[[workload]]\nvolume = "B"\nrw = "randread"\nbs = "4k"\niodepth = 1\n'
    )
    records = simulate(scenario(two, duration_s=1, records=True)).records
    on_a = records["latency_s"][records["workload"] == 0]
    on_b = records["latency_s"][records["workload"] == 1]
    assert on_a[:100].tobytes() != on_b[:100].tobytes()


BASE = """
[run]
duration_s = 1
[[volume]]
name = "A"
size_mib = 64
array = "a0"
[[array]]
name = "a0"
bandwidth_mib_s = 500
"""
LAT = "read_latency_ms = 0.5\nwrite_latency_ms = 0.5\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            LAT + 'service_time = "gamma"',
            "s.toml: array[0].service_time: must be one of fixed, exponential, lognormal, empirical, got 'gamma'",
        ),
        (LAT + 'service_time = "lognormal"', "s.toml: array[0].service_time_cv: is required"),
        (
            LAT + 'service_time = "lognormal"\nservice_time_cv = 0',
            "s.toml: array[0].service_time_cv: must be > 0 and at most 10, got 0",
        ),
        (
            LAT + 'service_time = "lognormal"\nservice_time_cv = -1',
            "s.toml: array[0].service_time_cv: must be > 0 and at most 10, got -1",
        ),
        (
            LAT + 'service_time = "lognormal"\nservice_time_cv = 1e6',
            "s.toml: array[0].service_time_cv: must be > 0 and at most 10, got 1000000.0",
        ),
        (
            LAT + 'service_time = "lognormal"\nservice_time_cv = inf',
            "s.toml: array[0].service_time_cv: must be finite, got inf",
        ),
        (
            LAT + 'service_time = "exponential"\nservice_time_cv = 0.5',
            's.toml: array[0].service_time_cv: goes with service_time = "lognormal" only',
        ),
        (
            LAT + "service_time_cv = 0.5",
            's.toml: array[0].service_time_cv: goes with service_time = "lognormal" only',
        ),
        (
            LAT + "read_latency_percentiles_ms = {p50 = 1}",
            's.toml: array[0].read_latency_percentiles_ms: goes with service_time = "empirical" only',
        ),
        (
            'service_time = "empirical"\nwrite_latency_percentiles_ms = {p50 = 1}',
            's.toml: array[0].read_latency_percentiles_ms: is required with service_time = "empirical"',
        ),
        (
            'service_time = "empirical"\n' + LAT,
            's.toml: array[0].read_latency_ms: with service_time = "empirical" the latency is read_latency_percentiles_ms',
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {p50 = 1}\nwrite_latency_percentiles_ms = {median = 1}',
            "s.toml: array[0].write_latency_percentiles_ms.median: must be named p0 to p100",
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {p101 = 1}\nwrite_latency_percentiles_ms = {p50 = 1}',
            "s.toml: array[0].read_latency_percentiles_ms.p101: must be named p0 to p100",
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {p50 = 2, p99 = 1}\nwrite_latency_percentiles_ms = {p50 = 1}',
            "s.toml: array[0].read_latency_percentiles_ms.p99: must be >= the latency at a lower percentile (read_latency_percentiles_ms.p50: 2)",
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {p50 = -1}\nwrite_latency_percentiles_ms = {p50 = 1}',
            "s.toml: array[0].read_latency_percentiles_ms.p50: must be finite and >= 0, got -1",
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {p50 = "1ms"}\nwrite_latency_percentiles_ms = {p50 = 1}',
            "s.toml: array[0].read_latency_percentiles_ms.p50: must be a number (milliseconds), got '1ms'",
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {}\nwrite_latency_percentiles_ms = {p50 = 1}',
            "s.toml: array[0].read_latency_percentiles_ms: must be a table of percentiles",
        ),
        (
            'service_time = "empirical"\nread_latency_percentiles_ms = {p50 = 1, "p50.0" = 1}\nwrite_latency_percentiles_ms = {p50 = 1}',
            "s.toml: array[0].read_latency_percentiles_ms.p50.0: gives the same percentile as p50",
        ),
    ],
)
def test_bad_service_time_keys_name_the_file_and_key(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        loads(BASE + text, "s.toml")
    assert str(info.value).startswith(expected), str(info.value)


def test_the_empirical_means_become_the_array_latencies() -> None:
    text = 'service_time = "empirical"\nread_latency_percentiles_ms = {p0 = 1, p100 = 3}\nwrite_latency_percentiles_ms = {p50 = 2}'
    array = loads(BASE + text, "s.toml").arrays[0]
    assert (array.read_latency_ms, array.write_latency_ms) == (2.0, 2.0)  # uniform on [1, 3]
    assert array.read_percentiles == ((0.0, 1.0), (100.0, 3.0))


def test_run_with_a_bad_service_time_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(BASE + LAT + 'service_time = "normal"\n')
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flashsim run: {path}: array[0].service_time: must be one of")
    assert "Traceback" not in err
    assert not out.exists()
