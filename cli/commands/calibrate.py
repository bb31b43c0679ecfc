"""`flashsim calibrate FIO.json [--out arrays.toml]`: fit an `[[array]]` to fio's JSON
results (`flashsim.sim.calibration`), print the fit, then each measured job's figures beside
the simulator's on the fitted array. Exit 2 for results that cannot be read or fitted (the
message names the file and the field); nothing is written then."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flashsim.models.output_folder import OutputFolderError, file_refusal, write_file
from flashsim.sim.calibration.compare import compare, report
from flashsim.sim.calibration.fio_results import CalibrationError, read_fio_json
from flashsim.sim.calibration.fit import fit
from flashsim.sim.scenario import ScenarioError


def _main(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    try:
        if out is not None:
            refused = file_refusal(out)
            if refused is not None:
                raise CalibrationError(refused)
            if out.exists() and not args.force:
                raise CalibrationError(f"{out}: exists (--force replaces it)")
        jobs = read_fio_json(args.fio_json)
        fitted = fit(jobs, args.name)
        rows = compare(jobs, fitted, args.fio_json, args.seed)
    except (CalibrationError, ScenarioError) as error:
        print(f"flashsim calibrate: {error}", file=sys.stderr)
        return 2
    text = fitted.toml(args.fio_json)
    print(text, end="")
    print()
    print(report(rows))
    if out is not None:
        try:
            write_file(out, text)
        except OutputFolderError as error:  # names the file and why
            print(f"flashsim calibrate: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"flashsim calibrate: {out}: cannot write: {error.strerror}", file=sys.stderr)
            return 2
        print(f"\n[[array]] written to {out}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `calibrate` to the `flashsim` command line."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit an [[array]] to fio's JSON results; compare measured and simulated",
        description="Fit an [[array]] to fio --output-format=json results and replay each "
        "job on it (docs/simulator.md, Calibration).",
    )
    parser.add_argument("fio_json", metavar="FIO.json", help="fio --output-format=json output")
    parser.add_argument("--out", metavar="FILE", help="write the [[array]] table to FILE (TOML)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument("--name", default="calibrated", help="the array's name")
    parser.add_argument("--seed", type=int, default=1, help="the simulations' seed")
    parser.set_defaults(func=_main)
