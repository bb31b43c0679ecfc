"""A small QMP client: JSON objects over a stream socket, one command at a time.

The server greets with `{"QMP": ...}`; `qmp_capabilities` leaves negotiation mode; each
command is answered by `{"return": ...}` or `{"error": {"class", "desc"}}` carrying the
command's `id`; events (`{"event": ...}`) may come in between and are kept for `wait_event`.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

#: A reply or event longer than this is not QMP.
MAX_MESSAGE = 1 << 24


class QmpError(Exception):
    """A command failed (`error` holds QEMU's class and description) or the link broke."""

    def __init__(self, message: str, error_class: str | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class


class QmpTimeout(QmpError):
    """No message within the time allowed."""


class QmpClient:
    """A QMP session on a connected stream socket, capabilities negotiated."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout = sock.gettimeout()
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        try:
            greeting = self._message()
            if not isinstance(greeting.get("QMP"), dict):
                raise QmpError(f"not a QMP greeting: {str(greeting)[:200]}")
            version = greeting["QMP"].get("version", {})
            self.version = version.get("qemu", {}) if isinstance(version, dict) else {}
            self.execute("qmp_capabilities")
        except BaseException:
            sock.close()  # the client owns the socket from here on
            raise

    @classmethod
    def connect_unix(cls, path: str, timeout_s: float = 30.0) -> QmpClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    def set_timeout(self, seconds: float) -> None:
        """How long a reply may take from now on."""
        self._timeout = seconds
        self._sock.settimeout(seconds)

    def _message(self) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_MESSAGE:
                raise QmpError("QMP message too long")
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                raise QmpTimeout("QMP: no reply in time") from None
            except OSError as error:
                raise QmpError(f"QMP receive failed: {error}") from None
            if not chunk:
                raise QmpError("QMP connection closed by the server")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            raise QmpError(f"QMP sent a line that is not JSON: {line[:200]!r}") from None
        if not isinstance(message, dict):
            raise QmpError(f"QMP sent JSON that is not an object: {line[:200]!r}")
        return message

    def execute(self, command: str, **arguments: Any) -> Any:
        """Run `command`; its `return` value, or QmpError naming QEMU's error."""
        self._next_id += 1
        request: dict[str, Any] = {"execute": command, "id": self._next_id}
        if arguments:
            request["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(request).encode() + b"\n")
        except OSError as error:
            raise QmpError(f"QMP send failed: {error}") from None
        while True:
            message = self._message()
            if "event" in message:
                self.events.append(message)
                continue
            if message.get("id") != self._next_id:
                raise QmpError(f"QMP reply to another command: {str(message)[:200]}")
            if "error" in message:
                failure = message["error"]
                if not isinstance(failure, dict):
                    raise QmpError(f"{command}: {str(failure)[:200]}")
                raise QmpError(f"{command}: {failure.get('desc', failure)}", failure.get("class"))
            return message.get("return")

    def wait_event(self, name: str, timeout_s: float = 60.0, **match: Any) -> dict[str, Any]:
        """The first event `name` (kept or arriving) whose data holds `match`; removed from
        the kept events. QmpError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            for index, event in enumerate(self.events):
                data = event.get("data", {})
                if event["event"] == name and all(data.get(k) == v for k, v in match.items()):
                    return self.events.pop(index)
            left = deadline - time.monotonic()
            if left <= 0:
                raise QmpError(f"no {name} event {match or ''} within {timeout_s} s")
            self._sock.settimeout(left)
            try:
                message = self._message()
            except QmpTimeout:
                raise QmpTimeout(f"no {name} event {match or ''} within {timeout_s} s") from None
            finally:
                self._sock.settimeout(self._timeout)
            if "event" in message:
                self.events.append(message)

    def close(self) -> None:
        self._sock.close()
