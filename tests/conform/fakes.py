"""In-process fakes of an NBD server and a QMP monitor, on one end of a socketpair served by a
thread, written from the protocols' documents (the NBD protocol's proto.md, QEMU's QMP
specification) and not from the clients under test: they spell the wire format out."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any


def _recv(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class FakeNbdServer:
    """A fixed-newstyle NBD server of one export held in memory; `requests` records each
    (type, offset, length) of the transmission phase."""

    def __init__(
        self,
        exports: dict[str, bytearray],
        read_only: bool = False,
        greeting: bytes | None = None,
        error_on: set[int] | None = None,
        hang_up: bool = False,
    ) -> None:
        self.hang_up = hang_up
        self.exports = exports
        self.read_only = read_only
        self.greeting = greeting
        self.error_on = error_on or set()
        self.requests: list[tuple[int, int, int]] = []
        self.client_flags: int | None = None
        self.client, self._server = socket.socketpair()
        self.client.settimeout(5)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        sock = self._server
        try:
            # greeting: "NBDMAGIC", "IHAVEOPT", flags FIXED_NEWSTYLE | NO_ZEROES
            sock.sendall(self.greeting or (b"NBDMAGIC" + b"IHAVEOPT" + b"\x00\x03"))
            if self.hang_up:
                return
            (self.client_flags,) = struct.unpack(">I", _recv(sock, 4))
            while True:
                magic, option, length = struct.unpack(">8sII", _recv(sock, 16))
                assert magic == b"IHAVEOPT"
                data = _recv(sock, length)
                if option != 7:  # only NBD_OPT_GO
                    self._reply(option, 0x80000001, b"")  # NBD_REP_ERR_UNSUP
                    continue
                (name_length,) = struct.unpack(">I", data[:4])
                name = data[4 : 4 + name_length].decode()
                if name not in self.exports:
                    self._reply(option, 0x80000006, b"no such export")  # NBD_REP_ERR_UNKNOWN
                    continue
                image = self.exports[name]
                flags = 0x1 | 0x4 | (0x2 if self.read_only else 0)  # HAS_FLAGS, FLUSH, RO
                self._reply(option, 3, struct.pack(">HQH", 0, len(image), flags))  # INFO_EXPORT
                self._reply(option, 3, struct.pack(">H", 2) + b"a description")  # unasked
                self._reply(option, 1, b"")  # NBD_REP_ACK
                self._transmit(image)
                return
        except (EOFError, OSError):
            return
        finally:
            sock.close()

    def _reply(self, option: int, kind: int, data: bytes) -> None:
        header = bytes.fromhex("0003e889045565a9") + struct.pack(">III", option, kind, len(data))
        self._server.sendall(header + data)

    def _transmit(self, image: bytearray) -> None:
        sock = self._server
        while True:
            magic, _flags, kind, cookie, offset, length = struct.unpack(">IHHQQI", _recv(sock, 28))
            assert magic == 0x25609513
            self.requests.append((kind, offset, length))
            if kind == 2:  # NBD_CMD_DISC
                return
            payload = _recv(sock, length) if kind == 1 else b""
            error = 5 if kind in self.error_on else 0  # EIO
            reply = struct.pack(">IIQ", 0x67446698, error, cookie)
            if kind == 0 and not error:
                sock.sendall(reply + bytes(image[offset : offset + length]))
                continue
            if kind == 1 and not error:
                image[offset : offset + length] = payload
            sock.sendall(reply)


class FakeQmp:
    """A QMP monitor: greets, needs qmp_capabilities first, answers each command with
    `handler(command, arguments)` (a return value, or an exception's message as an error)
    and sends the events the handler queues in `pending` before the reply; `commands`
    records every (command, arguments)."""

    def __init__(self, handler: Callable[[FakeQmp, str, dict[str, Any]], Any]) -> None:
        self.handler = handler
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.pending: list[dict[str, Any]] = []
        self.late: list[dict[str, Any]] = []
        self.client, self._server = socket.socketpair()
        self.client.settimeout(5)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _send(self, message: dict[str, Any]) -> None:
        self._server.sendall(json.dumps(message).encode() + b"\r\n")

    def _serve(self) -> None:
        stream = self._server.makefile("rb")
        try:
            greeting = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}}}}
            self._send({**greeting, "capabilities": []})
            negotiated = False
            for raw in stream:
                request = json.loads(raw)
                command, arguments = request["execute"], request.get("arguments", {})
                self.commands.append((command, arguments))
                reply: dict[str, Any] = {"id": request.get("id")}
                if command == "qmp_capabilities":
                    negotiated = True
                    reply["return"] = {}
                elif not negotiated:
                    reply["error"] = {"class": "CommandNotFound", "desc": "negotiate first"}
                else:
                    try:
                        reply["return"] = self.handler(self, command, arguments)
                    except Exception as error:
                        reply["error"] = {"class": "GenericError", "desc": str(error)}
                for event in self.pending:
                    self._send(event)
                self.pending.clear()
                self._send(reply)
                for event in self.late:
                    self._send(event)
                self.late.clear()
        except OSError:
            return
        finally:
            stream.close()
            self._server.close()
