"""Scenario files (TOML): loading, `--set` overrides and validation into typed records.

Every error is a `ScenarioError` whose message names the file, the key path and the problem,
e.g. ``oltp.toml: workload[0].rate_iops: must be > 0, got -5``. Unknown keys are errors, so a
misspelt option never silently falls back to a default. Tables of the same kind are addressed
by index from 0 (``flashcopy[1].copy_rate``); `--set` also accepts their name or id
(``flashcopy.fc1.copy_rate=100``).

The format (see `scenarios/` for commented examples)::

    [run]        duration_s, seed, window_s, records, plots, backend (memory | file)
    [[array]]    name, read_latency_ms, write_latency_ms, bandwidth_mib_s, parallelism, preemptive
    [[volume]]   name, size_gib | size_mib, track_size_kib, array
    [[flashcopy]] id, source, target, at_s, background_copy, copy_rate_mib_s | copy_rate (0-150),
                 incremental, persistent, inhibit_target_writes, target_capacity_mib,
                 out_of_space, copy_extent_tracks
    [[group]]    id, members, at_s, establish_after_s, freeze_timeout_s
    [[event]]    at_s, action (withdraw | refresh | reverse), id, fast, every_s
    [[workload]] name, volume, rw, rwmixread, bs | bssplit, iodepth | rate_iops,
                 random_distribution, percentage_random, offset, size, start_s, stop_s,
                 time_based (default true; false: end after one pass of `size` bytes)
    [[workload]] fio = "job.fio", volume, name: the job file's jobs (`flashsim.sim.inputs.fio`),
                 each expanded into a table of the form above and validated as one
    [[workload]] trace = "file", format (fio-iolog | blkparse | msr | cloudphysics), volume,
                 name, time_scale, mapping (as-is | modulo | scaled), loop (open | closed),
                 iodepth (closed loop), first_record, records, blkparse_event (Q | C),
                 skip_bad_lines, start_s, stop_s

Paths (`fio`, `trace`) are relative to the scenario file's folder.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import OUT_OF_SPACE_POLICIES

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
RW_MODES = ("read", "write", "randread", "randwrite", "rw", "readwrite", "randrw")
ACTIONS = ("withdraw", "refresh", "reverse")
DEFAULT_FREEZE_TIMEOUT_S = 120.0
DEFAULT_COPY_RATE = 50  # SAN Volume Controller default
BACKENDS = ("memory", "file")


class ScenarioError(FlashCopyError):
    """A scenario file (or a `--set` override) that cannot be run."""


def svc_copy_rate_bytes_s(copy_rate: int) -> float:
    """The SAN Volume Controller copy-rate scale (DESIGN section 3): 0 = no background copy,
    1-10 copy 128 KiB/s and each further band of ten doubles it, up to 2 GiB/s at 141-150.

    >>> [svc_copy_rate_bytes_s(r) / KIB for r in (0, 1, 10, 11, 50, 100)]
    [0.0, 128.0, 128.0, 256.0, 2048.0, 65536.0]
    """
    if copy_rate == 0:
        return 0.0
    band = (copy_rate - 1) // 10
    return float(128 * KIB * (1 << band))


# -- typed records --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RunSpec:
    duration_s: float
    seed: int = 1
    window_s: float = 1.0
    records: bool = True
    plots: bool = True
    backend: str = "memory"  # or "file": sparse files in a temporary folder


@dataclass(frozen=True, slots=True)
class ArraySpec:
    name: str
    read_latency_ms: float
    write_latency_ms: float
    bandwidth_mib_s: float
    parallelism: int = 1
    preemptive: bool = False


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    name: str
    tracks: int
    track_size: int
    array: str


@dataclass(frozen=True, slots=True)
class FlashCopySpec:
    id: str
    source: str
    target: str
    at_s: float | None
    background_copy: bool
    copy_rate_bytes_s: float
    incremental: bool = False
    persistent: bool = False
    inhibit_target_writes: bool = False
    target_capacity_tracks: int | None = None
    out_of_space: str = "fail_relationship"
    copy_extent_tracks: int = 1
    group: str | None = None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    id: str
    members: tuple[str, ...]
    at_s: float
    establish_after_s: float = 0.0
    freeze_timeout_s: float = DEFAULT_FREEZE_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class EventSpec:
    at_s: float
    action: str
    id: str
    fast: bool = False
    every_s: float | None = None


@dataclass(frozen=True, slots=True)
class TraceSpec:
    """A trace replayed as a workload: its records already read, ranged and fitted onto the
    volume (`flashsim.sim.inputs.fitting.fit_to_volume`): times in seconds from the workload's
    start."""

    path: str
    format: str
    loop: str  # "open" (each I/O at its time) or "closed" (as fast as the devices allow)
    time_scale: float
    mapping: str
    records: np.ndarray = field(compare=False, repr=False)
    skipped_lines: int = 0
    ignored: int = 0


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    name: str
    volume: str
    rw: str
    rwmixread: float
    block_sizes: tuple[tuple[int, float], ...]  # (bytes, weight), weights sum to 1
    iodepth: int | None
    rate_iops: float | None
    random_distribution: str
    offset: int
    size: int
    start_s: float
    stop_s: float
    percentage_random: float = 100.0  # of a random mode's I/Os; the rest are sequential
    trace: TraceSpec | None = None  # a trace replay (rw = "trace")
    io_limit_bytes: int | None = None  # time_based = false: stop after this much I/O (fio)

    @property
    def random(self) -> bool:
        return self.rw.startswith("rand")

    @property
    def read_fraction(self) -> float:
        if self.rw in ("read", "randread"):
            return 1.0
        if self.rw in ("write", "randwrite"):
            return 0.0
        return self.rwmixread / 100.0


@dataclass(frozen=True, slots=True)
class Scenario:
    path: str
    run: RunSpec
    arrays: tuple[ArraySpec, ...]
    volumes: tuple[VolumeSpec, ...]
    flashcopies: tuple[FlashCopySpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    workloads: tuple[WorkloadSpec, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def volume(self, name: str) -> VolumeSpec:
        return next(v for v in self.volumes if v.name == name)


# -- loading ---------------------------------------------------------------------------------
def load(
    path: str | Path,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    skip_bad_lines: bool = False,
) -> Scenario:
    """Read, override (`key.path=value` strings) and validate a scenario file;
    `skip_bad_lines` makes every trace workload skip (and count) malformed lines."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except OSError as error:
        raise ScenarioError(f"{name}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{name}: not valid TOML: {error}") from None
    for text in overrides:
        apply_override(raw, text, name)
    if seed is not None:
        raw.setdefault("run", {})["seed"] = seed
    if skip_bad_lines:
        for table in raw.get("workload", []):
            if isinstance(table, dict) and "trace" in table:
                table["skip_bad_lines"] = True
    return validate(raw, name)


