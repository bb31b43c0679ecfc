"""`flashsim sweep SCENARIO.toml --param key.path=v1,v2 --out DIR [--jobs N | --scheduler
ADDRESS] [--replicates N] [--minimize METRIC [--subject-to 'METRIC<=LIMIT'] [--search
grid|bisect]]`: the grid's runs as Dask tasks (`flashsim.sim.sweep`), a table and plots of the
results, and a what-if search (`flashsim.sim.sweep_search`).

Exit codes: 0 done (with --minimize: a point meets every constraint), 1 with --minimize no
evaluated point meets the constraints, 2 bad input (the flag, key or file named)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flashsim.bundled import locate
from flashsim.models.output_folder import OutputFolderError
from flashsim.sim.scenario import ScenarioError
from flashsim.sim.sweep import Sweep, parse_param, run_sweep
from flashsim.sim.sweep_search import METHODS


def _resumed(runs: int) -> None:
    print(
        f"flashsim sweep: {runs} runs finished by an interrupted sweep are reused",
        file=sys.stderr,
    )


def _report(sweep: Sweep, out: str) -> list[str]:
    search = sweep.search
    assert search is not None
    replicates = max(r for _, r in sweep.summaries) + 1
    if sweep.best is None:
        done = sorted({i for i, _ in sweep.summaries})
        return [search.no_best({i: sweep.means(i, replicates) for i in done})]
    point = ", ".join(f"{k}={v}" for k, v in sweep.points[sweep.best])
    means = sweep.means(sweep.best, replicates)
    text = f"best: point {sweep.best:03d} ({point}): {search.objective} = {means[search.objective]}"
    if search.constraints:
        text += " with " + ", ".join(
            f"{c.metric} = {means[c.metric]} ({c.op}{c.limit!r})" for c in search.constraints
        )
    return [text, f"search ({search.method}) in {Path(out) / 'search.csv'} and search.png"]


def _sweep(args: argparse.Namespace) -> int:
    try:
        params = [parse_param(p) for p in args.param]
        sweep = run_sweep(
            str(locate(args.scenario)),
            params,
            args.out,
            jobs=args.jobs,
            scheduler=args.scheduler,
            replicates=args.replicates,
            base=args.set or (),
            seed=args.seed,
            force=args.force,
            on_resume=None if args.quiet else _resumed,
            progress=not args.quiet and sys.stderr.isatty(),
            minimize=args.minimize,
            subject_to=args.subject_to or (),
            method=args.search,
        )
    except (ScenarioError, OutputFolderError) as error:
        print(f"flashsim sweep: {error}", file=sys.stderr)
        return 2
    status = 0 if sweep.search is None or sweep.best is not None else 1
    if not args.quiet:
        print(f"{sweep.runs} runs; table in {Path(args.out) / 'sweep.csv'} (and sweep.parquet)")
        if sweep.search is not None:
            for line in _report(sweep, args.out):
                print(line)
    return status


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `sweep` to the `flashsim` command line."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run a scenario over a grid of parameter values; search it",
        description="Run a scenario over the grid of the --param values, as Dask tasks.",
        epilog=(
            "Metrics for --minimize and --subject-to are the columns of sweep.csv, e.g. "
            "nightly.copy_s and oltp.copy_window_latency_ms_p99 (WORKLOAD.* and "
            "RELATIONSHIP.*); a constraint is METRIC<=LIMIT, <, >= or >. Exit 1 if no point "
            "meets the constraints."
        ),
    )
    sweep.add_argument("scenario", help="the scenario (TOML)")
    sweep.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="KEY.PATH=V1,V2,...",
        help="a parameter and its values, e.g. flashcopy.fc1.copy_rate=30,50,70 (repeatable)",
    )
    sweep.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    sweep.add_argument(
        "--force",
        action="store_true",
        help="replace --out even if it is not a flashsim output (everything in it is deleted)",
    )
    where = sweep.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=int,
        help="worker processes of the sweep's own Dask LocalCluster (default: one per core); "
        "1 runs in this process, with no cluster",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://HOST:8786 (its workers need "
        "this flashsim installed; files are not shared)",
    )
    sweep.add_argument(
        "--replicates",
        type=int,
        default=1,
        metavar="N",
        help="runs per point, each with its own seed; sweep_ci.csv and the plot give "
        "Student-t 95%% intervals (default 1)",
    )
    sweep.add_argument("--seed", type=int, help="override run.seed (the seeds' entropy)")
    sweep.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="fixed override")
    sweep.add_argument(
        "--minimize", metavar="METRIC", help="search for the point with the least METRIC"
    )
    sweep.add_argument(
        "--subject-to",
        action="append",
        metavar="'METRIC<=LIMIT'",
        help="a constraint of --minimize (repeatable), e.g. 'oltp.copy_window_latency_ms_p99<=5'",
    )
    sweep.add_argument(
        "--search",
        choices=METHODS,
        default="grid",
        help="grid: evaluate every point; bisect: bisect the first --param for its last "
        "feasible value, assuming feasibility is monotone along it (default grid)",
    )
    sweep.add_argument("--quiet", action="store_true", help="print nothing on success")
    sweep.set_defaults(func=_sweep)
    return sweep
