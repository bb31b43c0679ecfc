"""Small scenarios for the sweep tests (seconds per sweep)."""

from pathlib import Path

#: One relationship src -> tgt of 2 MiB (32 tracks of 64 KiB), copied one track per extent
#: from 1 s; a closed-loop reader `db` at depth 1 on another volume of the source's array.
#: Both arrays have one slot, 1 ms per I/O and no transfer time to speak of.
THEORY = """\
[run]
duration_s = 10
seed = 3
window_s = 1
records = false
plots = false

[[array]]
name = "rank0"
read_latency_ms = 1
write_latency_ms = 1
bandwidth_mib_s = 1000000
parallelism = 1

[[array]]
name = "rank1"
read_latency_ms = 1
write_latency_ms = 1
bandwidth_mib_s = 1000000
parallelism = 1

[[volume]]
name = "src"
size_mib = 2
array = "rank0"

[[volume]]
name = "tgt"
size_mib = 2
array = "rank1"

[[volume]]
name = "other"
size_mib = 2
array = "rank0"

[[flashcopy]]
id = "fc"
source = "src"
target = "tgt"
at_s = 1
copy_rate_mib_s = 1
copy_extent_tracks = 1

[[workload]]
name = "db"
volume = "other"
rw = "randread"
bs = "4k"
iodepth = 1
"""

#: The same with random service times, so that replicates differ, and a short run.
NOISY = ["--set", "array.rank0.service_time=exponential", "--set", "run.duration_s=4"]


def write_theory(folder: Path) -> Path:
    path = folder / "theory.toml"
    path.write_text(THEORY)
    return path


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` but the output marker (it names the command's files only)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".flashsim-output"
    }