def loads(text: str, name: str = "<string>", overrides: Sequence[str] = ()) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{name}: not valid TOML: {error}") from None
    for override in overrides:
        apply_override(raw, override, name)
    return validate(raw, name)


_KEYED = {"array": "name", "volume": "name", "flashcopy": "id", "group": "id", "workload": "name"}


def apply_override(raw: dict[str, Any], text: str, name: str) -> None:
    """Apply one `--set key.path=value`; the value is read as TOML, else as a plain string.

    ``run.duration_s=30``, ``flashcopy.fc1.copy_rate=100``, ``workload.0.iodepth=8``.
    """
    key, sep, value_text = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"{name}: --set {text!r}: expected key.path=value")
    parts = key.strip().split(".")
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            node = _pick(node, part, parts[i - 1] if i else "", name, where)
        elif isinstance(node, dict):
            if part not in node:
                if i + 1 < len(parts) - 1 and part in _KEYED:
                    raise ScenarioError(f"{name}: --set {key}: there is no [[{part}]] table")
                node[part] = {}
            node = node[part]
        else:
            raise ScenarioError(f"{name}: --set {key}: {where} is not a table")
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError(f"{name}: --set {key}: name one [[{parts[-2]}]] table before the key")
    if not isinstance(node, dict):
        raise ScenarioError(f"{name}: --set {key}: {'.'.join(parts[:-1])} is not a table")
    node[last] = value


