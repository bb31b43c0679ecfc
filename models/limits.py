"""The limits of the semantics and of its input files, stated once (docs/semantics.md,
"Limits"). Each is enforced where the input is validated, before any work starts, with a
message that names the key and the limit: a small input can never ask for unbounded work or
memory.
"""

from __future__ import annotations

#: Tracks of one volume: 2**28 (16 TiB at 64 KiB; a 32 MiB bitmap per relationship).
MAX_TRACKS = 1 << 28
#: Bytes of one track: 64 MiB, larger than any controller's track or grain by far.
MAX_TRACK_SIZE = 1 << 26
#: Bytes one host read or write may move: 64 MiB (the largest SCSI transfer of any array).
MAX_IO_BYTES = 64 << 20
#: Tracks one host read or write may touch: each costs a lock on every volume of its family.
MAX_IO_TRACKS = 1 << 16
#: Bytes of a `fill` of the op log (a write given by length instead of data).
MAX_FILL_LENGTH_BYTES = MAX_IO_BYTES

#: Targets one source may have, per profile (docs/semantics.md, "Profiles"): the DS8000 allows
#: 12 FlashCopy targets per source, the SAN Volume Controller 256 mappings per source; a
#: redirect-on-write origin is bounded here only so that a small input stays small.
DS8000_MAX_TARGETS_PER_SOURCE = 12
SVC_MAX_MAPPINGS_PER_SOURCE = 256
ROW_MAX_SNAPSHOTS_PER_ORIGIN = 256
#: The SAN Volume Controller's grain sizes (bytes); the simulator's SVC grain is one of them.
SVC_GRAIN_SIZES = (64 * 1024, 256 * 1024)
SVC_DEFAULT_GRAIN = 256 * 1024

#: A model-checker configuration: tiny systems only (the search stores whole states).
MAX_CHECK_VOLUMES = 16
MAX_CHECK_TRACKS = 64
MAX_CHECK_TRACK_SIZE = 4096
MAX_CHECK_PROCESSES = 16
MAX_CHECK_OPS = 64
MAX_CHECK_SETUP_OPS = 256
#: A choosing process (`choose`): entries of one domain, distinct ops it may choose among,
#: its `max_ops`, and ops x max_ops (the successors it adds to a state times the depth it adds:
#: together they bound how far one process can widen the search).
MAX_CHECK_DOMAIN = 16
MAX_CHECK_CHOICES = 256
MAX_CHECK_CHOICE_OPS = 8
MAX_CHECK_CHOICE_STEPS = 512
#: A swarm (`flashsim check --swarm N --jobs J`): configurations and worker processes.
MAX_SWARM_CONFIGS = 100_000
#: A command line's --seed (the swarm's, conform's random logs'): a signed 64-bit integer.
MAX_SEED = 2**63 - 1
MAX_SWARM_JOBS = 64
#: A sweep (`flashsim sweep`): runs (grid points x `--replicates`), each validated before any
#: starts, and `--jobs` worker processes (never more are started than there are runs).
MAX_SWEEP_RUNS = 10_000
MAX_SWEEP_JOBS = 64
#: The state budget of one search (`check.max_states`, `--max-states`) and its depth.
MAX_CHECK_STATES = 5_000_000
MAX_CHECK_DEPTH = 100_000

#: Bytes of a check configuration or a schedule file (they describe a few tiny volumes).
MAX_CONFIG_FILE_BYTES = 1 << 20

#: A simulation (scenario files): simulated seconds of a run (about 116 days), windows of a
#: run (each holds a row of every metric), I/Os an open-loop workload may ask for (its rate
#: times its active time), I/Os in flight of one closed-loop workload, and the magnitude of
#: any number in a scenario (larger ones overflow the unit conversions).
MAX_RUN_DURATION_S = 1e7
MAX_RUN_WINDOWS = 1_000_000
MAX_WORKLOAD_IOS = 1e9
MAX_IODEPTH = 65_536
MAX_SCENARIO_NUMBER = 1e15


def io_limit_problem(length: int, tracks: int) -> str | None:
    """Why a host I/O of `length` bytes touching `tracks` tracks is over the limits, or None."""
    if length > MAX_IO_BYTES:
        return f"length {length} is over the limit of {MAX_IO_BYTES} bytes per I/O"
    if tracks > MAX_IO_TRACKS:
        return f"it touches {tracks} tracks, over the limit of {MAX_IO_TRACKS} tracks per I/O"
    return None
