"""Parse the JSON-lines op log (docs/oplog.md) into the typed operations of
`flashsim.models.ops`.

The parser checks each line on its own: syntax, field names, types and ranges. Checks that
need state (an unknown volume, an offset past the end of a volume, an id in use) belong to the
system that runs the operation. Every problem raises `OpLogError` naming the field at fault;
no input string makes the parser raise anything else.

Example (a 4-track volume of 4-byte tracks, then a write filling its second track):

>>> parse_line('{"op": "create", "volume": "A", "tracks": 4, "track_size": 4}', 1)
Create(volume='A', tracks=4, track_size=4)
>>> parse_line('{"op": "write", "volume": "A", "offset": 4, "fill": 120, "length": 4}', 2)
Write(volume='A', offset=4, data=b'xxxx')
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flashsim.models.errors import OpLogError
from flashsim.models.limits import MAX_FILL_LENGTH_BYTES
from flashsim.models.ops import (
    OUT_OF_SPACE_POLICIES,
    PROFILE_NAMES,
    BackgroundCopy,
    Create,
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
    SetProfile,
    Snapshot,
    Space,
    Start,
    Stop,
    Suspend,
    Withdraw,
    Write,
)

__all__ = ["MAX_FILL_LENGTH_BYTES", "parse_line", "parse_lines"]

# A fill write is expanded to real bytes here, so its length needs a ceiling (no other field
# has one: offsets and sizes are checked against the volume by the system).

_SHOWN_CHARS = 40  # values quoted in messages are cut to this length
_NOT_HEX = re.compile(r"[^0-9a-fA-F]")


class _Invalid(Exception):
    """A problem in one field or object; `parse_line` adds the line number."""


def _show(value: object) -> str:
    """The JSON spelling of a scalar (cut short), or the kind of a list or object."""
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    text = json.dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _int_at_least(low: int) -> Callable[[str, object], int]:
    def check(name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise _Invalid(f'"{name}" must be an integer >= {low}, got {_show(value)}')
        return value

    return check


def _optional_int_at_least(low: int) -> Callable[[str, object], int | None]:
    required = _int_at_least(low)

    def check(name: str, value: object) -> int | None:
        if value is None:
            return None
        try:
            return required(name, value)
        except _Invalid:
            raise _Invalid(
                f'"{name}" must be an integer >= {low} or null, got {_show(value)}'
            ) from None

    return check


def _byte(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise _Invalid(f'"{name}" must be an integer from 0 to 255, got {_show(value)}')
    return value


def _name(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid(f'"{name}" must be a non-empty string, got {_show(value)}')
    return value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f'"{name}" must be true or false, got {_show(value)}')
    return value


def _policy(name: str, value: object) -> str:
    if not isinstance(value, str) or value not in OUT_OF_SPACE_POLICIES:
        known = ", ".join(f'"{p}"' for p in OUT_OF_SPACE_POLICIES)
        raise _Invalid(f'"{name}" must be one of {known}, got {_show(value)}')
    return value


def _profile(name: str, value: object) -> str:
    if not isinstance(value, str) or value not in PROFILE_NAMES:
        known = ", ".join(f'"{p}"' for p in PROFILE_NAMES)
        raise _Invalid(f'"{name}" must be one of {known}, got {_show(value)}')
    return value


def _optional_profile(name: str, value: object) -> str | None:
    if value is None:
        return None
    try:
        return _profile(name, value)
    except _Invalid:
        known = ", ".join(f'"{p}"' for p in PROFILE_NAMES)
        raise _Invalid(f'"{name}" must be one of {known} or null, got {_show(value)}') from None


def _hex(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise _Invalid(f'"{name}" must be a string of hex digits, got {_show(value)}')
    bad = _NOT_HEX.search(value)
    if bad:
        raise _Invalid(
            f'"{name}" is not valid hex: bad character {_show(bad.group())} '
            f"at position {bad.start()}"
        )
    if len(value) % 2:
        raise _Invalid(f'"{name}" is not valid hex: odd length')
    if not value:
        raise _Invalid(f'"{name}" must hold at least 1 byte, got ""')
    return bytes.fromhex(value)


def _relationships(name: str, value: object) -> tuple[Establish, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid(f'"{name}" must be a non-empty list of objects, got {_show(value)}')
    members = []
    for index, member in enumerate(value):
        try:
            if not isinstance(member, dict):
                raise _Invalid(f"must be an object, got {_show(member)}")
            members.append(Establish(**_fields(member, _ESTABLISH, None)))
        except _Invalid as error:
            raise _Invalid(f"{name}[{index}]: {error}") from None
    return tuple(members)


_REQUIRED = object()  # marks a field without a default

# field name -> (check and convert, default or _REQUIRED)
_Spec = dict[str, tuple[Callable[[str, object], Any], Any]]

_ESTABLISH: _Spec = {
    "id": (_name, _REQUIRED),
    "source": (_name, _REQUIRED),
    "target": (_name, _REQUIRED),
    "background_copy": (_flag, True),
    "incremental": (_flag, False),
    "persistent": (_flag, False),
    "inhibit_target_writes": (_flag, False),
    "target_capacity_tracks": (_optional_int_at_least(0), None),
    "out_of_space": (_policy, "fail_relationship"),
    "autodelete": (_flag, False),
    "design": (_optional_profile, None),
}


def _prepare(**fields: Any) -> Prepare | PrepareAgain:
    """`prepare` with source and target defines a mapping; with only `id`, it prepares an
    existing (stopped or idle_or_copied) mapping again (rule S7)."""
    source, target = fields["source"], fields["target"]
    if source is _NO_VALUE and target is _NO_VALUE:
        given = sorted(k for k, (_, default) in _ESTABLISH.items() if fields[k] != default)
        given = [k for k in given if k not in ("id", "source", "target")]
        if given:
            raise _Invalid(
                f'"{given[0]}" in a prepare without "source" and "target": preparing an '
                'existing mapping again takes only "id"'
            )
        return PrepareAgain(fields["id"])
    for name, value in (("source", source), ("target", target)):
        if value is _NO_VALUE:
            raise _Invalid(f'missing field "{name}" in prepare')
    return Prepare(Establish(**fields))


_NO_VALUE = object()  # a write's data, fill or length that the line does not give


def _write(volume: str, offset: int, data: Any, fill: Any, length: Any) -> Write:
    if data is not _NO_VALUE:
        if fill is not _NO_VALUE or length is not _NO_VALUE:
            raise _Invalid('write takes either "data" or "fill" and "length", not both')
        return Write(volume, offset, data)
    if fill is _NO_VALUE and length is _NO_VALUE:
        raise _Invalid('write needs "data" or "fill" and "length"')
    if length is _NO_VALUE:
        raise _Invalid('"fill" needs "length"')
    if fill is _NO_VALUE:
        raise _Invalid('"length" needs "fill"')
    if length > MAX_FILL_LENGTH_BYTES:
        raise _Invalid(f'"length" of a fill must be at most {MAX_FILL_LENGTH_BYTES}, got {length}')
    return Write(volume, offset, bytes([fill]) * length)


# op name -> (fields, build the op from the checked fields)
_OPS: dict[str, tuple[_Spec, Callable[..., Op]]] = {
    "create": (
        {
            "volume": (_name, _REQUIRED),
            "tracks": (_int_at_least(1), _REQUIRED),
            "track_size": (_int_at_least(1), _REQUIRED),
        },
        Create,
    ),
    "write": (
        {
            "volume": (_name, _REQUIRED),
            "offset": (_int_at_least(0), _REQUIRED),
            "data": (_hex, _NO_VALUE),
            "fill": (_byte, _NO_VALUE),
            "length": (_int_at_least(1), _NO_VALUE),
        },
        _write,
    ),
    "read": (
        {
            "volume": (_name, _REQUIRED),
            "offset": (_int_at_least(0), _REQUIRED),
            "length": (_int_at_least(1), _REQUIRED),
        },
        Read,
    ),
    "establish": (_ESTABLISH, Establish),
    "establish_group": ({"relationships": (_relationships, _REQUIRED)}, EstablishGroup),
    "background_copy": (
        {"id": (_name, _REQUIRED), "tracks": (_int_at_least(1), _REQUIRED)},
        BackgroundCopy,
    ),
    "refresh": ({"id": (_name, _REQUIRED)}, Refresh),
    "reverse": ({"id": (_name, _REQUIRED), "fast": (_flag, False)}, Reverse),
    "withdraw": ({"id": (_name, _REQUIRED)}, Withdraw),
    "profile": ({"name": (_profile, _REQUIRED)}, SetProfile),
    "prepare": (
        {**_ESTABLISH, "source": (_name, _NO_VALUE), "target": (_name, _NO_VALUE)},
        _prepare,
    ),
    "start": ({"id": (_name, _REQUIRED)}, Start),
    "stop": ({"id": (_name, _REQUIRED), "force": (_flag, False)}, Stop),
    "suspend": ({"id": (_name, _REQUIRED)}, Suspend),
    "resume": ({"id": (_name, _REQUIRED)}, Resume),
    "snapshot": ({"volume": (_name, _REQUIRED), "snapshot": (_name, _REQUIRED)}, Snapshot),
    "delete_snapshot": ({"snapshot": (_name, _REQUIRED)}, DeleteSnapshot),
    "space": ({}, Space),
}


def _fields(obj: dict[str, Any], spec: _Spec, op: str | None) -> dict[str, Any]:
    """Check `obj` against `spec`; `op` is the op name, or None for a group member."""
    allowed = spec.keys() | ({"op"} if op else set())
    for key in obj:
        if key not in allowed:
            where = f" in {op}" if op else ""
            known = ", ".join(sorted(allowed))
            raise _Invalid(f"unknown field {_show(key)}{where} (known: {known})")
    values = {}
    for name, (check, default) in spec.items():
        if name in obj:
            values[name] = check(name, obj[name])
        elif default is _REQUIRED:
            raise _Invalid(f'missing field "{name}"' + (f" in {op}" if op else ""))
        else:
            values[name] = default
    return values


class _DuplicateField(Exception):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateField(f"duplicate field {_show(key)}")
            seen.add(key)
    return obj


class _NonFinite(Exception):
    pass


def _reject_constant(name: str) -> None:
    raise _NonFinite(f"invalid JSON: {name} is not allowed")


def _decode(text: str) -> object:
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as error:
        raise _Invalid(f"invalid JSON: {error.msg} at character {error.pos + 1}") from None
    except (_DuplicateField, _NonFinite) as error:
        raise _Invalid(str(error)) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise _Invalid(f"invalid JSON: {error}") from None
    except RecursionError:
        raise _Invalid("invalid JSON: nested too deeply") from None


def parse_line(text: str, line: int) -> Op | None:
    """Parse one op-log line into an operation; None for a blank line.

    Raises `OpLogError(line, message)` for anything malformed, with a message naming the
    field and the problem, e.g. `"offset" must be an integer >= 0, got -3`.

    >>> parse_line('{"op": "reverse", "id": "r1"}', 7)
    Reverse(id='r1', fast=False)
    """
    if not text.strip():
        return None
    try:
        obj = _decode(text)
        if not isinstance(obj, dict):
            raise _Invalid("line is not a JSON object")
        if "op" not in obj:
            raise _Invalid('missing field "op"')
        name = obj["op"]
        if not isinstance(name, str):
            raise _Invalid(f'"op" must be a string, got {_show(name)}')
        if name not in _OPS:
            raise _Invalid(f"unknown op {_show(name)} (known: {', '.join(sorted(_OPS))})")
        spec, build = _OPS[name]
        return build(**_fields(obj, spec, name))
    except _Invalid as error:
        raise OpLogError(line, str(error)) from None


def parse_lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Op | OpLogError]]:
    """Parse an op log line by line, numbering lines from 1 and skipping blank ones.

    Lines may be text or UTF-8 bytes (as read from a file opened in binary, so one bad line
    is reported with its number). A bad line yields its `OpLogError` instead of an op, so a
    replay can keep going.
    """
    for number, raw in enumerate(lines, start=1):
        try:
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise OpLogError(
                        number, f"not UTF-8 text: {error.reason} at byte {error.start}"
                    ) from None
            op = parse_line(raw.rstrip("\r\n"), number)
        except OpLogError as error:
            yield number, error
        else:
            if op is not None:
                yield number, op
