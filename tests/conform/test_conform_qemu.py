"""`flashsim conform --qemu` against a real qemu-storage-daemon (Debian packages qemu-utils and
qemu-system-common): short random logs agree, the known upstream difference is found and
named, and the daemon and its folder are gone on every exit path. Without the daemon the tests
are skipped, except on CI (CI=true), where they fail: .ci/run installs QEMU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from flashsim.conform.daemon import find_daemon
from flashsim.conform.known import parse_version
from flashsim.main import main

DAEMON = find_daemon()
KNOWN_LOG = "scenarios/oplogs/qemu_snapshot_read_across_clusters.jsonl"


@pytest.fixture(autouse=True)
def _qemu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if DAEMON is None:
        if os.environ.get("CI") == "true":
            pytest.fail("qemu-storage-daemon missing on CI: .ci/run installs qemu-utils")
        pytest.skip(
            "qemu-storage-daemon is not installed (apt-get install qemu-utils qemu-system-common)"
        )
    # the daemon's private folders go under the test's folder, where a leftover shows
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _records(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("flashsim-qemu-*"))


def _daemons_under(folder: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"qemu-storage-daemon" in cmdline and str(folder).encode() in cmdline:
                pids.append(int(proc.name))
    return pids


def test_short_random_logs_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["conform", "--qemu", "--random", "6", "--seed", "3", "--ops", "20", "--cluster-reads"]
        )
        == 0
    )
    records = _records(capsys.readouterr().out)
    assert [r["result"] for r in records[:-1]] == ["agree"] * 6
    summary = records[-1]
    assert summary["logs"] == 6 and summary["differences"] == 0
    assert summary["reads"] > 0 and summary["ops"] >= 6 * 20
    assert parse_version(str(summary["qemu"])) >= (7, 0)
    assert _leftovers(tmp_path) == [] and _daemons_under(tmp_path) == []


def test_qcow2_images_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "conform",
                "--qemu",
                "--random",
                "2",
                "--seed",
                "4",
                "--format",
                "qcow2",
                "--cluster-reads",
            ]
        )
        == 0
    )
    assert _records(capsys.readouterr().out)[-1]["differences"] == 0


def test_a_hand_written_withdraw_keeps_what_the_target_received(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "withdraw.jsonl"
    log.write_text(
        '{"op": "create", "volume": "s", "tracks": 2, "track_size": 65536}\n'
        '{"op": "create", "volume": "t", "tracks": 2, "track_size": 65536}\n'
        '{"op": "write", "volume": "s", "offset": 0, "fill": 83, "length": 131072}\n'
        '{"op": "write", "volume": "t", "offset": 0, "fill": 84, "length": 131072}\n'
        '{"op": "establish", "id": "r", "source": "s", "target": "t", "background_copy": false}\n'
        '{"op": "write", "volume": "s", "offset": 65536, "data": "6e6577"}\n'
        '{"op": "withdraw", "id": "r"}\n'
        '{"op": "read", "volume": "t", "offset": 65535, "length": 2}\n'
        '{"op": "write", "volume": "t", "offset": 0, "data": "21"}\n'
        '{"op": "read", "volume": "t", "offset": 0, "length": 1}\n'
    )
    assert main(["conform", "--qemu", str(log)]) == 0
    assert _records(capsys.readouterr().out)[0] == {
        "log": str(log),
        "ops": 10,
        "reads": 2,
        "skipped": 0,
        "result": "agree",
    }
    assert main(["replay", str(log)]) == 0
    # the track never copied keeps the target's own 'T'; the copied one the old 'S'
    assert _records(capsys.readouterr().out) == [
        {"line": 8, "data": "5453"},
        {"line": 10, "data": "21"},
    ]


def test_the_known_difference_is_found_named_and_shrunk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "repro.jsonl"
    status = main(["conform", "--qemu", KNOWN_LOG, "--out", str(out)])
    records = _records(capsys.readouterr().out)
    version = parse_version(str(records[-1]["qemu"]))
    if version >= (8, 0):
        assert status == 0 and not out.exists()
        return
    assert status == 1
    first = records[0]
    assert (first["result"], first["line"], first["known"]) == (
        "differ",
        7,
        "snapshot-read-across-clusters",
    )
    # the target reads the point in time 'A'; QEMU 7.2 serves the copied cluster from the source
    assert (first["flashsim"], first["qemu"]) == ("41" * 16, "4e4557" + "41" * 13)
    assert len(first["reproducer"]) == 5  # the write of 'A's is not needed: zeros show it too
    assert out.read_text().splitlines() == first["reproducer"]
    assert main(["conform", "--qemu", KNOWN_LOG, "--cluster-reads"]) == 0


def _default_sigint() -> None:
    # a test run in the background inherits SIGINT ignored, and Python keeps it so
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flashsim",
            "conform",
            "--qemu",
            "--random",
            "500",
            "--cluster-reads",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,  # noqa: PLW1509 - the test starts no threads before it
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_stops_the_daemon_and_removes_its_folder(
    tmp_path: Path, sig: int
) -> None:
    proc = _start(tmp_path)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # one log done: the next daemon is starting or running
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert err.endswith("flashsim: interrupted\n")
    assert _leftovers(tmp_path) == [] and _daemons_under(tmp_path) == []


def test_the_daemon_dies_with_a_killed_flashsim(tmp_path: Path) -> None:
    proc = _start(tmp_path)
    assert proc.stdout is not None
    proc.stdout.readline()
    deadline = time.monotonic() + 20
    while not _daemons_under(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while _daemons_under(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _daemons_under(tmp_path) == []  # PR_SET_PDEATHSIG: the kernel killed it


def test_the_quick_validation_runs_and_writes_its_table(tmp_path: Path) -> None:
    # the timing experiment is a benchmark; CI only checks that it runs end to end against
    # the real daemon and fio and writes a complete table (no figure is judged here)
    out = tmp_path / "validation"
    code = main(["validate", "--qemu", "--quick", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "validation.json").read_text())
    rates = report["setup"]["rates_mib_s"]
    rows = {(r["rate_mib_s"], r["phase"], r["figure"]) for r in report["table"]}
    for rate in rates:
        assert (rate, "copy", "completion s") in rows
        for phase in ("before", "during", "after"):
            for figure in ("IOPS", "mean ms", "p50 ms", "p99 ms"):
                assert (rate, phase, figure) in rows
    for row in report["table"]:
        assert row["measured"] > 0 and row["predicted"] > 0
        assert row["error"] == pytest.approx(row["predicted"] / row["measured"] - 1)
    assert (out / "validation.png").stat().st_size > 0
    assert "| copy MiB/s | phase |" in (out / "validation.md").read_text()
