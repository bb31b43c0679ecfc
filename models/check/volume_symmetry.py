"""Symmetry on interchangeable volumes: the group of renamings of volume names, relationship
ids and processes that map a configuration onto itself, and a world renamed by one of them.

The rules are name-blind: no step orders or decides by the spelling of a name (families and
lock sets are sets, taken at once; cascades and snapshots go by creation order, kept in the
engine's lists). So if a permutation `g` of the names (volumes, snapshots and relationship
ids, one map: a snapshot's relationship has its name) and of the processes maps the
configuration onto itself — volumes onto volumes of the same geometry, the initial engine
and oracle onto themselves, each process's script, choices and copier onto those of its
image — then a world w and its renamed g(w) reach renamed states and violate a property
together. `volume_group` finds those permutations (checked, never assumed); `rename_*` give
a world's parts renamed by one: every string that is a moved name renamed, every collection
the engine keys by name sorted again, lock owners (process index + 1) moved with the
processes. Error messages are renamed word by word: they name volumes, and never decide.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flashsim.models.check import properties as props
from flashsim.models.check.config import CheckConfig, Process
from flashsim.models.check.world import set_up
from flashsim.models.ops import (
    OUT_OF_SPACE_POLICIES,
    DeleteSnapshot,
    Establish,
    EstablishGroup,
    Op,
    Prepare,
    Snapshot,
)
from flashsim.models.rules.inflight import CONTROL, COPY, READ, WRITE
from flashsim.models.rules.locks import Locking
from flashsim.models.state.relationship import PROFILES

#: Most permutations a search tries per world: beyond it only the identity (a note says so).
MAX_GROUP = 720
#: Strings the engine, oracle and operations hold that are no names: a name spelled like
#: one of them is never moved (a kind, a mapping state, a policy, a profile).
_WORDS = frozenset(
    {READ, WRITE, COPY, CONTROL, "prepared", "copying", "stopped", "suspended", "copied"}
    | set(OUT_OF_SPACE_POLICIES)
    | set(PROFILES)
)


@dataclass(frozen=True, slots=True)
class Perm:
    """One symmetry: `names` maps each moved name to its image (the others stay), `procs[i]`
    is the position process i moves to."""

    names: dict[str, str]
    procs: tuple[int, ...]
    pattern: re.Pattern[str] | None  # the moved names as words, for error messages

    @property
    def identity(self) -> bool:
        return not self.names and self.procs == tuple(range(len(self.procs)))


def _perm(names: dict[str, str], procs: tuple[int, ...]) -> Perm:
    moved = {a: b for a, b in names.items() if a != b}
    pattern = (
        re.compile(
            r"(?<!\w)("
            + "|".join(map(re.escape, sorted(moved, key=len, reverse=True)))
            + r")(?!\w)"
        )
        if moved
        else None
    )
    return Perm(moved, procs, pattern)


def identity(count: int) -> Perm:
    return _perm({}, tuple(range(count)))


def rename(value: Any, perm: Perm) -> Any:
    """`value` (a fingerprint, an op, a record) with every moved name renamed."""
    names = perm.names
    if not names:
        return value
    if type(value) is str:
        return names.get(value, value)
    if value is None or isinstance(value, bytes | int | float):
        return value
    if type(value) is tuple:
        return tuple([rename(item, perm) for item in value])
    if isinstance(value, tuple):  # NamedTuple (actions, lock keys, Expected) or a DataSet
        items = [rename(item, perm) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, frozenset):
        return frozenset(rename(item, perm) for item in value)
    if isinstance(value, BaseException):  # its identity never decides: its type and text
        return (type(value).__name__, rename_text(str(value), perm))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: rename(getattr(value, f.name), perm) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    raise TypeError(f"volume symmetry: no renaming for {type(value).__name__}")


def rename_text(text: str, perm: Perm) -> str:
    if perm.pattern is None:
        return text
    return perm.pattern.sub(lambda m: perm.names[m.group(1)], text)


def _owners(held: tuple[tuple[int, int, int], ...], perm: Perm) -> tuple[tuple[int, int, int], ...]:
    """Lock ranges with their exclusive owners (op id = process index + 1) moved."""
    return tuple(
        (first, end, perm.procs[owner - 1] + 1 if owner > 0 else owner)
        for first, end, owner in held
    )


def rename_system(fingerprint: tuple[object, ...], perm: Perm) -> tuple[object, ...]:
    """An engine fingerprint (`State.fingerprint`) renamed: volumes, relationships, the
    outgoing lists' keys and the locks sorted by their new names (their order is the dict's
    or sorted by name: no history); each outgoing list keeps its order (creation order)."""
    data: Any = fingerprint[0]
    held_locks: Any = fingerprint[1]
    volumes, rels, outgoing = (tuple(sorted(rename(part, perm))) for part in data)
    locks = tuple(sorted((perm.names.get(v, v), _owners(held, perm)) for v, held in held_locks))
    return ((volumes, rels, outgoing), locks)


def rename_oracle(fingerprint: tuple[object, ...], perm: Perm) -> tuple[object, ...]:
    """An oracle fingerprint (`properties.oracle_fingerprint`) renamed: its maps sorted again."""
    renamed = list(rename(fingerprint, perm))
    for at in (0, 1, 2, 3, 4, 6):  # volumes, relationships, withdrawn, blocks, refs, snapshots
        renamed[at] = tuple(sorted(renamed[at]))
    return tuple(renamed)


def rename_record(record: tuple[object, ...], perm: Perm) -> tuple[object, ...]:
    """A process record (pc, op fingerprint or None, expected) renamed: the op's locks, a set
    taken at once, sorted; its error message renamed word by word."""
    pc, op, expected = record
    if op is not None:
        fields = list(rename(op, perm))
        fields[11] = tuple(sorted(fields[11]))  # the locks
        if fields[16] is not None:
            fields[16] = rename_text(fields[16], perm)
        op = tuple(fields)
    return (pc, op, rename(expected, perm))


# -- the group ---------------------------------------------------------------------------------


def _op_names(op: Op) -> tuple[list[str], list[str]]:
    """(volumes, relationship ids) an op names."""
    if isinstance(op, Establish):
        return [op.source, op.target], [op.id]
    if isinstance(op, Prepare):
        return [op.spec.source, op.spec.target], [op.spec.id]
    if isinstance(op, EstablishGroup):
        pairs = [_op_names(m) for m in op.relationships]
        return [v for vs, _ in pairs for v in vs], [i for _, ids in pairs for i in ids]
    if isinstance(op, Snapshot):
        return [op.volume, op.snapshot], [op.snapshot]
    if isinstance(op, DeleteSnapshot):
        return [op.snapshot], [op.snapshot]
    volume = getattr(op, "volume", None)
    rel_id = getattr(op, "id", None)
    return ([volume] if isinstance(volume, str) else []), (
        [rel_id] if isinstance(rel_id, str) else []
    )


def _plain(value: object) -> object:
    """An op as nested tuples (its type's name first), so the data renaming reaches its bytes."""
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, *(_plain(getattr(value, f.name)) for f in fields))
    return value


