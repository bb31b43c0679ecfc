"""Micro-actions: the atomic effects a step applies to the state.

A plan (see `flashsim.models.rules.plans`) is a tuple of these; `perform` applies one. Every action
reads or writes explicit state only, so a checker can interleave the actions of several operations
and a simulator can charge device time for each (its `purpose` says what kind of back-end I/O it
is). Nothing here decides *what* to copy: that is the rules' job, in `flashsim.models.rules.plans`.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from flashsim.models.errors import FlashCopyError
from flashsim.models.state.backend import TrackImages
from flashsim.models.state.store import State

# Purposes: what kind of back-end I/O an action is (the simulator charges and counts by it).
HOST = "host"
COPY_BEFORE_WRITE = "copy_before_write"
TARGET_PRECOPY = "target_precopy"
BACKGROUND = "background"
REDIRECTED = "redirected"
RULE0 = "rule0"
CLEANING = "cleaning"  # SVC: a stopping mapping's grains copied to the mapping that needs them
ROW_REMAP = "row_remap"  # redirect-on-write: a block handed to a snapshot, metadata only
ROW_MERGE = "row_merge"  # redirect-on-write: the old block a partial write merges into its new one


class ReadTracks(NamedTuple):
    """Load whole tracks from physical locations into the operation's buffer."""

    runs: tuple[tuple[str, int, int], ...]  # (volume holding the data, first, end)
    purpose: str


class WriteTracks(NamedTuple):
    """Store the buffer on `volume` from track `first` on."""

    volume: str
    first: int
    purpose: str


class ClearBits(NamedTuple):
    """Clear bits [first, end) of a relationship; rule 5 may end it."""

    relationship: str
    first: int
    end: int


class ApplyData(NamedTuple):
    """The host's bytes land on the volume's physical tracks."""

    volume: str
    offset: int
    data: bytes


class RecordChanges(NamedTuple):
    """Change recording (rule 7) marks tracks [first, end) of `volume`."""

    volume: str
    first: int
    end: int


class ReadBytes(NamedTuple):
    """A host read: bytes from physical locations, concatenated into the result."""

    segments: tuple[tuple[str, int, int], ...]  # (volume holding the data, offset, length)
    purpose: str


class FailRelationship(NamedTuple):
    """A space-efficient relationship under `fail_relationship` runs out of space."""

    relationship: str


class RaiseError(NamedTuple):
    """End the operation with this error (after the actions before it took effect)."""

    error: FlashCopyError


Action = (
    ReadTracks
    | WriteTracks
    | ClearBits
    | ApplyData
    | RecordChanges
    | ReadBytes
    | FailRelationship
    | RaiseError
)


class Scratch(Protocol):
    """What an action may use of the operation performing it (an `InFlight` has these)."""

    buffer: TrackImages | None
    result: bytes | None
    error: FlashCopyError | None


def perform(system: State, op: Scratch, action: Action) -> None:
    """Apply one action atomically to `system`, using `op`'s buffer and result."""
    kind = type(action)
    if kind is ReadTracks:
        buffer: list[bytes | None] = []
        for volume, first, end in action.runs:  # type: ignore[union-attr]
            buffer.extend(system.volumes[volume].backend.load(first, end))
        op.buffer = buffer
    elif kind is WriteTracks:
        assert op.buffer is not None, "WriteTracks needs a ReadTracks before it"
        system.volumes[action.volume].backend.store(action.first, op.buffer)  # type: ignore[union-attr]
        system.note_allocation(action.volume, action.first, action.first + len(op.buffer))  # type: ignore[union-attr]
    elif kind is ClearBits:
        system.clear_bits(action.relationship, action.first, action.end)  # type: ignore[union-attr]
    elif kind is ApplyData:
        volume = system.volumes[action.volume]  # type: ignore[union-attr]
        volume.backend.write(action.offset, action.data)  # type: ignore[union-attr]
        if action.volume in system.incoming:  # type: ignore[union-attr]  # else none to note
            ts = volume.track_size  # (the range was checked when the write took its locks)
            offset: int = action.offset  # type: ignore[union-attr]
            end = (offset + len(action.data) - 1) // ts + 1  # type: ignore[union-attr]
            system.note_allocation(volume.name, offset // ts, end)
    elif kind is RecordChanges:
        system.record_changes(action.volume, ((action.first, action.end),))  # type: ignore[union-attr]
    elif kind is ReadBytes:
        op.result = b"".join(
            system.volumes[volume].backend.read(offset, length)
            for volume, offset, length in action.segments  # type: ignore[union-attr]
        )
    elif kind is FailRelationship:
        rel = system.relationships.get(action.relationship)  # type: ignore[union-attr]
        if rel is not None:
            rel.failed = True
    elif kind is RaiseError:
        op.error = action.error  # type: ignore[union-attr]
    else:  # pragma: no cover - a new action type without a case here
        raise AssertionError(f"unknown action {action!r}")
