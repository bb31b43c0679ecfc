"""`flashsim sweep SCENARIO.toml --param key.path=v1,v2,... --out DIR [--jobs N]`.

Runs the grid of every combination of the `--param` values (each a `--set` override), in
parallel processes, one output folder per point (`DIR/runs/NNN/`; a killed sweep resumes from
its finished points, `flashsim.sim.sweep_points`), then writes
`DIR/sweep.csv` (one row per point: the parameters, each workload's latency percentiles,
IOPS and p99 in the copy window, each relationship's copy completion and copy time) and
`DIR/sweep.png`/`.svg` (`flashsim.sim.sweep_plot`: the first parameter on a numeric axis
against the copy-window p99 and the copy time). The whole of DIR is written atomically
(`flashsim.models.output_folder`).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from flashsim.models.output_folder import output_folder
from flashsim.models.worker_processes import die_with_parent
from flashsim.sim import metrics
from flashsim.sim.engine import simulate
from flashsim.sim.outputs import write_outputs
from flashsim.sim.scenario import ScenarioError, load
from flashsim.sim.sweep_plot import first_window, plot
from flashsim.sim.sweep_points import (
    commit,
    copy_into,
    finished,
    point_key,
    points_folder,
)


def parse_param(text: str) -> tuple[str, list[str]]:
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise ScenarioError(f"--param {text!r}: expected key.path=v1,v2,...")
    return key.strip(), [v.strip() for v in values.split(",")]


def grid(params: Sequence[tuple[str, list[str]]]) -> list[list[tuple[str, str]]]:
    """Every combination, the last parameter varying fastest."""
    keys = [k for k, _ in params]
    return [
        list(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in params))
    ]


def _point(job: tuple[str, list[str], int | None, str]) -> dict[str, Any]:
    """Run one point into its finished-point folder (unless it is there already); return
    its summary."""
    path, overrides, seed, folder = job
    done = finished(Path(folder))
    if done is not None:
        return done
    scenario = load(path, overrides, seed)
    result = simulate(scenario)
    build = Path(folder).with_name(f".{Path(folder).name}.tmp-{os.getpid()}")
    shutil.rmtree(build, ignore_errors=True)  # a run of this worker that was killed
    build.mkdir(parents=True)
    try:
        write_outputs(result, build)  # summary.json among them
        commit(build, Path(folder))
    finally:
        result.system.close()
        shutil.rmtree(build, ignore_errors=True)
    return metrics.summary(result)


def run_sweep(
    path: str,
    params: Sequence[tuple[str, list[str]]],
    out: str | os.PathLike[str],
    *,
    jobs: int = 1,
    base: Sequence[str] = (),
    seed: int | None = None,
    force: bool = False,
    on_resume: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the grid into `out` (replaced whole, as `flashsim.sim.outputs.run_to` does: with
    `force` only if it is not a flashsim output); return one summary per point (grid order).
    Raises ScenarioError, or OutputFolderError if `out` cannot be used (checked before any
    point runs) or written. Points an earlier, killed run of the same sweep finished are
    reused (`flashsim.sim.sweep_points`; `on_resume` is told how many)."""
    points = grid(params)
    for point in points:  # fail early, before any process starts
        load(path, [*base, *(f"{k}={v}" for k, v in point)], seed)
    kept = points_folder(out)
    with output_folder(out, "sweep", force) as build:
        kept.mkdir(exist_ok=True)
        job_list = []
        for point in points:
            overrides = [*base, *(f"{k}={v}" for k, v in point)]
            job_list.append((path, overrides, seed, str(kept / point_key(path, overrides, seed))))
        if on_resume is not None:
            reused = sum(finished(Path(job[3])) is not None for job in job_list)
            if reused:
                on_resume(reused)
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent) as pool:
                summaries = list(pool.map(_point, job_list))
        else:
            summaries = [_point(job) for job in job_list]
        for i, job in enumerate(job_list):
            copy_into(Path(job[3]), build / "runs" / f"{i:03d}")
        header, rows = table(points, summaries)
        (build / "sweep.csv").write_text(
            metrics.csv_text(header, rows), encoding="utf-8", newline="\n"
        )
        (build / "points.json").write_text(
            json.dumps([dict(p) for p in points], indent=2) + "\n", encoding="utf-8"
        )
        plot(points, summaries, build / "sweep")
    shutil.rmtree(kept, ignore_errors=True)  # the sweep's output is in place: nothing to resume
    return summaries


def table(
    points: list[list[tuple[str, str]]], summaries: list[dict[str, Any]]
) -> tuple[list[str], list[list[Any]]]:
    """One row per point: the parameters; per workload IOPS, latency and p99 in the first
    relationship's copy window; per relationship establish, completion, copy time, COWs."""
    header = ["run"] + [k for k, _ in points[0]]
    first = summaries[0]
    for w in first["workloads"]:
        header += [f"{w['name']}.iops"] + [
            f"{w['name']}.latency_ms_{q}" for q in ("p50", "p95", "p99", "p99_9", "max")
        ]
        header += [f"{w['name']}.copy_window_latency_ms_p99"]
    for rid in first["relationships"]:
        header += [
            f"{rid}.established_at_s",
            f"{rid}.copy_complete_at_s",
            f"{rid}.copy_s",
            f"{rid}.cow_copies",
        ]
    rows = []
    for i, (point, info) in enumerate(zip(points, summaries, strict=True)):
        row: list[Any] = [f"{i:03d}"] + [v for _, v in point]
        window = first_window(info)
        for w in info["workloads"]:
            row += [w["iops"]] + [w["latency_ms"][q] for q in ("p50", "p95", "p99", "p99_9", "max")]
            during = None if window is None else window["workloads"][w["name"]]["during"]
            row.append(None if during is None else during["latency_ms"]["p99"])
        for r in info["relationships"].values():
            row += [r["established_at_s"], r["copy_complete_at_s"], r["copy_s"], r["cow_copies"]]
        rows.append(row)
    return header, rows
