"""`flashsim trace-stats TRACE --format F`: summarise a block trace before replaying it
(`flashsim.sim.inputs.stats`), and optionally plot its working-set growth."""

from __future__ import annotations

import argparse
import sys

from flashsim.models.limits import MAX_TRACK_SIZE
from flashsim.models.output_folder import FIGURE_SUFFIXES, OutputFolderError, file_refusal
from flashsim.sim.inputs.stats import plot_growth, report, trace_stats
from flashsim.sim.inputs.traces import FORMATS, TraceError, read_trace


def _main(args: argparse.Namespace) -> int:
    most = MAX_TRACK_SIZE // 1024
    if not 1 <= args.track_size_kib <= most:
        print(f"--track-size-kib: must be 1..{most}, got {args.track_size_kib}", file=sys.stderr)
        return 2
    refused = None if args.plot is None else file_refusal(args.plot, FIGURE_SUFFIXES)
    if refused is not None:
        print(f"--plot: {refused}", file=sys.stderr)
        return 2
    track_size = args.track_size_kib * 1024
    try:
        trace = read_trace(
            args.trace,
            args.format,
            skip_bad_lines=args.skip_bad_lines,
            blkparse_event=args.blkparse_event,
        )
        stats = trace_stats(trace, track_size)
    except TraceError as error:
        print(error, file=sys.stderr)
        return 2
    print(report(trace, stats, track_size))
    if args.plot:
        try:
            plot_growth(stats, track_size, args.plot)
        except OutputFolderError as error:
            print(f"--plot: {error}", file=sys.stderr)
            return 2
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `trace-stats` to the `flashsim` command line."""
    parser = subparsers.add_parser(
        "trace-stats", help="summarise a block trace before replaying it"
    )
    parser.add_argument("trace", help="the trace file")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument(
        "--track-size-kib", type=int, default=64, help="track size for the footprint"
    )
    parser.add_argument("--blkparse-event", default="Q", choices=("Q", "C"))
    parser.add_argument("--skip-bad-lines", action="store_true", help="skip and count bad lines")
    parser.add_argument("--plot", metavar="FILE", help="draw the working-set growth (PNG or SVG)")
    parser.set_defaults(func=_main)
