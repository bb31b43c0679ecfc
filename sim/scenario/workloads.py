"""The `[[workload]]` tables of a scenario: fio-style tables, fio job files (each job expanded
into such a table) and trace replays."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flashsim.models.limits import MAX_IO_BYTES, MAX_IODEPTH, MAX_WORKLOAD_IOS
from flashsim.sim.inputs.fio import FioJobError, read_job_file, workload_tables
from flashsim.sim.inputs.fitting import MAPPINGS, fit_to_volume
from flashsim.sim.inputs.traces import FORMATS, TraceError, read_trace
from flashsim.sim.scenario.specs import (
    LOOPS,
    RW_MODES,
    RunSpec,
    TraceSpec,
    VolumeSpec,
    WorkloadSpec,
)
from flashsim.sim.scenario.tables import (
    Table,
    at_least_one,
    non_negative,
    not_empty,
    positive,
    tables_of,
)
from flashsim.sim.scenario.units import parse_size

_DISTRIBUTION = re.compile(r"^(random|normal|zipf|pareto|zoned)(?::(.+))?$")


def check_distribution(text: str) -> str | None:
    """None if `text` is a random_distribution this simulator knows, else the problem."""
    match = _DISTRIBUTION.match(text)
    if not match:
        return "must be random, zipf:θ, pareto:h, normal[:dev%] or zoned:pct/pct:..."
    kind, arg = match.groups()
    try:
        if kind == "random" and arg is None:
            return None
        # bounds keep the generators' arithmetic finite (1/k^θ, log h / log(1-h), dev%)
        if kind == "zipf" and arg is not None and 0 < float(arg) <= 100:
            return None
        if kind == "pareto" and arg is not None and 1e-6 <= float(arg) <= 1 - 1e-6:
            return None
        if kind == "normal" and (arg is None or 1e-6 <= float(arg) <= 100):
            return None
        if kind == "zoned" and arg is not None:
            zones = [tuple(float(x) for x in z.split("/")) for z in arg.split(":")]
            if all(len(z) == 2 and z[0] >= 0 and z[1] > 0 for z in zones) and all(
                abs(sum(z[i] for z in zones) - 100) < 1e-9 for i in (0, 1)
            ):
                return None
            return "zoned needs access%/size% pairs, each column summing to 100"
    except ValueError:
        pass
    return (
        f"bad parameter for {kind} (zipf:0<θ<=100, pareto:1e-6<=h<=1-1e-6, normal:1e-6<=dev%<=100)"
    )


def _parse_bssplit(t: Table, text: str) -> tuple[tuple[int, float], ...]:
    parts = []
    try:
        for item in text.split(":"):
            bs, _, pct = item.partition("/")
            parts.append((parse_size(bs.strip()), float(pct) if pct else 0.0))
    except ValueError as error:
        raise t.error("bssplit", f"{error} (fio form: 4k/50:64k/50)") from None
    total = sum(p for _, p in parts)
    if total <= 0 or any(b < 1 or p < 0 for b, p in parts):
        raise t.error("bssplit", f"needs block sizes >= 1 and positive percentages, got {text!r}")
    return tuple((b, p / total) for b, p in parts)


def _region_value(t: Table, key: str, volume_size: int, default: int) -> int:
    value = t.get(key, (int, str), default)
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            pct = float(value.strip()[:-1])
        except ValueError:
            raise t.error(key, f"not a percentage: {value!r}") from None
        return int(volume_size * pct / 100)
    try:
        return parse_size(value)
    except ValueError as error:
        raise t.error(key, str(error)) from None


def workload_specs(
    raw: dict[str, Any], file: str, volumes: dict[str, VolumeSpec], run: RunSpec
) -> tuple[WorkloadSpec, ...]:
    tables = _expand_fio(tables_of(raw, "workload", file), file)
    out = []
    names: dict[str, str] = {}
    for i, t in enumerate(tables):
        name = t.get("name", str, f"w{i}", not_empty)
        if name in names:
            raise t.error("name", f"{name!r} is already used by {names[name]}")
        names[name] = t.path
        volume = t.get("volume", str)
        if volume not in volumes:
            raise t.error("volume", f"no [[volume]] is named {volume!r}")
        vol = volumes[volume]
        vol_size = vol.tracks * vol.track_size
        if t.has("trace"):
            out.append(_trace_workload(t, file, name, volume, vol_size=vol_size, run=run))
            t.finish()
            continue
        rw = t.get(
            "rw", str, check=lambda v: None if v in RW_MODES else "must be " + ", ".join(RW_MODES)
        )
        if rw == "readwrite":
            rw = "rw"
        mixed = rw in ("rw", "randrw")
        mix = t.number("rwmixread", 50.0, lambda v: None if 0 <= v <= 100 else "must be 0-100")
        if t.has("rwmixread") and not mixed:
            raise t.error("rwmixread", f"applies to rw = 'rw' or 'randrw' only, not {rw!r}")
        if t.has("bs") and t.has("bssplit"):
            raise t.error("bssplit", "give bs or bssplit, not both")
        if t.has("bssplit"):
            sizes = _parse_bssplit(t, t.get("bssplit", str))
        else:
            try:
                sizes = ((parse_size(t.get("bs", (int, str), "4k")), 1.0),)
            except ValueError as error:
                raise t.error("bs", str(error)) from None
            if sizes[0][0] < 1:
                raise t.error("bs", "must be >= 1 byte")
        if t.has("iodepth") and t.has("rate_iops"):
            raise t.error(
                "rate_iops", "give iodepth (closed loop) or rate_iops (open loop), not both"
            )
        rate = t.number("rate_iops", None, positive)
        depth = t.get("iodepth", int, None if rate is not None else 1, at_least_one)
        if depth is not None and depth > MAX_IODEPTH:
            raise t.error("iodepth", f"over the limit of {MAX_IODEPTH}, got {depth}")
        dist = t.get("random_distribution", str, "random", check_distribution)
        if t.has("random_distribution") and not rw.startswith("rand"):
            raise t.error("random_distribution", f"applies to random rw modes only, not {rw!r}")
        pct_random = t.number(
            "percentage_random", 100.0, lambda v: None if 0 <= v <= 100 else "must be 0-100"
        )
        if t.has("percentage_random") and not rw.startswith("rand"):
            raise t.error("percentage_random", f"applies to random rw modes only, not {rw!r}")
        offset = _region_value(t, "offset", vol_size, 0)
        size = _region_value(t, "size", vol_size, vol_size - offset)
        if offset < 0 or offset >= vol_size:
            raise t.error("offset", f"must be inside the volume (0..{vol_size - 1}), got {offset}")
        if size < 1 or offset + size > vol_size:
            raise t.error("size", f"offset + size must be within the volume ({vol_size} bytes)")
        largest = max(b for b, _ in sizes)
        if largest > MAX_IO_BYTES:
            raise t.error("bs", f"block size {largest} is over the limit of {MAX_IO_BYTES} bytes")
        if largest > size:
            raise t.error("bs", f"block size {largest} is larger than the region ({size} bytes)")
        start_s = t.number("start_s", 0.0, non_negative)
        stop_s = t.number("stop_s", run.duration_s, positive)
        if stop_s <= start_s:
            raise t.error("stop_s", f"must be after start_s ({start_s})")
        if rate is not None and rate * (min(stop_s, run.duration_s) - start_s) > MAX_WORKLOAD_IOS:
            raise t.error(
                "rate_iops",
                f"{rate:g} IOPS for {min(stop_s, run.duration_s) - start_s:g} s is over the "
                f"limit of {MAX_WORKLOAD_IOS:g} I/Os per workload",
            )
        # fio's time_based: true runs until stop_s; false ends after one pass of `size` bytes
        time_based = t.get("time_based", bool, True)
        out.append(
            WorkloadSpec(
                name,
                volume,
                rw,
                mix,
                sizes,
                depth,
                rate,
                dist,
                offset,
                size,
                start_s,
                stop_s,
                percentage_random=pct_random,
                io_limit_bytes=None if time_based else size,
                ignored_options=tuple(t.get("fio_ignored", list, [])),
            )
        )
        t.finish()
    return tuple(out)


def _relative(file: str, path: str) -> Path:
    """`path` as written in the scenario: relative to the scenario file's folder."""
    given = Path(path)
    return given if given.is_absolute() else Path(file).parent / given