def _spec(process: Process, perm: Perm) -> tuple[object, ...]:
    """A process's behaviour renamed: its script, its choices as a set, its copier."""
    return (
        tuple(_plain(rename(op, perm)) for op in process.ops),
        None if process.copier is None else perm.names.get(process.copier, process.copier),
        tuple(sorted((_plain(rename(op, perm)) for op in process.choices), key=repr)),
        process.max_ops,
        process.data_domain,
    )


def _shape(value: object) -> object:
    """`value` with its data bytes reduced to their lengths: equal up to any data renaming."""
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, tuple):
        return tuple(_shape(item) for item in value)
    return value


def volume_group(
    config: CheckConfig, mutant: str | None, data: bool, canon: Callable[[object], object]
) -> tuple[tuple[Perm, ...], str | None]:
    """The permutations that map `config` onto itself (identity first) and a note when the
    search cannot use them all. With `data`, equal up to one renaming of data values
    (`canon`: the data-canonical form of a structure)."""
    from flashsim.models.check.mutants import rules_of

    count = len(config.processes)
    alone = (identity(count),)
    if mutant is not None and type(rules_of(mutant)).lock_batch is not Locking.lock_batch:
        # a lock batch of its own may take a family's locks in their names' order (one such
        # mutant does): name-blindness is not known, so no renaming
        return alone, "volume symmetry off: this mutant takes its locks in batches of its own"
    volumes = {v.name: (v.tracks, v.track_size) for v in config.volumes}
    all_ops = [*config.setup, *(op for p in config.processes for op in (*p.ops, *p.choices))]
    ids: set[str] = {p.copier for p in config.processes if p.copier is not None}
    named: set[str] = set(volumes)
    for op in all_ops:
        vs, rs = _op_names(op)
        named.update(vs)
        ids.update(rs)
    universe = sorted(named | ids)
    # names that may trade places: same role (volume, id or both) and geometry
    blocks: dict[object, list[str]] = {}
    for name in universe:
        if name in _WORDS or re.fullmatch(r"[01]+", name):
            continue  # spelled like a word the engine holds: it stays
        role = (name in named, name in ids, volumes.get(name))
        blocks.setdefault(role, []).append(name)
    movable = [b for b in blocks.values() if len(b) > 1]
    size = math.prod(math.factorial(len(b)) for b in movable)
    if size > 50 * MAX_GROUP:
        return alone, f"volume symmetry off: {size} renamings of the names to try"
    system, oracle = _initial(config)
    found: list[Perm] = []
    base = identity(count)
    base_whole = _whole(config, system, oracle, base, tuple(range(count)))
    for images in itertools.product(*(itertools.permutations(b) for b in movable)):
        names = {
            a: b
            for block, image in zip(movable, images, strict=True)
            for a, b in zip(block, image, strict=True)
        }
        probe = _perm(names, tuple(range(count)))
        specs = [_spec(p, probe) for p in config.processes]
        targets = [_spec(p, base) for p in config.processes]
        # process i may move to j only if its renamed behaviour has j's shape
        options = [
            [j for j in range(count) if _shape(specs[i]) == _shape(targets[j])]
            for i in range(count)
        ]
        for order in _matchings(options):
            perm = _perm(names, order)
            whole = _whole(config, system, oracle, perm, order)
            if (canon(whole) == canon(base_whole)) if data else whole == base_whole:
                found.append(perm)
                if len(found) > MAX_GROUP:
                    return alone, f"volume symmetry off: over {MAX_GROUP} symmetries"
    found.sort(key=lambda p: not p.identity)  # the identity first (it is always found)
    return tuple(found), None


def _matchings(options: list[list[int]]) -> list[tuple[int, ...]]:
    """Every assignment of distinct positions, process i to one of `options[i]`."""
    out: list[tuple[int, ...]] = []

    def walk(i: int, taken: tuple[int, ...]) -> None:
        if i == len(options):
            out.append(taken)
            return
        for j in options[i]:
            if j not in taken:
                walk(i + 1, (*taken, j))

    walk(0, ())
    return out


def _initial(config: CheckConfig) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The engine's and the oracle's fingerprints after the setup."""
    system, oracle = set_up(config)
    return system.fingerprint(), props.oracle_fingerprint(oracle)


def _whole(
    config: CheckConfig,
    system: tuple[object, ...],
    oracle: tuple[object, ...],
    perm: Perm,
    order: tuple[int, ...],
) -> tuple[object, ...]:
    """The configuration renamed by `perm`: the initial engine and oracle, then each
    position's process (process i's renamed behaviour at position order[i])."""
    procs: list[object] = [None] * len(order)
    for i, process in enumerate(config.processes):
        procs[order[i]] = _spec(process, perm)
    return (rename_system(system, perm), rename_oracle(oracle, perm), tuple(procs))
