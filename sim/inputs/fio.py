"""fio job files as workloads: the INI format with `[global]` and job sections, reduced to the
options that shape I/O and written as `[[workload]]` tables of a scenario (whose keys are fio's
names already), so one validator checks both.

Options that do not change the I/O pattern are accepted and reported as ignored; anything else
is an error naming the file, the section and the option.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from flashsim.models.errors import FlashCopyError
from flashsim.models.input_files import read_text

#: The options that shape I/O, all translated.
SHAPING = (
    "blocksize", "blocksize_range", "bs", "bsrange", "bssplit", "iodepth", "numjobs", "offset",
    "percentage_random", "random_distribution", "rate_iops", "readwrite", "runtime", "rw",
    "rwmixread", "rwmixwrite", "size", "startdelay", "time_based",
)  # fmt: skip
#: Options accepted and ignored: they do not change which I/Os are issued or when.
IGNORED = (
    "allow_mounted_write", "buffered", "clat_percentiles", "cpus_allowed", "cpumask",
    "description", "direct", "directory", "disable_bw_measurement", "disable_clat",
    "disable_lat", "disable_slat", "end_fsync", "exitall", "filename", "filename_format",
    "group_reporting", "gtod_reduce", "invalidate", "ioengine", "iodepth_batch",
    "iodepth_batch_complete", "iodepth_low", "lat_percentiles", "log_avg_msec", "name",
    "new_group", "nice", "norandommap", "numa_cpu_nodes", "numa_mem_policy", "per_job_logs",
    "percentile_list", "prio", "ramp_time", "randrepeat", "refill_buffers", "scramble_buffers",
    "stonewall", "thread", "unlink", "wait_for", "wait_for_previous", "write_bw_log",
    "write_iops_log", "write_lat_log", "zero_buffers",
)  # fmt: skip
_RW = {
    "read": "read", "write": "write", "randread": "randread", "randwrite": "randwrite",
    "rw": "rw", "readwrite": "rw", "randrw": "randrw",
}  # fmt: skip
_TIME = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "s": 1.0, "sec": 1.0, "m": 60.0,
         "min": 60.0, "h": 3600.0, "d": 86400.0}  # fmt: skip
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


#: A job file is a page of options.
MAX_JOB_FILE_BYTES = 1 << 20


class FioJobError(FlashCopyError):
    """A fio job file that cannot be used: names the file, section and option."""


@dataclass(frozen=True)
class FioJob:
    """One job section with `[global]` (and earlier globals) merged in."""

    path: str
    name: str
    options: dict[str, str | None]  # option -> value (None for a bare flag such as time_based)
    ignored: tuple[str, ...]


def read_job_file(path: str | Path) -> list[FioJob]:
    """Parse a fio job file (with `include` and `${VAR}` expansion)."""
    name = str(path)
    sections = _sections(Path(path), name, depth=0)
    jobs: list[FioJob] = []
    defaults: dict[str, str | None] = {}
    for section, items in sections:
        if section == "global":
            defaults.update(items)
            continue
        options = {**defaults, **items}
        unknown = sorted(k for k in options if k not in SHAPING and k not in IGNORED)
        if unknown:
            where = "global" if unknown[0] in defaults and unknown[0] not in items else section
            raise FioJobError(
                f"{name}: [{where}] {unknown[0]}: not an option flashsim knows (I/O-shaping "
                f"options: {', '.join(SHAPING)}; others ignored: see "
                "flashsim.sim.inputs.fio.IGNORED)"
            )
        ignored = tuple(sorted(k for k in options if k in IGNORED))
        jobs.append(FioJob(name, section, options, ignored))
    if not jobs:
        raise FioJobError(f"{name}: no job section (only [global] or nothing)")
    return jobs


def _sections(path: Path, name: str, depth: int) -> list[tuple[str, dict[str, str | None]]]:
    if depth > 8:
        raise FioJobError(f"{name}: include nested more than 8 deep")
    text = read_text(path, MAX_JOB_FILE_BYTES, FioJobError)
    sections: list[tuple[str, dict[str, str | None]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("include "):
            included = path.parent / line[len("include ") :].strip()
            sections.extend(_sections(included, str(included), depth + 1))
            continue
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            sections.append((header.group(1).strip(), {}))
            continue
        if not sections:
            raise FioJobError(f"{name}:{number}: option {line!r} before any [section]")
        key, sep, value = line.partition("=")
        key = key.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise FioJobError(f"{name}:{number}: [{sections[-1][0]}] not an option: {line!r}")
        sections[-1][1][key] = _expand(value.strip(), name, number) if sep else None
    return sections


def _expand(value: str, name: str, number: int) -> str:
    def env(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in os.environ:
            raise FioJobError(f"{name}:{number}: environment variable {var} is not set")
        return os.environ[var]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", env, value)


def _short(value: str | None) -> str:
    """A value as an error message shows it: at most 40 characters of it."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}... ({len(value or '')} characters)"


def _size(job: FioJob, key: str, value: str | None) -> int:
    match = re.fullmatch(r"\s*(\d{1,18})\s*([kmgtp]?)(?:i?b)?\s*", value or "", re.IGNORECASE)
    if not match:
        raise _error(job, key, f"not a size: {_short(value)} (e.g. 4k, 64k, 1m)")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


