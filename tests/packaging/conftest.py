"""The packaging tests: the layout pyproject.toml states, the import graph, and the wheel.

`wheel` marks the tests that build (or take, from FLASHSIM_WHEEL) the wheel and install it into
a fresh venv. They are part of the default run, being the README's promise; `-m "not wheel"`
leaves them out of a quick local loop.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wheel: builds and installs the wheel into a fresh venv (part of the default run)",
    )
