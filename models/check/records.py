"""The records a search keeps per process and reports per step: a process's state, a
timeline event and a violation."""

from __future__ import annotations

from typing import NamedTuple

from flashsim.models.check.properties import Expected
from flashsim.models.rules.inflight import InFlight

#: The op id of a process with no operation in flight.
NO_OP = -1


class ProcState(NamedTuple):
    pc: int  # index of the next op to start (host processes)
    op: InFlight | None  # the operation in flight; never mutated once stored
    expected: Expected | None  # its serial outcome, once it took its locks
    op_id: int = NO_OP  # the op's number in the memo
    id: int = 0  # the record's number in the memo: (pc, op_id, expected)


class Event(NamedTuple):
    """One step, as the timeline shows it."""

    process: str
    operation: str
    phase: str
    detail: str


class Violation(NamedTuple):
    property: str
    message: str
