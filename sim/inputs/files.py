"""Reading an input file safely: a regular file (a device or a pipe may never end) of at
most a given size, or an error of the caller's class naming the file."""

from __future__ import annotations

import os
import stat

from flashsim.models.errors import FlashCopyError


def read_regular_file(name: str, limit: int, error: type[FlashCopyError], hint: str = "") -> bytes:
    """The bytes of `name`; raises `error` if it is not a regular file, is over `limit`
    bytes (`hint` says what to do then) or cannot be read."""
    try:
        info = os.stat(name)
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
