"""Fuzzing scenario files and `--set` overrides: whatever the text, loading gives a scenario
or a ScenarioError naming the file; never another exception, never unbounded work."""

import time
from pathlib import Path

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.bundled import scenarios
from flashsim.sim.scenario import Scenario, ScenarioError, load

SEEDS = [p.read_bytes() for p in scenarios()]  # cloudphysics: its trace is absent here
OLTP = next(p.read_bytes() for p in scenarios() if p.name == "oltp_nightly_backup.toml")
FUZZ = settings(
    max_examples=fuzz_examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
NASTY = [b"1e308", b"-1e308", b"0", b"1e-300", b"nan", b"inf", b"-inf", b"99999999999999999999",
         b"[", b"{}", b"[]", b'"x"', b"true", b"\xff", b"{ name = {} }", b"\n[[array]]\nname = {}\n",
         b'"zipf:1e300"', b'"pareto:1e-300"', b'"normal:1e-300"', b'"1p"', b"1e-6"]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        numbers = [i for i in range(len(data) - 1) if data[i : i + 2] == b"= "]
        if numbers and draw(st.booleans()):  # replace a value
            at = draw(st.sampled_from(numbers)) + 2
            end = data.find(b"\n", at)
            data[at : end if end >= 0 else len(data)] = draw(st.sampled_from(NASTY))
        else:
            at = draw(st.integers(0, len(data)))
            data[at : at + draw(st.integers(0, 8))] = draw(st.binary(max_size=8))
    return bytes(data)


def outcome(path: Path, overrides: tuple[str, ...] = ()) -> str:
    start = time.monotonic()
    try:
        scenario = load(path, overrides)
    except ScenarioError as error:
        message = str(error)
    else:
        assert isinstance(scenario, Scenario)
        message = ""
    assert time.monotonic() - start < 20  # validation is bounded (a trace may be read)
    return message


@pytest.mark.fuzz
@FUZZ
@given(data=mutated())
def test_a_mutated_scenario_loads_or_is_a_scenario_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    message = outcome(path)
    assert not message or message.startswith(str(path))


KEYS = ["run.duration_s", "run.window_s", "workload.0.iodepth", "workload.0.rate_iops",
        "workload.0.bs", "workload.0.random_distribution", "volume.0.size_gib", "array.0.name",
        "flashcopy.0.copy_rate", "flashcopy.0.cleaning_rate", "flashcopy.0.design",
        "run.profile", "event.0.action", "workload.0", "run", "nope.x", "workload.99.bs", "",
        "a..b"]  # fmt: skip


@pytest.mark.fuzz
@FUZZ
@given(
    key=st.sampled_from(KEYS),
    value=st.sampled_from([n.decode("utf-8", "replace") for n in NASTY])
    | st.text(max_size=12)
    | st.just("[" * 50_000),
)
def test_any_override_applies_or_is_a_scenario_error(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(OLTP)
    message = outcome(path, (f"{key}={value}",))
    assert not message or message.startswith(str(path))


@pytest.mark.parametrize("value", ["{}", "[1]", "{ x = 1 }"])
def test_an_array_name_that_is_not_a_string_is_an_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(OLTP)
    assert "array[0].name: must be a string" in outcome(path, (f"array.0.name={value}",))
