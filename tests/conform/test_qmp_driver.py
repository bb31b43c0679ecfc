"""The QMP client (`flashsim.conform.qmp`) and the QEMU side's command sequence
(`flashsim.conform.qemu`) against an in-process fake monitor: negotiation, errors, events
that arrive between replies, and the graph the mapping builds for each op."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import FakeQmp

from flashsim.conform.daemon import Daemon
from flashsim.conform.qemu import QemuSide
from flashsim.conform.qmp import QmpClient, QmpError, QmpTimeout
from flashsim.models.ops import Establish


def _answer_all(fake: FakeQmp, command: str, arguments: dict[str, Any]) -> Any:
    if command == "fail":
        raise RuntimeError("Invalid parameter 'x'")
    if command == "block-export-del":
        # the export goes when its clients have gone: the event may follow the reply
        fake.late.append({"event": "BLOCK_EXPORT_DELETED", "data": {"id": arguments["id"]}})
    if command == "query-version":
        return {"qemu": {"major": 7}}
    return {}


def test_negotiation_comes_first_and_replies_carry_the_return_value() -> None:
    fake = FakeQmp(_answer_all)
    qmp = QmpClient(fake.client)
    assert qmp.version == {"major": 7, "minor": 2, "micro": 22}
    assert qmp.execute("query-version") == {"qemu": {"major": 7}}
    assert [c for c, _ in fake.commands] == ["qmp_capabilities", "query-version"]
    qmp.close()


def test_an_error_reply_raises_with_qemus_description_and_class() -> None:
    qmp = QmpClient(FakeQmp(_answer_all).client)
    with pytest.raises(QmpError, match=r"^fail: Invalid parameter 'x'$") as caught:
        qmp.execute("fail")
    assert caught.value.error_class == "GenericError"
    qmp.close()


def test_events_before_a_reply_are_kept_and_events_after_it_are_waited_for() -> None:
    def handler(fake: FakeQmp, _command: str, _arguments: dict[str, Any]) -> Any:
        fake.pending.append(
            {"event": "JOB_STATUS_CHANGE", "data": {"id": "j", "status": "running"}}
        )
        fake.late.append({"event": "BLOCK_JOB_COMPLETED", "data": {"device": "j", "len": 4}})
        return {}

    qmp = QmpClient(FakeQmp(handler).client)
    qmp.execute("blockdev-backup", device="a")
    assert [e["event"] for e in qmp.events] == ["JOB_STATUS_CHANGE"]
    completed = qmp.wait_event("BLOCK_JOB_COMPLETED", timeout_s=5, device="j")
    assert completed["data"]["len"] == 4
    assert qmp.wait_event("JOB_STATUS_CHANGE", timeout_s=1, id="j")["data"]["status"] == "running"
    with pytest.raises(QmpTimeout, match="no BLOCK_JOB_COMPLETED event"):
        qmp.wait_event("BLOCK_JOB_COMPLETED", timeout_s=0.2, device="other")
    qmp.close()


def test_a_greeting_that_is_not_qmp_is_refused() -> None:
    import socket

    ours, theirs = socket.socketpair()
    theirs.sendall(b'{"hello": 1}\n')
    with pytest.raises(QmpError, match="not a QMP greeting"):
        QmpClient(ours)
    theirs.close()


def test_the_mapping_builds_a_filter_a_snapshot_access_node_and_a_backup_job(
    tmp_path: Path,
) -> None:
    fake = FakeQmp(_answer_all)
    qmp = QmpClient(fake.client)
    daemon = Daemon.__new__(Daemon)
    daemon.folder, daemon.qmp, daemon.nbd_socket = tmp_path, qmp, str(tmp_path / "nbd.sock")
    side = QemuSide(daemon, "raw")
    side.create("prod", 2, 65536)
    side.create("snap", 2, 65536)
    assert (tmp_path / "v1.raw").stat().st_size == 2 * 65536
    fake.commands.clear()
    side.establish(Establish("r1", "prod", "snap", background_copy=True))
    sent = [(c, a) for c, a in fake.commands]
    names = [c for c, _ in sent]
    assert names == [
        "block-export-del",
        "block-export-del",
        "blockdev-add",
        "blockdev-add",
        "block-export-add",
        "block-export-add",
        "blockdev-backup",
    ]
    cbw, access = sent[2][1], sent[3][1]
    assert cbw == {
        "driver": "copy-before-write",
        "file": "v1",
        "target": "v3",
        "node-name": cbw["node-name"],
    }
    assert access == {
        "driver": "snapshot-access",
        "file": cbw["node-name"],
        "node-name": access["node-name"],
    }
    source_export, target_export = sent[4][1], sent[5][1]
    assert (source_export["node-name"], source_export["writable"]) == (cbw["node-name"], True)
    assert (target_export["node-name"], target_export["writable"]) == (access["node-name"], False)
    backup = sent[6][1]
    assert (backup["device"], backup["target"], backup["sync"]) == (
        access["node-name"],
        "v3",
        "full",
    )
    # flashsim's copy completes: the job is waited for, then the graph is taken down
    fake.late.append({"event": "BLOCK_JOB_COMPLETED", "data": {"device": backup["job-id"]}})
    qmp.execute("query-jobs")
    fake.commands.clear()
    side.end("r1")
    assert [(c, a.get("node-name")) for c, a in fake.commands if c == "blockdev-del"] == [
        ("blockdev-del", access["node-name"]),
        ("blockdev-del", cbw["node-name"]),
    ]
    exports = [a for c, a in fake.commands if c == "block-export-add"]
    assert [(a["node-name"], a["writable"]) for a in exports] == [("v1", True), ("v3", True)]
    qmp.close()


def test_a_failed_backup_job_is_reported(tmp_path: Path) -> None:
    from flashsim.conform.qemu import QemuSideError

    fake = FakeQmp(_answer_all)
    qmp = QmpClient(fake.client)
    daemon = Daemon.__new__(Daemon)
    daemon.folder, daemon.qmp, daemon.nbd_socket = tmp_path, qmp, str(tmp_path / "nbd.sock")
    side = QemuSide(daemon, "raw")
    side.create("a", 1, 65536)
    side.create("b", 1, 65536)
    side.establish(Establish("r", "a", "b"))
    job = next(a["job-id"] for c, a in fake.commands if c == "blockdev-backup")
    fake.late.append(
        {"event": "BLOCK_JOB_COMPLETED", "data": {"device": job, "error": "No space left"}}
    )
    qmp.execute("query-jobs")
    with pytest.raises(QemuSideError, match="backup job of r failed: No space left"):
        side.end("r")
    qmp.close()
