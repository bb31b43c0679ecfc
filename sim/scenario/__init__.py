"""Scenario files (TOML): loading, `--set` overrides and validation into typed records.

Every error is a `ScenarioError` whose message names the file, the key path and the problem,
e.g. ``oltp.toml: workload[0].rate_iops: must be > 0, got -5``. Unknown keys are errors, so a
misspelt option never silently falls back to a default. Tables of the same kind are addressed
by index from 0 (``flashcopy[1].copy_rate``); `--set` also accepts their name or id
(``flashcopy.fc1.copy_rate=100``).

The format (see `scenarios/` for commented examples)::

    [run]        duration_s, seed, window_s, records, plots, backend (memory | file)
    [[array]]    name, read_latency_ms, write_latency_ms, bandwidth_mib_s, parallelism, preemptive,
                 service_time (fixed | exponential | lognormal | empirical; default fixed),
                 service_time_cv (lognormal: the latency's coefficient of variation, 0-10],
                 read_latency_percentiles_ms, write_latency_percentiles_ms (empirical, instead
                 of the *_latency_ms: {p50 = 0.2, p99 = 1.5, "p99.9" = 4}, p0 to p100, ms)
    [[volume]]   name, size_gib | size_mib, track_size_kib, array
    [[flashcopy]] id, source, target, at_s, background_copy, copy_rate_mib_s | copy_rate (0-150),
                 incremental, persistent, inhibit_target_writes, target_capacity_mib,
                 out_of_space, copy_extent_tracks
    [controller] cache_hit_latency_ms, write_cache_mib, read_cache_mib, destage_parallelism
                 (`flashsim.sim.cache`; no table, or both sizes 0: no cache)
    [[group]]    id, members, at_s, establish_after_s, freeze_timeout_s
    [[event]]    at_s, action (withdraw | refresh | reverse), id, fast, every_s
    [[workload]] name, volume, rw, rwmixread, bs | bssplit, iodepth | rate_iops,
                 random_distribution, percentage_random, offset, size, start_s, stop_s,
                 time_based (default true; false: end after one pass of `size` bytes)
    [[workload]] fio = "job.fio", volume, name: the job file's jobs (`flashsim.sim.inputs.fio`),
                 each expanded into a table of the form above and validated as one
    [[workload]] trace = "file", format (fio-iolog | blkparse | msr | cloudphysics), volume,
                 name, time_scale, mapping (as-is | modulo | scaled), loop (open | closed),
                 iodepth (closed loop), first_record, records, blkparse_event (Q | C),
                 skip_bad_lines, start_s, stop_s, trace_source (where to get a trace that
                 is not shipped: added to the error when the file is missing)

Paths (`fio`, `trace`) are relative to the scenario file's folder.

The parts: `specs` (the typed records), `tables` (located errors), `overrides` (`--set`),
`units` (sizes, the copy-rate scale), `reader` (`load`, `validate`), `arrays`,
`relationships`, `workloads` and `controller` (the validation of those tables).
"""

from flashsim.sim.scenario.overrides import apply_override
from flashsim.sim.scenario.reader import load, loads, validate
from flashsim.sim.scenario.specs import (
    ACTIONS,
    BACKENDS,
    DEFAULT_COPY_RATE,
    DEFAULT_FREEZE_TIMEOUT_S,
    LOOPS,
    RW_MODES,
    ArraySpec,
    ControllerSpec,
    EventSpec,
    FlashCopySpec,
    GroupSpec,
    RunSpec,
    Scenario,
    TraceSpec,
    VolumeSpec,
    WorkloadSpec,
)
from flashsim.sim.scenario.tables import ScenarioError
from flashsim.sim.scenario.units import GIB, KIB, MIB, parse_size, svc_copy_rate_bytes_s
from flashsim.sim.scenario.workloads import check_distribution

__all__ = [
    "ACTIONS",
    "BACKENDS",
    "DEFAULT_COPY_RATE",
    "DEFAULT_FREEZE_TIMEOUT_S",
    "GIB",
    "KIB",
    "LOOPS",
    "MIB",
    "RW_MODES",
    "ArraySpec",
    "ControllerSpec",
    "EventSpec",
    "FlashCopySpec",
    "GroupSpec",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "TraceSpec",
    "VolumeSpec",
    "WorkloadSpec",
    "apply_override",
    "check_distribution",
    "load",
    "loads",
    "parse_size",
    "svc_copy_rate_bytes_s",
    "validate",
]