def _seconds(job: FioJob, key: str, value: str | None) -> float:
    match = re.fullmatch(r"\s*(\d{1,18}(?:\.\d{1,18})?)\s*([a-z]*)\s*", value or "", re.IGNORECASE)
    if not match or match.group(2).lower() not in {**_TIME, "": 1.0}:
        raise _error(job, key, f"not a time: {_short(value)} (e.g. 30, 500ms, 2m)")
    return float(match.group(1)) * {**_TIME, "": 1.0}[match.group(2).lower()]


def _int(job: FioJob, key: str, value: str | None, low: int, high: int | None = None) -> int:
    if (
        value is None
        or not re.fullmatch(r"\s*\d{1,18}\s*", value)
        or not (low <= int(value) <= (high if high is not None else int(value)))
    ):
        bound = f"{low}-{high}" if high is not None else f">= {low}"
        raise _error(job, key, f"must be an integer {bound}, got {_short(value)}")
    return int(value)


def _error(job: FioJob, key: str, message: str) -> FioJobError:
    return FioJobError(f"{job.path}: [{job.name}] {key}: {message}")


def workload_tables(job: FioJob, volume: str) -> list[dict[str, object]]:
    """The job as `[[workload]]` tables on `volume`, one per `numjobs`."""
    opts = job.options
    rw_text = opts.get("rw", opts.get("readwrite")) or "read"
    mode, _, modifier = rw_text.partition(":")
    if mode not in _RW:
        raise _error(job, "rw", f"{mode!r} is not supported (known: {', '.join(_RW)})")
    if modifier:
        raise _error(job, "rw", f"the offset modifier ':{modifier}' is not supported")
    table: dict[str, object] = {"volume": volume, "rw": _RW[mode]}
    if "rwmixread" in opts or "rwmixwrite" in opts:
        read = (
            _int(job, "rwmixread", opts["rwmixread"], 0, 100)
            if "rwmixread" in opts
            else 100 - _int(job, "rwmixwrite", opts["rwmixwrite"], 0, 100)
        )
        if table["rw"] in ("rw", "randrw"):
            table["rwmixread"] = read
    _block_sizes(job, table)
    if "rate_iops" in opts:
        value = opts["rate_iops"] or ""
        if "," in value:
            raise _error(job, "rate_iops", "separate read,write rates are not supported")
        table["rate_iops"] = _int(job, "rate_iops", value, 1)
    else:
        table["iodepth"] = _int(job, "iodepth", opts.get("iodepth", "1"), 1)
    if "random_distribution" in opts and table["rw"].startswith("rand"):  # type: ignore[union-attr]
        table["random_distribution"] = opts["random_distribution"]
    if "percentage_random" in opts:
        table["percentage_random"] = _int(
            job, "percentage_random", opts["percentage_random"], 0, 100
        )
    for key in ("offset", "size"):
        value = opts.get(key)
        if value is not None:
            table[key] = value if value.strip().endswith("%") else _size(job, key, value)
    start = _seconds(job, "startdelay", opts["startdelay"]) if "startdelay" in opts else 0.0
    if start:
        table["start_s"] = start
    if "runtime" in opts:
        table["stop_s"] = start + _seconds(job, "runtime", opts["runtime"])
    if "time_based" not in opts:  # fio: the job ends after `size` bytes (or runtime, if first)
        table["time_based"] = False
    count = _int(job, "numjobs", opts.get("numjobs", "1"), 1, 256)
    tables = []
    for i in range(count):
        name = job.name if count == 1 else f"{job.name}.{i}"
        tables.append({"name": name, **table})
    return tables


def _block_sizes(job: FioJob, table: dict[str, object]) -> None:
    opts = job.options
    given = [k for k in ("bs", "blocksize", "bssplit", "blocksize_range", "bsrange") if k in opts]
    if len(given) > 1:
        raise _error(job, given[1], f"give one of bs, bssplit, blocksize_range (also {given[0]})")
    if not given:
        table["bs"] = 4096
        return
    key = given[0]
    value = opts[key] or ""
    if key in ("bs", "blocksize"):
        if "," in value:
            raise _error(job, key, "separate read,write block sizes are not supported")
        table["bs"] = _size(job, key, value)
    elif key == "bssplit":
        parts = []
        for item in value.split(":"):
            size, _, pct = item.partition("/")
            parts.append(f"{_size(job, key, size)}/{pct}" if pct else str(_size(job, key, size)))
        table["bssplit"] = ":".join(parts)
    else:  # a range: every multiple of the smallest size in it, equally likely (fio aligns so)
        low_text, sep, high_text = value.partition("-")
        if not sep:
            raise _error(job, key, f"expected LOW-HIGH, got {value!r}")
        low, high = _size(job, key, low_text), _size(job, key, high_text)
        if not 1 <= low <= high or high // low > 1024:
            raise _error(job, key, f"expected 1 <= LOW <= HIGH <= 1024 x LOW, got {value!r}")
        sizes = range(low, high + 1, low)
        table["bssplit"] = ":".join(f"{s}/1" for s in sizes)
