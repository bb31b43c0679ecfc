"""Swarm verification: many small random configurations, each searched exhaustively or to a
state bound (said so), in parallel; the first violation shrunk to a smaller configuration
that still fails, written as a configuration file and a schedule file that replay it.

`generate(seed, index)` (`flashsim.models.check.swarm_generate`) draws one configuration of
the DS8000, SVC or redirect-on-write design, seeded by the seed and the index alone; a swarm
hunting a mutant draws configurations of its design only. `shrink` then tries, until
none helps: a process fewer, a script's op fewer, a smaller max_ops, a value fewer in a
domain, a setup op fewer, a track fewer; a change is kept when the configuration still
violates the same property.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flashsim.models.check.config import CheckConfig, CheckConfigError, parse_config
from flashsim.models.check.explorer import CheckResult, explore
from flashsim.models.check.mutants import design_of
from flashsim.models.check.schedule import write_schedule
from flashsim.models.check.swarm_generate import Raw, generate
from flashsim.models.output_folder import OutputFolderError, write_file
from flashsim.models.worker_processes import die_with_parent

#: Explorations one shrink may run.
SHRINK_BUDGET = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    """One swarm configuration's search."""

    index: int
    states: int
    exhaustive: bool
    property: str | None  # the violated property, None if the properties hold
    elapsed_s: float
    design: str = "ds8000"  # the configuration's profile design


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


def _search(raw: Raw, mutant: str | None, name: str = "<swarm>") -> CheckResult | None:
    """The configuration's search; None if it is not a valid configuration (a shrink step
    may make one: a copier whose relationship went)."""
    try:
        config = parse_config(raw, name)
    except CheckConfigError:
        return None
    return explore(config, mutant)


def _design(mutant: str | None) -> str | None:
    """The design a swarm draws: a mutant's own (it seeds a bug in that design's rules);
    without one, every design (None)."""
    return None if mutant is None else design_of(mutant)


def _run_one(job: tuple[int, int, str | None]) -> Outcome:
    seed, index, mutant = job
    started = time.perf_counter()
    raw = generate(seed, index, _design(mutant))
    result = _search(raw, mutant, f"swarm-{seed}-{index}")
    assert result is not None, "the generator makes valid configurations only"
    cex = result.counterexample
    return Outcome(
        index,
        result.states,
        result.exhaustive,
        None if cex is None else cex.property,
        time.perf_counter() - started,
        raw["check"].get("profile", "ds8000"),
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
    for i, proc in enumerate(raw["processes"]):  # a script's op fewer (an SVC administrator)
        for j in range(len(proc.get("ops", ())) if len(proc.get("ops", ())) > 1 else 0):
            smaller = variant()
            del smaller["processes"][i]["ops"][j]
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
        original = generate(seed, first, _design(mutant))
        prop = failing[0].property
        assert prop is not None
        shrunk = shrink(original, mutant, prop) if do_shrink else None
    return SwarmResult(
        seed, tuple(outcomes), first, original, shrunk, time.perf_counter() - started
    )


def swarm_configs(count: int, seed: int) -> list[CheckConfig]:
    """The swarm's first `count` configurations of `seed`, parsed (named `swarm-SEED-INDEX`)."""
    return [parse_config(generate(seed, i), f"swarm-{seed}-{i}") for i in range(count)]


def write_violation(
    result: SwarmResult, mutant: str | None, folder: str | Path
) -> tuple[Path, Path]:
    """The failing configuration (shrunk, if it was) as `swarm-SEED-INDEX.toml` and its
    counterexample as `swarm-SEED-INDEX.schedule.json`, which `flashsim check --replay`
    re-runs."""
    assert result.first is not None and result.original is not None
    raw = result.shrunk.raw if result.shrunk is not None else result.original
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(f"{folder}: cannot create the folder: {error.strerror}") from None
    stem = f"swarm-{result.seed}-{result.first}"
    config_path, schedule_path = folder / f"{stem}.toml", folder / f"{stem}.schedule.json"
    write_file(config_path, to_toml(raw))
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
