"""The swarm's configurations: `generate(seed, index)` draws one as a TOML document (a dict),
from random generators seeded by the seed and the index alone, so the same seed gives the
same configurations on any machine, in any order of completion.

The design (`draw_design`, a generator of its own): DS8000 one time in two, SVC and
redirect-on-write one time in four each; a swarm hunting a mutant draws its design only.
Every configuration has volumes of one shape (1-2 tracks of 1-2 bytes) and distinct setup
data; then, by design:

- DS8000: two to four volumes, perhaps one or two relationships (random options, some
  space-efficient; a cascade or two targets), a choosing host or two (random ops, volumes,
  offsets, lengths, data values, max_ops), perhaps a choosing administrator (random control
  ops and options, or a consistency group) and a copier.
- SVC: a source S and two or three targets, a mapping m1 (copy or NOCOPY, incremental or
  not), perhaps a second mapping of S (a cascade) and a third one, only prepared or from T1
  (a mapping of a target); a choosing
  host or two; perhaps an administrator choosing among prepare (of S, or of T1: a mapping
  from a target), start, stop (force),
  delete, refresh and reverse (persistent at times: refused), or one running a script of
  m1 (`_SVC_SCRIPTS`: suspend and resume, a restart, a stop or delete of it suspended, a
  prepare of it copying); a copier of a copying mapping.
- Redirect-on-write: an origin O, a snapshot or two in the setup (perhaps a write between
  them), a choosing host or two (partial writes when a track has two bytes) of the origin
  and the snapshots, perhaps an administrator taking and deleting snapshots (of a snapshot
  too: refused).

An op the engine refuses (a stopped mapping's start, a snapshot over a name in use) is an
outcome the properties check like any other.
"""

from __future__ import annotations

import random
from typing import Any

Raw = dict[str, Any]

#: The state bound of each swarm configuration (most finish well within it: exhaustive).
SWARM_MAX_STATES = 20_000
#: The designs the swarm draws (the profiles' designs).
DESIGNS = ("ds8000", "svc", "row")


def draw_design(seed: int, index: int) -> str:
    """The design of the `index`-th configuration of swarm `seed`: its own generator, so
    the DS8000 configurations are the ones the swarm drew before it knew other designs."""
    roll = random.Random(f"{seed}:{index}:design").random()
    return "ds8000" if roll < 0.5 else "svc" if roll < 0.75 else "row"


def _subset(rng: random.Random, items: list[Any], most: int) -> list[Any]:
    return sorted(rng.sample(items, rng.randint(1, min(most, len(items)))), key=items.index)


def _bools(rng: random.Random, usual: bool, other: float) -> list[bool]:
    """A boolean domain: usually only `usual`, with probability `other` both values."""
    return [usual, not usual] if rng.random() < other else [usual]


def generate(seed: int, index: int, design: str | None = None) -> Raw:
    """The `index`-th configuration of swarm `seed`, of `design` (None: drawn, see the
    module docstring)."""
    if design is None:
        design = draw_design(seed, index)
    if design == "svc":
        return _svc(random.Random(f"{seed}:{index}:svc"), f"swarm {seed} #{index}")
    if design == "row":
        return _row(random.Random(f"{seed}:{index}:row"), f"swarm {seed} #{index}")
    if design != "ds8000":
        raise ValueError(f"unknown design {design!r} (known: {', '.join(DESIGNS)})")
    rng = random.Random(f"{seed}:{index}")
    tracks, size = rng.randint(1, 2), rng.randint(1, 2)
    grouped = rng.random() < 0.15  # a consistency group of two pairs needs four volumes
    names = ["A", "B", "C", "D"][: 4 if grouped else rng.randint(2, 3)]
    volumes = [{"name": n, "tracks": tracks, "track_size_bytes": size} for n in names]
    length = tracks * size
    setup: list[Raw] = []
    for name, first in (("A", 0xA0), ("B", 0xB0), ("C", 0xC0)):  # distinct bytes everywhere
        if name in names and (name == "A" or rng.random() < 0.5):
            data = bytes(range(first, first + length)).hex()
            setup.append({"op": "write", "volume": name, "offset": 0, "data": data})
    rels: list[Raw] = []
    if not grouped and rng.random() < 0.8:
        rels.append(_establish(rng, "r1", "A", "B"))
        if len(names) == 3 and rng.random() < 0.5:
            source = "A" if rels[0].get("target_capacity_tracks") else rng.choice(["A", "B"])
            rels.append(_establish(rng, "r2", source, "C"))
    setup += [{"op": "establish", **r} for r in rels]
    processes: list[Raw] = []
    for host in range(1 if rng.random() < 0.5 else 2):
        processes.append(_host(rng, f"host{host}", names, length, size))
    if grouped:
        members = [
            {"id": "g1", "source": "A", "target": "C", "background_copy": False},
            {"id": "g2", "source": "B", "target": "D", "background_copy": False},
        ]
        choose = {"ops": ["establish_group"], "groups": [members]}
        processes.append({"name": "admin", "max_ops": 1, "choose": choose})
    elif rng.random() < 0.5:
        ids = [r["id"] for r in rels] + ["r3"]
        ops = _subset(rng, ["establish", "withdraw", "refresh", "reverse"], 2)
        choose = {"ops": ops, "ids": _subset(rng, ids, 2)}
        if "establish" in ops:
            choose["sources"] = _subset(rng, names, 2)
            choose["targets"] = _subset(rng, names, 2)
            choose["background_copy"] = _bools(rng, False, 0.3)
            choose["incremental"] = _bools(rng, rng.random() < 0.5, 0.3)
            choose["persistent"] = _bools(rng, False, 0.2)
            choose["inhibit_target_writes"] = _bools(rng, False, 0.2)
            if rng.random() < 0.2:
                choose["target_capacity_tracks"] = ["full", 1]
        if "reverse" in ops:
            choose["fast"] = _bools(rng, rng.random() < 0.5, 0.3)
        processes.append({"name": "admin", "max_ops": 1, "choose": choose})
    copied = [r["id"] for r in rels if r["background_copy"]]
    if copied and rng.random() < 0.7:
        processes.append({"name": "copier", "copier": copied[0]})
    check: Raw = {"description": f"swarm {seed} #{index}", "max_states": SWARM_MAX_STATES}
    return {"check": check, "volumes": volumes, "setup": setup, "processes": processes}