def _pick(tables: list[Any], part: str, kind: str, name: str, where: str) -> Any:
    if part.isdigit():
        index = int(part)
        if index >= len(tables):
            raise ScenarioError(f"{name}: --set {where}: only {len(tables)} [[{kind}]] tables")
        return tables[index]
    key = _KEYED.get(kind, "name")
    for table in tables:
        if isinstance(table, dict) and table.get(key) == part:
            return table
    raise ScenarioError(f"{name}: --set {where}: no [[{kind}]] with {key} = {part!r}")


# -- validation helpers ----------------------------------------------------------------------
_KIND_NAMES = {
    (int, float): "a number",
    (int,): "an integer",
    (str,): "a string",
    (bool,): "true or false",
    (list,): "a list",
    (int, str): "a size (bytes, or a string such as 4k)",
}


class _Table:
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


def _positive(v: float) -> str | None:
    return None if v > 0 else "must be > 0"


def _non_negative(v: float) -> str | None:
    return None if v >= 0 else "must be >= 0"


def _at_least_one(v: int) -> str | None:
    return None if v >= 1 else "must be >= 1"


def _name(v: str) -> str | None:
    return None if v else "must not be empty"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_MULT = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": GIB * KIB, "p": GIB * MIB}


def parse_size(text: Any) -> int:
    """A fio size: bytes as an integer, or a string with k/m/g/t suffix (base 1024).

    >>> parse_size("4k"), parse_size("1MiB"), parse_size(512)
    (4096, 1048576, 512)
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise ValueError(f"not a size: {text!r}")
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 4k, 64k, 1m)")
    value = float(match.group(1)) * _MULT[match.group(2).lower()]
    if value != int(value):
        raise ValueError(f"not a whole number of bytes: {text!r}")
    return int(value)


def _tables(raw: dict[str, Any], kind: str, file: str) -> list[_Table]:
    items = raw.get(kind, [])
    if isinstance(items, dict):
        raise ScenarioError(f"{file}: {kind}: write [[{kind}]] (an array of tables), not [{kind}]")
    if not isinstance(items, list):
        raise ScenarioError(f"{file}: {kind}: must be an array of tables")
    return [_Table(file, f"{kind}[{i}]", item) for i, item in enumerate(items)]


def _unique(tables: list[_Table], key: str, kind: str) -> None:
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        value = table.data.get(key)
        if value in seen:
            raise table.error(key, f"{value!r} is already used by {kind}[{seen[value]}]")
        if isinstance(value, str):
            seen[value] = i


# -- validation ------------------------------------------------------------------------------
def validate(raw: dict[str, Any], file: str) -> Scenario:
    """Check a parsed scenario and build its typed records (see the module docstring)."""
    top = _Table(file, "", raw)
    for kind in ("run", "array", "volume", "flashcopy", "group", "event", "workload"):
        top.used.add(kind)
    top.finish()
    if "run" not in raw:
        raise ScenarioError(f"{file}: run: the [run] table is required")
    run_t = _Table(file, "run", raw["run"])
    run = RunSpec(
        duration_s=run_t.number("duration_s", check=_positive),
        seed=run_t.get("seed", int, 1, _non_negative),
        window_s=run_t.number("window_s", 1.0, _positive),
        records=run_t.get("records", bool, True),
        plots=run_t.get("plots", bool, True),
        backend=run_t.get(
            "backend", str, "memory", lambda v: None if v in BACKENDS else "must be memory or file"
        ),
    )
    run_t.finish()
    arrays = _arrays(raw, file)
    volumes = _volumes(raw, file, {a.name for a in arrays})
    flashcopies, fc_tables = _flashcopies(raw, file, {v.name: v for v in volumes}, run)
    groups, flashcopies = _groups(raw, file, flashcopies, fc_tables, run)
    events = _events(raw, file, {f.id: f for f in flashcopies}, run)
    workloads = _workloads(raw, file, {v.name: v for v in volumes}, run)
    return Scenario(file, run, arrays, volumes, flashcopies, groups, events, workloads, raw=raw)


def _arrays(raw: dict[str, Any], file: str) -> tuple[ArraySpec, ...]:
    tables = _tables(raw, "array", file)
    if not tables:
        raise ScenarioError(f"{file}: array: at least one [[array]] is required")
    _unique(tables, "name", "array")
    out = []
    for t in tables:
        out.append(
            ArraySpec(
                name=t.get("name", str, check=_name),
                read_latency_ms=t.number("read_latency_ms", check=_non_negative),
                write_latency_ms=t.number("write_latency_ms", check=_non_negative),
                bandwidth_mib_s=t.number("bandwidth_mib_s", check=_positive),
                parallelism=t.get("parallelism", int, 1, _at_least_one),
                preemptive=t.get("preemptive", bool, False),
            )
        )
        t.finish()
    return tuple(out)


def _volumes(raw: dict[str, Any], file: str, arrays: set[str]) -> tuple[VolumeSpec, ...]:
    tables = _tables(raw, "volume", file)
    if not tables:
        raise ScenarioError(f"{file}: volume: at least one [[volume]] is required")
    _unique(tables, "name", "volume")
    out = []
    for t in tables:
        name = t.get("name", str, check=_name)
        track_size = round(t.number("track_size_kib", 64, _positive) * KIB)
        if t.has("size_gib") == t.has("size_mib"):
            raise t.error("size_gib", "give exactly one of size_gib and size_mib")
        key = "size_gib" if t.has("size_gib") else "size_mib"
        size = t.number(key, check=_positive) * (GIB if key == "size_gib" else MIB)
        if size != int(size) or int(size) % track_size:
            raise t.error(key, f"must be a whole number of {track_size}-byte tracks")
        array = t.get("array", str)
        if array not in arrays:
            raise t.error("array", f"no [[array]] is named {array!r}")
        out.append(VolumeSpec(name, int(size) // track_size, track_size, array))
        t.finish()
    return tuple(out)


def _flashcopies(
    raw: dict[str, Any], file: str, volumes: dict[str, VolumeSpec], run: RunSpec
) -> tuple[list[FlashCopySpec], list[_Table]]:
    tables = _tables(raw, "flashcopy", file)
    _unique(tables, "id", "flashcopy")
    out = []
    for t in tables:
        rid = t.get("id", str, check=_name)
        source = t.get("source", str)
        target = t.get("target", str)
        for key, vol in (("source", source), ("target", target)):
            if vol not in volumes:
                raise t.error(key, f"no [[volume]] is named {vol!r}")
        if source == target:
            raise t.error("target", "must differ from source")
        if (volumes[source].tracks, volumes[source].track_size) != (
            volumes[target].tracks,
            volumes[target].track_size,
        ):
            raise t.error("target", f"{target} and {source} differ in size or track size")
        at_s = t.number("at_s", None, _non_negative)
        if at_s is not None and at_s >= run.duration_s:
            raise t.error("at_s", f"must be before run.duration_s ({run.duration_s})")
        if t.has("copy_rate") and t.has("copy_rate_mib_s"):
            raise t.error("copy_rate", "give copy_rate or copy_rate_mib_s, not both")
        rate_key = "copy_rate_mib_s" if t.has("copy_rate_mib_s") else "copy_rate"
        if rate_key == "copy_rate_mib_s":
            rate = t.number(rate_key, check=_non_negative) * MIB
        else:
            scale = t.get(
                "copy_rate",
                int,
                DEFAULT_COPY_RATE,
                lambda v: None if 0 <= v <= 150 else "must be 0-150",
            )
            rate = svc_copy_rate_bytes_s(scale)
        given_copy = t.get("background_copy", bool, None)
        if given_copy is None:
            background = rate > 0 or not t.has(rate_key)
        else:
            background = given_copy
        if background and rate == 0:
            raise t.error(rate_key, "is 0 (no background copy) but background_copy is true")
        if not background and t.has(rate_key) and rate > 0:
            raise t.error(rate_key, "is set but background_copy is false (NOCOPY)")
        incremental = t.get("incremental", bool, False)
        capacity = None
        if t.has("target_capacity_mib"):
            mib = t.number("target_capacity_mib", check=_positive)
            capacity = max(1, int(mib * MIB) // volumes[target].track_size)
        policy = t.get(
            "out_of_space",
            str,
            "fail_relationship",
            lambda v: (
                None
                if v in OUT_OF_SPACE_POLICIES
                else "must be " + " or ".join(OUT_OF_SPACE_POLICIES)
            ),
        )
        if capacity is not None and background:
            raise t.error("target_capacity_mib", "a space-efficient target must be NOCOPY")
        track_size = volumes[source].track_size
        max_extent = max(1, 4 * MIB // track_size)
        default_extent = max(1, min(max_extent, int(rate * 0.05) // track_size))
        extent = t.get(
            "copy_extent_tracks",
            int,
            default_extent,
            lambda v, top=max_extent: None if 1 <= v <= top else f"must be 1-{top}",
        )
        out.append(
            FlashCopySpec(
                id=rid,
                source=source,
                target=target,
                at_s=at_s,
                background_copy=background,
                copy_rate_bytes_s=rate if background else 0.0,
                incremental=incremental,
                persistent=t.get("persistent", bool, False),
                inhibit_target_writes=t.get("inhibit_target_writes", bool, False),
                target_capacity_tracks=capacity,
                out_of_space=policy,
                copy_extent_tracks=extent,
            )
        )
        t.finish()
    return out, tables


def _groups(
    raw: dict[str, Any],
    file: str,
    flashcopies: list[FlashCopySpec],
    fc_tables: list[_Table],
    run: RunSpec,
) -> tuple[tuple[GroupSpec, ...], tuple[FlashCopySpec, ...]]:
    tables = _tables(raw, "group", file)
    _unique(tables, "id", "group")
    index = {f.id: i for i, f in enumerate(flashcopies)}
    owner: dict[str, str] = {}
    groups = []
    for t in tables:
        gid = t.get("id", str, check=_name)
        members = t.get("members", list, check=lambda v: None if v else "must not be empty")
        for m in members:
            if m not in index:
                raise t.error("members", f"no [[flashcopy]] has id {m!r}")
            if m in owner:
                raise t.error("members", f"{m} is already a member of group {owner[m]}")
            if flashcopies[index[m]].at_s is not None:
                where = fc_tables[index[m]]
                raise where.error(
                    "at_s", f"a member of group {gid} is established at the group's at_s"
                )
            owner[m] = gid
        at_s = t.number("at_s", check=_non_negative)
        if at_s >= run.duration_s:
            raise t.error("at_s", f"must be before run.duration_s ({run.duration_s})")
        groups.append(
            GroupSpec(
                gid,
                tuple(members),
                at_s,
                t.number("establish_after_s", 0.0, _non_negative),
                t.number("freeze_timeout_s", DEFAULT_FREEZE_TIMEOUT_S, _positive),
            )
        )
        t.finish()
    out = []
    for i, spec in enumerate(flashcopies):
        if spec.id in owner:
            spec = _replace(spec, group=owner[spec.id])
        elif spec.at_s is None:
            raise fc_tables[i].error(
                "at_s", "is required (unless the relationship is in a [[group]])"
            )
        out.append(spec)
    return tuple(groups), tuple(out)


def _replace(spec: FlashCopySpec, **changes: Any) -> FlashCopySpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _events(
    raw: dict[str, Any], file: str, flashcopies: dict[str, FlashCopySpec], run: RunSpec
) -> tuple[EventSpec, ...]:
    out = []
    for t in _tables(raw, "event", file):
        at_s = t.number("at_s", check=_non_negative)
        if at_s >= run.duration_s:
            raise t.error("at_s", f"must be before run.duration_s ({run.duration_s})")
        action = t.get(
            "action", str, check=lambda v: None if v in ACTIONS else "must be " + ", ".join(ACTIONS)
        )
        rid = t.get("id", str)
        if rid not in flashcopies:
            raise t.error("id", f"no [[flashcopy]] has id {rid!r}")
        spec = flashcopies[rid]
        if action in ("refresh", "reverse") and not spec.incremental:
            raise t.error("action", f"{action} needs an incremental relationship; {rid} is not")
        fast = t.get("fast", bool, False)
        if fast and action != "reverse":
            raise t.error("fast", "applies to action = 'reverse' only")
        out.append(EventSpec(at_s, action, rid, fast, t.number("every_s", None, _positive)))
        t.finish()
    return tuple(out)


_DISTRIBUTION = re.compile(r"^(random|normal|zipf|pareto|zoned)(?::(.+))?$")


def check_distribution(text: str) -> str | None:
    """None if `text` is a random_distribution this simulator knows, else the problem."""
    match = _DISTRIBUTION.match(text)
    if not match:
        return "must be random, zipf:θ, pareto:h, normal[:dev%] or zoned:pct/pct:..."
    kind, arg = match.groups()
    try:
        if kind == "random" and arg is None:
            return None
        if kind == "zipf" and arg is not None and float(arg) > 0:
            return None
        if kind == "pareto" and arg is not None and 0 < float(arg) < 1:
            return None
        if kind == "normal" and (arg is None or 0 < float(arg) <= 100):
            return None
        if kind == "zoned" and arg is not None:
            zones = [tuple(float(x) for x in z.split("/")) for z in arg.split(":")]
            if all(len(z) == 2 and z[0] >= 0 and z[1] > 0 for z in zones) and all(
                abs(sum(z[i] for z in zones) - 100) < 1e-9 for i in (0, 1)
            ):
                return None
            return "zoned needs access%/size% pairs, each column summing to 100"
    except ValueError:
        pass
    return f"bad parameter for {kind} (zipf:θ>0, pareto:0<h<1, normal:0<dev%<=100)"


def _parse_bssplit(t: _Table, text: str) -> tuple[tuple[int, float], ...]:
    parts = []
    try:
        for item in text.split(":"):
            bs, _, pct = item.partition("/")
            parts.append((parse_size(bs.strip()), float(pct) if pct else 0.0))
    except ValueError as error:
        raise t.error("bssplit", f"{error} (fio form: 4k/50:64k/50)") from None
    total = sum(p for _, p in parts)
    if total <= 0 or any(b < 1 or p < 0 for b, p in parts):
        raise t.error("bssplit", f"needs block sizes >= 1 and positive percentages, got {text!r}")
    return tuple((b, p / total) for b, p in parts)


def _region_value(t: _Table, key: str, volume_size: int, default: int) -> int:
    value = t.get(key, (int, str), default)
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            pct = float(value.strip()[:-1])
        except ValueError:
            raise t.error(key, f"not a percentage: {value!r}") from None
        return int(volume_size * pct / 100)
    try:
        return parse_size(value)
    except ValueError as error:
        raise t.error(key, str(error)) from None


def _workloads(
    raw: dict[str, Any], file: str, volumes: dict[str, VolumeSpec], run: RunSpec
) -> tuple[WorkloadSpec, ...]:
    tables = _expand_fio(_tables(raw, "workload", file), file)
    out = []
    names: dict[str, str] = {}
    for i, t in enumerate(tables):
        name = t.get("name", str, f"w{i}", _name)
        if name in names:
            raise t.error("name", f"{name!r} is already used by {names[name]}")
        names[name] = t.path
        volume = t.get("volume", str)
        if volume not in volumes:
            raise t.error("volume", f"no [[volume]] is named {volume!r}")
        vol = volumes[volume]
        vol_size = vol.tracks * vol.track_size
        if t.has("trace"):
            out.append(_trace_workload(t, file, name, volume, vol_size=vol_size, run=run))
            t.finish()
            continue
        rw = t.get(
            "rw", str, check=lambda v: None if v in RW_MODES else "must be " + ", ".join(RW_MODES)
        )
        if rw == "readwrite":
            rw = "rw"
        mixed = rw in ("rw", "randrw")
        mix = t.number("rwmixread", 50.0, lambda v: None if 0 <= v <= 100 else "must be 0-100")
        if t.has("rwmixread") and not mixed:
            raise t.error("rwmixread", f"applies to rw = 'rw' or 'randrw' only, not {rw!r}")
        if t.has("bs") and t.has("bssplit"):
            raise t.error("bssplit", "give bs or bssplit, not both")
        if t.has("bssplit"):
            sizes = _parse_bssplit(t, t.get("bssplit", str))
        else:
            try:
                sizes = ((parse_size(t.get("bs", (int, str), "4k")), 1.0),)
            except ValueError as error:
                raise t.error("bs", str(error)) from None
            if sizes[0][0] < 1:
                raise t.error("bs", "must be >= 1 byte")
        if t.has("iodepth") and t.has("rate_iops"):
            raise t.error(
                "rate_iops", "give iodepth (closed loop) or rate_iops (open loop), not both"
            )
        rate = t.number("rate_iops", None, _positive)
        depth = t.get("iodepth", int, None if rate is not None else 1, _at_least_one)
        dist = t.get("random_distribution", str, "random", check_distribution)
        if t.has("random_distribution") and not rw.startswith("rand"):
            raise t.error("random_distribution", f"applies to random rw modes only, not {rw!r}")
        pct_random = t.number(
            "percentage_random", 100.0, lambda v: None if 0 <= v <= 100 else "must be 0-100"
        )
        if t.has("percentage_random") and not rw.startswith("rand"):
            raise t.error("percentage_random", f"applies to random rw modes only, not {rw!r}")
        offset = _region_value(t, "offset", vol_size, 0)
        size = _region_value(t, "size", vol_size, vol_size - offset)
        if offset < 0 or offset >= vol_size:
            raise t.error("offset", f"must be inside the volume (0..{vol_size - 1}), got {offset}")
        if size < 1 or offset + size > vol_size:
            raise t.error("size", f"offset + size must be within the volume ({vol_size} bytes)")
        largest = max(b for b, _ in sizes)
        if largest > size:
            raise t.error("bs", f"block size {largest} is larger than the region ({size} bytes)")
        start_s = t.number("start_s", 0.0, _non_negative)
        stop_s = t.number("stop_s", run.duration_s, _positive)
        if stop_s <= start_s:
            raise t.error("stop_s", f"must be after start_s ({start_s})")
        # fio's time_based: true runs until stop_s; false ends after one pass of `size` bytes
        time_based = t.get("time_based", bool, True)
        out.append(
            WorkloadSpec(
                name,
                volume,
                rw,
                mix,
                sizes,
                depth,
                rate,
                dist,
                offset,
                size,
                start_s,
                stop_s,
                percentage_random=pct_random,
                io_limit_bytes=None if time_based else size,
            )
        )
        t.finish()
    return tuple(out)


def _relative(file: str, path: str) -> Path:
    """`path` as written in the scenario: relative to the scenario file's folder."""
    given = Path(path)
    return given if given.is_absolute() else Path(file).parent / given


