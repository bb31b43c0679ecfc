"""`--set key.path=value`: overrides applied to a parsed scenario before it is validated."""

from __future__ import annotations

import tomllib
from typing import Any

from flashsim.sim.scenario.tables import ScenarioError

_KEYED = {"array": "name", "volume": "name", "flashcopy": "id", "group": "id", "workload": "name"}


def apply_override(raw: dict[str, Any], text: str, name: str, option: str = "--set") -> None:
    """Apply one `--set key.path=value`; the value is read as TOML, else as a plain string.
    Errors name `option` (a sweep's `--param` is applied the same way).

    ``run.duration_s=30``, ``flashcopy.fc1.copy_rate=100``, ``workload.0.iodepth=8``.
    """
    key, sep, value_text = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"{name}: {option} {text!r}: expected key.path=value")
    parts = key.strip().split(".")
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text
    except RecursionError:
        raise ScenarioError(f"{name}: {option} {key.strip()}: value nested too deeply") from None
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            node = _pick(node, part, parts[i - 1] if i else "", f"{name}: {option} {where}")
        elif isinstance(node, dict):
            if part not in node:
                if i + 1 < len(parts) - 1 and part in _KEYED:
                    raise ScenarioError(f"{name}: {option} {key}: there is no [[{part}]] table")
                node[part] = {}
            node = node[part]
        else:
            raise ScenarioError(f"{name}: {option} {key}: {where} is not a table")
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError(
            f"{name}: {option} {key}: name one [[{parts[-2]}]] table before the key"
        )
    if not isinstance(node, dict):
        raise ScenarioError(f"{name}: {option} {key}: {'.'.join(parts[:-1])} is not a table")
    node[last] = value


def _pick(tables: list[Any], part: str, kind: str, said: str) -> Any:
    """The table `part` (an index or a name) of `tables`; errors start with `said`."""
    if part.isdigit():
        index = int(part)
        if index >= len(tables):
            raise ScenarioError(f"{said}: only {len(tables)} [[{kind}]] tables")
        return tables[index]
    key = _KEYED.get(kind, "name")
    for table in tables:
        if isinstance(table, dict) and table.get(key) == part:
            return table
    raise ScenarioError(f"{said}: no [[{kind}]] with {key} = {part!r}")