def _establish(rng: random.Random, rel_id: str, source: str, target: str) -> Raw:
    """A setup relationship: a copy or NOCOPY (incremental, persistent at random) or, one
    time in five, a space-efficient target of one track under a random policy."""
    if rng.random() < 0.2:
        policy = rng.choice(["fail_relationship", "inhibit_source_writes"])
        return {"id": rel_id, "source": source, "target": target, "background_copy": False,
                "target_capacity_tracks": 1, "out_of_space": policy}  # fmt: skip
    return {
        "id": rel_id,
        "source": source,
        "target": target,
        "background_copy": rng.random() < 0.6,
        "incremental": rng.random() < 0.5,
        "persistent": rng.random() < 0.3,
    }


def _data(first: int, length: int) -> str:
    """`length` distinct bytes from `first` on, as hex."""
    return bytes(range(first, first + length)).hex()


def _host(rng: random.Random, name: str, volumes: list[str], length: int, size: int) -> Raw:
    """A choosing host: reads and writes of `volumes` at random offsets and lengths."""
    ops = _subset(rng, ["write", "read"], 2)
    choose: Raw = {
        "ops": ops,
        "volumes": _subset(rng, volumes, 2),
        "offsets": _subset(rng, list(range(length)), 2),
        "lengths": _subset(rng, list(range(1, min(length, 2 * size) + 1)), 2),
    }
    if "write" in ops:
        choose["data"] = _subset(rng, ["51", "52", "5152"], 2)
    return {"name": name, "max_ops": rng.randint(1, 2), "choose": choose}


def _svc(rng: random.Random, description: str) -> Raw:
    """An SVC configuration (see the module docstring)."""
    tracks, size = rng.randint(1, 2), rng.randint(1, 2)
    length = tracks * size
    names = ["S", "T1", "T2", "T3"][: rng.randint(3, 4)]
    volumes = [{"name": n, "tracks": tracks, "track_size_bytes": size} for n in names]
    setup: list[Raw] = [{"op": "write", "volume": "S", "offset": 0, "data": _data(0xA0, length)}]
    if rng.random() < 0.3:
        setup.append({"op": "write", "volume": "T1", "offset": 0, "data": _data(0xE0, length)})
    mappings = [_mapping(rng, "m1", "T1")]
    setup.append({"op": "establish", **mappings[0]})
    if rng.random() < 0.6:  # a write between the two points in time, then a cascade
        setup.append({"op": "write", "volume": "S", "offset": 0, "data": _data(0xB0, size)})
        mappings.append(_mapping(rng, "m2", "T2"))
        setup.append({"op": "establish", **mappings[-1]})
    if "T3" in names and rng.random() < 0.5:
        if rng.random() < 0.6:
            mappings.append(_mapping(rng, "m3", "T3"))
            setup.append({"op": "prepare", **mappings[-1]})  # prepared, not started
        else:  # a mapping from a target: T1 -> T3, downstream of m1's target
            mappings.append({**_mapping(rng, "m3", "T3"), "source": "T1"})
            setup.append({"op": "establish", **mappings[-1]})
    processes = [
        _host(rng, f"host{i}", names, length, size) for i in range(1 if rng.random() < 0.5 else 2)
    ]
    ids = [m["id"] for m in mappings]
    roll = rng.random()
    if roll < 0.55:
        ops = _subset(rng, ["prepare", "start", "stop", "withdraw", "refresh", "reverse"], 3)
        choose: Raw = {"ops": ops, "ids": _subset(rng, [*ids, "m4"], 2)}
        if "prepare" in ops:
            choose["sources"] = ["S", "T1"] if rng.random() < 0.3 else ["S"]
            choose["targets"] = _subset(rng, names[1:], 2)
            choose["background_copy"] = _bools(rng, rng.random() < 0.5, 0.3)
            choose["incremental"] = _bools(rng, False, 0.3)
            choose["autodelete"] = _bools(rng, False, 0.3)
            choose["persistent"] = _bools(rng, False, 0.15)  # a ds8000 option: refused
        if "stop" in ops:
            choose["force"] = _bools(rng, rng.random() < 0.5, 0.4)
        processes.append({"name": "admin", "max_ops": rng.randint(1, 2), "choose": choose})
    elif roll < 0.8:
        processes.append({"name": "admin", "ops": rng.choice(_SVC_SCRIPTS)})
    copied = [m["id"] for m in mappings if m["background_copy"]]
    if copied and rng.random() < 0.7:
        processes.append({"name": "copier", "copier": rng.choice(copied)})
    check: Raw = {"description": description, "profile": "svc", "max_states": SWARM_MAX_STATES}
    return {"check": check, "volumes": volumes, "setup": setup, "processes": processes}


