"""What a trace holds before it is replayed: I/O count, read/write mix, size histogram,
footprint in tracks and the working-set growth curve (all vectorised); the report and the
plot of `flashsim trace-stats`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flashsim.sim.inputs.traces import Trace, TraceError


@dataclass(frozen=True)
class TraceStats:
    ios: int
    reads: int
    writes: int
    bytes_read: int
    bytes_written: int
    duration_s: float
    size_histogram: dict[int, int]  # power-of-two upper bound in bytes -> I/Os
    footprint_tracks: int  # distinct tracks touched
    written_tracks: int  # distinct tracks written
    growth: np.ndarray  # distinct tracks touched after each I/O


#: Track touches (I/O, track) `trace_stats` expands at most: about 480 MB of work arrays.
MAX_TRACK_TOUCHES = 20_000_000


def tracks_touched(
    offsets: np.ndarray, lengths: np.ndarray, track_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (I/O index, track) pair the I/Os touch, expanded without a Python loop."""
    first = offsets // track_size
    counts = (offsets + lengths - 1) // track_size - first + 1
    owner = np.repeat(np.arange(len(offsets)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    tracks = np.repeat(first, counts) + (np.arange(int(counts.sum())) - starts)
    return owner, tracks


def first_touches(owner: np.ndarray, tracks: np.ndarray, ios: int) -> np.ndarray:
    """How many tracks each I/O touches for the first time."""
    _, first_index = np.unique(tracks, return_index=True)
    return np.bincount(owner[first_index], minlength=ios)


def trace_stats(trace: Trace, track_size: int) -> TraceStats:
    """The statistics of `trace` on tracks of `track_size` bytes; raises TraceError if its
    I/Os touch more than MAX_TRACK_TOUCHES tracks in all (memory: 24 bytes each)."""
    rec = trace.records
    writes = rec["write"]
    lengths = rec["length"]
    offsets = rec["offset"]
    touches = int(((offsets + lengths - 1) // track_size - offsets // track_size + 1).sum())
    if touches > MAX_TRACK_TOUCHES:
        raise TraceError(
            f"{trace.path}: its I/Os touch {touches:,} tracks of {track_size} bytes in all, over "
            f"the limit of {MAX_TRACK_TOUCHES:,}: choose larger tracks"
        )
    owner, tracks = tracks_touched(rec["offset"], lengths, track_size)
    growth = np.cumsum(first_touches(owner, tracks, len(rec)))
    written = np.unique(tracks[writes[owner]]) if len(rec) else np.empty(0)
    bounds = 1 << np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    sizes, counts = np.unique(bounds, return_counts=True)
    return TraceStats(
        ios=len(rec),
        reads=int((~writes).sum()),
        writes=int(writes.sum()),
        bytes_read=int(lengths[~writes].sum()),
        bytes_written=int(lengths[writes].sum()),
        duration_s=float(rec["time_s"][-1]) if len(rec) else 0.0,
        size_histogram=dict(zip(sizes.tolist(), counts.tolist(), strict=True)),
        footprint_tracks=int(growth[-1]) if len(growth) else 0,
        written_tracks=len(written),
        growth=growth,
    )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def report(trace: Trace, stats: TraceStats, track_size: int) -> str:
    mix = f"{100 * stats.reads / stats.ios:.1f}% reads" if stats.ios else "no I/O"
    lines = [
        f"trace {trace.path} ({trace.format}{'' if trace.timed else ', untimed'})",
        f"I/Os            {stats.ios:,} ({stats.reads:,} reads, {stats.writes:,} writes: {mix})",
        f"bytes           {stats.bytes_read:,} read, {stats.bytes_written:,} written",
        f"duration        {stats.duration_s:.6f} s",
        f"skipped lines   {trace.skipped_lines:,}; records without data I/O {trace.ignored:,}",
        f"footprint       {stats.footprint_tracks:,} tracks of {_size(track_size)} "
        f"({stats.written_tracks:,} written)",
        "sizes (up to)   "
        + ", ".join(f"{_size(s)}: {c:,}" for s, c in stats.size_histogram.items()),
        "working set     " + ", ".join(
            f"{q}%: {int(stats.growth[max(0, int(len(stats.growth) * q / 100) - 1)]):,}"
            for q in (10, 25, 50, 75, 100)
        ) if stats.ios else "working set     empty",
    ]  # fmt: skip
    return "\n".join(lines)


def plot_growth(stats: TraceStats, track_size: int, path: str) -> None:
    from flashsim.sim.figure_files import new_figure, write_figure

    fig = new_figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(stats.growth) + 1), stats.growth, color="tab:blue")
    ax.set_xlabel("I/Os replayed")
    ax.set_ylabel(f"distinct tracks touched ({_size(track_size)})")
    ax.set_title("Working-set growth")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    write_figure(fig, path)
