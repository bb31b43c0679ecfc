"""The `[controller]` table: its defaults, and every bad key named with the file."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flashsim.sim.scenario import ControllerSpec, ScenarioError, loads

BASE = """
[run]
duration_s = 10
[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 500
[[volume]]
name = "prod"
size_mib = 64
array = "a0"
"""


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        loads(BASE + text, "s.toml")
    return str(info.value)


def test_a_controller_table_with_defaults() -> None:
    spec = loads(
        BASE + "[controller]\nwrite_cache_mib = 4096\ncache_hit_latency_ms = 0.1\n"
    ).controller
    assert spec == ControllerSpec(cache_hit_latency_ms=0.1, write_cache_mib=4096.0)
    assert spec.read_cache_mib == 0
    assert spec.destage_parallelism == 8


def test_no_table_or_no_cache_at_all_is_the_write_through_model() -> None:
    assert loads(BASE).controller is None
    text = "[controller]\nwrite_cache_mib = 0\ncache_hit_latency_ms = 0.1\n"
    assert loads(BASE + text).controller is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[controller]\nwrite_cache_mib = 64\n",
            "s.toml: controller.cache_hit_latency_ms: is required",
        ),
        (
            "[controller]\nwrite_cache_mib = -1\ncache_hit_latency_ms = 0.1\n",
            "s.toml: controller.write_cache_mib: must be >= 0, got -1",
        ),
        (
            "[controller]\nread_cache_mib = '4g'\ncache_hit_latency_ms = 0.1\n",
            "s.toml: controller.read_cache_mib: must be a number, got '4g'",
        ),
        (
            "[controller]\nwrite_cache_mib = 64\ncache_hit_latency_ms = 0\n",
            "s.toml: controller.cache_hit_latency_ms: must be > 0, got 0",
        ),
        (
            "[controller]\nwrite_cache_mib = 64\ncache_hit_latency_ms = 0.1\ndestage_parallelism = 0\n",
            "s.toml: controller.destage_parallelism: must be >= 1, got 0",
        ),
        (
            "[controller]\nwrite_cache_mib = 64\ncache_hit_latency_ms = 0.1\ndestage_parallelism = 2.5\n",
            "s.toml: controller.destage_parallelism: must be an integer, got 2.5",
        ),
        (
            "[[controller]]\nwrite_cache_mib = 64\n",
            "s.toml: controller: must be a table, got list",
        ),
    ],
)
def test_bad_controller_keys_are_errors_naming_file_and_key(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_an_unknown_controller_key_is_an_error() -> None:
    message = error_of("[controller]\nwrite_cache_mb = 64\ncache_hit_latency_ms = 0.1\n")
    assert message.startswith("s.toml: controller.write_cache_mb: unknown key (known here: ")


def test_the_command_line_exits_2_naming_the_file_and_key(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BASE + "[controller]\nwrite_cache_mib = -4\ncache_hit_latency_ms = 0.1\n")
    done = subprocess.run(
        [sys.executable, "-m", "flashsim.main", "run", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert f"{path}: controller.write_cache_mib: must be >= 0, got -4" in done.stderr
