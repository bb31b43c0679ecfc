"""The typed records a scenario file is validated into, and the choices its keys allow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RW_MODES = ("read", "write", "randread", "randwrite", "rw", "readwrite", "randrw")
ACTIONS = ("withdraw", "refresh", "reverse", "stop", "restart")  # stop, restart: svc
DEFAULT_FREEZE_TIMEOUT_S = 120.0
DEFAULT_COPY_RATE = 50  # SAN Volume Controller default
BACKENDS = ("memory", "file")
LOOPS = ("open", "closed")
DEFAULT_DESTAGE_PARALLELISM = 8


DEFAULT_CLEANING_RATE = 50  # svc: 2 MiB/s, IBM's default cleaning rate


@dataclass(frozen=True, slots=True)
class RunSpec:
    duration_s: float
    seed: int = 1
    window_s: float = 1.0
    records: bool = True
    plots: bool = True
    backend: str = "memory"  # or "file": sparse files in a temporary folder
    profile: str = "ds8000"  # the design whose rules run: ds8000, svc or row


@dataclass(frozen=True, slots=True)
class ArraySpec:
    name: str
    read_latency_ms: float
    write_latency_ms: float
    bandwidth_mib_s: float
    parallelism: int = 1
    preemptive: bool = False
    # The latency's distribution (`flashsim.sim.service_time`); the latencies above are its
    # means (with "empirical", the means of the percentile tables).
    service_time: str = "fixed"
    service_time_cv: float | None = None  # lognormal only
    read_percentiles: tuple[tuple[float, float], ...] = ()  # empirical: (percentile, ms)
    write_percentiles: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    name: str
    tracks: int
    track_size: int
    array: str


@dataclass(frozen=True, slots=True)
class FlashCopySpec:
    id: str
    source: str
    target: str
    at_s: float | None
    background_copy: bool
    copy_rate_bytes_s: float
    incremental: bool = False
    persistent: bool = False
    inhibit_target_writes: bool = False
    target_capacity_tracks: int | None = None
    out_of_space: str = "fail_relationship"
    copy_extent_tracks: int = 1
    group: str | None = None
    # svc: the rate a stop's cleaning copies run at (the copy-rate scale; 50 = 2 MiB/s)
    cleaning_rate_bytes_s: float = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class GroupSpec:
    id: str
    members: tuple[str, ...]
    at_s: float
    establish_after_s: float = 0.0
    freeze_timeout_s: float = DEFAULT_FREEZE_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class EventSpec:
    at_s: float
    action: str
    id: str
    fast: bool = False
    every_s: float | None = None


@dataclass(frozen=True, slots=True)
class TraceSpec:
    """A trace replayed as a workload: its records already read, ranged and fitted onto the
    volume (`flashsim.sim.inputs.fitting.fit_to_volume`): times in seconds from the workload's
    start."""

    path: str
    format: str
    loop: str  # "open" (each I/O at its time) or "closed" (as fast as the devices allow)
    time_scale: float
    mapping: str
    records: np.ndarray = field(compare=False, repr=False)
    skipped_lines: int = 0
    ignored: int = 0


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    name: str
    volume: str
    rw: str
    rwmixread: float
    block_sizes: tuple[tuple[int, float], ...]  # (bytes, weight), weights sum to 1
    iodepth: int | None
    rate_iops: float | None
    random_distribution: str
    offset: int
    size: int
    start_s: float
    stop_s: float
    percentage_random: float = 100.0  # of a random mode's I/Os; the rest are sequential
    trace: TraceSpec | None = None  # a trace replay (rw = "trace")
    io_limit_bytes: int | None = None  # time_based = false: stop after this much I/O (fio)
    ignored_options: tuple[str, ...] = ()  # a fio job's options that change no I/O

    @property
    def random(self) -> bool:
        return self.rw.startswith("rand")

    @property
    def read_fraction(self) -> float:
        if self.rw in ("read", "randread"):
            return 1.0
        if self.rw in ("write", "randwrite"):
            return 0.0
        return self.rwmixread / 100.0


@dataclass(frozen=True, slots=True)
class ControllerSpec:
    """The storage controller's cache (`[controller]`, `flashsim.sim.cache`); a size of 0 is
    no cache of that kind."""

    cache_hit_latency_ms: float
    write_cache_mib: float = 0.0  # non-volatile (NVS): writes are acknowledged from it
    read_cache_mib: float = 0.0  # LRU on tracks
    destage_parallelism: int = DEFAULT_DESTAGE_PARALLELISM


@dataclass(frozen=True, slots=True)
class Scenario:
    path: str
    run: RunSpec
    arrays: tuple[ArraySpec, ...]
    volumes: tuple[VolumeSpec, ...]
    flashcopies: tuple[FlashCopySpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    workloads: tuple[WorkloadSpec, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    controller: ControllerSpec | None = None  # no [controller] (or no cache): write-through

    def volume(self, name: str) -> VolumeSpec:
        return next(v for v in self.volumes if v.name == name)
