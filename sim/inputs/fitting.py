"""Fitting a block trace onto a simulated volume: address mapping and time scaling, vectorised.

The simulator replays the result open-loop (each I/O issued at its time) or closed-loop (as fast
as the devices allow, with an iodepth); this module only decides *what* is issued and *when*.
"""

from __future__ import annotations

import numpy as np

from flashsim.sim.inputs.traces import RECORD, Trace, TraceError

MAPPINGS = ("as-is", "modulo", "scaled")


def fit_to_volume(
    trace: Trace, volume_bytes: int, mapping: str = "as-is", time_scale: float = 1.0
) -> np.ndarray:
    """Records whose I/Os lie inside a volume of `volume_bytes`, with times divided by
    `time_scale` (2.0 replays twice as fast).

    Mappings: `as-is` keeps offsets and rejects an I/O past the end (naming it); `modulo`
    wraps offsets into the volume; `scaled` maps the trace's address span linearly onto it.
    Either way an I/O never crosses the end: it is moved back to fit (lengths are kept), and an
    I/O longer than the volume is an error.
    """
    if mapping not in MAPPINGS:
        raise TraceError(
            f"{trace.path}: unknown address mapping {mapping!r} (known: {', '.join(MAPPINGS)})"
        )
    if not time_scale > 0:
        raise TraceError(f"{trace.path}: time_scale must be > 0, got {time_scale}")
    rec = trace.records
    out = np.empty(len(rec), dtype=RECORD)
    out["time_s"] = rec["time_s"] / time_scale
    out["write"] = rec["write"]
    lengths = rec["length"]
    out["length"] = lengths
    too_long = np.flatnonzero(lengths > volume_bytes)
    if len(too_long):
        i = int(too_long[0])
        raise TraceError(
            f"{trace.path}: record {i} is {int(lengths[i])} bytes, longer than the volume "
            f"({volume_bytes} bytes)"
        )
    offsets = rec["offset"]
    if mapping == "as-is":
        past = np.flatnonzero(offsets + lengths > volume_bytes)
        if len(past):
            i = int(past[0])
            raise TraceError(
                f"{trace.path}: record {i} (offset {int(offsets[i])}, {int(lengths[i])} bytes) "
                f"passes the end of the volume ({volume_bytes} bytes); use mapping modulo or scaled"
            )
        out["offset"] = offsets
        return out
    if mapping == "modulo":
        mapped = offsets % volume_bytes
    else:
        span = int((offsets + lengths).max()) if len(rec) else 1
        mapped = (offsets.astype(np.float64) * (volume_bytes / max(span, 1))).astype(np.int64)
    out["offset"] = np.minimum(mapped, volume_bytes - lengths)
    return out
