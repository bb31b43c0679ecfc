"""Check configurations: tiny FlashCopy systems and bounded concurrent processes, read from
TOML (`scenarios/check/*.toml`) and validated with errors that name the file and the key.

A configuration has volumes, a `setup` run sequentially before the search (writes and
establishes), and `processes`: each either a host process (a bounded list of `ops`, issued one
after the other: the second only once the first completed) or a background `copier` of one
relationship (it copies one track at a time, lowest first, while the relationship has set bits).

    [check]
    max_states = 100000
    max_depth = 200
    sometimes = ["target_read_differs_from_source"]

    [[volumes]]
    name = "A"
    tracks = 3
    track_size_bytes = 2

    [[setup]]
    op = "establish"
    id = "r1"
    source = "A"
    target = "B"

    [[processes]]
    name = "reader"
    ops = [{ op = "read", volume = "B", offset = 0, length = 6 }]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashsim.models.errors import FlashCopyError
from flashsim.models.input_files import read_text
from flashsim.models.limits import (
    MAX_CHECK_DEPTH,
    MAX_CHECK_OPS,
    MAX_CHECK_PROCESSES,
    MAX_CHECK_SETUP_OPS,
    MAX_CHECK_STATES,
    MAX_CHECK_TRACK_SIZE,
    MAX_CHECK_TRACKS,
    MAX_CHECK_VOLUMES,
    MAX_CONFIG_FILE_BYTES,
)
from flashsim.models.ops import (
    OUT_OF_SPACE_POLICIES,
    DeleteSnapshot,
    Establish,
    EstablishGroup,
    Op,
    Read,
    Refresh,
    Reverse,
    Snapshot,
    Stop,
    Withdraw,
    Write,
    apply,
)
from flashsim.models.state.relationship import DS8000, PROFILES, Profile
from flashsim.models.system import System

DEFAULT_MAX_STATES = 200_000
DEFAULT_MAX_DEPTH = 500


class CheckConfigError(FlashCopyError):
    """A check configuration that cannot be used; the message names file and key."""


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    name: str
    tracks: int
    track_size: int


@dataclass(frozen=True, slots=True)
class Process:
    """A host process (`ops` in order) or a background copier (`copier` = relationship id)."""

    name: str
    ops: tuple[Op, ...] = ()
    copier: str | None = None


@dataclass(frozen=True, slots=True)
class CheckConfig:
    path: str
    volumes: tuple[VolumeSpec, ...]
    setup: tuple[Op, ...]
    processes: tuple[Process, ...]
    profile: Profile = DS8000
    max_states: int = DEFAULT_MAX_STATES
    max_depth: int = DEFAULT_MAX_DEPTH
    sometimes: tuple[str, ...] = ()
    description: str = ""
    mutants: tuple[str, ...] = field(default=())  # mutants this configuration must kill


_ESTABLISH_KEYS = {
    "id": str,
    "source": str,
    "target": str,
    "background_copy": bool,
    "incremental": bool,
    "persistent": bool,
    "inhibit_target_writes": bool,
    "target_capacity_tracks": int,
    "out_of_space": str,
}
_OP_KEYS: dict[str, dict[str, type]] = {
    "write": {"volume": str, "offset": int, "data": str},
    "read": {"volume": str, "offset": int, "length": int},
    "establish": _ESTABLISH_KEYS,
    "establish_group": {"relationships": list},
    "withdraw": {"id": str},
    "refresh": {"id": str},
    "reverse": {"id": str, "fast": bool},
    "stop": {"id": str, "force": bool},
    "snapshot": {"volume": str, "snapshot": str},
    "delete_snapshot": {"snapshot": str},
}
_REQUIRED = {
    "write": ("volume", "offset", "data"),
    "read": ("volume", "offset", "length"),
    "establish": ("id", "source", "target"),
    "establish_group": ("relationships",),
    "withdraw": ("id",),
    "refresh": ("id",),
    "reverse": ("id",),
    "stop": ("id",),
    "snapshot": ("volume", "snapshot"),
    "delete_snapshot": ("snapshot",),
}


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> CheckConfigError:
        return CheckConfigError(f"{self.path}: {key}: {problem}")

    def table(self, value: object, key: str, allowed: dict[str, type]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {type(value).__name__}")
        for name in value:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{name}", f"unknown key (known: {known})")
        for name, kind in allowed.items():
            if name in value:
                item = value[name]
                if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
                    raise self.fail(f"{key}.{name}", f"expected {kind.__name__}, got {item!r}")
        return value

    def at_most(self, items: list[Any], key: str, most: int) -> None:
        if len(items) > most:
            raise self.fail(key, f"{len(items)} entries, over the limit of {most}")

    def required(self, value: dict[str, Any], key: str, names: tuple[str, ...]) -> None:
        for name in names:
            if name not in value:
                raise self.fail(f"{key}.{name}", "missing")

    def establish(self, value: object, key: str) -> Establish:
        table = self.table(value, key, _ESTABLISH_KEYS)
        self.required(table, key, _REQUIRED["establish"])
        policy = table.get("out_of_space", "fail_relationship")
        if policy not in OUT_OF_SPACE_POLICIES:
            raise self.fail(f"{key}.out_of_space", f"unknown policy {policy!r}")
        return Establish(**table)

    def op(self, value: object, key: str, host: bool) -> Op:
        if not isinstance(value, dict):
            raise self.fail(key, "expected a table with an 'op' key")
        kind = value.get("op")
        if not isinstance(kind, str) or kind not in _OP_KEYS or (not host and kind == "read"):
            known = ", ".join(k for k in sorted(_OP_KEYS) if host or k != "read")
            raise self.fail(f"{key}.op", f"unknown operation {kind!r} (known: {known})")
        rest = {k: v for k, v in value.items() if k != "op"}
        if kind == "establish":
            return self.establish(rest, key)
        table = self.table(rest, key, _OP_KEYS[kind])
        self.required(table, key, _REQUIRED[kind])
        if kind == "write":
            try:
                data = bytes.fromhex(table["data"])
            except ValueError:
                raise self.fail(f"{key}.data", "expected hex digits, e.g. '4142'") from None
            if not data:
                raise self.fail(f"{key}.data", "empty write")
            return Write(table["volume"], table["offset"], data)
        if kind == "read":
            return Read(table["volume"], table["offset"], table["length"])
        if kind == "establish_group":
            members = table["relationships"]
            self.at_most(members, f"{key}.relationships", MAX_CHECK_VOLUMES)
            return EstablishGroup(
                tuple(self.establish(m, f"{key}.relationships[{i}]") for i, m in enumerate(members))
            )
        if kind == "withdraw":
            return Withdraw(table["id"])
        if kind == "refresh":
            return Refresh(table["id"])
        if kind == "stop":
            return Stop(table["id"], table.get("force", False))
        if kind == "snapshot":
            return Snapshot(table["volume"], table["snapshot"])
        if kind == "delete_snapshot":
            return DeleteSnapshot(table["snapshot"])
        return Reverse(table["id"], table.get("fast", False))


def load_config(path: str | Path) -> CheckConfig:
    """Read and validate a check configuration; raises CheckConfigError naming file and key."""
    name = str(path)
    text = read_text(path, MAX_CONFIG_FILE_BYTES, CheckConfigError)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CheckConfigError(f"{name}: not valid TOML: {error}") from None
    except RecursionError:
        raise CheckConfigError(f"{name}: not valid TOML: nested too deeply") from None
    return parse_config(raw, name)


def parse_config(raw: dict[str, Any], name: str = "<config>") -> CheckConfig:
    """Validate an already parsed TOML document (see `load_config`)."""
    reader = _Reader(name)
    top = reader.table(
        raw, "(top level)", {"check": dict, "volumes": list, "setup": list, "processes": list}
    )
    check = reader.table(
        top.get("check", {}),
        "check",
        {
            "max_states": int,
            "max_depth": int,
            "sometimes": list,
            "description": str,
            "profile": str,
            "max_targets_per_source": int,
            "mutants": list,
        },
    )
    for key, most in (("max_states", MAX_CHECK_STATES), ("max_depth", MAX_CHECK_DEPTH)):
        if key in check and not 1 <= check[key] <= most:
            raise reader.fail(f"check.{key}", f"must be 1..{most}, got {check[key]}")
    if check.get("max_targets_per_source", 1) < 1:
        raise reader.fail("check.max_targets_per_source", "must be >= 1")
    from flashsim.models.check.mutants import MUTANTS
    from flashsim.models.check.properties import SOMETIMES

    sometimes = check.get("sometimes", [])
    for i, item in enumerate(sometimes):
        if not isinstance(item, str) or item not in SOMETIMES:
            raise reader.fail(
                f"check.sometimes[{i}]",
                f"unknown property {item!r} (known: {', '.join(SOMETIMES)})",
            )
    mutants = check.get("mutants", [])
    for i, item in enumerate(mutants):
        if not isinstance(item, str) or item not in MUTANTS:
            raise reader.fail(f"check.mutants[{i}]", f"unknown mutant {item!r}")
    design = check.get("profile", DS8000.name)
    if design not in PROFILES:
        known = ", ".join(sorted(PROFILES))
        raise reader.fail("check.profile", f"unknown profile {design!r} (known: {known})")
    profile = Profile(
        design,
        check.get("max_targets_per_source", PROFILES[design].max_targets_per_source),
        design,
    )

    volumes: list[VolumeSpec] = []
    if not top.get("volumes"):
        raise reader.fail("volumes", "missing: at least one [[volumes]] table is needed")
    reader.at_most(top["volumes"], "volumes", MAX_CHECK_VOLUMES)
    for i, value in enumerate(top["volumes"]):
        key = f"volumes[{i}]"
        table = reader.table(value, key, {"name": str, "tracks": int, "track_size_bytes": int})
        reader.required(table, key, ("name", "tracks", "track_size_bytes"))
        for item, most in (
            ("tracks", MAX_CHECK_TRACKS),
            ("track_size_bytes", MAX_CHECK_TRACK_SIZE),
        ):
            if not 1 <= table[item] <= most:
                raise reader.fail(f"{key}.{item}", f"must be 1..{most}, got {table[item]}")
        if any(v.name == table["name"] for v in volumes):
            raise reader.fail(f"{key}.name", f"volume {table['name']!r} defined twice")
        volumes.append(VolumeSpec(table["name"], table["tracks"], table["track_size_bytes"]))
    known_volumes = {v.name for v in volumes}
    # a snapshot op creates its volume: later ops may name it
    raw_ops = list(top.get("setup", []))
    for proc in top.get("processes", []):
        if isinstance(proc, dict) and isinstance(proc.get("ops"), list):
            raw_ops += proc["ops"]
    for item in raw_ops:
        snapshot = item.get("snapshot") if isinstance(item, dict) else None
        if item.get("op") == "snapshot" and isinstance(snapshot, str):  # type: ignore[union-attr]
            known_volumes.add(snapshot)

    def check_volumes(op: Op, key: str) -> None:
        names: list[tuple[str, str]] = []
        if isinstance(op, Write | Read):
            names = [("volume", op.volume)]
        elif isinstance(op, Establish):
            names = [("source", op.source), ("target", op.target)]
        elif isinstance(op, Snapshot):
            names = [("volume", op.volume)]
        elif isinstance(op, DeleteSnapshot):
            names = [("snapshot", op.snapshot)]
        elif isinstance(op, EstablishGroup):
            for j, m in enumerate(op.relationships):
                check_volumes(m, f"{key}.relationships[{j}]")
        for item, volume in names:
            if volume not in known_volumes:
                raise reader.fail(f"{key}.{item}", f"unknown volume {volume!r}")

    setup = []
    reader.at_most(top.get("setup", []), "setup", MAX_CHECK_SETUP_OPS)
    for i, value in enumerate(top.get("setup", [])):
        op = reader.op(value, f"setup[{i}]", host=False)
        check_volumes(op, f"setup[{i}]")
        setup.append(op)
    _run_setup(reader, volumes, setup, profile)

    processes: list[Process] = []
    reader.at_most(top.get("processes", []), "processes", MAX_CHECK_PROCESSES)
    for i, value in enumerate(top.get("processes", [])):
        key = f"processes[{i}]"
        table = reader.table(value, key, {"name": str, "ops": list, "copier": str})
        reader.required(table, key, ("name",))
        if ("ops" in table) == ("copier" in table):
            raise reader.fail(key, "give exactly one of 'ops' (a host process) or 'copier'")
        if any(p.name == table["name"] for p in processes):
            raise reader.fail(f"{key}.name", f"process {table['name']!r} defined twice")
        ops = []
        reader.at_most(table.get("ops", []), f"{key}.ops", MAX_CHECK_OPS)
        for j, item in enumerate(table.get("ops", [])):
            op = reader.op(item, f"{key}.ops[{j}]", host=True)
            check_volumes(op, f"{key}.ops[{j}]")
            ops.append(op)
        if "ops" in table and not ops:
            raise reader.fail(f"{key}.ops", "empty: a host process needs at least one op")
        processes.append(Process(table["name"], tuple(ops), table.get("copier")))
    if not processes:
        raise reader.fail("processes", "missing: at least one [[processes]] table is needed")
    established: dict[str, Establish] = {}
    for op in (*setup, *(o for p in processes for o in p.ops)):
        for member in op.relationships if isinstance(op, EstablishGroup) else (op,):
            if isinstance(member, Establish):
                established.setdefault(member.id, member)
    for i, process in enumerate(processes):
        if process.copier is None:
            continue
        served = established.get(process.copier)
        if served is None:
            raise reader.fail(
                f"processes[{i}].copier", f"relationship {process.copier!r} is never established"
            )
        if not served.background_copy:
            raise reader.fail(
                f"processes[{i}].copier",
                f"relationship {process.copier!r} is NOCOPY: it has no background copy",
            )
    return CheckConfig(
        name,
        tuple(volumes),
        tuple(setup),
        tuple(processes),
        profile,
        check.get("max_states", DEFAULT_MAX_STATES),
        check.get("max_depth", DEFAULT_MAX_DEPTH),
        tuple(sometimes),
        check.get("description", ""),
        tuple(mutants),
    )


def _run_setup(
    reader: _Reader, volumes: list[VolumeSpec], setup: list[Op], profile: Profile = DS8000
) -> None:
    """The setup runs before every search: an operation it cannot run (a write past the end,
    an id in use) is an error of the configuration, named by its key."""
    system = System(profile)
    for volume in volumes:
        system.create(volume.name, volume.tracks, volume.track_size)
    for i, op in enumerate(setup):
        try:
            apply(system, op)
        except FlashCopyError as error:
            raise reader.fail(f"setup[{i}]", str(error)) from None
