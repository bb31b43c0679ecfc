"""The data installed with flashsim: scenarios, check configurations and op logs.

They are package data of `flashsim.scenarios`, so they are found from any working directory:
a path that names no file here but names a bundled one, as in the repository
(`scenarios/oltp_nightly_backup.toml`) or relative to it (`check/a_pair.toml`), is the bundled
file.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path, PurePath


def root() -> Path:
    """The folder of the bundled data (the repository's `scenarios/`)."""
    return Path(str(files("flashsim.scenarios")))


def locate(path: str | PurePath) -> Path:
    """`path` if it exists; else the bundled file it names; else `path` (for the caller's
    "cannot open" message)."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    parts = given.parts
    if parts and parts[0] == "scenarios":
        parts = parts[1:]
    if parts and ".." not in parts:
        candidate = root().joinpath(*parts)
        if candidate.is_file():
            return candidate
    return given


def check_configs() -> list[Path]:
    """The bundled model-checker reference configurations, by name."""
    return sorted((root() / "check").glob("*.toml"))


def scenarios() -> list[Path]:
    """The bundled what-if scenarios, by name."""
    return sorted(root().glob("*.toml"))
