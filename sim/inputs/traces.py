"""Block-trace readers: fio iolog (v2, v3), blkparse default text output, SNIA MSR Cambridge
CSV and the CloudPhysics vscsi CSV, read into one numpy record array.

Parsing is vectorised: a whole-file regular expression or numpy's C CSV reader does the work,
never a Python loop per field. Only when a file has a line that does not parse does a
per-line pass run, to name that line (or to skip and count bad lines on request).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flashsim.models.errors import FlashCopyError
from flashsim.models.input_files import read_bytes
from flashsim.models.limits import MAX_IO_BYTES, MAX_TRACK_SIZE, MAX_TRACKS

FORMATS = ("fio-iolog", "blkparse", "msr", "cloudphysics")
RECORD = np.dtype([("time_s", "f8"), ("write", "?"), ("offset", "i8"), ("length", "i8")])
SECTOR = 512
#: A trace is read whole into memory: 2 GiB is some 50 million records of any format.
MAX_TRACE_FILE_BYTES = 2 << 30
#: Byte offsets a record may address: the largest volume the engine takes.
MAX_TRACE_OFFSET_BYTES = MAX_TRACKS * MAX_TRACK_SIZE
# SCSI data opcodes: READ(6/10/12/16) and WRITE(6/10/12/16).
_SCSI_READS = (0x08, 0x28, 0xA8, 0x88)
_SCSI_WRITES = (0x0A, 0x2A, 0xAA, 0x8A)


class TraceError(FlashCopyError):
    """A trace that cannot be read: names the file and, where it can, the line."""


@dataclass(frozen=True)
class Trace:
    """I/O records in time order of the file: `time_s` from the first record (0 where the
    format has no time), `write`, byte `offset` and `length`."""

    path: str
    format: str
    records: np.ndarray
    timed: bool  # False: the format has no timestamps (fio iolog v2): replay closed-loop
    skipped_lines: int = 0  # malformed lines skipped on request
    ignored: int = 0  # well-formed records that carry no data I/O (trim, sync, other events)

    def __len__(self) -> int:
        return len(self.records)


def _lines_error(path: str, text: bytes, good: re.Pattern[bytes], skip: re.Pattern[bytes] | None,
                 *, explain: Callable[[bytes], str], skip_bad: bool,
                 first_line: int = 1) -> tuple[bytes, int]:  # fmt: skip
    """The per-line pass: raise naming the first bad line, or drop bad lines and count them."""
    kept, bad = [], 0
    for number, line in enumerate(text.split(b"\n"), start=first_line):
        stripped = line.rstrip(b"\r")
        if skip is not None and not stripped.strip() and skip.fullmatch(stripped):
            continue  # a blank line, whitespace or not: numpy reads only truly empty ones
        inner_cr = b"\r" in stripped  # numpy would end the line there
        if not inner_cr and (
            good.fullmatch(stripped) or (skip is not None and skip.fullmatch(stripped))
        ):
            kept.append(line)
            continue
        if not skip_bad:
            why = f"a carriage return inside the line: {_show(stripped)}" if inner_cr else None
            raise TraceError(f"{path}:{number}: {why or explain(stripped)}")
        bad += 1
    return b"\n".join(kept), bad


def _show(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return repr(text if len(text) <= 60 else text[:57] + "...")


# -- CloudPhysics vscsi CSV: version,time,op,size,lbn ----------------------------------------
_CP_LINE = re.compile(rb"\d{1,18},\d{1,18},[0-9A-Fa-f]{1,2},\d{1,18},\d{1,18}")
_CP_SKIP = re.compile(rb"\s*|version,time,op,size,lbn")


def _cloudphysics(path: str, text: bytes, skip_bad: bool) -> tuple[np.ndarray, int, int]:
    header, _, body = text.partition(b"\n")
    if header.rstrip(b"\r") != b"version,time,op,size,lbn":
        raise TraceError(
            f"{path}:1: expected the header 'version,time,op,size,lbn', got {_show(header)}"
        )
    bad = 0
    dtype = [("version", "i8"), ("time", "i8"), ("op", "S2"), ("size", "i8"), ("lbn", "i8")]
    try:
        rows = _csv(body, dtype)
        if not all(re.fullmatch(rb"[0-9A-Fa-f]{1,2}", o) for o in np.unique(rows["op"]).tolist()):
            raise ValueError("op")  # a handful of distinct opcodes, checked once each
    except (ValueError, OverflowError):  # a number past int64: the line parser names it
        body, bad = _lines_error(
            path, text, _CP_LINE, _CP_SKIP, explain=_explain_cloudphysics, skip_bad=skip_bad
        )
        body = body.partition(b"\n")[2]
        rows = _csv(body, dtype)
    codes = {raw: int(raw, 16) for raw in np.unique(rows["op"]).tolist()}
    op = np.zeros(len(rows), dtype=np.int64)
    for raw, code in codes.items():  # a handful of distinct opcodes, not a loop per record
        op[rows["op"] == raw] = code
    is_read = np.isin(op, _SCSI_READS)
    is_write = np.isin(op, _SCSI_WRITES)
    data = is_read | is_write
    out = np.empty(int(data.sum()), dtype=RECORD)
    times = rows["time"][data]
    out["time_s"] = (times - (times[0] if len(times) else 0)) * 1e-6
    out["write"] = is_write[data]
    out["offset"] = _sector_bytes(rows["lbn"][data])
    out["length"] = rows["size"][data]
    return out, bad, int((~data).sum())


def _explain_cloudphysics(line: bytes) -> str:
    fields = line.split(b",")
    if len(fields) != 5:
        return f"expected 5 fields version,time,op,size,lbn, got {len(fields)}: {_show(line)}"
    for name, value in zip(("version", "time", "op", "size", "lbn"), fields, strict=True):
        if name == "op" and not re.fullmatch(rb"[0-9A-Fa-f]{1,2}", value):
            return f'"op" must be a SCSI opcode in hex, got {_show(value)}'
        if name != "op" and not value.isdigit():
            return f'"{name}" must be a non-negative integer, got {_show(value)}'
        if name != "op" and len(value) > 18:
            return f'"{name}" is too large ({len(value)} digits; at most 18)'
    return f"cannot read {_show(line)}"


def _csv(body: bytes, dtype: list[tuple[str, str]]) -> np.ndarray:
    if not body.strip():
        return np.empty(0, dtype=dtype)
    return np.atleast_1d(
        np.loadtxt(io.BytesIO(body), delimiter=",", dtype=dtype, ndmin=1, comments=None)
    )


# -- SNIA MSR Cambridge: Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime ------------
_MSR_LINE = re.compile(rb"\d{1,18},[^,]*,\d{1,18},(?:Read|Write),\d{1,18},\d{1,18},\d{1,18}")
_MSR_SKIP = re.compile(rb"\s*")


def _msr(path: str, text: bytes, skip_bad: bool) -> tuple[np.ndarray, int, int]:
    dtype = [("ts", "i8"), ("host", "S64"), ("disk", "i8"), ("type", "S5"), ("offset", "i8"),
             ("size", "i8"), ("response", "i8")]  # fmt: skip
    bad = 0
    try:
        rows = _csv(text, dtype)
        if len(rows) and not np.isin(rows["type"], (b"Read", b"Write")).all():
            raise ValueError("type")
    except (ValueError, OverflowError):
        text, bad = _lines_error(
            path, text, _MSR_LINE, _MSR_SKIP, explain=_explain_msr, skip_bad=skip_bad
        )
        rows = _csv(text, dtype)
    out = np.empty(len(rows), dtype=RECORD)
    ts = rows["ts"]
    out["time_s"] = (ts - (ts[0] if len(ts) else 0)) * 1e-7  # 100 ns units (Windows FILETIME)
    out["write"] = rows["type"] == b"Write"
    out["offset"] = rows["offset"]
    out["length"] = rows["size"]
    return out, bad, 0


def _explain_msr(line: bytes) -> str:
    fields = line.split(b",")
    names = ("Timestamp", "Hostname", "DiskNumber", "Type", "Offset", "Size", "ResponseTime")
    if len(fields) != 7:
        return f"expected 7 fields {','.join(names)}, got {len(fields)}: {_show(line)}"
    for name, value in zip(names, fields, strict=True):
        if name == "Type" and value not in (b"Read", b"Write"):
            return f'"Type" must be Read or Write, got {_show(value)}'
        if name not in ("Type", "Hostname") and not value.isdigit():
            return f'"{name}" must be a non-negative integer, got {_show(value)}'
        if name not in ("Type", "Hostname") and len(value) > 18:
            return f'"{name}" is too large ({len(value)} digits; at most 18)'
    return f"cannot read {_show(line)}"


# -- blkparse default output: maj,min cpu seq time pid action rwbs sector + n [proc] ------------
_BLK_PREFIX = rb"\s*\d+,\d+\s+\d+\s+\d+\s+"  # device, cpu, sequence


def _blkparse_fast(text: bytes, action: bytes) -> tuple[np.ndarray, int, int] | None:
    """numpy's C reader on the lines that mention the action; None (use the line parser)
    unless every such line is a well-formed data event of that action."""
    if b"\t" in text:
        return None  # blkparse's default format separates fields with spaces; be exact otherwise
    token = b" " + action + b" "
    picked = b"\n".join(line for line in text.split(b"\n") if token in line)
    if not picked:
        return None
    dtype = [("time", "f8"), ("action", "S2"), ("rwbs", "S8"), ("sector", "i8"), ("plus", "S1"),
             ("count", "i8")]  # fmt: skip
    try:
        rows = np.loadtxt(
            io.BytesIO(picked), dtype=dtype, usecols=(3, 5, 6, 7, 8, 9), ndmin=1, comments=None
        )
    except (ValueError, OverflowError):
        return None
    if not ((rows["action"] == action).all() and (rows["plus"] == b"+").all()):
        return None
    if not np.isfinite(rows["time"]).all():  # "1e999" is a float to numpy, not a blkparse time
        return None
    rwbs = rows["rwbs"]
    not_discard = np.char.find(rwbs, b"D") < 0
    is_write = (np.char.find(rwbs, b"W") >= 0) & not_discard
    keep = (is_write | ((np.char.find(rwbs, b"R") >= 0) & not_discard)) & (rows["count"] > 0)
    out = np.empty(int(keep.sum()), dtype=RECORD)
    t = rows["time"][keep]
    out["time_s"] = t - (t[0] if len(t) else 0.0)
    out["write"] = is_write[keep]
    out["offset"] = _sector_bytes(rows["sector"][keep])
    out["length"] = _sector_bytes(rows["count"][keep])
    return out, 0, int((~keep).sum())


def _blkparse(path: str, text: bytes, skip_bad: bool, event: str) -> tuple[np.ndarray, int, int]:
    action = event.encode()
    fast = _blkparse_fast(text, action)
    if fast is not None:
        return fast
    # every line of the chosen action, well formed or not: the count to check parsing against
    chosen_lines = re.compile(rb"^" + _BLK_PREFIX + rb"\S+\s+\d+\s+" + action + rb"\s", re.M)
    chosen = re.compile(
        rb"^" + _BLK_PREFIX + rb"(\d{1,18}\.\d{1,18})\s+\d+\s+" + action
        + rb"\s+([A-Z]+)(?:\s+(\d{1,18}) \+ (\d{1,18}))?(?:\s+\[[^\n]*)?[ \t]*\r?$", re.M
    )  # fmt: skip
    matches = chosen.findall(text)
    bad = 0
    if len(matches) != len(chosen_lines.findall(text)):
        good = re.compile(chosen.pattern[1:].replace(rb"\r?$", rb"\r?"))
        other = re.compile(rb"(?!" + _BLK_PREFIX + rb"\S+\s+\d+\s+" + action + rb"\s).*")
        text, bad = _lines_error(
            path, text, good, other, explain=_explain_blkparse, skip_bad=skip_bad
        )
        matches = chosen.findall(text)
    if not matches:
        return np.empty(0, dtype=RECORD), bad, 0
    times, rwbs, sectors, counts = (np.array(column) for column in zip(*matches, strict=True))
    has_data = (sectors != b"") & (counts != b"") & (counts != b"0")
    not_discard = np.char.find(rwbs, b"D") < 0  # a discard carries no data to copy
    is_write = (np.char.find(rwbs, b"W") >= 0) & not_discard
    is_read = (np.char.find(rwbs, b"R") >= 0) & not_discard
    keep = has_data & (is_write | is_read)
    out = np.empty(int(keep.sum()), dtype=RECORD)
    t = times[keep].astype(np.float64)
    out["time_s"] = t - (t[0] if len(t) else 0.0)
    out["write"] = is_write[keep]
    out["offset"] = _sector_bytes(np.where(keep, sectors, b"0")[keep].astype(np.int64))
    out["length"] = _sector_bytes(np.where(keep, counts, b"0")[keep].astype(np.int64))
    return out, bad, int((~keep).sum())


def _explain_blkparse(line: bytes) -> str:
    return (
        "expected 'maj,min cpu seq seconds.nanoseconds pid action rwbs sector + sectors' "
        "(numbers of at most 18 digits), got " + _show(line)
    )


# -- fio iolog v2 / v3 ------------------------------------------------------------------------
_FIO_ACTIONS = rb"read|write|trim|sync|datasync|sync_file_range|wait|add|open|close"


def _fio_iolog(path: str, text: bytes, skip_bad: bool) -> tuple[np.ndarray, int, int, bool]:
    header, _, body = text.partition(b"\n")
    header = header.strip()
    if header not in (b"fio version 2 iolog", b"fio version 3 iolog"):
        raise TraceError(
            f"{path}:1: not a fio iolog: the first line must be 'fio version 2 iolog' or "
            f"'fio version 3 iolog', got {_show(header)}"
        )
    v3 = header == b"fio version 3 iolog"
    fast = _fio_fast(body, v3)
    if fast is not None:
        return (*fast, v3)
    stamp = rb"(\d{1,18})\s+" if v3 else rb"()"
    fields = rb"(?:[ \t]+(\d{1,18})(?:[ \t]+(\d{1,18}))?)?[ \t]*\r?$"
    line = re.compile(rb"^[ \t]*" + stamp + rb"\S+[ \t]+(" + _FIO_ACTIONS + rb")" + fields, re.M)
    matches = line.findall(body)
    nonblank = len(re.findall(rb"^[ \t]*\S", body, re.M))
    bad = 0
    if len(matches) != nonblank:
        good = re.compile(line.pattern[1:].replace(rb"\r?$", rb"\r?"))
        body, bad = _lines_error(
            path,
            body,
            good,
            re.compile(rb"\s*"),
            explain=_explain_fio,
            skip_bad=skip_bad,
            first_line=2,
        )
        matches = line.findall(body)
    if not matches:
        return np.empty(0, dtype=RECORD), bad, 0, v3
    stamps, actions, offsets, lengths = (np.array(c) for c in zip(*matches, strict=True))
    is_read, is_write = actions == b"read", actions == b"write"
    data = (is_read | is_write) & (lengths != b"")
    off = np.where(offsets == b"", b"0", offsets).astype(np.int64)
    if v3:
        t = stamps.astype(np.int64) * 1e-6  # microseconds since the job started
    else:  # v2 has no clock: time advances only by "wait" lines (delay in microseconds)
        t = np.cumsum(np.where(actions == b"wait", off, 0)) * 1e-6
    out = np.empty(int(data.sum()), dtype=RECORD)
    times = t[data]
    out["time_s"] = times - (times[0] if len(times) else 0.0)
    out["write"] = is_write[data]
    out["offset"] = off[data]
    out["length"] = lengths[data].astype(np.int64)
    return out, bad, int((~data).sum()), v3


_FIO_NO_DATA = re.compile(
    rb"^[^\n]*[ \t](?:add|open|close|sync|datasync|sync_file_range)\b[^\n]*\n?", re.M
)


def _fio_fast(body: bytes, v3: bool) -> tuple[np.ndarray, int, int] | None:
    """numpy's C reader on the data lines; None (use the line parser) on any surprise."""
    if not v3 and re.search(rb"[ \t]wait\b", body):
        return None  # v2 waits move the clock: the line parser handles them
    data, ignored = _FIO_NO_DATA.subn(b"", body)
    names = [("action", "S16"), ("offset", "i8"), ("length", "i8")]
    dtype, cols = ([("time", "i8"), *names], (0, 2, 3, 4)) if v3 else (names, (1, 2, 3))
    try:
        rows = _table(data, dtype, cols)
    except (ValueError, OverflowError):
        return None
    actions = rows["action"]
    if not np.isin(actions, (b"read", b"write", b"trim", b"wait")).all():
        return None
    is_write = actions == b"write"
    keep = is_write | (actions == b"read")
    out = np.empty(int(keep.sum()), dtype=RECORD)
    t = rows["time"][keep] * 1e-6 if v3 else np.zeros(int(keep.sum()))
    out["time_s"] = t - (t[0] if len(t) else 0.0)
    out["write"] = is_write[keep]
    out["offset"] = rows["offset"][keep]
    out["length"] = rows["length"][keep]
    return out, 0, ignored + int((~keep).sum())


