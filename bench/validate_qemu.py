"""The simulator's timing checked against a measured real system (docs/validation.md).

The "array": two raw image files under `qemu-storage-daemon`, each behind a `throttle` filter
node of its own `throttle-group` (fixed IOPS and bandwidth limits), so its capacity is known.
The load: fio (`ioengine=nbd`) issuing random 4 KiB reads and writes at a fixed Poisson rate
against the source's NBD export, over three phases: no copy, during a full backup of the
source to the target (`blockdev-backup sync=full` at `speed` bytes/s), and after it.

The prediction: the `[[array]]` is fitted by `flashsim calibrate`'s fit to separate calibration
runs on the same throttled images (4 KiB reads alone and 4 KiB writes alone, 1 MiB reads for the
bandwidth, each a closed loop at depth 1), never to the phases predicted; the scenario then
simulates the same workload, volume and copy rate. Side by side, per copy rate and phase:
copy completion time, host IOPS, mean, p50 and p99 latency, measured and predicted, with the
relative error (predicted / measured - 1).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flashsim.conform.daemon import Daemon, die_with_parent, hold_signals, running_daemon

MIB = 1 << 20
PHASES = ("before", "during", "after")
FIGURES = ("IOPS", "mean ms", "p50 ms", "p99 ms")


@dataclass(frozen=True)
class Setup:
    """The experiment's knobs (`QUICK` and `FULL` below)."""

    size_mib: int = 128  # the source volume (and the target)
    iops_limit: int = 20000  # per image: the throttle group's iops-total
    bandwidth_mib_s: float = 48.0  # per image: bps-total
    load_iops_per_direction: int = 100  # reads and writes, each at this Poisson rate
    phase_s: float = 8.0  # the phases before and after the copy
    rates_mib_s: tuple[float, ...] = (8.0, 16.0, 64.0)  # the backup's speed
    calibration_s: float = 6.0  # each calibration job
    warmup_s: float = 1.0  # dropped at the start of the load
    seed: int = 1


FULL = Setup()
QUICK = Setup(size_mib=16, phase_s=2.0, rates_mib_s=(8.0,), calibration_s=2.0, warmup_s=0.5)


class ValidationError(Exception):
    """The experiment cannot run here (QEMU or fio missing, a run failed)."""


@dataclass
class PhaseFigures:
    ios: int
    iops: float
    mean_ms: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, latency_ms: np.ndarray, seconds: float) -> PhaseFigures:
        if not len(latency_ms) or seconds <= 0:
            return cls(0, 0.0, math.nan, math.nan, math.nan)
        return cls(
            len(latency_ms),
            len(latency_ms) / seconds,
            float(latency_ms.mean()),
            float(np.percentile(latency_ms, 50)),
            float(np.percentile(latency_ms, 99)),
        )

    def figure(self, name: str) -> float:
        return {
            "IOPS": self.iops,
            "mean ms": self.mean_ms,
            "p50 ms": self.p50_ms,
            "p99 ms": self.p99_ms,
        }[name]


@dataclass
class Run:
    """One copy rate: its copy time and per-phase figures, measured or predicted."""

    copy_s: float
    phases: dict[str, PhaseFigures] = field(default_factory=dict)


def phase_figures(  # noqa: PLR0917 - the windows' bounds, in their order
    issue_s: np.ndarray,
    latency_ms: np.ndarray,
    start: float,
    copy_start: float,
    copy_end: float,
    phase_s: float,
) -> dict[str, PhaseFigures]:
    """The figures of each phase from per-I/O issue times and latencies: before is
    [start, copy_start), during [copy_start, copy_end), after [copy_end, copy_end + phase_s)."""
    windows = {
        "before": (start, copy_start),
        "during": (copy_start, copy_end),
        "after": (copy_end, copy_end + phase_s),
    }
    out = {}
    for phase, (lo, hi) in windows.items():
        mine = (issue_s >= lo) & (issue_s < hi)
        out[phase] = PhaseFigures.of(latency_ms[mine], hi - lo)
    return out


