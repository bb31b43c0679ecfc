"""Results of a run as data: `summary.json`, windowed metrics and per-I/O records (CSV).

Every number is computed from the run's `Result` with numpy, rounded to fixed precision and
written with a fixed key order, so equal runs give byte-identical files. Failed host I/Os
are counted apart (`errors`, `error_kinds`, `errors_per_s`) and never enter IOPS, bytes or
latency. A workload's rates are over its active time, first issue to last completion.

summary.json::

    {"run": {"duration_s", "seed", "window_s", "host_ios", "host_errors", ...},
     "workloads": [{"name", "volume", "rw", "first_issue_s", "last_completion_s",
       "active_s", "ios", "iops", "mib_s", "reads", "writes", "bytes", "errors",
       "errors_per_s", "error_kinds", "latency_ms": {"mean", "p50", "p95", "p99", "p99_9",
       "max"}, "read_latency_ms", "write_latency_ms"}, ...],
     "relationships": {id: {"established_at_s", "copy_complete_at_s", "copy_s", "failed",
       "failed_at_s", "error", "cow_copies", "redirected_reads", "background_tracks_copied",
       "points_in_time": [{"at_s", "copy_complete_at_s", "copy_s"}], ...,
       "impact": {"copy_window_s": [t0, t1],
                  "workloads": {name: {"before" | "during" | "after": {"active_s", "ios",
                    "iops", "mib_s", "errors", "errors_per_s", "latency_ms",
                    "write_latency_ms"}}}}}},
     "groups": {id: {"frozen_at_s", "thawed_at_s", "writes_held_s", "failed", "error",
       "impact": {"freeze_window_s", "workloads": {...}}}},
     "phases": [{"from_s", "to_s", "after": "establish fc01" | "copy complete fc01" | ...,
       "workloads": {name: {"ios", "iops", "errors", "latency_ms": {"p50", "p99", "p99_9",
       "max"}}}}, ...],
     "arrays": {name: {"utilisation", "busy_s", "ios": {kind: n}, "bytes": {kind: n},
       "mib_s": {kind: MiB/s over the run}}},
     "timeline": [{"at_s", "event", "error"}, ...],
     "controller": {...}}  (only with a [controller] cache: `flashsim.sim.cache`)

The impact block cuts the run at the first point in time's copy window: establish to copy
complete, else to the relationship's failure or end, else to the end of the run. An I/O
belongs to the phase it was issued in; a phase's rates are over the part of it in which the
workload was active. `phases` cuts the whole run the same way at every establish, refresh,
withdraw, freeze, thaw, failure and copy completion. windows.csv has one row per window and
per-workload columns (`W.iops`, `W.mib_s`, `W.errors`, `W.latency_ms_p50` ... `_max`): see
`windows`.
"""

from flashsim.sim.metrics.figures import PERCENTILES, latency_ms
from flashsim.sim.metrics.summary import copy_window, summary, summary_json
from flashsim.sim.metrics.tables import (
    RECORD_BLOCK,
    csv_text,
    records_csv,
    windows,
    windows_csv,
    write_csv,
    write_records_csv,
)

__all__ = [
    "PERCENTILES",
    "RECORD_BLOCK",
    "copy_window",
    "csv_text",
    "latency_ms",
    "records_csv",
    "summary",
    "summary_json",
    "windows",
    "windows_csv",
    "write_csv",
    "write_records_csv",
]
