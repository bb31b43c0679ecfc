"""Fuzzing the checker's two input files: a check configuration and a schedule file. Whatever
the bytes, loading gives a configuration or a CheckConfigError/ScheduleError that names the
file; never another exception, and never unbounded work (the limits are checked first)."""

import json
import time
from pathlib import Path

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.bundled import check_configs
from flashsim.models.check import CheckConfig, CheckConfigError, load_config
from flashsim.models.check.schedule import ScheduleError, read_schedule

SEEDS = [path.read_bytes() for path in check_configs()]
FUZZ = settings(
    max_examples=fuzz_examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed file with a few byte-level edits: insertions, deletions, replacements, or a
    splice of a value that is huge, non-finite, nested, of the wrong type or not UTF-8."""
    data = bytearray(draw(st.sampled_from(seeds)))
    nasty = st.sampled_from(
        [b"1e999", b"-1", b"0", b"99999999999999999999999", b"nan", b"inf", b"[[[[[[[[", b"{}",
         b"[]", b'"x"', b"true", b"\xff\xfe", b"\x00", b'"\\ud800"', b"= =", b"\n[[processes]]\n", b"\n[check]\n"]
    )  # fmt: skip
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif choice == 1:
            del data[at : at + draw(st.integers(1, 16))]
        elif choice == 2:
            data[at : at + draw(st.integers(0, 8))] = draw(nasty)
        else:  # replace a number by a nasty value
            digits = [i for i, b in enumerate(data) if chr(b).isdigit()]
            if digits:
                i = draw(st.sampled_from(digits))
                data[i : i + 1] = draw(nasty)
    return bytes(data)


@pytest.mark.fuzz
@FUZZ
@given(data=mutated(SEEDS))
def test_a_mutated_configuration_loads_or_is_a_configuration_error(tmp_path: Path, data: bytes):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    start = time.monotonic()
    try:
        outcome: object = load_config(path)
    except CheckConfigError as error:
        outcome = error
    if isinstance(outcome, CheckConfigError):
        assert str(outcome).startswith(str(path))
    else:
        assert isinstance(outcome, CheckConfig)
    assert time.monotonic() - start < 5  # loading is bounded (the budget is generous: CI is shared)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.fuzz
@FUZZ
@given(
    record=st.fixed_dictionaries(
        {},
        optional={
            "format": st.sampled_from(["flashsim-schedule-1", "other"]) | json_values,
            "config": st.text(max_size=8) | json_values,
            "mutant": st.sampled_from(["skip_lock", "nope"]) | json_values,
            "schedule": st.lists(st.text(max_size=4) | json_values, max_size=4) | json_values,
        },
    )
)
def test_any_json_record_is_a_schedule_or_a_schedule_error(tmp_path: Path, record: object):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(record))
    try:
        loaded = read_schedule(path)
    except ScheduleError as error:
        loaded = {"error": str(error)}
    if "error" in loaded:
        assert str(loaded["error"]).startswith(str(path))
    else:
        assert isinstance(loaded["config"], str)
        assert all(isinstance(step, str) for step in loaded["schedule"])  # type: ignore[attr-defined]


@pytest.mark.fuzz
@FUZZ
@given(data=st.binary(max_size=64) | st.sampled_from([b"[" * 100_000, b"\xff{}", b'{"a": 1e999}']))
def test_any_bytes_are_a_schedule_or_a_schedule_error(tmp_path: Path, data: bytes):
    path = tmp_path / "s.json"
    path.write_bytes(data)
    try:
        read_schedule(path)
    except ScheduleError as error:
        message = str(error)
    else:
        message = str(path)  # a valid schedule: nothing to name
    assert message.startswith(str(path))
