"""Sizes and rates as scenario files write them: fio sizes (4k, 1MiB), and the SAN Volume
Controller copy-rate scale."""

from __future__ import annotations

import re
from typing import Any

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_MULT = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": GIB * KIB, "p": GIB * MIB}


def parse_size(text: Any) -> int:
    """A fio size: bytes as an integer, or a string with k/m/g/t suffix (base 1024).

    >>> parse_size("4k"), parse_size("1MiB"), parse_size(512)
    (4096, 1048576, 512)
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise ValueError(f"not a size: {text!r}")
    match = _SIZE.match(text) if len(text) <= 32 else None
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 4k, 64k, 1m)")
    value = float(match.group(1)) * _MULT[match.group(2).lower()]
    if value != int(value):
        raise ValueError(f"not a whole number of bytes: {text!r}")
    return int(value)


def svc_copy_rate_bytes_s(copy_rate: int) -> float:
    """The SAN Volume Controller copy-rate scale (docs/semantics.md, "Facts the model
    respects"): 0 = no background copy, 1-10 copy 128 KiB/s and each further band of ten
    doubles it, up to 2 GiB/s at 141-150.

    >>> [svc_copy_rate_bytes_s(r) / KIB for r in (0, 1, 10, 11, 50, 100)]
    [0.0, 128.0, 128.0, 256.0, 2048.0, 65536.0]
    """
    if copy_rate == 0:
        return 0.0
    band = (copy_rate - 1) // 10
    return float(128 * KIB * (1 << band))
