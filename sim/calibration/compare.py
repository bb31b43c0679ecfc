"""Each measured fio job replayed in the simulator on the fitted array: the same direction
mix, block size and depth as a closed loop on one volume, run for about `SIM_IOS` I/Os (fewer
for large blocks, `SIM_BYTES`); the
figures of each direction side by side with fio's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flashsim.sim.calibration.fio_results import Measurement
from flashsim.sim.calibration.fit import MIB, FittedArray
from flashsim.sim.engine import simulate
from flashsim.sim.scenario import validate

SIM_IOS = 20_000
#: Written blocks are real bytes: large-block jobs run for fewer I/Os (at least 2,000).
SIM_BYTES = 2 << 30
FIGURES = ("IOPS", "MiB/s", "mean ms", "p50 ms", "p99 ms")


@dataclass(frozen=True, slots=True)
class Row:
    job: str
    direction: str
    figure: str
    measured: float
    simulated: float

    @property
    def ratio(self) -> float:
        return self.simulated / self.measured if self.measured else float("nan")


def job_scenario(job: Measurement, array: dict[str, Any], seed: int) -> dict[str, Any]:
    """The raw scenario replaying `job` on `array`."""
    ios = sum(p.ios for p in job.parts)
    reads = sum(p.ios for p in job.parts if p.direction == "read")
    block = round(sum(p.bytes for p in job.parts) / ios)
    workload: dict[str, Any] = {"volume": "vol", "bs": block, "iodepth": job.depth}
    if reads == ios:
        workload["rw"] = "randread"
    elif reads == 0:
        workload["rw"] = "randwrite"
    else:
        workload["rw"], workload["rwmixread"] = "randrw", 100.0 * reads / ios
    # The array's figures do not depend on where an I/O lands: a small volume bounds memory.
    size_mib = max(64, -(-4 * block // MIB))
    sim_ios = min(SIM_IOS, max(2000, SIM_BYTES // block))
    return {
        "run": {
            "duration_s": sim_ios / job.iops,
            "seed": seed,
            "records": True,
            "plots": False,
        },
        "array": [array],
        "volume": [{"name": "vol", "size_mib": size_mib, "array": array["name"]}],
        "workload": [workload],
    }


def compare(jobs: list[Measurement], fitted: FittedArray, file: str, seed: int = 1) -> list[Row]:
    """Measured and simulated figures of every job and direction."""
    rows = []
    for job in jobs:
        raw = job_scenario(job, fitted.table(), seed)
        result = simulate(validate(raw, f"{file} {job.label}"))
        records = result.records
        duration = raw["run"]["duration_s"]
        for part in job.parts:
            mine = records["read"] == (part.direction == "read")
            latency_ms = records["latency_s"][mine] * 1000
            simulated = (
                len(latency_ms) / duration,
                float(records["length"][mine].sum()) / duration / MIB,
                float(latency_ms.mean()),
                float(np.percentile(latency_ms, 50)),
                float(np.percentile(latency_ms, 99)),
            )
            measured = (
                part.iops,
                part.bytes_s / MIB,
                part.mean_s * 1000,
                part.percentile_s(50) * 1000,
                part.percentile_s(99) * 1000,
            )
            rows += [
                Row(job.label, part.direction, f, m, s)
                for f, m, s in zip(FIGURES, measured, simulated, strict=True)
            ]
    return rows


def report(rows: list[Row]) -> str:
    lines = [
        f"{'job':<28} {'dir':<5} {'figure':<8} {'measured':>12} {'simulated':>12} {'ratio':>6}"
    ]
    for r in rows:
        lines.append(
            f"{r.job:<28} {r.direction:<5} {r.figure:<8} {r.measured:>12.4g} "
            f"{r.simulated:>12.4g} {r.ratio:>6.3f}"
        )
    return "\n".join(lines)
