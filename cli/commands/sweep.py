"""`flashsim sweep SCENARIO.toml --param key.path=v1,v2 --out DIR [--jobs N]`: one run per
point of the grid (`flashsim.sim.sweep`), a table and a plot of the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flashsim.bundled import locate
from flashsim.models.output_folder import OutputFolderError
from flashsim.sim.scenario import ScenarioError
from flashsim.sim.sweep import parse_param, run_sweep


def _resumed(points: int) -> None:
    print(
        f"flashsim sweep: {points} points finished by an interrupted run are reused",
        file=sys.stderr,
    )


def _sweep(args: argparse.Namespace) -> int:
    try:
        params = [parse_param(p) for p in args.param]
        summaries = run_sweep(
            str(locate(args.scenario)),
            params,
            args.out,
            jobs=args.jobs,
            base=args.set or (),
            seed=args.seed,
            force=args.force,
            on_resume=None if args.quiet else _resumed,
        )
    except (ScenarioError, OutputFolderError) as error:
        print(f"flashsim sweep: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"{len(summaries)} runs; table in {Path(args.out) / 'sweep.csv'}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `sweep` to the `flashsim` command line."""
    sweep = subparsers.add_parser("sweep", help="run a scenario over a grid of parameter values")
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
    sweep.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    sweep.add_argument("--seed", type=int, help="override run.seed for every point")
    sweep.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="fixed override")
    sweep.add_argument("--quiet", action="store_true", help="print nothing on success")
    sweep.set_defaults(func=_sweep)
    return sweep