# -- the real system ---------------------------------------------------------------------------
def _throttled_images(daemon: Daemon, setup: Setup) -> str:
    """Source (filled with seeded random data, so the backup copies real clusters) and
    target under their throttle groups; the source exported; returns fio's NBD URI."""
    size = setup.size_mib * MIB
    rng = np.random.default_rng(setup.seed)
    qmp = daemon.qmp
    for name in ("src", "tgt"):
        path = daemon.folder / f"{name}.raw"
        with open(path, "xb") as image:
            if name == "src":
                for _ in range(setup.size_mib):
                    image.write(rng.integers(0, 256, MIB, dtype=np.uint8).tobytes())
            else:
                image.truncate(size)
        limits = {"iops-total": setup.iops_limit, "bps-total": int(setup.bandwidth_mib_s * MIB)}
        qmp.execute(
            "object-add", **{"qom-type": "throttle-group", "id": f"tg-{name}", "limits": limits}
        )
        qmp.execute(
            "blockdev-add",
            driver="raw",
            **{"node-name": f"raw-{name}"},
            file={"driver": "file", "filename": str(path)},
        )
        qmp.execute(
            "blockdev-add",
            driver="throttle",
            file=f"raw-{name}",
            **{"node-name": name, "throttle-group": f"tg-{name}"},
        )
    qmp.execute(
        "block-export-add", type="nbd", id="src", name="src", writable=True, **{"node-name": "src"}
    )
    return f"nbd+unix:///src?socket={daemon.nbd_socket}"


