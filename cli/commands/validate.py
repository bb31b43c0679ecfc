"""`flashsim validate --qemu --out DIR [--quick] [--force]`: the simulator's timing against
measured runs on QEMU throttled images (`flashsim.bench.validate_qemu`, docs/validation.md).

Writes, into DIR replaced whole: `validation.json` (the setup, the fitted array, every
figure), `validation.md` (the table) and `validation.png` (the figure). A benchmark: it takes
a couple of minutes (`--quick`: about twenty seconds) and its numbers vary with the machine.
Exit 2 if fio or qemu-storage-daemon is missing, or DIR is refused.
"""

from __future__ import annotations

import argparse
import json
import sys

from flashsim.models.output_folder import OutputFolderError, check_destination, output_folder


def _main(args: argparse.Namespace) -> int:
    from flashsim.bench import validate_qemu as experiment
    from flashsim.conform.daemon import QemuUnavailable, terminate_as_interrupt
    from flashsim.sim.figure_files import save_file

    if not args.qemu:
        print("flashsim validate: --qemu is required (the measured system)", file=sys.stderr)
        return 2
    try:
        check_destination(args.out, args.force)
    except OutputFolderError as error:
        print(error, file=sys.stderr)
        return 2
    setup = experiment.QUICK if args.quick else experiment.FULL
    try:
        with terminate_as_interrupt():
            report = experiment.run(setup, log=lambda text: print(text, file=sys.stderr))
    except (experiment.ValidationError, QemuUnavailable) as error:
        print(f"flashsim validate: {error}", file=sys.stderr)
        return 2
    table = experiment.markdown(report["table"])
    try:
        with output_folder(args.out, "validate", args.force) as build:
            (build / "validation.json").write_text(json.dumps(report, indent=1) + "\n")
            (build / "validation.md").write_text(table)
            save_file(experiment.figure(report["table"]), build / "validation.png")
    except OutputFolderError as error:
        print(error, file=sys.stderr)
        return 2
    print(table, end="")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `validate` to the `flashsim` command line."""
    parser = subparsers.add_parser(
        "validate",
        help="measure QEMU throttled images under load and a backup; compare with the simulator",
        description="Run fio against QEMU throttled images before, during and after a "
        "rate-limited backup, simulate the same, and print measured vs predicted "
        "(docs/validation.md).",
    )
    parser.add_argument("--qemu", action="store_true", help="measure QEMU (required)")
    parser.add_argument("--out", metavar="DIR", required=True, help="the results folder")
    parser.add_argument("--quick", action="store_true", help="one small run (a smoke test)")
    parser.add_argument("--force", action="store_true", help="replace DIR if not a flashsim output")
    parser.set_defaults(func=_main)
