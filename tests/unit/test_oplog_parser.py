"""The op-log parser (`flashsim.models.oplog`): exact ops, exact error messages, fuzzing, round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fuzzing import fuzz_examples
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.models.errors import OpLogError
from flashsim.models.oplog import MAX_FILL_LENGTH_BYTES, parse_line, parse_lines
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

EXAMPLES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "oplogs"
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*.jsonl")) if EXAMPLES_DIR.is_dir() else []
EXAMPLES_ABSENT = (
    f"the shared worked op logs (not part of this repository) are absent: {EXAMPLES_DIR}"
)

OP_NAMES = (
    "background_copy",
    "create",
    "delete_snapshot",
    "establish",
    "establish_group",
    "prepare",
    "profile",
    "read",
    "refresh",
    "resume",
    "reverse",
    "snapshot",
    "space",
    "start",
    "stop",
    "suspend",
    "withdraw",
    "write",
)
ESTABLISH_FIELDS = (
    "autodelete, background_copy, design, id, incremental, inhibit_target_writes, out_of_space, "
    "persistent, source, target, target_capacity_tracks"
)
REL_AB = '{"id": "r1", "source": "A", "target": "B"}'


def error_of(text: str, line: int = 1) -> str:
    with pytest.raises(OpLogError) as caught:
        parse_line(text, line)
    assert caught.value.line == line
    return caught.value.message


# ---------------------------------------------------------------- the worked examples


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, id=path.stem) for path in EXAMPLE_FILES]
    or [pytest.param(None, marks=pytest.mark.skip(reason=EXAMPLES_ABSENT))],
)
def test_every_line_of_every_worked_example_parses(path: Path) -> None:
    lines = path.read_text().splitlines()
    parsed = list(parse_lines(lines))
    assert [(n, r) for n, r in parsed if isinstance(r, OpLogError)] == []
    assert [n for n, _ in parsed] == [n for n, text in enumerate(lines, 1) if text.strip()]


# ---------------------------------------------------------------- exact ops, defaults applied


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"op": "create", "volume": "A", "tracks": 16, "track_size": 4096}',
            Create("A", 16, 4096),
        ),
        ('{"op": "write", "volume": "A", "offset": 2, "data": "5859"}', Write("A", 2, b"XY")),
        ('{"op": "write", "volume": "A", "offset": 0, "data": "aBcD"}', Write("A", 0, b"\xab\xcd")),
        (
            '{"op": "write", "volume": "A", "offset": 4, "fill": 120, "length": 4}',
            Write("A", 4, b"xxxx"),
        ),
        (
            '{"op": "write", "volume": "A", "offset": 0, "fill": 0, "length": 1}',
            Write("A", 0, b"\0"),
        ),
        ('{"op": "read", "volume": "B", "offset": 0, "length": 4096}', Read("B", 0, 4096)),
        (
            '{"op": "read", "volume": "B", "offset": 9223372036854775808, "length": 1}',
            Read("B", 2**63, 1),
        ),
        (
            '{"op": "establish", "id": "r1", "source": "A", "target": "B"}',
            Establish("r1", "A", "B"),
        ),
        (
            '{"op": "establish", "id": "r1", "source": "A", "target": "B",'
            ' "background_copy": false, "incremental": true, "persistent": true,'
            ' "inhibit_target_writes": true,'
            ' "target_capacity_tracks": 0, "out_of_space": "inhibit_source_writes"}',
            Establish(
                "r1",
                "A",
                "B",
                background_copy=False,
                incremental=True,
                persistent=True,
                inhibit_target_writes=True,
                target_capacity_tracks=0,
                out_of_space="inhibit_source_writes",
            ),
        ),
        (
            '{"op": "establish", "id": "r1", "source": "A", "target": "B",'
            ' "target_capacity_tracks": null}',
            Establish("r1", "A", "B"),
        ),
        (
            '{"op": "establish_group", "relationships": [' + REL_AB + ","
            ' {"id": "r2", "source": "A", "target": "C", "persistent": true}]}',
            EstablishGroup((Establish("r1", "A", "B"), Establish("r2", "A", "C", persistent=True))),
        ),
        ('{"op": "background_copy", "id": "r1", "tracks": 3}', BackgroundCopy("r1", 3)),
        ('{"op": "refresh", "id": "r1"}', Refresh("r1")),
        ('{"op": "reverse", "id": "r1"}', Reverse("r1", fast=False)),
        ('{"op": "reverse", "id": "r1", "fast": true}', Reverse("r1", fast=True)),
        ('{"op": "withdraw", "id": "r1"}', Withdraw("r1")),
        ('  {"id": "r1", "op": "withdraw"}\n', Withdraw("r1")),
    ],
)
def test_each_op_parses_to_its_dataclass_with_defaults_applied(text: str, expected: Op) -> None:
    assert parse_line(text, 1) == expected


@pytest.mark.parametrize("text", ["", " ", "\t \n", "\n"])
def test_blank_lines_parse_to_none(text: str) -> None:
    assert parse_line(text, 5) is None


def test_parse_lines_numbers_lines_from_one_counting_blanks_and_keeps_going() -> None:
    lines = [
        '{"op": "refresh", "id": "r1"}\n',
        "\n",
        '{"op": "wirte"}\n',
        '{"op": "withdraw", "id": "r1"}\n',
    ]
    assert [(n, r.message if isinstance(r, OpLogError) else r) for n, r in parse_lines(lines)] == [
        (1, Refresh("r1")),
        (3, f'unknown op "wirte" (known: {", ".join(OP_NAMES)})'),
        (4, Withdraw("r1")),
    ]
    assert [r.line for _, r in parse_lines(lines) if isinstance(r, OpLogError)] == [3]


# ---------------------------------------------------------------- exact error messages

W = '"op": "write", "volume": "A", "offset": 0'  # a write without its data
E = '"op": "establish", "id": "r1", "source": "A", "target": "B"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the line itself
        ("[1, 2]", "line is not a JSON object"),
        ("null", "line is not a JSON object"),
        ('"write"', "line is not a JSON object"),
        ('{"op": "read"', "invalid JSON: Expecting ',' delimiter at character 14"),
        (
            "{'op': 'read'}",
            "invalid JSON: Expecting property name enclosed in double quotes at character 2",
        ),
        ("[" * 100_000, "invalid JSON: nested too deeply"),
        ('{"op": "read", "length": NaN}', "invalid JSON: NaN is not allowed"),
        ('{"op": "read", "length": -Infinity}', "invalid JSON: -Infinity is not allowed"),
        ('{"op": "refresh", "id": "r1", "id": "r2"}', 'duplicate field "id"'),
        # the op
        ('{"id": "r1"}', 'missing field "op"'),
        ('{"op": 3}', '"op" must be a string, got 3'),
        ('{"op": "wirte"}', f'unknown op "wirte" (known: {", ".join(OP_NAMES)})'),
        # unknown and missing fields
        (
            '{"op": "write", "volume": "A", "ofset": 0, "data": "61"}',
            'unknown field "ofset" in write (known: data, fill, length, offset, op, volume)',
        ),
        (
            '{"op": "refresh", "id": "r1", "fast": true}',
            'unknown field "fast" in refresh (known: id, op)',
        ),
        ('{"op": "create", "volume": "A", "tracks": 4}', 'missing field "track_size" in create'),
        ('{"op": "withdraw"}', 'missing field "id" in withdraw'),
        # integers
        ("{" + W[:-1] + '-3, "data": "61"}', '"offset" must be an integer >= 0, got -3'),
        ("{" + W[:-1] + '"3", "data": "61"}', '"offset" must be an integer >= 0, got "3"'),
        ("{" + W[:-1] + 'true, "data": "61"}', '"offset" must be an integer >= 0, got true'),
        ("{" + W[:-1] + '1.0, "data": "61"}', '"offset" must be an integer >= 0, got 1.0'),
        ("{" + W[:-1] + '[0], "data": "61"}', '"offset" must be an integer >= 0, got a list'),
        (
            "{" + W[:-1] + '{}, "data": "61"}',
            '"offset" must be an integer >= 0, got an empty object',
        ),
        (
            "{" + W[:-1] + '"' + "x" * 100 + '", "data": "61"}',
            '"offset" must be an integer >= 0, got "' + "x" * 36 + "...",
        ),
        (
            '{"op": "create", "volume": "A", "tracks": 0, "track_size": 4}',
            '"tracks" must be an integer >= 1, got 0',
        ),
        (
            '{"op": "create", "volume": "A", "tracks": 4, "track_size": false}',
            '"track_size" must be an integer >= 1, got false',
        ),
        (
            '{"op": "read", "volume": "A", "offset": 0, "length": 0}',
            '"length" must be an integer >= 1, got 0',
        ),
        (
            '{"op": "background_copy", "id": "r1", "tracks": 0}',
            '"tracks" must be an integer >= 1, got 0',
        ),
        (
            '{"op": "background_copy", "id": "r1", "tracks": 1.5}',
            '"tracks" must be an integer >= 1, got 1.5',
        ),
        # names
        (
            '{"op": "create", "volume": "", "tracks": 4, "track_size": 4}',
            '"volume" must be a non-empty string, got ""',
        ),
        (
            '{"op": "create", "volume": null, "tracks": 4, "track_size": 4}',
            '"volume" must be a non-empty string, got null',
        ),
        ('{"op": "withdraw", "id": 7}', '"id" must be a non-empty string, got 7'),
        # write: data or fill + length
        ("{" + W + ', "data": "616"}', '"data" is not valid hex: odd length'),
        ("{" + W + ', "data": "6g"}', '"data" is not valid hex: bad character "g" at position 1'),
        (
            "{" + W + ', "data": "61 62"}',
            '"data" is not valid hex: bad character " " at position 2',
        ),
        (
            "{" + W + ', "data": "\\u00e9"}',
            '"data" is not valid hex: bad character "\\u00e9" at position 0',
        ),
        ("{" + W + ', "data": ""}', '"data" must hold at least 1 byte, got ""'),
        ("{" + W + ', "data": 97}', '"data" must be a string of hex digits, got 97'),
        (
            "{" + W + ', "data": "61", "fill": 1, "length": 1}',
            'write takes either "data" or "fill" and "length", not both',
        ),
        (
            "{" + W + ', "data": "61", "length": 1}',
            'write takes either "data" or "fill" and "length", not both',
        ),
        ("{" + W + "}", 'write needs "data" or "fill" and "length"'),
        ("{" + W + ', "fill": 1}', '"fill" needs "length"'),
        ("{" + W + ', "length": 1}', '"length" needs "fill"'),
        (
            "{" + W + ', "fill": 256, "length": 1}',
            '"fill" must be an integer from 0 to 255, got 256',
        ),
        ("{" + W + ', "fill": -1, "length": 1}', '"fill" must be an integer from 0 to 255, got -1'),
        (
            "{" + W + ', "fill": true, "length": 1}',
            '"fill" must be an integer from 0 to 255, got true',
        ),
        ("{" + W + ', "fill": 1, "length": 0}', '"length" must be an integer >= 1, got 0'),
        (
            "{" + W + f', "fill": 1, "length": {MAX_FILL_LENGTH_BYTES + 1}}}',
            f'"length" of a fill must be at most {MAX_FILL_LENGTH_BYTES}, '
            f"got {MAX_FILL_LENGTH_BYTES + 1}",
        ),
        # establish options
        (
            "{" + E + ', "background_copy": "yes"}',
            '"background_copy" must be true or false, got "yes"',
        ),
        ("{" + E + ', "incremental": 1}', '"incremental" must be true or false, got 1'),
        (
            "{" + E + ', "out_of_space": "x"}',
            '"out_of_space" must be one of "fail_relationship", "inhibit_source_writes", got "x"',
        ),
        (
            "{" + E + ', "target_capacity_tracks": -1}',
            '"target_capacity_tracks" must be an integer >= 0 or null, got -1',
        ),
        (
            '{"op": "reverse", "id": "r1", "fast": "false"}',
            '"fast" must be true or false, got "false"',
        ),
        # establish_group and its members
        ('{"op": "establish_group"}', 'missing field "relationships" in establish_group'),
        (
            '{"op": "establish_group", "relationships": []}',
            '"relationships" must be a non-empty list of objects, got an empty list',
        ),
        (
            '{"op": "establish_group", "relationships": ' + REL_AB + "}",
            '"relationships" must be a non-empty list of objects, got an object',
        ),
        (
            '{"op": "establish_group", "relationships": [3]}',
            "relationships[0]: must be an object, got 3",
        ),
        (
            '{"op": "establish_group", "relationships": [' + REL_AB + ', {"src": "A"}]}',
            f'relationships[1]: unknown field "src" (known: {ESTABLISH_FIELDS})',
        ),
        (
            '{"op": "establish_group", "relationships": [{' + E + "}]}",
            f'relationships[0]: unknown field "op" (known: {ESTABLISH_FIELDS})',
        ),
        (
            '{"op": "establish_group", "relationships": [{"id": "r1", "source": "A"}]}',
            'relationships[0]: missing field "target"',
        ),
        (
            '{"op": "establish_group", "relationships": ['
            + REL_AB
            + ", "
            + REL_AB[:-1]
            + ', "persistent": null}]}',
            'relationships[1]: "persistent" must be true or false, got null',
        ),
    ],
)
def test_each_malformed_line_raises_an_oplog_error_naming_field_and_problem(
    text: str, message: str
) -> None:
    assert error_of(text, line=42) == message


def test_an_oplog_error_reads_as_its_message() -> None:
    with pytest.raises(OpLogError, match=r'^"offset" must be an integer >= 0, got -3$'):
        parse_line('{"op": "read", "volume": "A", "offset": -3, "length": 1}', 9)


# ---------------------------------------------------------------- fuzz: only OpLogError escapes

LINES = st.integers(min_value=1, max_value=10**6)
# containers of at least one value, so that the extension really recurses (Hypothesis warns
# when extend(nothing()) is not nothing); the empty ones are leaves
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.just([]) | st.just({}),
    lambda inner: (
        st.lists(inner, min_size=1, max_size=4)
        | st.dictionaries(st.text(), inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)
ALL_OPS = (
    Create,
    Write,
    Read,
    Establish,
    EstablishGroup,
    BackgroundCopy,
    Refresh,
    Reverse,
    Withdraw,
    SetProfile,
    Prepare,
    PrepareAgain,
    Start,
    Stop,
    Suspend,
    Resume,
    Snapshot,
    DeleteSnapshot,
    Space,
)
FIELD_NAMES = sorted(
    {
        "volume", "tracks", "track_size", "offset", "data", "fill", "length", "id", "source",
        "target", "background_copy", "incremental", "persistent", "inhibit_target_writes",
        "target_capacity_tracks", "out_of_space", "relationships", "fast", "autodelete",
        "name", "force", "snapshot",
    }
)  # fmt: skip


def parses_or_raises_oplog_error(text: str, line: int) -> None:
    try:
        result: Op | OpLogError | None = parse_line(text, line)
    except OpLogError as error:
        result = error
    if isinstance(result, OpLogError):
        assert (result.line, str(result)) == (line, result.message)
        assert result.message
    else:
        assert result is None or isinstance(result, ALL_OPS)


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(100))
@given(st.text(), LINES)
def test_arbitrary_text_parses_or_raises_an_oplog_error(text: str, line: int) -> None:
    parses_or_raises_oplog_error(text, line)


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(100))
@given(JSON_VALUES, LINES)
def test_arbitrary_json_values_parse_or_raise_an_oplog_error(value: Any, line: int) -> None:
    parses_or_raises_oplog_error(json.dumps(value), line)


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(100))
@given(
    st.fixed_dictionaries(
        {"op": st.sampled_from(OP_NAMES)},
        optional=dict.fromkeys(FIELD_NAMES, JSON_VALUES),
    ),
    LINES,
)
def test_known_ops_with_arbitrary_field_values_parse_or_raise_an_oplog_error(
    obj: dict[str, Any], line: int
) -> None:
    parses_or_raises_oplog_error(json.dumps(obj), line)


# ---------------------------------------------------------------- valid ops and round trip

NAMES = st.text(min_size=1, max_size=6)
OFFSETS = st.integers(min_value=0, max_value=2**63)
COUNTS = st.integers(min_value=1, max_value=2**40)
ESTABLISHES = st.builds(
    Establish,
    id=NAMES,
    source=NAMES,
    target=NAMES,
    background_copy=st.booleans(),
    incremental=st.booleans(),
    persistent=st.booleans(),
    inhibit_target_writes=st.booleans(),
    target_capacity_tracks=st.none() | st.integers(min_value=0, max_value=2**24),
    out_of_space=st.sampled_from(OUT_OF_SPACE_POLICIES),
    autodelete=st.booleans(),
)
OPS = st.one_of(
    st.builds(Create, NAMES, COUNTS, COUNTS),
    st.builds(Write, NAMES, OFFSETS, st.binary(min_size=1, max_size=64)),
    st.builds(Read, NAMES, OFFSETS, COUNTS),
    ESTABLISHES,
    st.builds(EstablishGroup, st.lists(ESTABLISHES, min_size=1, max_size=3).map(tuple)),
    st.builds(BackgroundCopy, NAMES, COUNTS),
    st.builds(Refresh, NAMES),
    st.builds(Reverse, NAMES, st.booleans()),
    st.builds(Withdraw, NAMES),
    # the ops of the svc and row profiles (issue 12): the same round trip and mutation fuzz
    st.builds(SetProfile, st.sampled_from(PROFILE_NAMES)),
    st.builds(Prepare, ESTABLISHES),
    st.builds(PrepareAgain, NAMES),
    st.builds(Start, NAMES),
    st.builds(Stop, NAMES, st.booleans()),
    st.builds(Suspend, NAMES),
    st.builds(Resume, NAMES),
    st.builds(Snapshot, NAMES, NAMES),
    st.builds(DeleteSnapshot, NAMES),
    st.just(Space()),
)
OP_NAME = {
    Create: "create",
    Write: "write",
    Read: "read",
    Establish: "establish",
    EstablishGroup: "establish_group",
    BackgroundCopy: "background_copy",
    Refresh: "refresh",
    Reverse: "reverse",
    Withdraw: "withdraw",
    SetProfile: "profile",
    Prepare: "prepare",
    PrepareAgain: "prepare",
    Start: "start",
    Stop: "stop",
    Suspend: "suspend",
    Resume: "resume",
    Snapshot: "snapshot",
    DeleteSnapshot: "delete_snapshot",
    Space: "space",
}


def establish_fields(spec: Establish, omit_defaults: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": spec.id, "source": spec.source, "target": spec.target}
    for name, default in [
        ("background_copy", True),
        ("incremental", False),
        ("persistent", False),
        ("inhibit_target_writes", False),
        ("target_capacity_tracks", None),
        ("out_of_space", "fail_relationship"),
        ("autodelete", False),
    ]:
        value = getattr(spec, name)
        if value != default or not (omit_defaults or name == "target_capacity_tracks"):
            fields[name] = value
    return fields


def as_json(op: Op, omit_defaults: bool = False) -> dict[str, Any]:
    """The op-log object of `op`, as docs/oplog.md spells it."""
    obj: dict[str, Any] = {"op": OP_NAME[type(op)]}
    match op:
        case Write(volume, offset, data):
            obj |= {"volume": volume, "offset": offset, "data": data.hex()}
        case Establish():
            obj |= establish_fields(op, omit_defaults)
        case Prepare(spec):
            obj |= establish_fields(spec, omit_defaults)
        case Stop(rel_id, force):
            obj["id"] = rel_id
            if force or not omit_defaults:
                obj["force"] = force
        case EstablishGroup(relationships):
            obj["relationships"] = [establish_fields(r, omit_defaults) for r in relationships]
        case Reverse(rel_id, fast):
            obj["id"] = rel_id
            if fast or not omit_defaults:
                obj["fast"] = fast
        case _:
            obj |= {name: getattr(op, name) for name in op.__slots__}  # type: ignore[union-attr]
    return obj


def test_the_serialiser_of_these_tests_spells_ops_as_the_op_log_reference_shows() -> None:
    assert as_json(Write("A", 0, b"ab")) == {
        "op": "write",
        "volume": "A",
        "offset": 0,
        "data": "6162",
    }
    assert as_json(Establish("r1", "A", "B")) == {
        "op": "establish",
        "id": "r1",
        "source": "A",
        "target": "B",
        "background_copy": True,
        "incremental": False,
        "persistent": False,
        "inhibit_target_writes": False,
        "out_of_space": "fail_relationship",
        "autodelete": False,
    }
    assert as_json(Stop("m1"), omit_defaults=True) == {"op": "stop", "id": "m1"}
    assert as_json(Prepare(Establish("m1", "A", "B")), omit_defaults=True) == {
        "op": "prepare",
        "id": "m1",
        "source": "A",
        "target": "B",
    }
    assert as_json(Reverse("r1"), omit_defaults=True) == {"op": "reverse", "id": "r1"}


@given(OPS, st.booleans(), LINES)
def test_valid_ops_serialised_as_json_lines_parse_back_equal(
    op: Op, omit_defaults: bool, line: int
) -> None:
    assert parse_line(json.dumps(as_json(op, omit_defaults)), line) == op


@given(
    NAMES,
    OFFSETS,
    st.integers(min_value=0, max_value=255),
    st.integers(min_value=1, max_value=4096),
)
def test_a_fill_write_parses_to_its_bytes(volume: str, offset: int, fill: int, length: int) -> None:
    text = json.dumps(
        {"op": "write", "volume": volume, "offset": offset, "fill": fill, "length": length}
    )
    assert parse_line(text, 1) == Write(volume, offset, bytes([fill]) * length)


@given(OPS, st.data(), LINES)
def test_valid_ops_with_one_field_mutated_or_added_parse_or_raise_an_oplog_error(
    op: Op, data: st.DataObject, line: int
) -> None:
    obj = as_json(op, omit_defaults=data.draw(st.booleans()))
    target = obj
    if isinstance(op, EstablishGroup) and data.draw(st.booleans()):
        target = data.draw(st.sampled_from(obj["relationships"]))
    key = data.draw(st.sampled_from(sorted(target)) | st.text(), label="key")
    target[key] = data.draw(JSON_VALUES, label="value")
    parses_or_raises_oplog_error(json.dumps(obj), line)
