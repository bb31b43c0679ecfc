"""The worked op logs of the SVC and redirect-on-write profiles (scenarios/oplogs/svc_*,
row_*): `flashsim replay --keep-going` and the naive oracle both print exactly NAME.expected,
whose lines were derived by hand (docs/oplog.md, "Profiles", walks through them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashsim.main import main
from flashsim.models.errors import FlashCopyError
from flashsim.models.oplog import parse_line
from flashsim.models.ops import apply
from flashsim.models.oracle import Oracle

OPLOGS = Path(__file__).resolve().parents[2] / "scenarios" / "oplogs"
NAMES = sorted(p.stem for p in OPLOGS.glob("*.jsonl") if p.stem.startswith(("svc_", "row_")))


def masked(records: list[dict[str, object]]) -> str:
    """As NAME.expected shows them: one JSON record a line, every error message as "*"."""
    return "".join(json.dumps({**r, "error": "*"} if "error" in r else r) + "\n" for r in records)


def test_every_new_rule_has_a_worked_example():
    assert NAMES == [
        "row_partial_writes",
        "row_snapshots",
        "svc_cascade",
        "svc_force_stop",
        "svc_incremental",
        "svc_mapping_states",
        "svc_restart",
        "svc_stop_cleaning",
        "svc_suspended",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_replay_prints_the_expected_output(capsys, name):
    code = main(["replay", str(OPLOGS / f"{name}.jsonl"), "--keep-going"])
    out, err = capsys.readouterr()
    expected = (OPLOGS / f"{name}.expected").read_text(encoding="utf-8")
    assert (masked([json.loads(line) for line in out.splitlines()]), err) == (expected, "")
    assert code == (1 if '"error"' in expected else 0)


@pytest.mark.parametrize("name", NAMES)
def test_the_oracle_prints_the_expected_output(name):
    oracle, records = Oracle(), []
    lines = (OPLOGS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            op = parse_line(line, number)
            if op is None:
                continue
            result = apply(oracle, op)
        except FlashCopyError:
            records.append({"line": number, "error": "*"})
            continue
        if isinstance(result, bytes):
            records.append({"line": number, "data": result.hex()})
        elif result is not None:
            records.append({"line": number, "space": result})
    assert masked(records) == (OPLOGS / f"{name}.expected").read_text(encoding="utf-8")


def test_a_profile_line_after_a_create_is_rejected_and_changes_nothing(tmp_path, capsys):
    log = tmp_path / "late.jsonl"
    log.write_text(
        '{"op": "create", "volume": "A", "tracks": 1, "track_size": 1}\n'
        '{"op": "profile", "name": "row"}\n'
        '{"op": "snapshot", "volume": "A", "snapshot": "s"}\n'
    )
    assert main(["replay", str(log), "--keep-going"]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out == [
        {"line": 2, "error": "the profile is chosen before any volume is created"},
        {"line": 3, "error": "operation snapshot is not offered by the ds8000 profile"},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"op": "profile", "name": "hp"}',
            '"name" must be one of "ds8000", "svc", "row", got "hp"',
        ),
        ('{"op": "stop", "id": "m1", "force": 1}', '"force" must be true or false, got 1'),
        ('{"op": "snapshot", "volume": "O"}', 'missing field "snapshot" in snapshot'),
        ('{"op": "space", "volume": "O"}', 'unknown field "volume" in space (known: op)'),
        ('{"op": "prepare", "id": "m", "source": "A"}', 'missing field "target" in prepare'),
        ('{"op": "prepare", "id": "m", "target": "A"}', 'missing field "source" in prepare'),
        (
            '{"op": "prepare", "id": "m", "background_copy": false}',
            '"background_copy" in a prepare without "source" and "target": preparing an '
            'existing mapping again takes only "id"',
        ),
    ],
)
def test_bad_lines_of_the_new_ops_name_the_field(tmp_path, capsys, text, message):
    log = tmp_path / "bad.jsonl"
    log.write_text("\n" + text + "\n")
    assert main(["replay", str(log)]) == 2
    assert capsys.readouterr().err == f"{log}:2: {message}\n"
