"""A small client of the NBD protocol (fixed newstyle handshake, NBD_OPT_GO, simple replies):
enough to read, write and flush one export of QEMU's NBD server over a UNIX socket.

Every number on the wire is big-endian. The client asks for no structured replies, so each
request gets one simple reply, and it sends one request at a time.
"""

from __future__ import annotations

import contextlib
import socket
import struct

NBDMAGIC = 0x4E42444D41474943  # "NBDMAGIC": the server's first eight bytes
IHAVEOPT = 0x49484156454F5054  # "IHAVEOPT": newstyle server, and the prefix of every option
REPLY_MAGIC = 0x0003E889045565A9  # an option's reply
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698

FLAG_FIXED_NEWSTYLE = 1  # handshake flags (server) and client flags alike
FLAG_NO_ZEROES = 2

OPT_ABORT = 2
OPT_GO = 7
REP_ACK = 1
REP_INFO = 3
REP_ERROR_BIT = 1 << 31
INFO_EXPORT = 0

TRANSMIT_HAS_FLAGS = 1
TRANSMIT_READ_ONLY = 2
TRANSMIT_SEND_FLUSH = 4

CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
CMD_FLUSH = 3

#: The largest request sent; a longer read or write is split (servers accept at least 32 MiB).
MAX_REQUEST = 1 << 24
#: An option reply longer than this is a broken server, not an export.
MAX_OPTION_REPLY = 1 << 16


class NbdError(Exception):
    """The server refused, broke the protocol or went away."""


class NbdClient:
    """One export, opened with NBD_OPT_GO on a connected stream socket.

    `size` and `read_only` are what the server said of the export.
    """

    def __init__(self, sock: socket.socket, export: str) -> None:
        self._sock = sock
        self._cookie = 0
        self.export = export
        try:
            self.size, self.flags = self._handshake(export.encode("utf-8"))
        except BaseException:
            sock.close()  # the client owns the socket from here on
            raise
        self.read_only = bool(self.flags & TRANSMIT_READ_ONLY)

    @classmethod
    def connect_unix(cls, path: str, export: str, timeout_s: float = 30.0) -> NbdClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        return cls(sock, export)

    # -- wire ------------------------------------------------------------------------------
    def _recv(self, count: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < count:
            try:
                chunk = self._sock.recv(min(count - len(chunks), 1 << 20))
            except OSError as error:
                raise NbdError(f"export {self.export!r}: receive failed: {error}") from None
            if not chunk:
                raise NbdError(f"export {self.export!r}: the server closed the connection")
            chunks += chunk
        return bytes(chunks)

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as error:
            raise NbdError(f"export {self.export!r}: send failed: {error}") from None

    # -- handshake -------------------------------------------------------------------------
    def _handshake(self, name: bytes) -> tuple[int, int]:
        magic, opt_magic, server_flags = struct.unpack(">QQH", self._recv(18))
        if magic != NBDMAGIC or opt_magic != IHAVEOPT:
            raise NbdError("not a newstyle NBD server (bad greeting magic)")
        if not server_flags & FLAG_FIXED_NEWSTYLE:
            raise NbdError("the server does not speak the fixed newstyle handshake")
        client_flags = FLAG_FIXED_NEWSTYLE | (server_flags & FLAG_NO_ZEROES)
        self._send(struct.pack(">I", client_flags))
        # NBD_OPT_GO: the name, then no information requests (the server sends NBD_INFO_EXPORT
        # unasked).
        payload = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
        self._send(struct.pack(">QII", IHAVEOPT, OPT_GO, len(payload)) + payload)
        size = flags = None
        while True:
            magic, option, kind, length = struct.unpack(">QIII", self._recv(20))
            if magic != REPLY_MAGIC or option != OPT_GO:
                raise NbdError("bad option reply from the server")
            if length > MAX_OPTION_REPLY:
                raise NbdError(f"option reply of {length} bytes is too long")
            data = self._recv(length)
            if kind & REP_ERROR_BIT:
                text = data.decode("utf-8", "replace")
                raise NbdError(
                    f"export {name.decode('utf-8', 'replace')!r} refused "
                    f"(error {kind & ~REP_ERROR_BIT})" + (f": {text}" if text else "")
                )
            if kind == REP_INFO and len(data) >= 2:
                (info,) = struct.unpack(">H", data[:2])
                if info == INFO_EXPORT:
                    if len(data) != 12:
                        raise NbdError("NBD_INFO_EXPORT of the wrong length")
                    size, flags = struct.unpack(">QH", data[2:])
            elif kind == REP_ACK:
                if size is None or flags is None:
                    raise NbdError("the server acknowledged NBD_OPT_GO without the export's size")
                return size, flags
            # other replies (information the client did not ask for) are skipped

    # -- transmission ----------------------------------------------------------------------
    def _request(self, command: int, offset: int, length: int, data: bytes = b"") -> None:
        self._cookie += 1
        header = struct.pack(">IHHQQI", REQUEST_MAGIC, 0, command, self._cookie, offset, length)
        self._send(header + data)

    def _reply(self) -> None:
        magic, error, cookie = struct.unpack(">IIQ", self._recv(16))
        if magic != SIMPLE_REPLY_MAGIC:
            raise NbdError(f"export {self.export!r}: bad reply magic {magic:#x}")
        if cookie != self._cookie:
            raise NbdError(f"export {self.export!r}: reply to request {cookie}, not {self._cookie}")
        if error:
            raise NbdError(f"export {self.export!r}: the server returned error {error}")

    def _check_range(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise NbdError(
                f"export {self.export!r}: bytes {offset}..{offset + length} pass its end "
                f"({self.size} bytes)"
            )

    def read(self, offset: int, length: int) -> bytes:
        self._check_range(offset, length)
        out = bytearray()
        while len(out) < length:
            part = min(MAX_REQUEST, length - len(out))
            self._request(CMD_READ, offset + len(out), part)
            self._reply()
            out += self._recv(part)
        return bytes(out)

    def write(self, offset: int, data: bytes) -> None:
        self._check_range(offset, len(data))
        if self.read_only:
            raise NbdError(f"export {self.export!r} is read-only")
        for start in range(0, len(data), MAX_REQUEST):
            part = data[start : start + MAX_REQUEST]
            self._request(CMD_WRITE, offset + start, len(part), part)
            self._reply()

    def flush(self) -> None:
        if self.flags & TRANSMIT_SEND_FLUSH:
            self._request(CMD_FLUSH, 0, 0)
            self._reply()

    def close(self) -> None:
        """NBD_CMD_DISC (which has no reply), then the socket; never raises."""
        with contextlib.suppress(NbdError):
            self._request(CMD_DISC, 0, 0)
        self._sock.close()

    def __enter__(self) -> NbdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