def _table(text: bytes, dtype: list[tuple[str, str]], usecols: tuple[int, ...]) -> np.ndarray:
    if not text.strip():
        return np.empty(0, dtype=dtype)
    return np.loadtxt(io.BytesIO(text), dtype=dtype, usecols=usecols, ndmin=1, comments=None)


def _explain_fio(line: bytes) -> str:
    return f"expected '[timestamp] filename action [offset length]' with action one of " \
        f"{_FIO_ACTIONS.decode().replace('|', ', ')} (numbers of at most 18 digits), " \
        f"got {_show(line)}"  # fmt: skip


def read_trace(
    path: str | Path,
    format: str,  # the users' word for it
    *,
    skip_bad_lines: bool = False,
    blkparse_event: str = "Q",
    first_record: int = 0,
    records: int | None = None,
) -> Trace:
    """Read a block trace. `blkparse_event` chooses queue ("Q") or complete ("C") events;
    `first_record`/`records` keep a range of the data records. Raises TraceError naming the
    file and line of the first malformed line (or skips and counts them)."""
    name = str(path)
    if format not in FORMATS:
        raise TraceError(f"{name}: unknown trace format {format!r} (known: {', '.join(FORMATS)})")
    if blkparse_event not in ("Q", "C"):
        raise TraceError(
            f"{name}: blkparse_event must be 'Q' (queue) or 'C' (complete), got {blkparse_event!r}"
        )
    text = read_bytes(
        name,
        MAX_TRACE_FILE_BYTES,
        TraceError,
        " for a trace (keep a range of it with head, or first_record/records)",
    )
    timed = True
    if format == "cloudphysics":
        recs, bad, ignored = _cloudphysics(name, text, skip_bad_lines)
    elif format == "msr":
        recs, bad, ignored = _msr(name, text, skip_bad_lines)
    elif format == "blkparse":
        recs, bad, ignored = _blkparse(name, text, skip_bad_lines, blkparse_event)
    else:
        recs, bad, ignored, timed = _fio_iolog(name, text, skip_bad_lines)
    if first_record < 0 or (records is not None and records < 0):
        raise TraceError(f"{name}: the record range must not be negative")
    stop = None if records is None else first_record + records
    recs = recs[first_record:stop]
    _check_bounds(name, recs)
    if len(recs):
        recs["time_s"] -= recs["time_s"][0]
    return Trace(name, format, recs, timed, bad, ignored)


def _sector_bytes(sectors: np.ndarray) -> np.ndarray:
    """Sectors as bytes; -1 where the byte count would pass MAX_TRACE_OFFSET_BYTES (instead
    of wrapping round int64): `_check_bounds` then names the record."""
    return np.where(sectors > MAX_TRACE_OFFSET_BYTES // SECTOR, -1, sectors * SECTOR)


def _check_bounds(name: str, recs: np.ndarray) -> None:
    """Every record addresses what a volume can hold and moves at most MAX_IO_BYTES."""
    offsets, lengths = recs["offset"], recs["length"]
    bad = (
        (offsets < 0)
        | (lengths < 0)
        | (lengths > MAX_IO_BYTES)
        | (offsets > MAX_TRACE_OFFSET_BYTES - np.minimum(np.maximum(lengths, 0), MAX_IO_BYTES))
    )
    if bad.any():
        i = int(np.argmax(bad))
        raise TraceError(
            f"{name}: data record {i}: offset {int(offsets[i])} length {int(lengths[i])} is out "
            f"of range (offsets up to {MAX_TRACE_OFFSET_BYTES} bytes, lengths up to "
            f"{MAX_IO_BYTES} bytes)"
        )
