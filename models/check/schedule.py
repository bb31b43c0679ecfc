"""Counterexamples as data: a readable timeline, a schedule file, and its deterministic replay.

A schedule is the list of process names, one per step: which process moved next. Replaying it
on the same configuration (and mutant) re-executes exactly the same steps, since the steps are
deterministic and the scheduler is the only choice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flashsim.models.check import properties as props
from flashsim.models.check.config import CheckConfig
from flashsim.models.check.explorer import Counterexample
from flashsim.models.check.mutants import MUTANTS
from flashsim.models.check.records import Event, Violation
from flashsim.models.check.world import advance, choices, initial_world, is_final
from flashsim.models.errors import FlashCopyError
from flashsim.models.input_files import read_text
from flashsim.models.limits import MAX_CONFIG_FILE_BYTES
from flashsim.models.output_folder import write_file

SCHEDULE_FORMAT = "flashsim-schedule-1"


class ScheduleError(FlashCopyError):
    """A schedule file that cannot be replayed; the message names file and step."""


def format_timeline(events: tuple[Event, ...] | list[Event]) -> list[str]:
    """One line per step: number, process, operation, phase, what it did (volume, track,
    value in hex)."""
    width_p = max([len("process"), *(len(e.process) for e in events)])
    width_o = max([len("operation"), *(len(e.operation) for e in events)])
    lines = [f"{'step':>4}  {'process':<{width_p}}  {'operation':<{width_o}}  {'phase':<7}  detail"]
    for n, event in enumerate(events, 1):
        lines.append(
            f"{n:>4}  {event.process:<{width_p}}  {event.operation:<{width_o}}  "
            f"{event.phase:<7}  {event.detail}".rstrip()
        )
    return lines


def format_counterexample(cex: Counterexample) -> str:
    """The counterexample as the checker prints it."""
    head = f"counterexample ({len(cex.events)} steps): {cex.property}: {cex.message}"
    return "\n".join([head, *format_timeline(cex.events)])


def write_schedule(
    path: str | Path, config: CheckConfig, mutant: str | None, cex: Counterexample
) -> None:
    """Write a schedule file that `replay_schedule` (and `flashsim check --replay`) re-runs."""
    record = {
        "format": SCHEDULE_FORMAT,
        "config": config.path,
        "mutant": mutant,
        "property": cex.property,
        "message": cex.message,
        "schedule": list(cex.schedule),
    }
    write_file(path, json.dumps(record, indent=1) + "\n")


def read_schedule(path: str | Path) -> dict[str, object]:
    """Load and validate a schedule file."""
    name = str(path)
    text = read_text(path, MAX_CONFIG_FILE_BYTES, ScheduleError)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScheduleError(f"{name}: not JSON: {error}") from None
    except RecursionError:
        raise ScheduleError(f"{name}: not JSON: nested too deeply") from None
    if not isinstance(record, dict) or record.get("format") != SCHEDULE_FORMAT:
        raise ScheduleError(f"{name}: format: expected {SCHEDULE_FORMAT!r}")
    for key, kind in (("config", str), ("schedule", list)):
        if not isinstance(record.get(key), kind):
            raise ScheduleError(f"{name}: {key}: missing or not a {kind.__name__}")
    mutant = record.get("mutant")
    if mutant is not None and (not isinstance(mutant, str) or mutant not in MUTANTS):
        raise ScheduleError(f"{name}: mutant: expected the name of a mutant or null")
    steps = record["schedule"]
    assert isinstance(steps, list)  # checked above
    for i, step in enumerate(steps):
        if not isinstance(step, str):
            raise ScheduleError(f"{name}: schedule[{i}]: expected a process name")
    return record


@dataclass(frozen=True, slots=True)
class Replay:
    events: tuple[Event, ...]
    violation: Violation | None


def replay_schedule(
    config: CheckConfig, mutant: str | None, schedule: list[str] | tuple[str, ...], source: str = ""
) -> Replay:
    """Re-run `schedule` step by step; stop at the first violation (or report the deadlock
    or unfinished copy the schedule ends in). Raises ScheduleError if a step is not enabled."""
    setting, world = initial_world(config, mutant)
    index = setting.moves  # a process name, or a choosing process's "name: op"
    events: list[Event] = []
    seen = {world.ident(): 0}
    for n, name in enumerate(schedule, 1):
        if name not in index:
            raise ScheduleError(f"{source}: schedule[{n - 1}]: unknown process {name!r}")
        proc = index[name]
        if proc not in choices(world, setting):
            raise ScheduleError(f"{source}: schedule[{n - 1}]: process {name} cannot step now")
        world, event, violations, _ = advance(world, setting, proc)
        events.append(event)
        if violations:
            return Replay(tuple(events), violations[0])
        earlier = seen.setdefault(world.ident(), n)
        if earlier != n and n == len(schedule):
            message = (
                f"steps {earlier + 1}-{n} return to the state after step {earlier}: a cycle "
                "that can repeat forever, the copy never completing"
            )
            return Replay(tuple(events), Violation("no_copy_starvation_cycle", message))
    if not choices(world, setting):
        if not is_final(world, setting):
            return Replay(
                tuple(events),
                Violation(
                    "no_deadlock", "no process can take a step, yet not every process is done"
                ),
            )
        unfinished = props.copy_completes(world.system, setting.copied)
        if unfinished is not None:
            return Replay(tuple(events), Violation("copy_completes", unfinished))
    return Replay(tuple(events), None)
