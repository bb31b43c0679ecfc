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


def test_a_redirect_on_write_partial_write_to_a_shared_block_reads_it_to_merge():
    """Rule R2b: 4 KiB writes into the 64 KiB blocks of a filled volume after one snapshot.
    The first write into each block reads the old block (64 KiB) and writes the new one whole
    (64 KiB); the later writes into that block find it unshared and write their 4 KiB in
    place. Which blocks are first written follows from the writes' offsets alone."""
    body = array("a0", lat=0.5, bw=1000, par=8) + volume("prod", 4) + volume("s1", 4)
    body += flashcopy("s1", "prod", "s1", 1, background_copy=False)
    body += """
[[workload]]
name = "fill"
volume = "prod"
rw = "write"
bs = "64k"
rate_iops = 100
stop_s = 0.9

[[workload]]
name = "w"
volume = "prod"
rw = "write"
bs = "4k"
rate_iops = 100
start_s = 1.5
stop_s = 9.5
"""
    result = simulate(scenario(body, duration_s=11, profile='"row"'))
    rec = result.records
    assert (rec["error"] == 0).all()
    fill = rec["issue_s"] < 1
    assert set((rec["offset"][fill] // TRACK).tolist()) == set(range(64))  # every block holds data
    after = ~fill
    blocks = set((rec["offset"][after] // TRACK).tolist())
    assert 1 < len(blocks) < 64
    arr = result.arrays["a0"]
    assert arr.ios["row_merge"] == len(blocks)
    assert arr.bytes["row_merge"] == len(blocks) * TRACK
    assert arr.bytes["row_remap"] == len(blocks) * METADATA_BYTES
    host_written = int(rec["length"].sum())
    assert arr.bytes["host"] == host_written + len(blocks) * (TRACK - 4096)
