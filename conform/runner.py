"""Run an op log on flashsim and on another implementation side by side and find the first
read that differs; shrink a failing log to a short one that still differs.

flashsim runs each line first. A line it rejects changed nothing there and is not sent to the
other side (it is counted as skipped); a line it accepts but the other side cannot map is a
`Refused` input. Both sides are sequential, so every read happens at a quiescent point: the
content of the reads is compared, not their timing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from flashsim.conform.mapping import refusal
from flashsim.models.errors import FlashCopyError, OpLogError
from flashsim.models.oplog import parse_lines
from flashsim.models.ops import Op, Read, apply
from flashsim.models.state.store import State
from flashsim.models.system import System


class Refused(Exception):
    """A line flashsim runs but the other side cannot map (`line`, `message`)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class Side(Protocol):
    """The implementation compared with flashsim: runs an op flashsim has just run; `model`
    is flashsim's state after it. Returns a read's data, None otherwise."""

    def run(self, op: Op, model: State) -> bytes | None: ...


@dataclass(frozen=True)
class Difference:
    """The first read that differs: the line, the read, both results; or, with `error`, the
    line at which the other side failed."""

    line: int
    op: Op
    expected: bytes = b""
    got: bytes = b""
    error: str | None = None
    #: the relationship whose target the read read (through its point in time), if any
    target_of: str | None = None
    track_size: int = 0

    def first_byte(self) -> int:
        """The offset in the read of the first byte that differs."""
        for index, (a, b) in enumerate(zip(self.expected, self.got, strict=False)):
            if a != b:
                return index
        return min(len(self.expected), len(self.got))


@dataclass
class Outcome:
    ops: int = 0
    reads: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    difference: Difference | None = None


def compare(
    lines: Sequence[str | bytes],
    side: Side | None,
    image_format: str = "raw",
    failures: tuple[type[BaseException], ...] = (),
) -> Outcome:
    """Run `lines` on a fresh flashsim System and on `side`; stop at the first read that
    differs. Raises OpLogError for a malformed line and Refused for an unmappable one; an
    exception of `failures` raised by the side becomes a Difference with its message."""
    model = System()
    outcome = Outcome()
    try:
        for line, item in parse_lines(lines):
            if isinstance(item, OpLogError):
                raise item
            problem = refusal(model, item, image_format)
            try:
                expected = apply(model, item)
            except FlashCopyError as error:
                outcome.skipped.append((line, str(error)))
                continue
            if problem is not None:
                raise Refused(line, problem)
            assert not isinstance(expected, dict)  # a space report: refused above
            outcome.ops += 1
            if side is None:
                continue
            try:
                got = side.run(item, model)
            except failures as error:
                message = f"{type(error).__name__}: {error}"
                outcome.difference = Difference(line, item, error=message)
                return outcome
            if isinstance(item, Read):
                outcome.reads += 1
                assert expected is not None and got is not None
                if got != expected:
                    target_of = next(
                        (r.id for r in model.relationships.values() if r.target == item.volume),
                        None,
                    )
                    outcome.difference = Difference(
                        line,
                        item,
                        expected,
                        got,
                        target_of=target_of,
                        track_size=model.volumes[item.volume].track_size,
                    )
                    return outcome
    finally:
        model.close()
    return outcome


def check(lines: Sequence[str | bytes], image_format: str = "raw") -> Outcome:
    """Run `lines` on flashsim alone, to find a malformed or refused line before QEMU starts
    (raises as `compare` does)."""
    return compare(lines, None, image_format)


class ModelSide:
    """Another flashsim System as the other side (a variant or seeded bug of the rules):
    how the comparison and the shrinking are tested without QEMU."""

    def __init__(self, system: System) -> None:
        self.system = system

    def run(self, op: Op, _model: State) -> bytes | None:
        got = apply(self.system, op)
        assert not isinstance(got, dict)  # a space report: refused before any side runs
        return got


SideFactory = Callable[[], AbstractContextManager[Side]]


def differs(
    lines: Sequence[str],
    factory: SideFactory,
    image_format: str,
    failures: tuple[type[BaseException], ...],
) -> Difference | None:
    """The difference `lines` show on a fresh side, or None (also for a log that is now
    malformed or refused, which the shrinking drops)."""
    with factory() as side:
        try:
            return compare(lines, side, image_format, failures).difference
        except (OpLogError, Refused):
            return None


def shrink(
    lines: Sequence[str],
    still_fails: Callable[[list[str]], bool],
) -> list[str]:
    """A short sublist of `lines` (order kept) for which `still_fails` holds, by delta
    debugging: drop ever smaller chunks while the failure stays; 1-minimal at the end (no
    single line can be dropped). `still_fails(lines)` must hold."""
    current = [line for line in lines if line.strip()]
    chunks = 2
    while len(current) >= 2:
        size = -(-len(current) // chunks)
        parts = [current[i : i + size] for i in range(0, len(current), size)]
        for index in range(len(parts)):
            rest = [line for j, part in enumerate(parts) if j != index for line in part]
            if still_fails(rest):
                current = rest
                chunks = max(chunks - 1, 2)
                break
        else:
            if chunks >= len(current):
                break
            chunks = min(len(current), chunks * 2)
    return current


def reproducer(
    lines: Sequence[str],
    difference: Difference,
    factory: SideFactory,
    image_format: str,
    failures: tuple[type[BaseException], ...] = (),
) -> list[str]:
    """The shortest log found that still differs: the lines up to the difference, shrunk."""
    prefix = [text for number, text in enumerate(lines, 1) if number <= difference.line]

    def still_fails(candidate: list[str]) -> bool:
        return differs(candidate, factory, image_format, failures) is not None

    return shrink(prefix, still_fails)


@contextlib.contextmanager
def model_side(system_factory: Callable[[], System]) -> Iterator[ModelSide]:
    system = system_factory()
    try:
        yield ModelSide(system)
    finally:
        system.close()
