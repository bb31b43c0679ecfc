"""What the QEMU mapping refuses (`flashsim.conform.mapping.refusal`), each with a message
naming the op, and that `flashsim conform` turns a refusal into exit 2 naming the file and
the line, before QEMU is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashsim.conform.mapping import refusal
from flashsim.main import main
from flashsim.models.oplog import parse_line
from flashsim.models.ops import Establish
from flashsim.models.system import System

T = 65536


def _state(*relationships: Establish) -> System:
    system = System()
    for name in ("a", "b", "c"):
        system.create(name, 4, T)
    for spec in relationships:
        system.establish(spec)
    return system


def _refusal(system: System, line: str, image_format: str = "raw") -> str | None:
    op = parse_line(line, 1)
    assert op is not None
    return refusal(system, op, image_format)


@pytest.mark.parametrize(
    ("line", "image_format", "message"),
    [
        (
            '{"op": "create", "volume": "x", "tracks": 2, "track_size": 4096}',
            "raw",
            "create 'x': track_size 4096 is not a QEMU copy-before-write cluster size for raw images (allowed: 65536 (64 KiB))",
        ),
        (
            '{"op": "create", "volume": "x", "tracks": 2, "track_size": 131072}',
            "raw",
            "create 'x': track_size 131072 is not a QEMU copy-before-write cluster size for raw images (allowed: 65536 (64 KiB))",
        ),
        (
            '{"op": "create", "volume": "x", "tracks": 2, "track_size": 98304}',
            "qcow2",
            "create 'x': track_size 98304 is not a QEMU copy-before-write cluster size for qcow2 images (allowed: a power of two from 65536 (64 KiB) to 2097152 (2 MiB))",
        ),
        (
            '{"op": "create", "volume": "x", "tracks": 2, "track_size": 4194304}',
            "qcow2",
            "create 'x': track_size 4194304 is not a QEMU copy-before-write cluster size for qcow2 images (allowed: a power of two from 65536 (64 KiB) to 2097152 (2 MiB))",
        ),
        (
            '{"op": "establish", "id": "r", "source": "a", "target": "b", "incremental": true}',
            "raw",
            "establish r: incremental relationships (refresh, reverse) have no QEMU counterpart",
        ),
        (
            '{"op": "establish", "id": "r", "source": "a", "target": "b", "persistent": true}',
            "raw",
            "establish r: a persistent relationship has no QEMU counterpart (the filter ends with the copy)",
        ),
        (
            '{"op": "establish", "id": "r", "source": "a", "target": "b", "background_copy": false, "target_capacity_tracks": 2}',
            "raw",
            "establish r: space-efficient targets (target_capacity_tracks) have no QEMU counterpart",
        ),
        (
            '{"op": "refresh", "id": "r1"}',
            "raw",
            "refresh r1: QEMU's copy-before-write has no incremental refresh",
        ),
        (
            '{"op": "reverse", "id": "r1", "fast": true}',
            "raw",
            "reverse r1: QEMU's copy-before-write has no reverse restore",
        ),
    ],
)
def test_what_qemu_lacks_is_refused_naming_the_op(
    line: str, image_format: str, message: str
) -> None:
    assert _refusal(_state(), line, image_format) == message


def test_qcow2_takes_its_cluster_sizes_and_raw_64_kib() -> None:
    for size in (65536, 131072, 2097152):
        assert (
            _refusal(
                _state(),
                f'{{"op": "create", "volume": "x", "tracks": 1, "track_size": {size}}}',
                "qcow2",
            )
            is None
        )
    assert (
        _refusal(_state(), '{"op": "create", "volume": "x", "tracks": 1, "track_size": 65536}')
        is None
    )


def test_one_filter_per_volume_no_cascade_no_second_target() -> None:
    system = _state(Establish("r1", "a", "b", background_copy=False))
    second = '{"op": "establish", "id": "r2", "source": "a", "target": "c"}'
    cascade = '{"op": "establish", "id": "r2", "source": "b", "target": "c"}'
    onto = '{"op": "establish", "id": "r2", "source": "c", "target": "a"}'
    tail = "; the QEMU driver maps one copy-before-write filter per volume (no cascade, one target per source)"
    assert (
        _refusal(system, second)
        == "establish r2: source 'a' is already in relationship 'r1'" + tail
    )
    assert (
        _refusal(system, cascade)
        == "establish r2: source 'b' is already in relationship 'r1'" + tail
    )
    assert (
        _refusal(system, onto) == "establish r2: target 'a' is already in relationship 'r1'" + tail
    )


def test_a_group_sharing_a_source_is_refused_and_a_disjoint_one_is_not() -> None:
    system = _state()
    system.create("d", 4, T)
    shared = '{"op": "establish_group", "relationships": [{"id": "g1", "source": "a", "target": "b"}, {"id": "g2", "source": "a", "target": "c"}]}'
    disjoint = '{"op": "establish_group", "relationships": [{"id": "g1", "source": "a", "target": "b"}, {"id": "g2", "source": "c", "target": "d"}]}'
    assert _refusal(system, shared) == (
        "establish_group: establish g2: source 'a' is in another member of the group; the QEMU "
        "driver maps one copy-before-write filter per volume"
    )
    assert _refusal(system, disjoint) is None


def test_a_target_write_is_refused_while_the_relationship_lasts_and_allowed_after() -> None:
    system = _state(Establish("r1", "a", "b", background_copy=False))
    write = '{"op": "write", "volume": "b", "offset": 0, "data": "00"}'
    assert _refusal(system, write) == (
        "write to 'b': it is the target of relationship 'r1', read through QEMU's "
        "snapshot-access node, which is read-only (withdraw first)"
    )
    assert _refusal(system, '{"op": "write", "volume": "a", "offset": 0, "data": "00"}') is None
    system.withdraw("r1")
    assert _refusal(system, write) is None


def test_withdrawing_an_unfinished_background_copy_is_refused_a_nocopy_one_is_not() -> None:
    system = _state(Establish("bg", "a", "b"))
    system.background_copy("bg", 1)
    assert _refusal(system, '{"op": "withdraw", "id": "bg"}') == (
        "withdraw bg: its background copy is not complete (3 tracks left); QEMU's backup job "
        "copies at its own pace, so what the target holds after the withdraw is not determined"
    )
    system.create("d", 4, T)
    system.establish(Establish("nc", "c", "d", background_copy=False))
    assert _refusal(system, '{"op": "withdraw", "id": "nc"}') is None


def test_the_command_refuses_before_starting_qemu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "flashsim.commands.conform.running_daemon",
        lambda: pytest.fail("QEMU started for a refused log"),
    )
    log = tmp_path / "ops.jsonl"
    log.write_text(
        '{"op": "create", "volume": "a", "tracks": 2, "track_size": 65536}\n'
        '{"op": "create", "volume": "b", "tracks": 2, "track_size": 65536}\n'
        "\n"
        '{"op": "establish", "id": "r", "source": "a", "target": "b", "incremental": true}\n'
    )
    assert main(["conform", "--qemu", str(log)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"flashsim conform: {log}:4: establish r: incremental relationships (refresh, reverse) "
        "have no QEMU counterpart\n"
    )


def test_a_line_flashsim_rejects_is_skipped_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # refresh of an unknown id: flashsim rejects it (changes nothing), so QEMU never sees it
    monkeypatch.setattr("flashsim.commands.conform.find_daemon", lambda: None)
    log = tmp_path / "ops.jsonl"
    log.write_text(
        '{"op": "create", "volume": "a", "tracks": 2, "track_size": 65536}\n{"op": "refresh", "id": "nope"}\n'
    )
    assert main(["conform", "--qemu", str(log)]) == 2
    assert "qemu-storage-daemon not found on PATH" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ('{"op": "profile", "name": "svc"}', "set_profile"),
        ('{"op": "prepare", "id": "r1", "source": "a", "target": "b"}', "prepare"),
        ('{"op": "start", "id": "r1"}', "start"),
        ('{"op": "stop", "id": "r1", "force": true}', "stop"),
        ('{"op": "snapshot", "volume": "a", "snapshot": "s1"}', "snapshot"),
        ('{"op": "delete_snapshot", "snapshot": "s1"}', "delete_snapshot"),
        ('{"op": "space"}', "space"),
    ],
)
def test_the_other_designs_operations_are_refused_naming_the_op(line: str, name: str) -> None:
    op = parse_line(line, 1)
    assert op is not None
    message = refusal(_state(), op, "raw")
    assert message is not None and message.startswith(f"{name}: QEMU's copy-before-write has no")


def test_the_ds8000_profile_line_is_allowed() -> None:
    assert _refusal(_state(), '{"op": "profile", "name": "ds8000"}') is None
