"""Swarm verification: many small random configurations, each searched exhaustively or to a
state bound (said so), in parallel; the first violation shrunk to a smaller configuration
that still fails, written as a configuration file and a schedule file that replay it.

`generate(seed, index)` draws one configuration as a TOML document (a dict), from
`random.Random(f"{seed}:{index}")` alone: the same seed gives the same configurations on
any machine, in any order of completion. Each has two to four volumes of one shape (1-2
tracks of 1-2 bytes), distinct setup data, perhaps one or two relationships (random options,
some space-efficient; a cascade or two targets), a choosing host or two (random ops,
volumes, offsets, lengths, data values, max_ops), perhaps a choosing administrator (random
control ops and options, or a consistency group) and a copier. `shrink` then tries, until
none helps: a process fewer, a smaller max_ops, a value fewer in a domain, a setup op fewer,
a track fewer; a change is kept when the configuration still violates the same property.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashsim.models.check.config import CheckConfigError, parse_config
from flashsim.models.check.explorer import CheckResult, explore
from flashsim.models.check.schedule import write_schedule
from flashsim.models.worker_processes import die_with_parent

#: The state bound of each swarm configuration (most finish well within it: exhaustive).
SWARM_MAX_STATES = 20_000
#: Explorations one shrink may run.
SHRINK_BUDGET = 300

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One swarm configuration's search."""

    index: int
    states: int
    exhaustive: bool
    property: str | None  # the violated property, None if the properties hold
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class Shrunk:
    raw: Raw  # the smallest failing configuration found
    property: str
    steps: int  # its counterexample's length
    attempts: int  # explorations the shrink ran


@dataclass(frozen=True, slots=True)
class SwarmResult:
    seed: int
    outcomes: tuple[Outcome, ...]
    first: int | None  # index of the first failing configuration
    original: Raw | None
    shrunk: Shrunk | None
    elapsed_s: float

    @property
    def holds(self) -> bool:
        return self.first is None


def _subset(rng: random.Random, items: list[Any], most: int) -> list[Any]:
    return sorted(rng.sample(items, rng.randint(1, min(most, len(items)))), key=items.index)


def _bools(rng: random.Random, usual: bool, other: float) -> list[bool]:
    """A boolean domain: usually only `usual`, with probability `other` both values."""
    return [usual, not usual] if rng.random() < other else [usual]


def generate(seed: int, index: int) -> Raw:
    """The `index`-th configuration of swarm `seed` (see the module docstring)."""
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
        ops = _subset(rng, ["write", "read"], 2)
        choose: Raw = {
            "ops": ops,
            "volumes": _subset(rng, names, 2),
            "offsets": _subset(rng, list(range(length)), 2),
            "lengths": _subset(rng, list(range(1, min(length, 2 * size) + 1)), 2),
        }
        if "write" in ops:
            choose["data"] = _subset(rng, ["51", "52", "5152"], 2)
        processes.append({"name": f"host{host}", "max_ops": rng.randint(1, 2), "choose": choose})
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


def _search(raw: Raw, mutant: str | None, name: str = "<swarm>") -> CheckResult | None:
    """The configuration's search; None if it is not a valid configuration (a shrink step
    may make one: a copier whose relationship went)."""
    try:
        config = parse_config(raw, name)
    except CheckConfigError:
        return None
    return explore(config, mutant)


def _run_one(job: tuple[int, int, str | None]) -> Outcome:
    seed, index, mutant = job
    started = time.perf_counter()
    result = _search(generate(seed, index), mutant, f"swarm-{seed}-{index}")
    assert result is not None, "the generator makes valid configurations only"
    cex = result.counterexample
    return Outcome(
        index,
        result.states,
        result.exhaustive,
        None if cex is None else cex.property,
        time.perf_counter() - started,
    )


