"""fio's own results (`fio --output-format=json`) read into measurements, every problem a
`CalibrationError` naming the file and the field (``r.json: jobs[0] (qd1).read.clat_ns:
missing``).

Per job and direction (read, write; trim is ignored) the reader keeps what the fit and the
comparison need: I/Os, bytes, IOPS, bandwidth, the mean of `lat_ns` (submission plus
completion: what a host waits) and the `clat_ns` percentiles, shifted by the mean `slat_ns`
(fio keeps no percentiles of `lat` unless `lat_percentiles=1`; then those are used). The
depth of a job is what it kept in flight, by Little's law: IOPS x mean latency, rounded (a
synchronous engine's `iodepth` is capped at 1 by fio, so the option alone would be wrong).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from flashsim.models.errors import FlashCopyError
from flashsim.models.input_files import read_bytes

DIRECTIONS = ("read", "write")
#: Beyond these a figure is not a measurement of a storage device (and would overflow the
#: simulation): an hour of latency, a billion IOPS, 10 TB/s, 256 MiB blocks.
MAX_LATENCY_NS = 3.6e12
MAX_IOPS = 1e9
MAX_BYTES_S = 1e13
MAX_BLOCK = 256 << 20
#: fio options under which a job does not run as fast as the device allows.
PACED = ("rate", "rate_iops", "rate_min", "rate_iops_min", "thinktime")


#: fio's JSON output: a few KiB per job, with every percentile.
MAX_FIO_JSON_BYTES = 64 << 20


class CalibrationError(FlashCopyError):
    """fio results that cannot be calibrated from."""


@dataclass(frozen=True, slots=True)
class Part:
    """One direction of one job, as fio measured it (times in seconds)."""

    direction: str
    ios: int
    bytes: int
    iops: float
    bytes_s: float
    mean_s: float
    percentiles_s: tuple[tuple[float, float], ...]  # (percentile, latency) ascending
    min_s: float
    max_s: float
    slat_s: float  # mean submission latency, included in the figures above

    @property
    def block(self) -> int:
        return round(self.bytes / self.ios)

    def percentile_s(self, p: float) -> float:
        """The latency at percentile `p` (linear between fio's points)."""
        ps = [q for q, _ in self.percentiles_s]
        vs = [v for _, v in self.percentiles_s]
        if p <= ps[0]:
            return vs[0]
        for i in range(1, len(ps)):
            if p <= ps[i]:
                return vs[i - 1] + (vs[i] - vs[i - 1]) * (p - ps[i - 1]) / (ps[i] - ps[i - 1])
        return vs[-1]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One fio job: its directions and the depth it kept in flight."""

    index: int
    name: str
    parts: tuple[Part, ...]
    depth: int

    @property
    def label(self) -> str:
        return f"jobs[{self.index}] ({self.name})"

    @property
    def iops(self) -> float:
        return sum(p.iops for p in self.parts)


class _Where:
    """A JSON object being read, with its path for errors."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        self.file, self.path, self.data = file, path, data

    def error(self, key: str | None, problem: str) -> CalibrationError:
        where = self.path if key is None else f"{self.path}.{key}" if self.path else key
        return CalibrationError(f"{self.file}: {where}: {problem}")

    def sub(self, key: str) -> _Where:
        if key not in self.data:
            raise self.error(key, "missing")
        value = self.data[key]
        if not isinstance(value, dict):
            raise self.error(key, f"must be an object, got {_short(value)}")
        return _Where(self.file, f"{self.path}.{key}" if self.path else key, value)

    def number(self, key: str, low: float, high: float, low_ok: bool = True) -> float:
        if key not in self.data:
            raise self.error(key, "missing")
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {_short(value)}")
        if not math.isfinite(value) or value > high or value < low or (not low_ok and value == low):
            bound = ">=" if low_ok else ">"
            raise self.error(key, f"must be {bound} {low:g} and at most {high:g}, got {value!r}")
        return float(value)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_fio_json(path: str) -> list[Measurement]:
    """The jobs of a fio JSON output file (`fio --output-format=json`)."""
    # fio's JSON may hold notes in the local encoding before the document: replace, not refuse
    data = read_bytes(path, MAX_FIO_JSON_BYTES, CalibrationError)
    return parse_fio_json(data.decode("utf-8", "replace"), path)


def parse_fio_json(text: str, file: str) -> list[Measurement]:
    # fio may print notes (e.g. "note: both iodepth >= 1 and synchronous I/O engine are
    # selected") on standard output before the JSON document: start at its first "{" line.
    start = 0
    if not text.lstrip().startswith("{") and "\n{" in text:
        start = text.index("\n{") + 1
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError as error:
        raise CalibrationError(
            f"{file}: not fio JSON output (fio --output-format=json): {error}"
        ) from None
    top = _Where(file, "", data)
    if not isinstance(data, dict):
        raise CalibrationError(f"{file}: not fio JSON output: the document is not an object")
    if "jobs" not in data:
        raise top.error("jobs", "missing (is this fio --output-format=json output?)")
    jobs = data["jobs"]
    if not isinstance(jobs, list) or not jobs:
        raise top.error("jobs", "no jobs" if isinstance(jobs, list) else "must be a list")
    global_options = data.get("global options", {})
    out = []
    groups: dict[Any, int] = {}
    for index, job in enumerate(jobs):
        if not isinstance(job, dict):
            raise top.error(f"jobs[{index}]", f"must be an object, got {_short(job)}")
        name = job.get("jobname")
        if not isinstance(name, str):
            raise top.error(
                f"jobs[{index}].jobname", "missing" if name is None else "must be a string"
            )
        where = _Where(file, f"jobs[{index}] ({name})", job)
        if job.get("error", 0):
            raise where.error("error", f"fio reported error {job['error']!r}: the job did not run")
        group = job.get("groupid", ("own", index))
        if not isinstance(group, int | tuple) or isinstance(group, bool):
            raise where.error("groupid", f"must be an integer, got {_short(group)}")
        if group in groups:
            other = groups[group]
            raise where.error(
                "groupid",
                f"ran at the same time as jobs[{other}] ({jobs[other].get('jobname')}) (group "
                f"{group}): calibrate needs jobs that ran one at a time (stonewall between jobs; "
                "group_reporting for numjobs)",
            )
        groups[group] = index
        options = job.get("job options", {})
        for key in PACED:
            for scope, table in (("job options", options), ("global options", global_options)):
                if isinstance(table, dict) and str(table.get(key, "0")) not in ("0", ""):
                    raise where.error(
                        f"{scope}.{key}",
                        "calibrate needs jobs that run as fast as the device allows (no rate "
                        "limit or think time)",
                    )
        parts = tuple(p for d in DIRECTIONS if (p := _part(where, d)) is not None)
        if not parts:
            raise where.error(None, "no reads or writes (read.total_ios and write.total_ios are 0)")
        depth = max(1, round(sum(p.iops * p.mean_s for p in parts)))
        out.append(Measurement(index, name, parts, depth))
    return out


def _part(job: _Where, direction: str) -> Part | None:
    if direction not in job.data:
        return None
    d = job.sub(direction)
    ios = d.number("total_ios", 0, 1e15)
    if ios == 0:
        return None
    nbytes = d.number("io_bytes", 1, 1e18)
    if nbytes / ios > MAX_BLOCK:
        raise d.error("io_bytes", f"blocks of {nbytes / ios:g} bytes: at most {MAX_BLOCK} per I/O")
    iops = d.number("iops", 0, MAX_IOPS, low_ok=False)
    bytes_s = d.number("bw_bytes", 0, MAX_BYTES_S, low_ok=False)
    lat = d.sub("lat_ns")
    mean = lat.number("mean", 0, MAX_LATENCY_NS, low_ok=False)
    clat = d.sub("clat_ns")
    slat = d.sub("slat_ns").number("mean", 0, MAX_LATENCY_NS) if "slat_ns" in d.data else 0.0
    # lat percentiles when fio kept them (lat_percentiles=1), else clat's plus the mean slat
    if "percentile" in lat.data:
        source, shift = lat, 0.0
    else:
        source, shift = clat, slat
    table = source.sub("percentile")
    points = []
    for key in table.data:
        try:
            p = float(key)
        except ValueError:
            raise table.error(key, "must be a percentile (fio writes 99.000000)") from None
        if not 0 <= p <= 100:
            raise table.error(key, "must be a percentile from 0 to 100")
        points.append((p, table.number(key, 0, MAX_LATENCY_NS) + shift))
    if not points:
        raise table.error(None, "no percentiles")
    points.sort()
    low = source.number("min", 0, MAX_LATENCY_NS) + shift
    high = source.number("max", 0, MAX_LATENCY_NS) + shift
    return Part(
        direction=direction,
        ios=int(ios),
        bytes=int(nbytes),
        iops=iops,
        bytes_s=bytes_s,
        mean_s=mean / 1e9,
        percentiles_s=tuple((p, v / 1e9) for p, v in points),
        min_s=low / 1e9,
        max_s=high / 1e9,
        slat_s=slat / 1e9,
    )
