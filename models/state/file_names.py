"""File names for volumes: a reversible encoding of a volume name, so that two volumes never
share a file (`replay --dump` images, the file backend's sparse volume files)."""

from __future__ import annotations

import hashlib

#: Bytes of a volume name kept as they are in its image's file name (docs/oplog.md).
_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
#: Longer encodings are cut and end in "~" and a hash of the whole name.
NAME_LIMIT = 150


def image_file_stem(volume: str) -> str:
    """The file name (without `.img`) of `volume`'s image: a reversible encoding, so two
    names never share a file. Each byte of the UTF-8 encoding (lone surrogates allowed, as in
    JSON) in `[A-Za-z0-9_.-]` is kept, except a leading `.` or `-`; every other byte,
    including `%`, is written `%XX`. An encoding over NAME_LIMIT characters is cut at an
    escape's boundary to leave room for `~` and the first 32 hex digits of the name's SHA-256
    (`~` appears in no uncut encoding).

    >>> [image_file_stem(v) for v in ("A", "../escape", "x-2e2e2f657363617065", "caf\u00e9")]
    ['A', '%2E.%2Fescape', 'x-2e2e2f657363617065', 'caf%C3%A9']
    """
    data = volume.encode("utf-8", "surrogatepass")
    parts = [
        chr(b) if b in _KEPT and not (i == 0 and b in b".-") else f"%{b:02X}"
        for i, b in enumerate(data)
    ]
    if sum(map(len, parts)) <= NAME_LIMIT:
        return "".join(parts)
    kept, room = [], NAME_LIMIT - 33
    for part in parts:
        room -= len(part)
        if room < 0:
            break
        kept.append(part)
    return "".join(kept) + "~" + hashlib.sha256(data).hexdigest()[:32]
