"""Fixtures of the checker tests: the bundled reference configurations (a)-(e)."""

from pathlib import Path

import pytest

from flashsim.models.check import load_config

REFERENCE = Path(__file__).resolve().parents[2] / "scenarios" / "check"


@pytest.fixture(scope="session")
def reference():
    """name (file stem) -> parsed configuration."""
    return {path.stem: load_config(path) for path in sorted(REFERENCE.glob("*.toml"))}


def write_config(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path