#: An SVC administrator's scripts of m1: suspend and resume; a restart (stop, prepare again,
#: start); a stop or a delete of the suspended mapping (refused without force), then a
#: resume; a prepare of a mapping that may be copying (refused), then a start.
_SVC_SCRIPTS: list[list[Raw]] = [
    [{"op": "suspend", "id": "m1"}, {"op": "resume", "id": "m1"}],
    [{"op": "stop", "id": "m1"}, {"op": "prepare", "id": "m1"}, {"op": "start", "id": "m1"}],
    [{"op": "suspend", "id": "m1"}, {"op": "stop", "id": "m1"}, {"op": "resume", "id": "m1"}],
    [{"op": "suspend", "id": "m1"}, {"op": "stop", "id": "m1", "force": True}],
    [{"op": "suspend", "id": "m1"}, {"op": "withdraw", "id": "m1"}, {"op": "resume", "id": "m1"}],
    [{"op": "prepare", "id": "m1"}, {"op": "start", "id": "m1"}],
]


def _mapping(rng: random.Random, rel_id: str, target: str) -> Raw:
    """An SVC mapping of S: copying or NOCOPY, incremental or not."""
    return {
        "id": rel_id,
        "source": "S",
        "target": target,
        "background_copy": rng.random() < 0.5,
        "incremental": rng.random() < 0.3,
    }


def _row(rng: random.Random, description: str) -> Raw:
    """A redirect-on-write configuration (see the module docstring)."""
    tracks, size = rng.randint(1, 2), rng.randint(1, 2)
    length = tracks * size
    volumes = [{"name": "O", "tracks": tracks, "track_size_bytes": size}]
    setup: list[Raw] = [{"op": "write", "volume": "O", "offset": 0, "data": _data(0xA0, length)}]
    snapshots: list[str] = []
    if rng.random() < 0.85:
        setup.append({"op": "snapshot", "volume": "O", "snapshot": "s0"})
        snapshots.append("s0")
        if rng.random() < 0.6:
            setup.append({"op": "write", "volume": "O", "offset": 0, "data": _data(0xB0, size)})
        if rng.random() < 0.35:
            setup.append({"op": "snapshot", "volume": "O", "snapshot": "s1"})
            snapshots.append("s1")
    processes: list[Raw] = []
    taken: list[str] = []
    if rng.random() < 0.7:
        ops = _subset(rng, ["snapshot", "delete_snapshot"], 2)
        if not snapshots and "snapshot" not in ops:  # a delete needs a name some op makes
            ops = ["snapshot", *ops]
        pool = [s for s in ("s0", "s1", "s2") if s in snapshots or "snapshot" in ops]
        choose: Raw = {"ops": ops, "snapshots": _subset(rng, pool or ["s0"], 2)}
        if "snapshot" in ops:
            choose["volumes"] = ["O", "s0"] if "s0" in snapshots and rng.random() < 0.2 else ["O"]
            taken = [s for s in choose["snapshots"] if s not in snapshots]
        processes.append({"name": "admin", "max_ops": rng.randint(1, 2), "choose": choose})
    readable = ["O", *snapshots, *taken]
    for i in range(1 if rng.random() < 0.5 else 2):
        processes.insert(i, _host(rng, f"host{i}", readable, length, size))
    check: Raw = {"description": description, "profile": "row", "max_states": SWARM_MAX_STATES}
    if rng.random() < 0.5:
        check["max_targets_per_source"] = 2
    return {"check": check, "volumes": volumes, "setup": setup, "processes": processes}
