"""Reading an input file safely: a regular file (a device or a pipe may never end) of at most
a given size, as bytes or as UTF-8 text, or an error of the caller's class naming the file
(and, for bad text, the line)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from flashsim.models.errors import FlashCopyError


def read_bytes(path: str | Path, limit: int, error: type[FlashCopyError], hint: str = "") -> bytes:
    """The bytes of `path`; raises `error` if it is not a regular file, is over `limit` bytes
    (`hint` says what to do then) or cannot be read."""
    name = str(path)
    try:
        info = os.stat(name)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{name}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{name}: not a regular file (a device or a pipe cannot be read here)")
        if info.st_size > limit:
            raise error(f"{name}: {info.st_size} bytes, over the limit of {limit} bytes{hint}")
        with open(name, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as problem:
        raise error(f"{name}: cannot read: {problem.strerror}") from None
    if len(data) > limit:  # it grew while being read
        raise error(f"{name}: over the limit of {limit} bytes{hint}")
    return data


def read_text(path: str | Path, limit: int, error: type[FlashCopyError]) -> str:
    """The UTF-8 text of `path` (see `read_bytes`); raises `error` naming the line of the
    first byte that is not UTF-8."""
    data = read_bytes(path, limit, error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = data[: problem.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not UTF-8 (byte {problem.start})") from None