@contextlib.contextmanager
def _fio(args: Sequence[str], folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """fio as a child that dies with flashsim; interrupted and waited for when the block ends."""
    held = hold_signals()
    try:
        process = subprocess.Popen(
            ["fio", *args],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - started from the main thread
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _job(  # noqa: PLR0917 - one fio job's options
    uri: str, rw: str, bs: str, runtime_s: float, rate: int | None, log: str | None
) -> str:
    lines = [
        "[job]",
        "ioengine=nbd",
        f"uri={uri}",
        f"rw={rw}",
        f"bs={bs}",
        "time_based=1",
        f"runtime={runtime_s:g}",
        "randrepeat=1",
        "iodepth=1",
    ]
    if rw == "randrw":
        lines.append("rwmixread=50")
    if rate:
        lines += [f"rate_iops={rate}", "rate_process=poisson"]
    if log:
        lines += [f"write_lat_log={log}", "log_avg_msec=0", "log_unix_epoch=1"]
    return "\n".join(lines) + "\n"


def calibrate_array(setup: Setup, name: str) -> dict[str, Any]:
    """The `[[array]]` fitted to calibration jobs on a fresh throttled image pair."""
    from flashsim.sim.calibration.fio_results import read_fio_json
    from flashsim.sim.calibration.fit import fit

    with running_daemon() as daemon:
        uri = _throttled_images(daemon, setup)
        # closed loops as fast as the throttled image allows (calibrate refuses rate-limited
        # jobs: their latency would hide the device's), at depth 1, and a deep one for the
        # parallelism (QEMU serves many requests at once, the backup job's included)
        jobs = [
            ("randread", "4k", 1),
            ("randwrite", "4k", 1),
            ("randread", "1m", 1),
            ("randread", "4k", 16),
        ]
        text = "".join(
            _job(uri, rw, bs, setup.calibration_s, None, None)
            .replace("[job]", f"[{rw}-{bs}-qd{depth}]")
            .replace("iodepth=1", f"iodepth={depth}")
            + "stonewall=1\n"
            for rw, bs, depth in jobs
        )
        (daemon.folder / "calibration.fio").write_text(text)
        out = daemon.folder / "calibration.json"
        with _fio(
            ["--output-format=json", f"--output={out}", "calibration.fio"], daemon.folder
        ) as fio:
            if fio.wait() != 0:
                raise ValidationError(f"fio calibration failed: {_stderr(fio)}")
        measured = read_fio_json(str(out))
        fitted = fit(measured, name)
        return {
            "table": fitted.table(),
            "notes": fitted.notes,
            "jobs": {m.label: round(sum(p.iops for p in m.parts)) for m in measured},
        }


def _stderr(process: subprocess.Popen[bytes]) -> str:
    if process.stderr is None:
        return ""
    return " ".join(process.stderr.read().decode(errors="replace").split())[-300:]


def measure(setup: Setup, rate_mib_s: float) -> Run:
    """One measured run at backup speed `rate_mib_s`."""
    with running_daemon() as daemon:
        uri = _throttled_images(daemon, setup)
        expected = setup.size_mib / min(rate_mib_s, setup.bandwidth_mib_s)
        runtime = setup.warmup_s + setup.phase_s + 3 * expected + setup.phase_s + 5
        # a reader and a writer, each its own Poisson stream at depth 1: at a rate limit fio
        # sleeps between I/Os and reaps an async engine's completions only when it wakes, which
        # would add up to an inter-arrival gap to every latency
        rate = setup.load_iops_per_direction
        job = "".join(
            _job(uri, rw, "4k", runtime, rate, name).replace("[job]", f"[{name}]")
            for rw, name in (("randread", "reads"), ("randwrite", "writes"))
        )
        (daemon.folder / "load.fio").write_text(job)
        with _fio(["--output-format=json", "--output=load.json", "load.fio"], daemon.folder) as fio:
            begun = time.time()
            time.sleep(setup.warmup_s + setup.phase_s)
            copy_start = time.time()
            daemon.qmp.execute(
                "blockdev-backup",
                device="src",
                target="tgt",
                sync="full",
                speed=int(rate_mib_s * MIB),
                **{"job-id": "backup"},
            )
            event = daemon.qmp.wait_event(
                "BLOCK_JOB_COMPLETED", timeout_s=3 * expected + 30, device="backup"
            )
            if event["data"].get("error"):
                raise ValidationError(f"backup failed: {event['data']['error']}")
            stamp = event["timestamp"]
            copy_end = stamp["seconds"] + stamp["microseconds"] / 1e6
            time.sleep(max(0.0, copy_end + setup.phase_s - time.time()) + 0.5)
            fio.send_signal(signal.SIGINT)
            fio.wait(timeout=30)
        logs = sorted(daemon.folder.glob("*_lat.*.log"))
        log = np.concatenate([np.loadtxt(p, delimiter=",", ndmin=2) for p in logs])
    if not len(log):
        raise ValidationError("fio logged no I/O")
    done_s = log[:, 0] / 1000  # completion, Unix epoch
    latency_ms = log[:, 1] / 1e6
    issue_s = done_s - latency_ms / 1000
    run = Run(copy_s=copy_end - copy_start)
    run.phases = phase_figures(
        issue_s, latency_ms, begun + setup.warmup_s, copy_start, copy_end, setup.phase_s
    )
    return run


# -- the prediction ----------------------------------------------------------------------------
def scenario(setup: Setup, array: dict[str, Any], rate_mib_s: float) -> dict[str, Any]:
    """The raw scenario of one copy rate: the two images as two arrays of the fitted table."""
    at = setup.warmup_s + setup.phase_s
    copy = setup.size_mib / min(rate_mib_s, setup.bandwidth_mib_s)
    return {
        "run": {
            "duration_s": at + 3 * copy + setup.phase_s + 5,
            "seed": setup.seed,
            "records": True,
            "plots": False,
        },
        "array": [{**array, "name": "src_image"}, {**array, "name": "tgt_image"}],
        "volume": [
            {"name": "src", "size_mib": setup.size_mib, "track_size_kib": 64, "array": "src_image"},
            {"name": "tgt", "size_mib": setup.size_mib, "track_size_kib": 64, "array": "tgt_image"},
        ],
        "flashcopy": [
            {
                "id": "backup",
                "source": "src",
                "target": "tgt",
                "at_s": at,
                "background_copy": True,
                "copy_rate_mib_s": rate_mib_s,
            }
        ],
        "workload": [
            {
                "name": name,
                "volume": "src",
                "rw": rw,
                "bs": "4k",
                "rate_iops": setup.load_iops_per_direction,
            }
            for name, rw in (("reads", "randread"), ("writes", "randwrite"))
        ],
    }


def predict(setup: Setup, array: dict[str, Any], rate_mib_s: float) -> Run:
    from flashsim.sim.engine import simulate
    from flashsim.sim.scenario import validate

    raw = scenario(setup, array, rate_mib_s)
    result = simulate(validate(raw, "validation"))
    stats = result.relationships["backup"]
    at = raw["flashcopy"][0]["at_s"]
    end = stats.copy_complete_at_s if stats.copy_complete_at_s is not None else math.nan
    records = result.records
    run = Run(copy_s=end - at)
    run.phases = phase_figures(
        records["issue_s"], records["latency_s"] * 1000, setup.warmup_s, at, end, setup.phase_s
    )
    result.system.close()
    return run


# -- the report --------------------------------------------------------------------------------
def relative_error(measured: float, predicted: float) -> float:
    """predicted / measured - 1 (NaN when nothing was measured)."""
    if not measured or math.isnan(measured) or math.isnan(predicted):
        return math.nan
    return predicted / measured - 1


def rows(results: dict[float, tuple[Run, Run]]) -> list[dict[str, Any]]:
    """The table: per copy rate, the copy time, then per phase and figure."""
    out = []
    for rate, (measured, predicted) in results.items():
        out.append(
            {
                "rate_mib_s": rate,
                "phase": "copy",
                "figure": "completion s",
                "measured": measured.copy_s,
                "predicted": predicted.copy_s,
            }
        )
        for phase in PHASES:
            for name in FIGURES:
                out.append(
                    {
                        "rate_mib_s": rate,
                        "phase": phase,
                        "figure": name,
                        "measured": measured.phases[phase].figure(name),
                        "predicted": predicted.phases[phase].figure(name),
                    }
                )
    for row in out:
        row["error"] = relative_error(row["measured"], row["predicted"])
    return out


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3g}"


def markdown(table: list[dict[str, Any]]) -> str:
    lines = [
        "| copy MiB/s | phase | figure | measured | predicted | error |",
        "|---|---|---|---|---|---|",
    ]
    for row in table:
        error = "-" if math.isnan(row["error"]) else f"{100 * row['error']:+.0f}%"
        lines.append(
            f"| {row['rate_mib_s']:g} | {row['phase']} | {row['figure']} | "
            f"{_number(row['measured'])} | {_number(row['predicted'])} | {error} |"
        )
    return "\n".join(lines) + "\n"


def figure(table: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    """Per copy rate, p50 and p99 of each phase measured (solid) and predicted (hatched), and
    the copy times, on one figure."""
    from flashsim.sim.figure_files import new_figure

    rates = sorted({row["rate_mib_s"] for row in table})
    fig = new_figure(figsize=(4.2 * len(rates) + 3.6, 4.2), layout="constrained")
    axes = fig.subplots(1, len(rates) + 1, squeeze=False)[0]
    look = {"measured": {"color": "#1f77b4"}, "predicted": {"color": "#ff7f0e", "hatch": "//"}}
    for ax, rate in zip(axes, rates, strict=False):
        mine = {(r["phase"], r["figure"]): r for r in table if r["rate_mib_s"] == rate}
        x = np.arange(len(PHASES))
        for k, (figure_name, offset) in enumerate((("p50 ms", -0.3), ("p99 ms", 0.1))):
            for j, side in enumerate(("measured", "predicted")):
                values = [mine[(p, figure_name)][side] for p in PHASES]
                ax.bar(
                    x + offset + 0.1 * j,
                    values,
                    0.1,
                    label=f"{figure_name[:3]} {side}",
                    alpha=1.0 if k else 0.6,
                    **look[side],
                )
        ax.set_xticks(x - 0.05, list(PHASES))
        ax.set_title(f"backup at {rate:g} MiB/s")
        ax.set_ylabel("host latency (ms), log scale")
        ax.set_yscale("log")  # p50s of a tenth of a millisecond beside p99s of hundreds
    axes[0].legend(fontsize="small", loc="upper left")
    ax = axes[-1]
    copy = {r["rate_mib_s"]: r for r in table if r["phase"] == "copy"}
    x = np.arange(len(rates))
    ax.bar(x - 0.2, [copy[r]["measured"] for r in rates], 0.4, label="measured", **look["measured"])
    ax.bar(
        x + 0.2, [copy[r]["predicted"] for r in rates], 0.4, label="predicted", **look["predicted"]
    )
    ax.set_xticks(x, [f"{r:g} MiB/s" for r in rates])
    ax.set_title("copy completion")
    ax.set_ylabel("seconds")
    ax.legend(fontsize="small")
    return fig


def run(setup: Setup, log: Any = None) -> dict[str, Any]:
    """The whole experiment: the calibration, then each copy rate measured and predicted."""
    import shutil

    for tool in ("fio", "qemu-storage-daemon"):
        if shutil.which(tool) is None:
            raise ValidationError(
                f"{tool} not found on PATH (Debian: apt-get install fio "
                "qemu-utils qemu-system-common)"
            )
    calibration = calibrate_array(setup, "throttled_image")
    array = calibration["table"]
    if log:
        log(f"calibrated: {json.dumps(calibration)}")
    results: dict[float, tuple[Run, Run]] = {}
    for rate in setup.rates_mib_s:
        measured = measure(setup, rate)
        predicted = predict(setup, array, rate)
        results[rate] = (measured, predicted)
        if log:
            log(
                f"{rate:g} MiB/s: copy {measured.copy_s:.2f} s measured, "
                f"{predicted.copy_s:.2f} s predicted"
            )
    return {
        "setup": asdict(setup),
        "calibration": calibration,
        "runs": {
            f"{rate:g}": {"measured": _plain(m), "predicted": _plain(p)}
            for rate, (m, p) in results.items()
        },
        "table": rows(results),
        "qemu": _qemu_version(),
        "fio": _fio_version(),
        "cpus": os.cpu_count(),
    }


def _plain(r: Run) -> dict[str, Any]:
    return {"copy_s": r.copy_s, "phases": {k: asdict(v) for k, v in r.phases.items()}}


def _qemu_version() -> str:
    out = subprocess.run(
        ["qemu-storage-daemon", "--version"], capture_output=True, text=True, check=False
    ).stdout
    return out.splitlines()[0] if out else ""


def _fio_version() -> str:
    return subprocess.run(
        ["fio", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
