"""`flashsim bench`: the core's figures, each against a baseline measured in the same run.

Prints one line per figure: what, the measured value, the baseline, the ratio and the goal
from the core issue. Timings are best of `repeat` runs; memory figures come from separate
child processes (peak RSS is per process). Never used as a pass/fail test: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from flashsim.models.ops import Establish
from flashsim.models.replay import replay
from flashsim.models.state.backend import file_backend_in, memory_backend
from flashsim.models.system import System

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
TRACK = 64 * KIB


def _best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def _line(name: str, value: str, baseline: str, ratio: float, goal: str) -> dict[str, object]:
    print(f"{name:<46} {value:>16}  baseline {baseline:>16}  ratio {ratio:6.2f}x  goal {goal}")
    return {"name": name, "value": value, "baseline": baseline, "ratio": ratio, "goal": goal}


def bench_background_copy(size_bytes: int, repeat: int) -> list[dict[str, object]]:
    """Background copy of host-written bytes vs numpy.copyto of the same bytes."""
    tracks = size_bytes // TRACK
    payload = np.random.default_rng(1).integers(0, 256, size_bytes, dtype=np.uint8)
    data = payload.tobytes()

    def ours() -> float:
        system = System()
        system.create("A", tracks, TRACK)
        system.create("B", tracks, TRACK)
        system.write("A", 0, data)  # host-written tracks: the copy must move every byte
        system.establish(Establish("r1", "A", "B"))
        start = time.perf_counter()
        copied = system.background_copy("r1", tracks)
        elapsed = time.perf_counter() - start
        assert copied == tracks and system.read("B", 0, size_bytes) == data
        return elapsed

    dst = np.empty_like(payload)
    np.copyto(dst, payload)  # fault the pages in: the baseline is memory bandwidth

    def baseline() -> float:
        start = time.perf_counter()
        np.copyto(dst, payload)
        return time.perf_counter() - start

    ours_s = _best(ours, repeat)
    base_s = _best(baseline, repeat)
    mib = size_bytes / MIB
    return [
        _line(
            f"background copy {mib:.0f} MiB, 64 KiB tracks",
            f"{mib / ours_s:,.0f} MiB/s",
            f"{mib / base_s:,.0f} MiB/s",
            base_s / ours_s,
            ">= 0.7x numpy.copyto",
        )
    ]


def _hole_copy_s(tracks: int, written: int) -> float:
    """Background copy of a `tracks`-track pair of 4 KiB tracks whose source holds `written`
    host-written tracks, spread evenly, the rest never written (timed: the copy only)."""
    system = System()
    system.create("A", tracks, 4 * KIB)
    system.create("B", tracks, 4 * KIB)
    block = bytes(range(256)) * 16
    for k in range(written):
        system.write("A", (k * (tracks // written)) * 4 * KIB, block)
    system.establish(Establish("r1", "A", "B"))
    start = time.perf_counter()
    copied = system.background_copy("r1", tracks)
    elapsed = time.perf_counter() - start
    assert copied == tracks
    return elapsed


def bench_hole_copy(tracks: int, repeat: int) -> list[dict[str, object]]:
    """Background copy of a volume of which 1 track in 256 was ever written, against the
    copy of the same volume fully written: holes cost a fraction of what data does."""
    sparse_s = _best(lambda: _hole_copy_s(tracks, tracks // 256), repeat)
    full_s = _best(lambda: _hole_copy_s(tracks, tracks), repeat)
    return [
        _line(
            f"copy of {tracks:,} 4 KiB tracks, 1 in 256 written",
            f"{sparse_s * 1e3:,.1f} ms",
            f"{full_s * 1e3:,.1f} ms all written",
            full_s / sparse_s,
            ">> 1x (holes cost less than data)",
        )
    ]


def _offsets(count: int, region_bytes: int, seed: int = 7) -> list[int]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, region_bytes // (4 * KIB), count) * (4 * KIB)).tolist()


def _write_run(
    volume_bytes: int, offsets: list[int], relationship: bool, backend: str, folder: str
) -> float:
    factory = file_backend_in(folder) if backend == "file" else memory_backend
    system = System(backend_factory=factory)
    tracks = volume_bytes // TRACK
    system.create("A", tracks, TRACK)
    system.create("B", tracks, TRACK)
    if relationship:
        system.establish(Establish("r1", "A", "B", background_copy=False))
    block = bytes(range(256)) * 16
    start = time.perf_counter()
    for offset in offsets:
        system.write("A", offset, block)
    elapsed = time.perf_counter() - start
    system.close()
    return elapsed


def bench_cow_writes(count: int, repeat: int) -> list[dict[str, object]]:
    """Random 4 KiB writes with an active NOCOPY relationship vs with none."""
    offsets = _offsets(count, GIB)
    with tempfile.TemporaryDirectory() as folder:
        cow = _best(lambda: _write_run(GIB, offsets, True, "memory", folder), repeat)
        plain = _best(lambda: _write_run(GIB, offsets, False, "memory", folder), repeat)
    return [
        _line(
            f"{count:,} random 4 KiB writes, NOCOPY active",
            f"{count / cow:,.0f} writes/s",
            f"{count / plain:,.0f} writes/s",
            cow / plain,
            "<= 3x the time of no relationship",
        )
    ]


def _child_case(volume_bytes: int, count: int, backend: str) -> dict[str, float]:
    """Run one write case in a fresh process; return its time and peak RSS."""
    code = (
        "import json, tempfile\n"
        "from flashsim.bench.core import _write_run, _offsets\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        f"    t = _write_run({volume_bytes}, _offsets({count}, {GIB}), True, {backend!r}, d)\n"
        "from flashsim.bench.core import peak_rss_mib\n"
        "print(json.dumps({'seconds': t, 'peak_rss_mib': peak_rss_mib()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited
    through fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_volume_size(count: int) -> list[dict[str, object]]:
    """The same writes on a 1 TiB volume vs a 1 GiB one: time and peak memory."""
    lines = []
    for backend in ("memory", "file"):
        small = _child_case(GIB, count, backend)
        large = _child_case(TIB, count, backend)
        lines.append(
            _line(
                f"{count:,} writes, 1 TiB vs 1 GiB volume ({backend})",
                f"{large['seconds']:.2f} s",
                f"{small['seconds']:.2f} s",
                large["seconds"] / small["seconds"],
                "<= 1.2x",
            )
        )
        extra = large["peak_rss_mib"] - small["peak_rss_mib"]
        print(
            f"{'  peak memory, 1 TiB vs 1 GiB (' + backend + ')':<46} "
            f"{large['peak_rss_mib']:>12,.0f} MiB  baseline {small['peak_rss_mib']:>12,.0f} MiB"
            f"  extra {extra:6.1f} MiB  goal within 64 MiB"
        )
        lines.append({"name": f"peak memory extra ({backend})", "extra_mib": extra})
    return lines


def mixed_oplog(lines: int, seed: int = 11) -> list[str]:
    """A deterministic op log of mixed operations over a few 4 MiB volumes."""
    rng = random.Random(seed)
    volumes = ["V0", "V1", "V2", "V3", "V4"]
    tracks, track_size = 64, 64 * KIB
    out = [
        json.dumps({"op": "create", "volume": v, "tracks": tracks, "track_size": track_size})
        for v in volumes
    ]
    size = tracks * track_size
    next_id = 0
    while len(out) < lines:
        roll = rng.random()
        volume = rng.choice(volumes)
        if roll < 0.45:
            length = rng.choice([512, 4096, 8192, 65536])
            offset = rng.randrange(0, size - length + 1)
            out.append(
                json.dumps({"op": "write", "volume": volume, "offset": offset,
                            "fill": rng.randrange(256), "length": length})
            )  # fmt: skip
        elif roll < 0.85:
            length = rng.choice([512, 4096, 65536])
            offset = rng.randrange(0, size - length + 1)
            out.append(
                json.dumps({"op": "read", "volume": volume, "offset": offset, "length": length})
            )
        elif roll < 0.92:
            next_id += 1
            source, target = rng.sample(volumes, 2)
            out.append(
                json.dumps({"op": "establish", "id": f"r{next_id}", "source": source,
                            "target": target, "background_copy": rng.random() < 0.5,
                            "incremental": rng.random() < 0.3})
            )  # fmt: skip
        else:
            rel = f"r{rng.randint(max(1, next_id - 5), max(1, next_id))}"
            op = rng.choice(["background_copy", "withdraw", "refresh", "reverse"])
            record: dict[str, object] = {"op": op, "id": rel}
            if op == "background_copy":
                record["tracks"] = rng.randint(1, 16)
            out.append(json.dumps(record))
    return out[:lines]


def bench_replay(lines: int, repeat: int) -> list[dict[str, object]]:
    """`flashsim replay --keep-going` of a mixed op log, in lines per second."""
    log = mixed_oplog(lines)

    def once() -> float:
        start = time.perf_counter()
        records = sum(1 for _ in replay(log, System(), keep_going=True))
        elapsed = time.perf_counter() - start
        assert records > 0
        return elapsed

    def parse_only() -> float:
        start = time.perf_counter()
        for text in log:
            json.loads(text)
        return time.perf_counter() - start

    ours = _best(once, repeat)
    base = _best(parse_only, repeat)
    return [
        _line(
            f"replay of a {lines:,}-line mixed op log",
            f"{lines / ours:,.0f} lines/s",
            f"{lines / base:,.0f} json/s",
            ours / base,
            "10,000 lines in seconds (ratio: time vs json.loads alone)",
        )
    ]


BENCHES = (
    "background_copy", "hole_copy", "cow_writes", "volume_size", "replay", "simulator",
    "traces", "checker", "mutation", "instructions",
)  # fmt: skip
#: Run only when asked for (`--only`): the mutation run takes minutes to an hour, the count of
#: instructions under valgrind minutes.
ON_REQUEST = ("mutation", "instructions")


def bench_checker(repeat: int, quick: bool = False) -> list[dict[str, object]]:
    """The model checker on reference configuration (a): distinct states per second against a
    plain-dict BFS of a toy model, and the states the reductions leave; at scale (over a
    million states; `quick`: a small one) against a BFS over the same successor function;
    and the speed-up of independent searches on every core."""
    from flashsim.bench.checker import bench, bench_large, bench_partitioned, bench_workers
    from flashsim.bundled import check_configs

    figures = bench(repeat=repeat)
    large = bench_large(readers=0 if quick else 5)
    configs = check_configs()
    cores = bench_workers(configs[:2] if quick else configs)
    split = bench_partitioned(readers=0 if quick else 4)
    rate, toy = figures["states_per_s"], figures["toy_bfs_states_per_s"]
    both = figures["both_factor"]
    return [
        _line(
            "checker (a), no reduction: states/s",
            f"{rate:,.0f}",
            f"{toy:,.0f} toy",
            rate / toy,
            ">= 100,000 states/s",
        ),
        _line(
            "checker (a), partial order + symmetry: states",
            f"{figures['both_states']:,.0f}",
            f"{figures['states']:,.0f} full",
            1 / both,
            ">= 5x fewer (ratio <= 0.20)",
        ),
        _line(
            f"checker at scale ({large['states']:,.0f} states): states/s",
            f"{large['states_per_s']:,.0f} ({large['states_per_cpu_s']:,.0f} CPU)",
            f"{large['baseline_states_per_s']:,.0f} BFS",
            large["states_per_s"] / large["baseline_states_per_s"],
            ">= 100,000 states/s on >= 1 M states",
        ),
        _line(
            "checker at scale: bytes per state",
            f"{large['bytes_per_state']:,.0f}",
            f"{large['baseline_bytes_per_state']:,.0f} BFS",
            large["bytes_per_state"] / large["baseline_bytes_per_state"],
            "stated, not growing",
        ),
        _line(
            f"checker, {cores['searches']:.0f} searches on {cores['workers']:.0f} cores",
            f"x{cores['speed_up']:.2f}",
            "1 worker",
            cores["speed_up"],
            "uses every core",
        ),
        _line(
            f"checker, one search ({split['states']:,.0f} states) on {split['workers']:.0f} cores",
            f"x{split['speed_up']:.2f} (x{split['cpu_speed_up']:.2f} CPU)",
            "1 process",
            split["speed_up"],
            "same states and edges" if split["same"] else "DIFFERENT states or edges",
        ),
    ]


def main(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    only = getattr(args, "only", None) or [b for b in BENCHES if b not in ON_REQUEST]
    unknown = sorted(set(only) - set(BENCHES))
    if unknown:
        print(
            f"flashsim bench: unknown benchmark {unknown[0]} (known: {', '.join(BENCHES)})",
            file=sys.stderr,
        )
        return 2
    repeat = 1 if quick else 3
    print(f"flashsim bench ({'quick' if quick else 'full'}); ratios against same-run baselines")
    if "background_copy" in only:
        bench_background_copy((16 if quick else 256) * MIB, repeat)
    if "hole_copy" in only:
        bench_hole_copy((1 << 16) if quick else (1 << 20), repeat)
    if "cow_writes" in only:
        bench_cow_writes(5_000 if quick else 100_000, repeat)
    if "volume_size" in only:
        bench_volume_size(5_000 if quick else 100_000)
    if "replay" in only:
        bench_replay(2_000 if quick else 100_000, repeat)
    if "simulator" in only:
        from flashsim.bench.simulator import bench_simulator

        bench_simulator(duration_s=0.5 if quick else 4.0, repeat=repeat)
    if "instructions" in only:
        from flashsim.bench.simulator import bench_instructions

        bench_instructions(durations=(0.1, 0.3) if quick else (0.2, 1.0))
    if "traces" in only:
        from flashsim.bench.traces import bench_traces

        bench_traces(20_000 if quick else 500_000, 0.5 if quick else 4.0, repeat=repeat)
    if "checker" in only:
        bench_checker(1 if quick else 5, quick=quick)
    if "mutation" in only:
        from flashsim.bench.mutation import bench as bench_mutation

        if quick:
            bench_mutation(size=30)
        else:
            bench_mutation(size=300, tests=24)
    print(f"peak memory of this process: {peak_rss_mib():,.0f} MiB")
    return 0