def _candidates(raw: Raw) -> list[Raw]:
    """Smaller variants of `raw`, the biggest cuts first."""
    out: list[Raw] = []

    def variant() -> Raw:
        return json.loads(json.dumps(raw))

    for i in range(len(raw["processes"])):
        if len(raw["processes"]) > 1:
            smaller = variant()
            del smaller["processes"][i]
            out.append(smaller)
    for i, proc in enumerate(raw["processes"]):
        if proc.get("max_ops", 1) > 1:
            smaller = variant()
            smaller["processes"][i]["max_ops"] -= 1
            out.append(smaller)
    for i, proc in enumerate(raw["processes"]):
        for key in proc.get("choose", {}):
            if key not in ("ops", "sources", "targets"):  # unused, or back to its default
                smaller = variant()
                del smaller["processes"][i]["choose"][key]
                out.append(smaller)
        for key, values in proc.get("choose", {}).items():
            for j in range(len(values) if len(values) > 1 else 0):
                smaller = variant()
                del smaller["processes"][i]["choose"][key][j]
                out.append(smaller)
    for i in range(len(raw["setup"])):
        smaller = variant()
        del smaller["setup"][i]
        out.append(smaller)
    for key in ("tracks", "track_size_bytes"):
        if all(v[key] > 1 for v in raw["volumes"]):
            smaller = variant()
            for volume in smaller["volumes"]:
                volume[key] -= 1
            shape = smaller["volumes"][0]
            for op in smaller["setup"]:  # the setup data, cut to the smaller volumes
                if op["op"] == "write":
                    op["data"] = op["data"][: 2 * shape["tracks"] * shape["track_size_bytes"]]
            out.append(smaller)
    return out


def shrink(raw: Raw, mutant: str | None, prop: str, budget: int = SHRINK_BUDGET) -> Shrunk:
    """The smallest variant of failing `raw` found greedily that still violates `prop`."""
    attempts = 0
    best = _search(raw, mutant)
    assert best is not None and best.counterexample is not None, "shrink a failing one"
    changed = True
    while changed and attempts < budget:
        changed = False
        for candidate in _candidates(raw):
            if attempts >= budget:
                break
            attempts += 1
            result = _search(candidate, mutant)
            cex = None if result is None else result.counterexample
            if cex is not None and cex.property == prop:
                raw, best, changed = candidate, result, True
                break
    assert best is not None and best.counterexample is not None
    return Shrunk(raw, prop, len(best.counterexample.events), attempts)


def swarm(
    count: int, seed: int, mutant: str | None = None, jobs: int = 1, do_shrink: bool = True
) -> SwarmResult:
    """Search `count` generated configurations (`jobs` worker processes, which die with
    this one); shrink the first (lowest index) that fails."""
    started = time.perf_counter()
    work = [(seed, i, mutant) for i in range(count)]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent) as pool:
            outcomes = list(pool.map(_run_one, work))
    else:
        outcomes = [_run_one(job) for job in work]
    failing = [o for o in outcomes if o.property is not None]
    first = failing[0].index if failing else None
    original = shrunk = None
    if first is not None:
        original = generate(seed, first)
        prop = failing[0].property
        assert prop is not None
        shrunk = shrink(original, mutant, prop) if do_shrink else None
    return SwarmResult(
        seed, tuple(outcomes), first, original, shrunk, time.perf_counter() - started
    )


def write_violation(
    result: SwarmResult, mutant: str | None, folder: str | Path
) -> tuple[Path, Path]:
    """The failing configuration (shrunk, if it was) as `swarm-SEED-INDEX.toml` and its
    counterexample as `swarm-SEED-INDEX.schedule.json`, which `flashsim check --replay`
    re-runs."""
    assert result.first is not None and result.original is not None
    raw = result.shrunk.raw if result.shrunk is not None else result.original
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"swarm-{result.seed}-{result.first}"
    config_path, schedule_path = folder / f"{stem}.toml", folder / f"{stem}.schedule.json"
    config_path.write_text(to_toml(raw))
    config = parse_config(raw, str(config_path))
    found = explore(config, mutant)
    assert found.counterexample is not None
    write_schedule(schedule_path, config, mutant, found.counterexample)
    return config_path, schedule_path


def to_toml(raw: Raw) -> str:
    """A configuration document as TOML (the subset the swarm makes: tables, arrays of
    tables, strings, booleans, ints and arrays of them, inline tables)."""
    lines = ["# generated by flashsim check --swarm"]
    for key, value in raw.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {_value(v)}" for k, v in value.items()]
        else:
            for item in value:
                lines += ["", f"[[{key}]]"] + [f"{k} = {_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the names and hex the swarm uses
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
