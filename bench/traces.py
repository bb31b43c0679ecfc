"""`flashsim bench --only traces`: trace parsing in records per second for each format, on
synthetic files of the same records, and trace replay through the simulator in host I/Os per
wall second, against the simulator's rate on a generated workload of the same shape (open
loop, 4 KiB uniform random writes, NOCOPY relationship active). Printed, never asserted.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from flashsim.bench.simulator import PAIR_SCENARIO
from flashsim.sim.engine import simulate
from flashsim.sim.inputs.traces import FORMATS, read_trace
from flashsim.sim.scenario import loads

_SCENARIO = (
    PAIR_SCENARIO
    + """[[workload]]
name = "w"
volume = "A"
{workload}
"""
)


def synthetic_records(count: int, rate_iops: float, seed: int = 5) -> dict[str, np.ndarray]:
    """`count` 4 KiB I/Os (70 % writes) at uniform random 4 KiB-aligned offsets of 64 GiB,
    Poisson arrivals at `rate_iops`; times in microseconds."""
    rng = np.random.default_rng(seed)
    return {
        "time_us": np.cumsum(rng.exponential(1e6 / rate_iops, count)).astype(np.int64),
        "write": rng.random(count) < 0.7,
        "offset": rng.integers(0, (64 << 30) // 4096, count) * 4096,
    }


def write_trace(path: Path, fmt: str, rec: dict[str, np.ndarray]) -> None:
    """The records in `fmt` (fio-iolog is version 3)."""
    t, w, off = rec["time_us"], rec["write"], rec["offset"]
    if fmt == "fio-iolog":
        ops = np.where(w, "write", "read")
        lines = [f"{a} /dev/sdb {b} {c} 4096" for a, b, c in zip(t.tolist(), ops, off.tolist(),
                                                                   strict=True)]  # fmt: skip
        text = "fio version 3 iolog\n" + "\n".join(lines) + "\n"
    elif fmt == "blkparse":
        rwbs = np.where(w, "W", "R")
        lines = [
            f"  8,16   1 {i + 1:>8} {a // 1_000_000}.{a % 1_000_000:06d}000  4242  Q {b} {c // 512}"
            " + 8 [app]"
            for i, (a, b, c) in enumerate(zip(t.tolist(), rwbs, off.tolist(), strict=True))
        ]
        text = "\n".join(lines) + "\n"
    elif fmt == "msr":
        kind = np.where(w, "Write", "Read")
        lines = [f"{128166372000000000 + 10 * a},hm,1,{b},{c},4096,100"
                 for a, b, c in zip(t.tolist(), kind, off.tolist(), strict=True)]  # fmt: skip
        text = "\n".join(lines) + "\n"
    else:
        op = np.where(w, "2a", "28")
        lines = [f"1,{a},{b},4096,{c // 512}"
                 for a, b, c in zip(t.tolist(), op, off.tolist(), strict=True)]  # fmt: skip
        text = "version,time,op,size,lbn\n" + "\n".join(lines) + "\n"
    path.write_text(text)


def bench_traces(
    parse_records: int = 500_000, replay_s: float = 4.0, rate_iops: float = 5000, repeat: int = 3
) -> dict[str, float]:
    """Parse rates (records/s) per format and replay vs generated host I/Os per wall second."""
    figures: dict[str, float] = {}
    rec = synthetic_records(parse_records, rate_iops)
    with tempfile.TemporaryDirectory(prefix="flashsim-bench-traces-") as folder:
        for fmt in FORMATS:
            path = Path(folder) / f"trace.{fmt}"
            write_trace(path, fmt, rec)
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                trace = read_trace(path, fmt)
                best = min(best, time.perf_counter() - start)
            assert len(trace) == parse_records
            figures[f"parse_{fmt}"] = parse_records / best
            mib = path.stat().st_size / 2**20
            print(
                f"{'trace parse ' + fmt:<46} {parse_records / best:>12,.0f} records/s"
                f"  ({parse_records:,} records, {mib:,.0f} MiB)"
            )
        replay_n = int(replay_s * rate_iops)
        path = Path(folder) / "replay.csv"
        write_trace(path, "msr", {k: v[:replay_n] for k, v in rec.items()})
        workload = f'trace = "{path}"\nformat = "msr"'
        replayed = simulate(loads(_SCENARIO.format(duration_s=replay_s + 1, workload=workload)))
        generated = simulate(loads(_SCENARIO.format(
            duration_s=replay_s, workload=f'rw = "randrw"\nrwmixread = 30\nrate_iops = {rate_iops}',
        )))  # fmt: skip
    figures["replay_host_ios_per_wall_s"] = replayed.host_ios / replayed.wall_s
    figures["generated_host_ios_per_wall_s"] = generated.host_ios / generated.wall_s
    figures["ratio"] = (
        figures["replay_host_ios_per_wall_s"] / figures["generated_host_ios_per_wall_s"]
    )
    print(
        f"{'trace replay (msr, open loop, NOCOPY active)':<46} "
        f"{figures['replay_host_ios_per_wall_s']:>12,.0f} host I/Os per wall s  generated "
        f"workload {figures['generated_host_ios_per_wall_s']:,.0f}  ratio {figures['ratio']:.2f}x"
        f"  ({replayed.host_ios:,} I/Os)"
    )
    return figures