def _expand_fio(tables: list[Table], file: str) -> list[Table]:
    """Replace each `fio = "job.fio"` table by one table per job (and per numjobs), written by
    `flashsim.sim.inputs.fio.workload_tables`; each keeps the scenario file and names its
    origin, e.g. ``workload[0] (job.fio [randread]).bs``."""
    out: list[Table] = []
    for t in tables:
        if not t.has("fio"):
            out.append(t)
            continue
        job_path = t.get("fio", str, check=not_empty)
        volume = t.get("volume", str)
        prefix = t.get("name", str, None, not_empty)
        t.finish()
        try:
            jobs = read_job_file(_relative(file, job_path))
            expanded = [(job, table) for job in jobs for table in workload_tables(job, volume)]
        except FioJobError as error:
            raise t.error("fio", str(error)) from None
        for job, table in expanded:
            if not str(table["rw"]).startswith("rand"):
                table.pop("percentage_random", None)  # fio ignores it for sequential modes
            if prefix is not None:
                table["name"] = prefix if len(expanded) == 1 else f"{prefix}.{table['name']}"
            if job.ignored:
                table["fio_ignored"] = list(job.ignored)
            out.append(Table(file, f"{t.path} ({job_path} [{job.name}])", table))
    return out


def _trace_workload(
    t: Table, file: str, name: str, volume: str, *, vol_size: int, run: RunSpec
) -> WorkloadSpec:
    """A `trace = "file"` workload: read, range and fit the trace now, so that every problem
    (a malformed line, an address past the volume) is reported before the run starts."""
    path = t.get("trace", str, check=not_empty)
    source = t.get("trace_source", str, None, not_empty)
    fmt = t.get(
        "format", str, check=lambda v: None if v in FORMATS else "must be " + ", ".join(FORMATS)
    )
    time_scale = t.number("time_scale", 1.0, positive)
    mapping = t.get(
        "mapping",
        str,
        "as-is",
        lambda v: None if v in MAPPINGS else "must be " + ", ".join(MAPPINGS),
    )
    loop = t.get("loop", str, "open", lambda v: None if v in LOOPS else "must be open or closed")
    if t.has("iodepth") and loop != "closed":
        raise t.error("iodepth", "applies to loop = 'closed' only")
    depth = t.get("iodepth", int, 1, at_least_one) if loop == "closed" else None
    first = t.get("first_record", int, 0, lambda v: None if v >= 0 else "must be >= 0")
    count = t.get("records", int, None, lambda v: None if v >= 1 else "must be >= 1")
    event = t.get(
        "blkparse_event", str, "Q", lambda v: None if v in ("Q", "C") else "must be Q or C"
    )
    if t.has("blkparse_event") and fmt != "blkparse":
        raise t.error("blkparse_event", f"applies to format = 'blkparse' only, not {fmt!r}")
    skip_bad = t.get("skip_bad_lines", bool, False)
    start_s = t.number("start_s", 0.0, non_negative)
    stop_s = t.number("stop_s", run.duration_s, positive)
    if stop_s <= start_s:
        raise t.error("stop_s", f"must be after start_s ({start_s})")
    try:
        trace = read_trace(
            _relative(file, path),
            fmt,
            skip_bad_lines=skip_bad,
            blkparse_event=event,
            first_record=first,
            records=count,
        )
        if not trace.timed and loop == "open":
            raise t.error(
                "loop",
                f"{path} is a {fmt} trace without timestamps (fio iolog v2): replay it with "
                "loop = 'closed' and an iodepth",
            )
        if not len(trace):
            raise t.error("trace", f"{path}: no data I/O records (in the range chosen)")
        fitted = fit_to_volume(trace, vol_size, mapping, time_scale)
    except TraceError as error:
        missing = source is not None and not Path(_relative(file, path)).exists()
        raise t.error("trace", f"{error}; {source}" if missing else str(error)) from None
    writes = fitted["write"]
    spec = TraceSpec(
        path, fmt, loop, time_scale, mapping, fitted, trace.skipped_lines, trace.ignored
    )
    sizes = ((int(fitted["length"].max()), 1.0),)
    mix = 100.0 * float((~writes).mean())
    return WorkloadSpec(
        name, volume, "trace", mix, sizes, depth, None, "random", 0, vol_size, start_s, stop_s,
        trace=spec,
    )  # fmt: skip
