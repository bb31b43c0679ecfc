"""Check configurations: tiny FlashCopy systems and bounded concurrent processes, read from
TOML (`scenarios/check/*.toml`) and validated with errors that name the file and the key.

A configuration has volumes, a `setup` run sequentially before the search (writes and
establishes), and `processes`: each a host process (a bounded list of `ops`, issued one
after the other: the second only once the first completed), a choosing process (`choose`:
domains, `max_ops`: at each of its ops it may issue any op the domains allow, every choice a
successor) or a background `copier` of one relationship (it copies one track at a time,
lowest first, while the relationship has set bits).

A `choose` table's keys are domains (lists): `ops` (the kinds: write, read, establish,
establish_group, withdraw, refresh, reverse), `volumes`, `offsets`, `lengths`, `data` (hex
values, each repeated to the write's length), `ids`, `sources` and `targets` (default:
`volumes`), the establish options `background_copy`, `incremental`, `persistent`,
`inhibit_target_writes`, `target_capacity_tracks` ("full" or tracks), `out_of_space`, then
`fast` (reverse) and `groups` (establish_group: lists of establish tables). Every
combination an op kind draws from is one choice; the choices are deduplicated and sorted
(`choice_order`), and the limits of `flashsim.models.limits` bound their number.

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

    [[processes]]
    name = "host"
    max_ops = 2

    [processes.choose]
    ops = ["write", "read"]
    volumes = ["A", "B"]
    offsets = [0, 1]
    lengths = [1, 3]
    data = ["51", "52"]
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashsim.models.errors import FlashCopyError
from flashsim.models.input_files import read_text
from flashsim.models.limits import (
    MAX_CHECK_CHOICE_OPS,
    MAX_CHECK_CHOICE_STEPS,
    MAX_CHECK_CHOICES,
    MAX_CHECK_DEPTH,
    MAX_CHECK_DOMAIN,
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
    Prepare,
    PrepareAgain,
    Read,
    Refresh,
    Resume,
    Reverse,
    Snapshot,
    Start,
    Stop,
    Suspend,
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
    """A host process (`ops` in order), a choosing process (any of `choices` at each of its
    `max_ops` steps; `data_domain` the data values its writes draw from) or a background
    copier (`copier` = relationship id)."""

    name: str
    ops: tuple[Op, ...] = ()
    copier: str | None = None
    choices: tuple[Op, ...] = ()  # sorted (`choice_order`): the successors' order
    max_ops: int = 0
    data_domain: tuple[bytes, ...] = ()

    @property
    def length(self) -> int:
        """How many ops the process issues."""
        return self.max_ops if self.choices else len(self.ops)

    def options(self, pc: int) -> tuple[Op, ...]:
        """The ops the process may issue as its `pc`-th (none once it is done)."""
        if pc >= self.length:
            return ()
        return self.choices if self.choices else (self.ops[pc],)


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
    "autodelete": bool,
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
    "prepare": _ESTABLISH_KEYS,  # with only `id`: prepare a stopped or copied mapping again
    "start": {"id": str},
    "suspend": {"id": str},
    "resume": {"id": str},
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
    "prepare": ("id",),
    "start": ("id",),
    "suspend": ("id",),
    "resume": ("id",),
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
        if kind == "prepare" and set(rest) - {"id"}:  # a new mapping; only `id`: rule S7
            return Prepare(self.establish(rest, key))
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
        if kind == "prepare":
            return PrepareAgain(table["id"])
        if kind == "start":
            return Start(table["id"])
        if kind == "suspend":
            return Suspend(table["id"])
        if kind == "resume":
            return Resume(table["id"])
        if kind == "snapshot":
            return Snapshot(table["volume"], table["snapshot"])
        if kind == "delete_snapshot":
            return DeleteSnapshot(table["snapshot"])
        return Reverse(table["id"], table.get("fast", False))


#: `choose` domains: key -> the type of its entries.
_DOMAINS: dict[str, tuple[type, ...]] = {
    "ops": (str,),
    "volumes": (str,),
    "offsets": (int,),
    "lengths": (int,),
    "data": (str,),
    "ids": (str,),
    "sources": (str,),
    "targets": (str,),
    "background_copy": (bool,),
    "incremental": (bool,),
    "persistent": (bool,),
    "inhibit_target_writes": (bool,),
    "target_capacity_tracks": (int, str),
    "out_of_space": (str,),
    "autodelete": (bool,),
    "fast": (bool,),
    "force": (bool,),
    "snapshots": (str,),
    "groups": (list,),
}
#: The domains each op kind draws from (`sources`/`targets` default to `volumes`; the
#: establish options to their single default).
_NEEDS = {
    "write": ("volumes", "offsets", "lengths", "data"),
    "read": ("volumes", "offsets", "lengths"),
    "establish": ("ids",),
    "establish_group": ("groups",),
    "withdraw": ("ids",),
    "refresh": ("ids",),
    "reverse": ("ids",),
    "prepare": ("ids",),
    "start": ("ids",),
    "stop": ("ids",),
    "snapshot": ("volumes", "snapshots"),
    "delete_snapshot": ("snapshots",),
}
_OPTION_DEFAULTS: dict[str, list[object]] = {
    "background_copy": [True],
    "incremental": [False],
    "persistent": [False],
    "inhibit_target_writes": [False],
    "target_capacity_tracks": ["full"],
    "out_of_space": ["fail_relationship"],
    "autodelete": [False],
    "fast": [False],
    "force": [False],
}


def choice_order(op: Op) -> tuple[str, str]:
    """The order a choosing process's ops are tried in: by kind, then by value (never the
    order of the TOML lists, so a reordered domain explores identically)."""
    return (type(op).__name__, repr(op))


def describe_op(op: Op) -> str:
    """A choice as a schedule names it: `write A 1 4142`, `establish r1 A B nocopy ...`."""
    match op:
        case Write(volume, offset, data):
            return f"write {volume} {offset} {data.hex()}"
        case Read(volume, offset, length):
            return f"read {volume} {offset} {length}"
        case Establish():
            return "establish " + _describe_establish(op)
        case EstablishGroup(members):
            return "establish_group " + " + ".join(_describe_establish(m) for m in members)
        case Reverse(rel_id, fast):
            return f"reverse {rel_id}{' fast' if fast else ''}"
        case Withdraw(rel_id) | Refresh(rel_id) | Start(rel_id) | Suspend(rel_id) | Resume(rel_id):
            return f"{type(op).__name__.lower()} {rel_id}"
        case PrepareAgain(rel_id):
            return f"prepare {rel_id}"
        case Prepare(spec):
            return "prepare " + _describe_establish(spec)
        case Stop(rel_id, force):
            return f"stop {rel_id}{' force' if force else ''}"
        case Snapshot(volume, snapshot):
            return f"snapshot {volume} {snapshot}"
        case DeleteSnapshot(snapshot):
            return f"delete_snapshot {snapshot}"
    return repr(op)


def _describe_establish(op: Establish) -> str:
    words = [op.id, op.source, op.target]
    flags = (
        ("nocopy", not op.background_copy),
        ("incremental", op.incremental),
        ("persistent", op.persistent),
        ("inhibit", op.inhibit_target_writes),
        ("autodelete", op.autodelete),
    )
    words += [word for word, on in flags if on]
    if op.target_capacity_tracks is not None:
        words += [f"capacity={op.target_capacity_tracks}", op.out_of_space]
    return " ".join(words)


def _cycled(value: bytes, length: int) -> bytes:
    """`value` repeated to `length` bytes: a write of any length from one data value."""
    return (value * (length // len(value) + 1))[:length]


def _choices(
    reader: _Reader, value: object, key: str, volumes: set[str]
) -> tuple[tuple[Op, ...], tuple[bytes, ...]]:
    """Every op a `choose` table allows, deduplicated and sorted, and its data values."""
    if not isinstance(value, dict):
        raise reader.fail(key, f"expected a table, got {type(value).__name__}")
    domains: dict[str, list[Any]] = {}
    for name, items in value.items():
        if name not in _DOMAINS:
            known = ", ".join(sorted(_DOMAINS))
            raise reader.fail(f"{key}.{name}", f"unknown domain (known: {known})")
        if not isinstance(items, list) or not items:
            raise reader.fail(f"{key}.{name}", "expected a non-empty list")
        reader.at_most(items, f"{key}.{name}", MAX_CHECK_DOMAIN)
        kinds = _DOMAINS[name]
        for i, item in enumerate(items):
            if not isinstance(item, kinds) or (bool not in kinds and isinstance(item, bool)):
                want = " or ".join(k.__name__ for k in kinds)
                raise reader.fail(f"{key}.{name}[{i}]", f"expected {want}, got {item!r}")
        if name != "groups" and len(set(map(repr, items))) != len(items):
            raise reader.fail(f"{key}.{name}", "repeats a value")
        domains[name] = items
    if "ops" not in domains:
        raise reader.fail(f"{key}.ops", "missing: the op kinds to choose from")
    for i, kind in enumerate(domains["ops"]):
        if kind not in _NEEDS:
            raise reader.fail(
                f"{key}.ops[{i}]", f"unknown operation {kind!r} (known: {', '.join(_NEEDS)})"
            )
        for need in _NEEDS[kind]:
            if need not in domains:
                raise reader.fail(f"{key}.{need}", f"missing: {kind} draws from it")
    for name in ("volumes", "sources", "targets"):
        for i, volume in enumerate(domains.get(name, [])):
            if volume not in volumes:
                raise reader.fail(f"{key}.{name}[{i}]", f"unknown volume {volume!r}")
    # a negative offset, a zero length, a range past the end: allowed, they are error cases
    # (AddressError); only a write needs a length of at least one byte to repeat its data to
    if "write" in domains["ops"]:
        for i, number in enumerate(domains.get("lengths", [])):
            if number < 1:
                raise reader.fail(f"{key}.lengths[{i}]", "must be >= 1 for a write")
    data = []
    for i, text in enumerate(domains.get("data", [])):
        try:
            data.append(bytes.fromhex(text))
        except ValueError:
            raise reader.fail(f"{key}.data[{i}]", "expected hex digits, e.g. '41'") from None
        if not data[-1]:
            raise reader.fail(f"{key}.data[{i}]", "empty data value")
    for i, capacity in enumerate(domains.get("target_capacity_tracks", [])):
        if isinstance(capacity, str) and capacity != "full":
            raise reader.fail(
                f"{key}.target_capacity_tracks[{i}]", "expected 'full' or a number of tracks"
            )
    for i, policy in enumerate(domains.get("out_of_space", [])):
        if policy not in OUT_OF_SPACE_POLICIES:
            raise reader.fail(f"{key}.out_of_space[{i}]", f"unknown policy {policy!r}")
    options = {n: domains.get(n, d) for n, d in _OPTION_DEFAULTS.items()}
    found: set[Op] = set()
    for kind in domains["ops"]:
        if kind in ("write", "read"):
            for volume, offset, length in itertools.product(
                domains["volumes"], domains["offsets"], domains["lengths"]
            ):
                if kind == "read":
                    found.add(Read(volume, offset, length))
                else:
                    found.update(Write(volume, offset, _cycled(d, length)) for d in data)
        elif kind == "establish":
            found.update(_establishes(domains, options, volumes))
        elif kind == "prepare":
            found.update(Prepare(spec) for spec in _establishes(domains, options, volumes))
        elif kind == "establish_group":
            for i, group in enumerate(domains["groups"]):
                where = f"{key}.groups[{i}]"
                reader.at_most(group, where, MAX_CHECK_VOLUMES)
                found.add(
                    EstablishGroup(
                        tuple(reader.establish(m, f"{where}[{j}]") for j, m in enumerate(group))
                    )
                )
        elif kind == "reverse":
            found.update(Reverse(i, f) for i in domains["ids"] for f in options["fast"])
        elif kind == "stop":
            found.update(Stop(i, f) for i in domains["ids"] for f in options["force"])
        elif kind == "start":
            found.update(Start(i) for i in domains["ids"])
        elif kind == "snapshot":
            found.update(Snapshot(v, n) for v in domains["volumes"] for n in domains["snapshots"])
        elif kind == "delete_snapshot":
            found.update(DeleteSnapshot(n) for n in domains["snapshots"])
        else:
            made = Withdraw if kind == "withdraw" else Refresh
            found.update(made(i) for i in domains["ids"])
        if len(found) > MAX_CHECK_CHOICES:
            raise reader.fail(
                key, f"over {MAX_CHECK_CHOICES} ops to choose from: make the domains smaller"
            )
    return tuple(sorted(found, key=choice_order)), tuple(sorted(data))


def _establishes(
    domains: dict[str, list[Any]], options: dict[str, list[Any]], volumes: set[str]
) -> list[Establish]:
    made = []
    sources = domains.get("sources", domains.get("volumes", sorted(volumes)))
    targets = domains.get("targets", domains.get("volumes", sorted(volumes)))
    names = ("background_copy", "incremental", "persistent", "inhibit_target_writes",
             "target_capacity_tracks", "out_of_space", "autodelete")  # fmt: skip
    for rel_id, source, target, *values in itertools.product(
        domains["ids"], sources, targets, *(options[n] for n in names)
    ):
        chosen = dict(zip(names, values, strict=True))
        if chosen["target_capacity_tracks"] == "full":
            chosen["target_capacity_tracks"] = None
            if chosen["out_of_space"] != "fail_relationship":
                continue  # the policy of a full-size target means nothing: one of them
        made.append(Establish(rel_id, source, target, **chosen))
    return made


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
    for proc in top.get("processes", []):  # a choosing process's snapshots likewise
        choose = proc.get("choose") if isinstance(proc, dict) else None
        if not isinstance(choose, dict):
            continue
        names, kinds = choose.get("snapshots"), choose.get("ops")
        if isinstance(names, list) and isinstance(kinds, list) and "snapshot" in kinds:
            known_volumes.update(n for n in names if isinstance(n, str))

    def check_volumes(op: Op, key: str) -> None:
        names: list[tuple[str, str]] = []
        if isinstance(op, Write | Read):
            names = [("volume", op.volume)]
        elif isinstance(op, Establish):
            names = [("source", op.source), ("target", op.target)]
        elif isinstance(op, Prepare):
            names = [("source", op.spec.source), ("target", op.spec.target)]
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
        table = reader.table(
            value,
            key,
            {"name": str, "ops": list, "copier": str, "choose": dict, "max_ops": int},
        )
        reader.required(table, key, ("name",))
        if sum(k in table for k in ("ops", "copier", "choose")) != 1:
            raise reader.fail(
                key,
                "give exactly one of 'ops' (a host process) or 'copier' or 'choose' (a "
                "choosing process)",
            )
        if ("max_ops" in table) != ("choose" in table):
            raise reader.fail(f"{key}.max_ops", "a choosing process needs max_ops, and only it")
        if any(p.name == table["name"] for p in processes):
            raise reader.fail(f"{key}.name", f"process {table['name']!r} defined twice")
        if not table["name"] or any(c in table["name"] for c in " #:"):
            raise reader.fail(f"{key}.name", "expected a name without spaces, '#' or ':'")
        if "choose" in table:
            most = MAX_CHECK_CHOICE_OPS
            if not 1 <= table["max_ops"] <= most:
                raise reader.fail(f"{key}.max_ops", f"must be 1..{most}, got {table['max_ops']}")
            choices, data = _choices(reader, table["choose"], f"{key}.choose", known_volumes)
            if len(choices) * table["max_ops"] > MAX_CHECK_CHOICE_STEPS:
                raise reader.fail(
                    key,
                    f"{len(choices)} ops to choose from x max_ops {table['max_ops']} is over "
                    f"the limit of {MAX_CHECK_CHOICE_STEPS}",
                )
            for j, op in enumerate(choices):
                check_volumes(op, f"{key}.choose[{j}]")
            processes.append(Process(table["name"], (), None, choices, table["max_ops"], data))
            continue
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
    for op in (*setup, *(o for p in processes for o in (*p.ops, *p.choices))):
        spec = op.spec if isinstance(op, Prepare) else op  # a prepared mapping starts later
        for member in spec.relationships if isinstance(spec, EstablishGroup) else (spec,):
            # with choices, an id may come with and without background copy: keep the one with
            if isinstance(member, Establish) and (
                member.background_copy or member.id not in established
            ):
                established[member.id] = member
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