def _expand_fio(tables: list[_Table], file: str) -> list[_Table]:
    """Replace each `fio = "job.fio"` table by one table per job (and per numjobs), written by
    `flashsim.sim.inputs.fio.workload_tables`; each keeps the scenario file and names its
    origin, e.g. ``workload[0] (job.fio [randread]).bs``."""
    from flashsim.sim.inputs.fio import FioJobError, read_job_file, workload_tables

    out: list[_Table] = []
    for t in tables:
        if not t.has("fio"):
            out.append(t)
            continue
        job_path = t.get("fio", str, check=_name)
        volume = t.get("volume", str)
        prefix = t.get("name", str, None, _name)
        t.finish()
        try:
            jobs = read_job_file(_relative(file, job_path))
            expanded = [(job, table) for job in jobs for table in workload_tables(job, volume)]
        except FioJobError as error:
            raise t.error("fio", str(error)) from None
        for job, table in expanded:
            if not str(table["rw"]).startswith("rand"):
                table.pop("percentage_random", None)  # fio ignores it for sequential modes
            if prefix is not None:
                table["name"] = prefix if len(expanded) == 1 else f"{prefix}.{table['name']}"
            out.append(_Table(file, f"{t.path} ({job_path} [{job.name}])", table))
    return out


LOOPS = ("open", "closed")


