"""`flashsim sweep SCENARIO.toml --param key.path=v1,v2,... --out DIR [--replicates N]`.

Runs the grid of every combination of the `--param` values (each a `--set` override), each
point `--replicates` times, as tasks of an executor (`flashsim.sim.sweep_exec`: in process,
a Dask LocalCluster, or a Dask scheduler). Every run has its own seed: replicate r of point
i runs with the seed drawn from `numpy.random.SeedSequence(entropy, spawn_key=(i, r))`, which
is `SeedSequence(entropy).spawn(points)[i].spawn(replicates)[r]`, the entropy being the
point's `run.seed` (after `--seed` and the overrides); the table records the entropy, the
spawn key and the seed, so `flashsim run SCENARIO --set ... --seed SEED` reruns one alone
with the same bytes. Each run's output folder is committed atomically as it finishes (a
killed sweep resumes from its finished runs, `flashsim.sim.sweep_points`), and DIR gets:
- `runs/NNN/` (`runs/NNN-R/` with replicates): each run's outputs;
- `sweep.csv` and `sweep.parquet`: one tidy table, one row per point and replicate: the
  run, point, replicate, the parameters, the seed, then per workload IOPS, latency
  percentiles and p99 in the first relationship's copy window, per relationship its
  establish, completion, copy time and copy-before-writes (`metric_columns`);
- `sweep_ci.csv` with replicates: per point and metric the replicates' mean, standard
  deviation and Student-t 95% interval (`flashsim.sim.sweep_stats`);
- `sweep.png`/`.svg` (`flashsim.sim.sweep_plot`), with the intervals as error bars;
- `points.json`: the grid;
- with `--minimize`, `search.json`, `search.csv` and `search.png`/`.svg`
  (`flashsim.sim.sweep_search`): the best point and the front of the evaluated ones.
The whole of DIR is written atomically (`flashsim.models.output_folder`).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flashsim.models.limits import MAX_SWEEP_JOBS, MAX_SWEEP_RUNS
from flashsim.models.output_folder import check_destination, output_folder
from flashsim.sim import metrics
from flashsim.sim.progress import width_options
from flashsim.sim.scenario import Scenario, ScenarioError, load
from flashsim.sim.sweep_exec import RunMany, executor
from flashsim.sim.sweep_plot import first_window, plot
from flashsim.sim.sweep_points import (
    SUMMARY,
    commit,
    copy_into,
    finished,
    inputs_digest,
    point_key,
    points_folder,
)
from flashsim.sim.sweep_report import write_search
from flashsim.sim.sweep_search import (
    METHODS,
    Search,
    bisect_lines,
    check_metric,
    parse_constraint,
)
from flashsim.sim.sweep_stats import LEVEL, interval

QUANTILES = ("p50", "p95", "p99", "p99_9", "max")
SEED_COLUMNS = ["seed_entropy", "seed_spawn_key", "run_seed"]


def parse_param(text: str) -> tuple[str, list[str]]:
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise ScenarioError(f"--param {text!r}: expected key.path=v1,v2,...")
    return key.strip(), [v.strip() for v in values.split(",")]


def check_params(params: Sequence[tuple[str, list[str]]], fixed: Sequence[str] = ()) -> None:
    """Raise ScenarioError if a --param is given twice, repeats a value, or is also fixed by
    --set: the grid would silently hold one value where the command line asked for two."""
    seen: set[str] = set()
    fixed_keys = {text.partition("=")[0].strip() for text in fixed}
    for key, values in params:
        if key in seen:
            raise ScenarioError(f"--param {key}: given twice; list its values in one --param")
        seen.add(key)
        if key in fixed_keys:
            raise ScenarioError(f"--param {key}: also fixed by --set; give it one or the other")
        repeated = sorted(v for v, n in Counter(values).items() if n > 1)
        if repeated:
            raise ScenarioError(
                f"--param {key}: value {repeated[0]!r} given twice (for more runs of a point, "
                "--replicates)"
            )


def grid(params: Sequence[tuple[str, list[str]]]) -> list[list[tuple[str, str]]]:
    """Every combination, the last parameter varying fastest."""
    keys = [k for k, _ in params]
    return [
        list(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in params))
    ]


def run_seed(entropy: int, point: int, replicate: int) -> int:
    """The seed of replicate `replicate` of point `point` (see the module's docstring)."""
    child = np.random.SeedSequence(entropy, spawn_key=(point, replicate))
    return int(child.generate_state(1, np.uint32)[0])


def metric_columns(scenario: Scenario) -> list[str]:
    """The figures of a run in the sweep's table (and the metrics `--minimize` and
    `--subject-to` may name)."""
    columns = []
    for w in scenario.workloads:
        columns += [f"{w.name}.iops"] + [f"{w.name}.latency_ms_{q}" for q in QUANTILES]
        columns.append(f"{w.name}.copy_window_latency_ms_p99")
    for fc in scenario.flashcopies:
        rid = fc.id
        columns += [
            f"{rid}.established_at_s",
            f"{rid}.copy_complete_at_s",
            f"{rid}.copy_s",
            f"{rid}.cow_copies",
        ]
    return columns


def figures(info: dict[str, Any]) -> list[Any]:
    """A run's summary as the values of `metric_columns`, in order."""
    row: list[Any] = []
    window = first_window(info)
    for w in info["workloads"]:
        row += [w["iops"]] + [w["latency_ms"][q] for q in QUANTILES]
        during = None if window is None else window["workloads"][w["name"]]["during"]
        row.append(None if during is None else during["latency_ms"]["p99"])
    for r in info["relationships"].values():
        row += [r["established_at_s"], r["copy_complete_at_s"], r["copy_s"], r["cow_copies"]]
    return row


@dataclass(frozen=True, slots=True)
class Task:
    """One run: replicate `replicate` of point `point`."""

    point: int
    replicate: int
    overrides: tuple[str, ...]
    entropy: int
    seed: int
    folder: Path  # its finished-run folder under .DIR.points/
    name: str  # its folder under runs/


@dataclass
class Sweep:
    """What a sweep ran: the grid, its runs' summaries (by point and replicate, only the
    points evaluated), and the search's answer if there was one."""

    points: list[list[tuple[str, str]]]
    summaries: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    search: Search | None = None
    best: int | None = None
    front: list[int] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return len(self.summaries)

    def means(self, point: int, replicates: int) -> dict[str, float | None]:
        """The mean over `point`'s replicates of each metric."""
        rows = [figures(self.summaries[(point, r)]) for r in range(replicates)]
        return {
            name: interval([row[k] for row in rows]).mean for k, name in enumerate(self.columns)
        }


def _task_name(point: int, replicate: int, replicates: int) -> str:
    return f"{point:03d}" if replicates == 1 else f"{point:03d}-{replicate}"


def run_sweep(
    path: str,
    params: Sequence[tuple[str, list[str]]],
    out: str | os.PathLike[str],
    *,
    jobs: int | None = 1,
    scheduler: str | None = None,
    replicates: int = 1,
    base: Sequence[str] = (),
    seed: int | None = None,
    force: bool = False,
    on_resume: Callable[[int], None] | None = None,
    progress: bool = False,
    minimize: str | None = None,
    subject_to: Sequence[str] = (),
    method: str = "grid",
) -> Sweep:
    """Run the sweep into `out` (replaced whole, as `flashsim.sim.outputs.run_to` does: with
    `force` only if it is not a flashsim output); see the module's docstring. Raises
    ScenarioError (a bad point, search or scheduler), or OutputFolderError if `out` cannot be
    used (both before any run starts) or written. Runs an earlier, killed run of the same
    sweep finished are reused (`on_resume` is told how many); `progress` draws a progress
    line on stderr."""
    if replicates < 1:
        raise ScenarioError(f"--replicates: must be at least 1, got {replicates}")
    if jobs is not None and not 1 <= jobs <= MAX_SWEEP_JOBS:
        raise ScenarioError(f"--jobs: must be 1..{MAX_SWEEP_JOBS}, got {jobs}")
    if method not in METHODS:
        raise ScenarioError(f"--search: expected one of {', '.join(METHODS)}, got {method!r}")
    runs = math.prod(len(values) for _, values in params) * replicates
    if runs > MAX_SWEEP_RUNS:
        shape = " x ".join(str(len(v)) for _, v in params)
        raise ScenarioError(
            f"the sweep asks for {runs:,} runs (grid {shape}, {replicates:,} replicates each), "
            f"over the limit of {MAX_SWEEP_RUNS:,}"
        )
    check_params(params, base)
    if jobs is not None:
        jobs = min(jobs, runs)  # a worker with no run to do is a process for nothing
    points = grid(params)
    kept = points_folder(out)
    tasks: list[list[Task]] = []
    first: Scenario | None = None
    for i, point in enumerate(points):  # fail early, before any process starts
        varied = [f"{k}={v}" for k, v in point]
        overrides = (*base, *varied)
        scenario = load(path, base, seed, params=varied)
        first = first or scenario
        entropy = scenario.run.seed
        inputs = inputs_digest(scenario)
        row = []
        for r in range(replicates):
            s = run_seed(entropy, i, r)
            key = point_key(path, list(overrides), s, inputs)
            row.append(Task(i, r, overrides, entropy, s, kept / key, _task_name(i, r, replicates)))
        tasks.append(row)
    assert first is not None  # a --param has at least one value
    columns = metric_columns(first)
    search = None
    if minimize is not None:
        constraints = tuple(parse_constraint(c, columns) for c in subject_to)
        search = Search(check_metric("--minimize", minimize, columns), constraints, method)
    elif subject_to or method != "grid":
        raise ScenarioError("--subject-to and --search go with --minimize")
    sweep = Sweep(points, search=search, columns=columns)
    check_destination(out, force)
    if on_resume is not None:
        reused = sum(finished(t.folder) is not None for row in tasks for t in row)
        if reused:
            on_resume(reused)
    with executor(jobs, scheduler) as run_many, output_folder(out, "sweep", force) as build:
        kept.mkdir(exist_ok=True)
        with _bar(progress) as bar:

            def evaluate(batch: list[int]) -> dict[int, dict[str, float | None]]:
                _evaluate(path, [t for i in batch for t in tasks[i]], sweep, run_many, bar)
                return {i: sweep.means(i, replicates) for i in batch}

            if search is not None and search.method == "bisect":
                bisect_lines(search, [len(v) for _, v in params], evaluate)
            else:
                evaluate(list(range(len(points))))
        done = sorted({i for i, _ in sweep.summaries})
        for i in done:
            for t in tasks[i]:
                copy_into(t.folder, build / "runs" / t.name)
        _write_tables(build, sweep, [t for i in done for t in tasks[i]], replicates)
        (build / "points.json").write_text(
            json.dumps([dict(p) for p in points], indent=2) + "\n", encoding="utf-8"
        )
        plot(
            [points[i] for i in done],
            [sweep.summaries[(i, 0)] for i in done],
            build / "sweep",
            [[sweep.summaries[(i, r)] for r in range(replicates)] for i in done],
        )
        if search is not None:
            means = {i: sweep.means(i, replicates) for i in done}
            sweep.best = search.best(means)
            sweep.front = write_search(build, search, points, means, sweep.best)
    shutil.rmtree(kept, ignore_errors=True)  # the sweep's output is in place: nothing to resume
    return sweep


class _Bar:
    """The progress line across runs (tqdm on stderr), or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.tqdm = None
        if enabled:
            from tqdm import tqdm

            self.tqdm = tqdm(
                total=0,
                desc="flashsim sweep",
                unit="run",
                file=sys.stderr,
                **width_options(sys.stderr),
            )

    def add(self, total: int, done: int) -> None:
        if self.tqdm is not None:
            self.tqdm.total += total
            self.tqdm.update(done)
            self.tqdm.refresh()  # the new total shows at once (update waits for a change)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tqdm is not None:
            self.tqdm.close()


def _bar(enabled: bool) -> _Bar:
    return _Bar(enabled)


def _evaluate(path: str, batch: list[Task], sweep: Sweep, run_many: RunMany, bar: _Bar) -> None:
    """Run the tasks of `batch` not finished already; commit each as it arrives."""
    todo = []
    for t in batch:
        done = finished(t.folder)
        if done is None:
            todo.append(t)
        else:
            sweep.summaries[(t.point, t.replicate)] = done
    bar.add(len(batch), len(batch) - len(todo))
    if not todo:
        return
    scenarios = [load(path, t.overrides, t.seed) for t in todo]
    for k, files in run_many(scenarios):
        t = todo[k]
        build = t.folder.with_name(f".{t.folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(build, ignore_errors=True)  # left by a run of this sweep that was killed
        build.mkdir(parents=True)
        try:
            # the summary last: a point is finished once its summary is there
            for name in sorted(files, key=lambda n: (n == SUMMARY, n)):
                (build / name).parent.mkdir(parents=True, exist_ok=True)
                (build / name).write_bytes(files[name])
            commit(build, t.folder)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        sweep.summaries[(t.point, t.replicate)] = json.loads(files[SUMMARY])
        bar.add(0, 1)


def _write_tables(build: Path, sweep: Sweep, tasks: list[Task], replicates: int) -> None:
    keys = [k for k, _ in sweep.points[0]]
    header = ["run", "point", "replicate", *keys, *SEED_COLUMNS, *sweep.columns]
    rows = []
    for t in tasks:
        values = figures(sweep.summaries[(t.point, t.replicate)])
        params = [v for _, v in sweep.points[t.point]]
        seeds = [t.entropy, f"{t.point},{t.replicate}", t.seed]
        rows.append([t.name, t.point, t.replicate, *params, *seeds, *values])
    (build / "sweep.csv").write_text(metrics.csv_text(header, rows), encoding="utf-8", newline="\n")
    _write_parquet(build / "sweep.parquet", header, rows, params=len(keys))
    if replicates > 1:
        ci_header = ["point", *keys, "metric", "n", "mean", "std", "ci95_low", "ci95_high"]
        ci_rows = []
        by_point: dict[int, list[list[Any]]] = {}
        for t, row in zip(tasks, rows, strict=True):
            by_point.setdefault(t.point, []).append(row[len(header) - len(sweep.columns) :])
        for point, values in by_point.items():
            params = [v for _, v in sweep.points[point]]
            for k, name in enumerate(sweep.columns):
                ci = interval([v[k] for v in values], LEVEL)
                ci_rows.append([point, *params, name, ci.n, ci.mean, ci.std, ci.low, ci.high])
        (build / "sweep_ci.csv").write_text(
            metrics.csv_text(ci_header, ci_rows), encoding="utf-8", newline="\n"
        )


def _write_parquet(path: Path, header: list[str], rows: list[list[Any]], params: int) -> None:
    """The table as Parquet: the run, the `params` parameters (as given) and the spawn key as
    strings; the rest int64 where every value is an integer that fits (counts, seeds; else
    strings), else float64; a missing value is null."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    strings = {0, *range(3, 3 + params), header.index("seed_spawn_key")}
    arrays = []
    for k, _name in enumerate(header):
        column = [row[k] for row in rows]
        present = [v for v in column if v is not None]
        if k not in strings and all(
            isinstance(v, int) and not isinstance(v, bool) for v in present
        ):
            if all(-(2**63) <= v < 2**63 for v in present):
                arrays.append(pa.array(column, pa.int64()))
                continue
            strings.add(k)  # a --seed past 64 bits
        if k in strings:
            arrays.append(pa.array([None if v is None else str(v) for v in column], pa.string()))
        else:
            floats = [None if v is None else float(v) for v in column]
            arrays.append(pa.array([None if v is None or math.isnan(v) else v for v in floats],
                                   pa.float64()))  # fmt: skip
    table = pa.Table.from_arrays(arrays, names=header)
    # no statistics or page index: the file's bytes depend on the rows alone
    pq.write_table(table, path, compression="zstd", write_statistics=False)
