"""A step as the timeline shows it: process, operation, phase and what it did, with the
volumes, tracks and values (hex) it touched."""

from __future__ import annotations

from flashsim.models.check.properties import describe
from flashsim.models.check.records import Event
from flashsim.models.rules.actions import (
    ApplyData,
    ClearBits,
    FailRelationship,
    RaiseError,
    ReadBytes,
    ReadTracks,
    RecordChanges,
    WriteTracks,
)
from flashsim.models.rules.inflight import ACT, DONE, LOCK, PHASES, PLAN, UNLOCK, InFlight


def _span(first: int, end: int) -> str:
    return f"t{first}" + (f"-{end - 1}" if end - first > 1 else "")


def _act_detail(op: InFlight, action: object) -> str:
    """What one micro-action did, with the volumes, tracks and values (hex) it touched."""
    if isinstance(action, ReadTracks):
        where = " ".join(f"{v} {_span(f, e)}" for v, f, e in action.runs)
        return f"read {where} = {_show_images(op.buffer or ())} ({action.purpose})"
    if isinstance(action, WriteTracks):
        span = _span(action.first, action.first + len(op.buffer or ()))
        return f"write {action.volume} {span} = {_show_images(op.buffer or ())} ({action.purpose})"
    if isinstance(action, ClearBits):
        return f"clear {action.relationship} {_span(action.first, action.end)}"
    if isinstance(action, ApplyData):
        end = action.offset + len(action.data)
        return f"apply {action.volume}[{action.offset}:{end}] = {action.data.hex()}"
    if isinstance(action, RecordChanges):
        return f"record {action.volume} {_span(action.first, action.end)}"
    if isinstance(action, ReadBytes):
        src = ",".join(f"{v}[{o}:{o + n}]" for v, o, n in action.segments)
        return f"read {src} = {(op.result or b'').hex()}"
    if isinstance(action, FailRelationship):
        return f"fail {action.relationship}"
    if isinstance(action, RaiseError):
        return f"error {type(action.error).__name__}"
    return repr(action)


def _show_images(images: list[bytes | None] | tuple[()]) -> str:
    return ",".join("--" if image is None else bytes(image).hex() for image in images)


def step_event(process: str, before: int, op: InFlight, action: object) -> Event:
    """The line of the timeline of the step `op` just took from phase `before`."""
    phase, detail = _step_detail(before, op, action)
    return Event(process, describe(op), phase, detail)


def _step_detail(before: int, op: InFlight, action: object) -> tuple[str, str]:
    """The timeline's phase and detail of the step `op` just took from phase `before`."""
    if before == LOCK:
        span = _span(op.first, op.end)
        if op.phase == LOCK and op.locks:  # (mutant lock_volume_by_volume) part of its locks
            detail = f"lock {','.join(sorted({k[0] for k in op.locks}))} {span}, waits for more"
        elif op.phase == LOCK:  # (mutant copy_no_recheck) the track chosen, nothing locked
            detail = f"choose {span}"
        elif op.kind == "control":
            detail = f"error {type(op.error).__name__}" if op.error else "done"
        elif op.phase == DONE:
            detail = f"error {type(op.error).__name__}" if op.error else "nothing to do"
        else:
            vols = sorted({k[0] for k in op.locks})
            detail = f"lock {','.join(vols) or 'nothing'} {span}"
        phase = "control" if op.kind == "control" else "lock"
    elif before == PLAN:
        phase = "plan"
        detail = f"error {type(op.error).__name__}" if op.error else f"{len(op.plan)} actions"
    elif before == ACT:
        phase = "act"
        detail = _act_detail(op, action)
    else:
        phase = PHASES[before]
        detail = f"-> {op.result.hex()}" if before == UNLOCK and op.result is not None else ""
        if before == UNLOCK and op.error is not None:
            detail = f"-> error {type(op.error).__name__}"
    return phase, detail
