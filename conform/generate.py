"""Random op logs of the subset QEMU's copy-before-write supports (`flashsim.conform.mapping`),
from a seed: the same seed gives the same lines.

Each log creates a few volumes of 64 KiB tracks, writes to them, and then draws operations one
at a time among those flashsim accepts and the mapping allows in the state reached so far:
writes (short hex data or fills across tracks), reads (often spanning a track boundary),
establishes with and without background copy, background copy steps and withdraws.
"""

from __future__ import annotations

import json
import random
from typing import Any

from flashsim.conform.mapping import MIN_CLUSTER, refusal
from flashsim.models.errors import FlashCopyError
from flashsim.models.oplog import parse_line
from flashsim.models.ops import apply
from flashsim.models.system import System

TRACK = MIN_CLUSTER


def _line(fields: dict[str, Any]) -> str:
    return json.dumps(fields, separators=(", ", ": "))


def _extent(rng: random.Random, size: int) -> tuple[int, int]:
    """An offset and length in a volume of `size` bytes, biased to track boundaries."""
    kind = rng.random()
    if kind < 0.2:
        return 0, size
    if kind < 0.6:  # around a track boundary
        boundary = TRACK * rng.randrange(1, size // TRACK) if size > TRACK else 0
        offset = max(0, boundary - rng.randrange(1, 64))
        return offset, min(size - offset, rng.randrange(2, 128))
    offset = rng.randrange(size)
    return offset, rng.randrange(1, min(size - offset, 2 * TRACK) + 1)


def _candidate(rng: random.Random, system: System, names: list[str], counter: list[int]) -> str:
    volumes = system.volumes
    kind = rng.choices(
        ["write", "read", "establish", "background_copy", "withdraw"], [5, 5, 2, 2, 1]
    )[0]
    if kind in ("background_copy", "withdraw") and system.relationships:
        rel = rng.choice(sorted(system.relationships))
        if kind == "withdraw":
            return _line({"op": "withdraw", "id": rel})
        return _line({"op": "background_copy", "id": rel, "tracks": rng.randrange(1, 4)})
    if kind == "establish":
        source, target = rng.sample(names, 2)
        counter[0] += 1
        return _line(
            {
                "op": "establish",
                "id": f"r{counter[0]}",
                "source": source,
                "target": target,
                "background_copy": rng.random() < 0.5,
            }
        )
    volume = rng.choice(names)
    offset, length = _extent(rng, volumes[volume].size_bytes)
    if kind == "write":
        if length <= 48 and rng.random() < 0.7:
            data = bytes(rng.randrange(256) for _ in range(length)).hex()
            return _line({"op": "write", "volume": volume, "offset": offset, "data": data})
        return _line(
            {
                "op": "write",
                "volume": volume,
                "offset": offset,
                "fill": rng.randrange(256),
                "length": length,
            }
        )
    return _line({"op": "read", "volume": volume, "offset": offset, "length": length})


def generate(seed: int, index: int, ops: int = 30) -> list[str]:
    """Log `index` of the campaign of `seed`: its lines, `ops` operations after the creates
    and first writes."""
    rng = random.Random(f"flashsim-conform:{seed}:{index}")
    system = System()
    lines: list[str] = []
    counter = [0]

    def accept(text: str) -> bool:
        op = parse_line(text, len(lines) + 1)
        assert op is not None
        if refusal(system, op, "raw") is not None:
            return False
        try:
            apply(system, op)
        except FlashCopyError:
            return False
        lines.append(text)
        return True

    try:
        tracks = rng.randrange(2, 7)
        names = [f"vol{i}" for i in range(rng.randrange(2, 4))]
        for name in names:
            accept(_line({"op": "create", "volume": name, "tracks": tracks, "track_size": TRACK}))
        # every track its own content, so a track read from the wrong place shows
        for name in names:
            for track in range(tracks):
                fill = {"fill": rng.randrange(1, 256), "length": TRACK}
                accept(_line({"op": "write", "volume": name, "offset": track * TRACK, **fill}))
        tries = 0
        while len(lines) < len(names) * (tracks + 1) + ops and tries < ops * 20:
            tries += 1
            accept(_candidate(rng, system, names, counter))
    finally:
        system.close()
    return lines
