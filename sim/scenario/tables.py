"""TOML tables being validated: typed getters whose errors name the file, the key path and
the problem (``s.toml: workload[0].rate_iops: must be > 0, got -5``), and unknown keys as
errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flashsim.models.errors import FlashCopyError
from flashsim.models.limits import MAX_SCENARIO_NUMBER


class ScenarioError(FlashCopyError):
    """A scenario file (or a `--set` override) that cannot be run."""


_KIND_NAMES = {
    (int, float): "a number",
    (int,): "an integer",
    (str,): "a string",
    (bool,): "true or false",
    (list,): "a list",
    (int, str): "a size (bytes, or a string such as 4k)",
}


class Table:
    """One TOML table being validated: typed getters that name the key path in errors."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{file}: {path}: must be a table, got {type(data).__name__}")
        self.file, self.path, self.data = file, path, data
        self.used: set[str] = set()

    def error(self, key: str | None, problem: str) -> ScenarioError:
        where = self.path if key is None else f"{self.path}.{key}" if self.path else key
        return ScenarioError(f"{self.file}: {where}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., check=None) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            raise self.error(
                key, f"must be {_KIND_NAMES.get(kinds, kinds[0].__name__)}, got {value!r}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(key, f"must be finite, got {value!r}")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and abs(value) > MAX_SCENARIO_NUMBER:
            raise self.error(key, f"must be at most {MAX_SCENARIO_NUMBER:g} in size, got {value!r}")
        if check is not None:
            problem = check(value)
            if problem:
                raise self.error(key, f"{problem}, got {value!r}")
        return value

    def number(
        self, key: str, default: Any = ..., check: Callable[[float], str | None] | None = None
    ) -> Any:
        value = self.get(key, (int, float), default, check)
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            known = ", ".join(sorted(self.used))
            raise self.error(unknown[0], f"unknown key (known here: {known})")


def positive(v: float) -> str | None:
    return None if v > 0 else "must be > 0"


def non_negative(v: float) -> str | None:
    return None if v >= 0 else "must be >= 0"


def at_least_one(v: int) -> str | None:
    return None if v >= 1 else "must be >= 1"


def not_empty(v: str) -> str | None:
    return None if v else "must not be empty"


def tables_of(raw: dict[str, Any], kind: str, file: str) -> list[Table]:
    items = raw.get(kind, [])
    if isinstance(items, dict):
        raise ScenarioError(f"{file}: {kind}: write [[{kind}]] (an array of tables), not [{kind}]")
    if not isinstance(items, list):
        raise ScenarioError(f"{file}: {kind}: must be an array of tables")
    return [Table(file, f"{kind}[{i}]", item) for i, item in enumerate(items)]


def unique(tables: list[Table], key: str, kind: str) -> None:
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        value = table.data.get(key)
        if isinstance(value, str) and value in seen:
            raise table.error(key, f"{value!r} is already used by {kind}[{seen[value]}]")
        if isinstance(value, str):
            seen[value] = i
