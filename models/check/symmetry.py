"""Symmetry on data values: worlds equal up to a renaming of byte values count as one state.

FlashCopy is data-independent: no step looks at the bytes it moves except to move them
(copies and reads are whole images; a hole reads as zeros), and every property compares
bytes for equality only. So if a world w2 is w1 with its nonzero byte values permuted —
volumes, oracle, operations in flight and the data the processes have yet to write all
renamed alike — w2 reaches exactly the renamed states of w1 and violates a property exactly
when w1 does. The explorer then keeps one world per class.

`canonical(key, pending)` is the class's representative: every data byte renamed in order of
first appearance along a fixed walk of the world's structure (the engine's volumes, the
oracle, each process, then the data still to be written), zero kept as zero. The walk visits
positions, never values, so two worlds of one class rename to the same structure.

Only bytes objects are data here: fingerprints encode everything else (bitmaps, tracks,
names) as ints and strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flashsim.models.check.volume_symmetry import Perm, rename_oracle, rename_record, rename_system
from flashsim.models.ops import Write

if TYPE_CHECKING:
    from flashsim.models.check.world import Setting, World

#: Renaming never touches zero: a hole, and a never-written track, reads as zeros.
_FIXED = 0


def _collect(value: object, out: list[bytes]) -> None:
    if type(value) is bytes:
        out.append(value)
    elif isinstance(value, tuple):
        for item in value:
            _collect(item, out)


class DataSet(tuple[bytes, ...]):
    """The data values a choosing process may still write: a set, so renamed it is sorted
    again (a renaming that maps the domain onto itself keeps the process as it is)."""

    __slots__ = ()


def _rename(value: object, table: bytes) -> object:
    if type(value) is bytes:
        return value.translate(table)
    if isinstance(value, DataSet):
        return DataSet(sorted(item.translate(table) for item in value))
    if isinstance(value, tuple):
        return tuple([_rename(item, table) for item in value])
    return value


def renaming(data: list[bytes]) -> bytes:
    """The translation table renaming the nonzero byte values of `data`, in order of first
    appearance, to 1, 2, 3, ..."""
    seen = [b for b in dict.fromkeys(b"".join(data)) if b != _FIXED]
    table = bytearray(range(256))
    for new, old in enumerate(seen, start=1):
        table[old] = new
    return bytes(table)


def canonical(key: tuple[object, ...], pending: tuple[object, ...]) -> tuple[object, ...]:
    """The representative of `key`'s class (`World.key()` plus the data the processes still
    have to write, `pending`): every data byte renamed in order of first appearance. The
    definition, on whole keys; `class_id` finds the same classes from memoised parts (the
    tests compare the two)."""
    whole = (key, pending)
    data: list[bytes] = []
    _collect(whole, data)
    return _rename(whole, renaming(data))  # type: ignore[return-value]


def class_id(world: World, setting: Setting) -> int:
    """The number of `world`'s symmetry class within its search (memoised per world).

    The walk is the engine, each process record, the oracle, then each process's data still
    to write; each part's data bytes and its renamed form are memoised (worlds share most
    parts), so a new world costs a join, a table and a few look-ups."""
    memo = setting.memo
    ident = world.ident_
    found = memo.classes_of.get(ident)
    if found is not None:
        return found
    parts: list[tuple[str, int, int]] = [("system", world.system_id, 0)]
    parts += [("proc", proc.id, 0) for proc in world.procs]
    parts.append(("oracle", world.oracle_id, 0))
    parts += [("pending", i, proc.pc) for i, proc in enumerate(world.procs)]
    data: list[bytes] = []
    for part in parts:
        held = memo.part_data.get(part)
        if held is None:
            held = memo.part_data[part] = []
            _collect(_value(part, setting), held)
        data += held
    table = renaming(data)
    canon = []
    for part in parts:
        renamed_key = (part, table)
        renamed = memo.part_renamed.get(renamed_key)
        if renamed is None:
            renamed = memo.part_renamed[renamed_key] = _rename(_value(part, setting), table)
        canon.append(renamed)
    found = memo.classes_of[ident] = memo.classes.id(tuple(canon))
    return found


def data_canonical(value: object) -> object:
    """`value` with every data byte renamed in order of first appearance."""
    data: list[bytes] = []
    _collect(value, data)
    return _rename(value, renaming(data))


def orbit_id(world: World, setting: Setting, group: tuple[Perm, ...], data: bool) -> int:
    """The number of `world`'s class under the volume symmetries `group` (composed with the
    data renaming if `data`): the least class number of its renamed forms, each interned
    (every world of an orbit has the same set of renamed forms, so the same least one).
    Each part renamed by each permutation is memoised, and its data bytes."""
    memo = setting.memo
    ident = world.ident_
    found = memo.classes_of.get(ident)
    if found is not None:
        return found
    count = len(world.procs)
    best = -1
    for k, perm in enumerate(group):
        parts: list[tuple[str, int, int, int]] = [("system", world.system_id, 0, k)]
        procs: list[tuple[str, int, int, int]] = [("proc", 0, 0, k)] * count
        pending: list[tuple[str, int, int, int]] = [("pending", 0, 0, k)] * count
        for i, proc in enumerate(world.procs):
            procs[perm.procs[i]] = ("proc", proc.id, 0, k)
            pending[perm.procs[i]] = ("pending", i, proc.pc, k)
        parts += procs
        parts.append(("oracle", world.oracle_id, 0, k))
        parts += pending
        values = [_named(part, setting, perm) for part in parts]
        if data:
            collected: list[bytes] = []
            for part, value in zip(parts, values, strict=True):
                held = memo.part_data.get(part)
                if held is None:
                    held = memo.part_data[part] = []
                    _collect(value, held)
                collected += held
            table = renaming(collected)
            renamed = []
            for part, value in zip(parts, values, strict=True):
                key = (part, table)
                got = memo.part_renamed.get(key)
                if got is None:
                    got = memo.part_renamed[key] = _rename(value, table)
                renamed.append(got)
            values = renamed
        number = memo.classes.id(tuple(values))
        if best < 0 or number < best:
            best = number
    memo.classes_of[ident] = best
    return best


def _named(part: tuple[str, int, int, int], setting: Setting, perm: Perm) -> object:
    """A part of the walk renamed by `perm` (memoised per part and permutation)."""
    memo = setting.memo
    found = memo.part_named.get(part)
    if found is None:
        value = _value(part[:3], setting)  # type: ignore[arg-type]
        kind = part[0]
        if kind == "system":
            found = rename_system(value, perm)  # type: ignore[arg-type]
        elif kind == "oracle":
            found = rename_oracle(value, perm)  # type: ignore[arg-type]
        elif kind == "proc":
            found = (rename_record(value[0], perm),)  # type: ignore[index]
        else:
            found = value  # data only: no names
        memo.part_named[part] = found
    return found


def _value(part: tuple[str, int, int], setting: Setting) -> object:
    """The structure a part of the walk stands for."""
    memo = setting.memo
    kind, number, pc = part
    if kind == "system":
        return memo.systems.values[number]
    if kind == "oracle":
        return memo.oracles.values[number]
    if kind == "proc":
        return memo.key((0, 0, number))[1]
    process = setting.config.processes[number]
    if process.choices:  # any of its data values, in any order, while it has ops to go
        return DataSet(sorted(process.data_domain)) if pc < process.max_ops else ()
    return tuple(op.data for op in process.ops[pc:] if isinstance(op, Write))


def orbit_key(key: tuple[object, ...], group: tuple[Perm, ...], data: bool) -> object:
    """The definition `orbit_id` computes from memoised parts, on a whole `World.key()`:
    the least (by repr) of its forms renamed by each permutation of `group` (and by the data
    renaming, if `data`). The tests compare the two."""
    forms: list[object] = [renamed_key(key, perm) for perm in group]
    if data:
        forms = [data_canonical(form) for form in forms]
    return min(forms, key=repr)


def renamed_key(key: tuple[object, ...], perm: Perm) -> tuple[object, ...]:
    """A `World.key()` renamed by `perm`: its engine, its process records (moved to their
    new positions) and its oracle."""
    system, procs, oracle = cast("tuple[Any, tuple[Any, ...], Any]", key)
    moved: list[object] = [None] * len(procs)
    for i, record in enumerate(procs):
        moved[perm.procs[i]] = rename_record(record, perm)
    return (rename_system(system, perm), tuple(moved), rename_oracle(oracle, perm))
