"""What each design costs in simulated time, checked against arithmetic: a sequential writer
of one track per I/O touches every track once, so every host write is a first write under
N = 1, 4 or 12 NOCOPY copies taken before it starts. The back end then serves, per host
write of T bytes: DS8000, N reads and N writes of T (one copy-before-write per target); SVC,
one read and one write of T (the newest mapping only); redirect-on-write, no read and one
metadata write of 4 KiB (the old block is left to the newest snapshot)."""

from __future__ import annotations

import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.sim.driver import METADATA_BYTES
from flashsim.sim.engine import simulate

TRACK = 64 * 1024


def run(profile: str, copies: int):
    body = array("a0", lat=0.5, bw=1000, par=8) + volume("prod", 64)
    for i in range(copies):
        name = f"t{i:02d}"
        body += volume(name, 64) + flashcopy(name, "prod", name, 0, background_copy=False)
    # 50 writes of one 64 KiB track a second for 9.5 s, all done a second before the end:
    # fewer than the volume's 1,024 tracks
    body += """
[[workload]]
name = "w"
volume = "prod"
rw = "write"
bs = "64k"
rate_iops = 50
start_s = 0.5
stop_s = 10
"""
    return simulate(scenario(body, duration_s=11, profile=f'"{profile}"'))


@pytest.mark.parametrize("copies", [1, 4, 12])
@pytest.mark.parametrize(
    ("profile", "reads", "writes", "remap_bytes"),
    [("ds8000", "n", "n", 0), ("svc", 1, 1, 0), ("row", 0, 0, METADATA_BYTES)],
)
def test_back_end_bytes_per_host_write(profile, reads, writes, remap_bytes, copies):
    result = run(profile, copies)
    arr = result.arrays["a0"]
    host_writes = arr.ios["host"]
    assert host_writes == arr.bytes["host"] // TRACK > 0
    copy_ios = sum(copies if n == "n" else n for n in (reads, writes))
    assert arr.ios["copy_before_write"] == copy_ios * host_writes
    assert arr.bytes["copy_before_write"] == copy_ios * host_writes * TRACK
    assert arr.bytes["row_remap"] == remap_bytes * host_writes
