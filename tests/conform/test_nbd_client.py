"""The NBD client (`flashsim.conform.nbd`) against an in-process fake server: handshake,
reads and writes (split into requests of at most MAX_REQUEST bytes), flush, disconnect, and
each way the server can refuse or break."""

from __future__ import annotations

import pytest
from fakes import FakeNbdServer

from flashsim.conform import nbd
from flashsim.conform.nbd import NbdClient, NbdError


def test_handshake_reads_the_size_and_flags_and_writes_land() -> None:
    image = bytearray(b"abcdefgh" * 8)
    server = FakeNbdServer({"disk": image})
    client = NbdClient(server.client, "disk")
    assert (client.size, client.read_only) == (64, False)
    assert server.client_flags == 3  # fixed newstyle, no zeroes: both offered by the server
    assert client.read(6, 4) == b"ghab"
    client.write(1, b"XYZ")
    client.flush()
    assert client.read(0, 8) == b"aXYZefgh"
    assert image[:8] == b"aXYZefgh"
    client.close()
    server._thread.join(5)
    assert [kind for kind, _, _ in server.requests] == [0, 1, 3, 0, 2]


def test_long_reads_and_writes_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nbd, "MAX_REQUEST", 10)
    image = bytearray(range(25))
    server = FakeNbdServer({"d": image})
    client = NbdClient(server.client, "d")
    client.write(0, bytes(range(100, 125)))
    assert client.read(0, 25) == bytes(range(100, 125))
    assert [(k, o, n) for k, o, n in server.requests if k == 1] == [
        (1, 0, 10),
        (1, 10, 10),
        (1, 20, 5),
    ]
    client.close()


def test_an_unknown_export_is_refused_with_the_servers_message() -> None:
    server = FakeNbdServer({"disk": bytearray(8)})
    with pytest.raises(NbdError, match=r"export 'other' refused \(error 6\): no such export"):
        NbdClient(server.client, "other")


def test_a_read_only_export_refuses_writes_before_sending_them() -> None:
    server = FakeNbdServer({"snap": bytearray(8)}, read_only=True)
    client = NbdClient(server.client, "snap")
    assert client.read_only
    with pytest.raises(NbdError, match="read-only"):
        client.write(0, b"x")
    assert server.requests == []


def test_a_range_past_the_end_is_refused() -> None:
    client = NbdClient(FakeNbdServer({"d": bytearray(8)}).client, "d")
    with pytest.raises(NbdError, match=r"bytes 6\.\.10 pass its end \(8 bytes\)"):
        client.read(6, 4)


def test_an_error_reply_is_raised_with_its_number() -> None:
    client = NbdClient(FakeNbdServer({"d": bytearray(8)}, error_on={1}).client, "d")
    with pytest.raises(NbdError, match="returned error 5"):
        client.write(0, b"ab")


def test_a_server_that_is_not_newstyle_is_refused() -> None:
    # the oldstyle greeting: the magic 0x00420281861253, the size, flags, 124 zeros
    oldstyle = b"NBDMAGIC" + bytes.fromhex("0000420281861253") + (8).to_bytes(8, "big")
    server = FakeNbdServer({}, greeting=oldstyle + bytes(128))
    with pytest.raises(NbdError, match="not a newstyle NBD server"):
        NbdClient(server.client, "d")


def test_a_server_that_hangs_up_is_an_nbd_error() -> None:
    server = FakeNbdServer({}, greeting=b"NBDMAGIC", hang_up=True)
    with pytest.raises(NbdError, match="closed the connection"):
        NbdClient(server.client, "d")
