"""`flashsim replay --dump DIR` (issue 11, "outputs are safe"): it never writes through a
link, gives every volume its own file (names map injectively), and is all or nothing."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from flashsim.main import main

MARKER = ".flashsim-output"


def oplog(path: Path, *volumes: str, tracks: int = 4, track_size: int = 4) -> Path:
    """Create each volume and write its name's first bytes to its first track."""
    lines = []
    for name in volumes:
        lines.append({"op": "create", "volume": name, "tracks": tracks, "track_size": track_size})
        data = name.encode("utf-8", "surrogatepass")[:track_size].ljust(track_size, b"_")
        lines.append({"op": "write", "volume": name, "offset": 0, "data": data.hex()})
    # json.dumps escapes a lone surrogate as \ud800: valid JSON, as the issue found it.
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def replay(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = main(["replay", *map(str, args)])
    return code, capsys.readouterr().err


def images(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != MARKER}


def test_names_that_collided_get_a_file_each(tmp_path: Path, capsys) -> None:
    common = "p" * 100
    volumes = ["../escape", "x-2e2e2f657363617065", common + "-one", common + "-two", "%41", "A"]
    code, err = replay(capsys, oplog(tmp_path / "ops.jsonl", *volumes), "--dump", tmp_path / "d")
    assert (code, err) == (0, "")
    dumped = images(tmp_path / "d")
    assert len(dumped) == len(volumes)
    assert {"%2E.%2Fescape.img", "x-2e2e2f657363617065.img", "%2541.img", "A.img"} < set(dumped)
    decoded = {unquote_to_bytes(name.removesuffix(".img")).decode() for name in dumped}
    assert decoded == set(volumes)  # the names are reversible: no two can meet
    assert sorted(v[:4] for v in dumped.values()) == sorted(
        v.encode()[:4].ljust(4, b"_") for v in volumes
    )


def test_a_very_long_name_gets_a_short_file_name_of_its_own(tmp_path: Path, capsys) -> None:
    volumes = ["\u00e9" * 300, "\u00e9" * 299 + "e"]
    code, err = replay(capsys, oplog(tmp_path / "ops.jsonl", *volumes), "--dump", tmp_path / "d")
    assert (code, err) == (0, "")
    dumped = images(tmp_path / "d")
    assert len(dumped) == 2
    assert all(len(name) <= 160 and name.startswith("%C3%A9") for name in dumped)


def test_a_lone_surrogate_volume_name_is_dumped(tmp_path: Path, capsys) -> None:
    code, err = replay(capsys, oplog(tmp_path / "ops.jsonl", "\ud800"), "--dump", tmp_path / "d")
    assert (code, err) == (0, "")
    assert images(tmp_path / "d") == {"%ED%A0%80.img": b"\xed\xa0\x80_" + bytes(12)}


def test_a_link_in_a_folder_of_other_files_is_never_followed(tmp_path: Path, capsys) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "A.img").symlink_to(victim)
    code, err = replay(capsys, oplog(tmp_path / "ops.jsonl", "A"), "--dump", tmp_path / "d")
    assert code == 2
    assert err == (
        f"{tmp_path / 'd'}: is not empty and is not a flashsim output (it has no {MARKER} "
        "file); nothing was written. Give a new or empty folder, or --force to replace it and "
        "everything in it\n"
    )
    assert (tmp_path / "d" / "A.img").is_symlink() and victim.read_text() == "precious\n"


def test_a_link_planted_in_a_previous_dump_is_replaced_not_followed(tmp_path: Path, capsys) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    log = oplog(tmp_path / "ops.jsonl", "A")
    assert replay(capsys, log, "--dump", tmp_path / "d") == (0, "")
    (tmp_path / "d" / "A.img").unlink()
    (tmp_path / "d" / "A.img").symlink_to(victim)
    assert replay(capsys, log, "--dump", tmp_path / "d") == (0, "")
    assert not (tmp_path / "d" / "A.img").is_symlink()
    assert images(tmp_path / "d") == {"A.img": b"A___" + bytes(12)}
    assert victim.read_text() == "precious\n"


def test_force_replaces_a_folder_of_other_files_without_following_its_links(
    tmp_path: Path, capsys
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "A.img").symlink_to(victim)
    log = oplog(tmp_path / "ops.jsonl", "A")
    assert replay(capsys, log, "--dump", tmp_path / "d", "--force") == (0, "")
    assert images(tmp_path / "d") == {"A.img": b"A___" + bytes(12)}
    assert victim.read_text() == "precious\n"


def test_a_dump_that_fails_midway_leaves_the_old_dump_whole(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = oplog(tmp_path / "ops.jsonl", "A", "B", "C")
    assert replay(capsys, log, "--dump", tmp_path / "d") == (0, "")
    before = {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()}
    real_fdopen = os.fdopen
    opened = []

    def full_disk_on_the_second(fd: int, *args: object, **kwargs: object):
        handle = real_fdopen(fd, *args, **kwargs)
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".img"):  # an image, not the marker
            opened.append(fd)
        if len(opened) == 2:
            handle.close()
            raise OSError(28, "No space left on device")
        return handle

    monkeypatch.setattr(os, "fdopen", full_disk_on_the_second)
    code, err = replay(capsys, oplog(tmp_path / "new.jsonl", "X", "Y"), "--dump", tmp_path / "d")
    assert code == 2
    assert err.startswith(f"{tmp_path / 'd'}: cannot write the output (")
    assert "No space left on device" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "new.jsonl", "ops.jsonl"]


def _small_file_limit() -> None:
    # SIGXFSZ would kill the process; ignored, a write past the limit fails with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_a_dump_past_the_file_size_limit_leaves_no_folder_and_no_empty_image(
    tmp_path: Path,
) -> None:
    log = tmp_path / "ops.jsonl"
    log.write_text(
        json.dumps({"op": "create", "volume": "small", "tracks": 4, "track_size": 4}) + "\n"
        + json.dumps({"op": "create", "volume": "big", "tracks": 64, "track_size": 1 << 20})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "flashsim", "replay", str(log), "--dump", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_small_file_limit,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{tmp_path / 'd'}: cannot write the output (")
    assert "File too large" in done.stderr and done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ops.jsonl"]


def test_a_dump_folder_that_cannot_be_the_output_is_told_before_the_replay(
    tmp_path: Path, capfd
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mine.txt").write_text("mine\n")  # not a flashsim output
    log = oplog(tmp_path / "ops.jsonl", "A")
    code = main(["replay", str(log), "--dump", str(tmp_path / "d")])
    out, err = capfd.readouterr()
    assert code == 2
    assert out == ""  # no line replayed: the folder was refused first
    assert err.startswith(f"{tmp_path / 'd'}: is not empty and is not a flashsim output")
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["mine.txt"]
