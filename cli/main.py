"""The `flashsim` command line: `replay` an op log, `run` and `sweep` what-if scenarios,
`check` interleavings, `trace-stats` a block trace, `calibrate` an array to fio results,
`conform` op logs against QEMU, `validate` the timing against QEMU, `bench` the core."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Sequence

from flashsim import __version__
from flashsim.bundled import locate
from flashsim.commands import calibrate as calibrate_cli
from flashsim.commands import check as check_cli
from flashsim.commands import conform as conform_cli
from flashsim.commands import run as run_cli
from flashsim.commands import sweep as sweep_cli
from flashsim.commands import trace_stats as trace_stats_cli
from flashsim.commands import validate as validate_cli
from flashsim.models.errors import OpLogError
from flashsim.models.output_folder import OutputFolderError, check_destination
from flashsim.models.replay import dump_images, replay
from flashsim.models.system import System


def _replay(args: argparse.Namespace) -> int:
    """Exit 0 if every line ran; 2 if a line was rejected (the run stops there, nothing is
    dumped), the op log cannot be read or the images cannot be dumped; with --keep-going, 1 if
    any line was rejected (the rest ran and the images are dumped)."""
    try:
        handle = open(locate(args.oplog), "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        print(f"{args.oplog}: cannot open: {error.strerror}", file=sys.stderr)
        return 2
    if args.dump:  # a folder that cannot be the output is told before the replay
        try:
            check_destination(args.dump, args.force)
        except OutputFolderError as error:
            handle.close()
            print(error, file=sys.stderr)
            return 2
    system = System()
    status = 0
    try:
        with handle:
            for record in replay(handle, system, keep_going=args.keep_going):
                print(json.dumps(record))
                if "error" in record:
                    status = 1
    except OpLogError as error:
        sys.stdout.flush()
        print(f"{args.oplog}:{error.line}: {error.message}", file=sys.stderr)
        return 2
    if args.dump:
        try:
            dump_images(system, args.dump, force=args.force)
        except OutputFolderError as error:
            print(error, file=sys.stderr)
            return 2
        except OverflowError as error:
            print(f"{args.dump}: cannot write the volume images: {error}", file=sys.stderr)
            return 2
    system.close()
    return status


def _bench(args: argparse.Namespace) -> int:
    from flashsim.bench.core import main as bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flashsim", description="FlashCopy (point-in-time copy) simulator and checker"
    )
    parser.add_argument("--version", action="version", version=f"flashsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("replay", help="run a JSON-lines op log; print each read")
    rep.add_argument("oplog", help="the op log: JSON lines, one operation each (docs/oplog.md)")
    rep.add_argument("--keep-going", action="store_true", help="report bad lines as JSON and go on")
    rep.add_argument("--dump", metavar="DIR", help="write each volume's final image to DIR")
    rep.add_argument(
        "--force", action="store_true", help="replace --dump DIR even if not a flashsim output"
    )
    rep.set_defaults(func=_replay)
    bench = sub.add_parser("bench", help="measure the core against same-run baselines")
    bench.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    bench.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    bench.set_defaults(func=_bench)
    run_cli.add_parser(sub)
    sweep_cli.add_parser(sub)
    check_cli.add_parser(sub)
    trace_stats_cli.add_parser(sub)
    calibrate_cli.add_parser(sub)
    conform_cli.add_parser(sub)
    validate_cli.add_parser(sub)
    return parser


#: Set to 1 to print the traceback of an internal error (exit code 3).
TRACEBACK_VARIABLE = "FLASHSIM_TRACEBACK"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit codes are README.md's table: 0 ok, 1 a negative result,
    2 bad input or usage (argparse exits 2 itself), 3 an internal error, 130 interrupted."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except KeyboardInterrupt:
        print("flashsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of standard output went away (`| head`): not a failure of flashsim.
        # Point stdout at /dev/null so that the flush at exit does not raise again.
        with contextlib.suppress(OSError, ValueError):  # stdout may not be a file (captured)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:
        # Anything else is a bug: exit 3, never 1, so that a script can tell it from a result.
        if os.environ.get(TRACEBACK_VARIABLE) == "1":
            traceback.print_exc()
        what = " ".join(str(error).split())[:500]
        print(
            f"flashsim: internal error: {type(error).__name__}"
            + (f": {what}" if what else "")
            + f" (a bug: please report it with the command line; {TRACEBACK_VARIABLE}=1 "
            "prints the traceback)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
