"""Reading a scenario: the TOML file, its overrides, then validation table by table."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from flashsim.models.input_files import read_text
from flashsim.models.limits import (
    MAX_RUN_DURATION_S,
    MAX_RUN_WINDOWS,
    MAX_TRACK_SIZE,
    MAX_TRACKS,
)
from flashsim.models.ops import PROFILE_NAMES
from flashsim.sim.scenario.arrays import array_specs
from flashsim.sim.scenario.controller import controller_spec
from flashsim.sim.scenario.overrides import apply_override
from flashsim.sim.scenario.relationships import (
    event_specs,
    flashcopy_specs,
    group_specs,
    run_design,
)
from flashsim.sim.scenario.specs import BACKENDS, RunSpec, Scenario, VolumeSpec
from flashsim.sim.scenario.tables import (
    ScenarioError,
    Table,
    non_negative,
    not_empty,
    positive,
    tables_of,
    unique,
)
from flashsim.sim.scenario.units import GIB, KIB, MIB
from flashsim.sim.scenario.workloads import workload_specs

#: A scenario file is a page of TOML: 4 MiB leaves room for long comments and group lists.
MAX_SCENARIO_FILE_BYTES = 4 << 20


def load(
    path: str | Path,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    skip_bad_lines: bool = False,
    params: Sequence[str] = (),
) -> Scenario:
    """Read, override (`key.path=value` strings: `overrides` from --set, then `params`, a
    sweep point's --param values) and validate a scenario file; `skip_bad_lines` makes every
    trace workload skip (and count) malformed lines."""
    name = str(path)
    text = read_text(path, MAX_SCENARIO_FILE_BYTES, ScenarioError)
    raw = _parse(text, name)
    for text in overrides:
        apply_override(raw, text, name)
    for text in params:
        apply_override(raw, text, name, "--param")
    if seed is not None:
        raw.setdefault("run", {})["seed"] = seed
    if skip_bad_lines:
        for table in raw.get("workload", []):
            if isinstance(table, dict) and "trace" in table:
                table["skip_bad_lines"] = True
    return validate(raw, name)


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{name}: not valid TOML: {error}") from None
    except RecursionError:
        raise ScenarioError(f"{name}: not valid TOML: nested too deeply") from None


def loads(text: str, name: str = "<string>", overrides: Sequence[str] = ()) -> Scenario:
    raw = _parse(text, name)
    for override in overrides:
        apply_override(raw, override, name)
    return validate(raw, name)


def validate(raw: dict[str, Any], file: str) -> Scenario:
    """Check a parsed scenario and build its typed records (see the module docstring)."""
    top = Table(file, "", raw)
    for kind in ("run", "array", "volume", "flashcopy", "group", "event", "workload", "controller"):
        top.used.add(kind)
    top.finish()
    if "run" not in raw:
        raise ScenarioError(f"{file}: run: the [run] table is required")
    run_t = Table(file, "run", raw["run"])
    duration_s = run_t.number("duration_s", check=positive)
    if duration_s > MAX_RUN_DURATION_S:
        raise run_t.error(
            "duration_s", f"over the limit of {MAX_RUN_DURATION_S:g} s, got {duration_s:g}"
        )
    window_s = run_t.number("window_s", 1.0, positive)
    if duration_s / window_s > MAX_RUN_WINDOWS:
        raise run_t.error(
            "window_s",
            f"{duration_s:g} s in windows of {window_s:g} s is over the limit of "
            f"{MAX_RUN_WINDOWS} windows per run",
        )
    run = RunSpec(
        duration_s=duration_s,
        seed=run_t.get("seed", int, 1, non_negative),
        window_s=window_s,
        records=run_t.get("records", bool, True),
        plots=run_t.get("plots", bool, True),
        backend=run_t.get(
            "backend", str, "memory", lambda v: None if v in BACKENDS else "must be memory or file"
        ),
        profile=run_t.get(
            "profile",
            str,
            "ds8000",
            lambda v: None if v in PROFILE_NAMES else "must be " + ", ".join(PROFILE_NAMES),
        ),
    )
    design, chosen_by = run_design(raw, run.profile if run_t.has("profile") else None)
    run = replace(run, profile=design)
    run_t.finish()
    arrays = array_specs(raw, file)
    volumes = _volumes(raw, file, {a.name for a in arrays})
    flashcopies, fc_tables = flashcopy_specs(
        raw, file, {v.name: v for v in volumes}, run, chosen_by
    )
    groups, flashcopies = group_specs(raw, file, flashcopies, fc_tables, run)
    events = event_specs(raw, file, {f.id: f for f in flashcopies}, run)
    workloads = workload_specs(raw, file, {v.name: v for v in volumes}, run)
    controller = controller_spec(raw, file)
    return Scenario(
        file, run, arrays, volumes, flashcopies, groups, events, workloads, raw, controller
    )


def _volumes(raw: dict[str, Any], file: str, arrays: set[str]) -> tuple[VolumeSpec, ...]:
    tables = tables_of(raw, "volume", file)
    if not tables:
        raise ScenarioError(f"{file}: volume: at least one [[volume]] is required")
    unique(tables, "name", "volume")
    out = []
    for t in tables:
        name = t.get("name", str, check=not_empty)
        track_size_kib = t.number("track_size_kib", 64, positive)
        if not 1 <= track_size_kib * KIB <= MAX_TRACK_SIZE or track_size_kib * KIB % 1:
            raise t.error(
                "track_size_kib", f"must be a whole number of bytes, 1..{MAX_TRACK_SIZE // KIB} KiB"
            )
        track_size = round(track_size_kib * KIB)
        if t.has("size_gib") == t.has("size_mib"):
            raise t.error("size_gib", "give exactly one of size_gib and size_mib")
        key = "size_gib" if t.has("size_gib") else "size_mib"
        size = t.number(key, check=positive) * (GIB if key == "size_gib" else MIB)
        if not size <= MAX_TRACKS * track_size:
            raise t.error(
                key, f"over the limit of {MAX_TRACKS} tracks of {track_size} bytes per volume"
            )
        if size != int(size) or int(size) % track_size:
            raise t.error(key, f"must be a whole number of {track_size}-byte tracks")
        array = t.get("array", str)
        if array not in arrays:
            raise t.error("array", f"no [[array]] is named {array!r}")
        out.append(VolumeSpec(name, int(size) // track_size, track_size, array))
        t.finish()
    return tuple(out)