def _trace_workload(
    t: _Table, file: str, name: str, volume: str, *, vol_size: int, run: RunSpec
) -> WorkloadSpec:
    """A `trace = "file"` workload: read, range and fit the trace now, so that every problem
    (a malformed line, an address past the volume) is reported before the run starts."""
    from flashsim.sim.inputs.fitting import MAPPINGS, fit_to_volume
    from flashsim.sim.inputs.traces import FORMATS, TraceError, read_trace

    path = t.get("trace", str, check=_name)
    fmt = t.get(
        "format", str, check=lambda v: None if v in FORMATS else "must be " + ", ".join(FORMATS)
    )
    time_scale = t.number("time_scale", 1.0, _positive)
    mapping = t.get(
        "mapping",
        str,
        "as-is",
        lambda v: None if v in MAPPINGS else "must be " + ", ".join(MAPPINGS),
    )
    loop = t.get("loop", str, "open", lambda v: None if v in LOOPS else "must be open or closed")
    if t.has("iodepth") and loop != "closed":
        raise t.error("iodepth", "applies to loop = 'closed' only")
    depth = t.get("iodepth", int, 1, _at_least_one) if loop == "closed" else None
    first = t.get("first_record", int, 0, lambda v: None if v >= 0 else "must be >= 0")
    count = t.get("records", int, None, lambda v: None if v >= 1 else "must be >= 1")
    event = t.get(
        "blkparse_event", str, "Q", lambda v: None if v in ("Q", "C") else "must be Q or C"
    )
    if t.has("blkparse_event") and fmt != "blkparse":
        raise t.error("blkparse_event", f"applies to format = 'blkparse' only, not {fmt!r}")
    skip_bad = t.get("skip_bad_lines", bool, False)
    start_s = t.number("start_s", 0.0, _non_negative)
    stop_s = t.number("stop_s", run.duration_s, _positive)
    if stop_s <= start_s:
        raise t.error("stop_s", f"must be after start_s ({start_s})")
    try:
        trace = read_trace(
            _relative(file, path),
            fmt,
            skip_bad_lines=skip_bad,
            blkparse_event=event,
            first_record=first,
            records=count,
        )
        if not trace.timed and loop == "open":
            raise t.error(
                "loop",
                f"{path} is a {fmt} trace without timestamps (fio iolog v2): replay it with "
                "loop = 'closed' and an iodepth",
            )
        if not len(trace):
            raise t.error("trace", f"{path}: no data I/O records (in the range chosen)")
        fitted = fit_to_volume(trace, vol_size, mapping, time_scale)
    except TraceError as error:
        raise t.error("trace", str(error)) from None
    writes = fitted["write"]
    spec = TraceSpec(
        path, fmt, loop, time_scale, mapping, fitted, trace.skipped_lines, trace.ignored
    )
    sizes = ((int(fitted["length"].max()), 1.0),)
    mix = 100.0 * float((~writes).mean())
    return WorkloadSpec(
        name, volume, "trace", mix, sizes, depth, None, "random", 0, vol_size, start_s, stop_s,
        trace=spec,
    )  # fmt: skip
