"""`flashsim conform --qemu OPS.jsonl | --random N [--seed S]`: run op logs on flashsim and on
QEMU's copy-before-write side by side (`flashsim.conform`, docs/conformance.md) and report the
first read that differs, with a shrunk op log that reproduces it.

Prints one JSON line per log and a summary line. Exit 0 if every read agreed, 1 if a log
differs (known upstream differences are named, and count), 2 for bad input: a log that cannot
be read, a malformed line or one the QEMU mapping refuses (the message names the file, the
line and the op), bad options, or QEMU not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flashsim.bundled import locate
from flashsim.conform.daemon import (
    QemuUnavailable,
    find_daemon,
    running_daemon,
    terminate_as_interrupt,
)
from flashsim.conform.generate import generate
from flashsim.conform.known import classify
from flashsim.conform.mapping import FORMATS
from flashsim.conform.qemu import FAILURES, QemuSide
from flashsim.conform.runner import Difference, Outcome, Refused, check, compare, reproducer
from flashsim.models.errors import FlashCopyError, OpLogError
from flashsim.models.input_files import read_text
from flashsim.models.limits import MAX_SEED
from flashsim.models.output_folder import OutputFolderError, file_refusal, write_file

#: The largest op log read (the op logs of conformance runs are short).
MAX_LOG_BYTES = 64 << 20
#: Random op logs of one run, and operations per random log: each log starts a daemon and is
#: generated before the first runs, so a mistyped number is refused rather than run for days.
MAX_RANDOM_LOGS = 100_000
MAX_RANDOM_OPS = 10_000
#: Bytes of each side shown from the first byte that differs.
SHOWN_BYTES = 16


class _Usage(FlashCopyError):
    pass


def _logs(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    if args.oplog is not None:
        if args.random is not None:
            raise _Usage("give an op log or --random N, not both")
        path = locate(args.oplog)
        text = read_text(path, MAX_LOG_BYTES, _Usage)
        return [(args.oplog, text.split("\n"))]
    if args.random is None:
        raise _Usage("give an op log (OPS.jsonl) or --random N")
    return [
        (f"random:{args.seed}:{i}", generate(args.seed, i, args.ops)) for i in range(args.random)
    ]


def _record(name: str, outcome: Outcome) -> dict[str, Any]:
    return {
        "log": name,
        "ops": outcome.ops,
        "reads": outcome.reads,
        "skipped": len(outcome.skipped),
        "result": "agree" if outcome.difference is None else "differ",
    }


def _describe(difference: Difference, lines: list[str], version: str) -> dict[str, Any]:
    info: dict[str, Any] = {"line": difference.line, "op": lines[difference.line - 1].strip()}
    if difference.error is not None:
        info["qemu_error"] = difference.error
        return info
    first = difference.first_byte()
    info["first_byte"] = first
    info["flashsim"] = difference.expected[first : first + SHOWN_BYTES].hex()
    info["qemu"] = difference.got[first : first + SHOWN_BYTES].hex()
    known = classify(difference, version)
    info["known"] = None if known is None else known.name
    return info


def _main(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    try:
        if not args.qemu:
            raise _Usage("--qemu is required (QEMU is the one implementation compared)")
        if args.random is not None and not 1 <= args.random <= MAX_RANDOM_LOGS:
            raise _Usage(f"--random must be 1..{MAX_RANDOM_LOGS:,}, got {args.random}")
        if not 1 <= args.ops <= MAX_RANDOM_OPS:
            raise _Usage(f"--ops must be 1..{MAX_RANDOM_OPS:,}, got {args.ops}")
        if not 0 <= args.seed <= MAX_SEED:  # as every other command's seed
            raise _Usage(f"--seed must be 0..{MAX_SEED:,}, got {args.seed}")
        if out is not None:
            refused = file_refusal(out)
            if refused is not None:
                raise _Usage(refused)
            if out.exists() and not args.force:
                raise _Usage(f"{out}: exists (--force replaces it)")
        logs = _logs(args)
        for name, lines in logs:
            try:
                check(lines, args.format)
            except (OpLogError, Refused) as error:
                raise _Usage(f"{name}:{error.line}: {error.message}") from None
        if find_daemon() is None:
            raise _Usage(
                "qemu-storage-daemon not found on PATH (Debian: apt-get install qemu-utils "
                "qemu-system-common)"
            )
    except _Usage as error:
        print(f"flashsim conform: {error}", file=sys.stderr)
        return 2

    @contextlib.contextmanager
    def factory() -> Iterator[QemuSide]:
        with running_daemon() as daemon:
            side = QemuSide(daemon, args.format, args.cluster_reads)
            try:
                yield side
            finally:
                side.close()

    totals = {"logs": 0, "ops": 0, "reads": 0, "differences": 0, "known": 0}
    version = ""
    first_reproducer: list[str] | None = None
    with terminate_as_interrupt():
        for name, lines in logs:
            try:
                with factory() as side:
                    version = side.daemon.version
                    outcome = compare(lines, side, args.format, FAILURES)
            except OpLogError as error:
                print(f"flashsim conform: {name}:{error.line}: {error.message}", file=sys.stderr)
                return 2
            except Refused as error:
                print(f"flashsim conform: {name}:{error.line}: {error.message}", file=sys.stderr)
                return 2
            except QemuUnavailable as error:
                print(f"flashsim conform: {error}", file=sys.stderr)
                return 2
            record = _record(name, outcome)
            totals["logs"] += 1
            totals["ops"] += outcome.ops
            totals["reads"] += outcome.reads
            if outcome.difference is not None:
                totals["differences"] += 1
                record.update(_describe(outcome.difference, lines, version))
                if record.get("known"):
                    totals["known"] += 1
                if not args.no_shrink:
                    record["reproducer"] = reproducer(
                        lines, outcome.difference, factory, args.format, FAILURES
                    )
                    if first_reproducer is None:
                        first_reproducer = record["reproducer"]
            print(json.dumps(record), flush=True)
    print(
        json.dumps(
            {**totals, "qemu": version, "format": args.format, "cluster_reads": args.cluster_reads}
        )
    )
    if out is not None and first_reproducer is not None:
        try:
            write_file(out, "".join(line.rstrip("\r\n") + "\n" for line in first_reproducer))
        except OutputFolderError as error:  # names the file and why
            print(f"flashsim conform: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"flashsim conform: {out}: cannot write: {error.strerror}", file=sys.stderr)
            return 2
    return 1 if totals["differences"] else 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `conform` to the `flashsim` command line."""
    parser = subparsers.add_parser(
        "conform",
        help="run op logs on flashsim and on QEMU's copy-before-write; report differences",
        description="Run an op log (or --random N generated ones) on flashsim and on QEMU "
        "(qemu-storage-daemon: copy-before-write, snapshot-access, backup jobs, NBD) side by "
        "side and report the first read that differs, with a shrunk reproducer "
        "(docs/conformance.md).",
    )
    parser.add_argument("oplog", nargs="?", metavar="OPS.jsonl", help="the op log to run")
    parser.add_argument("--qemu", action="store_true", help="compare with QEMU (required)")
    parser.add_argument("--random", type=int, metavar="N", help="run N random op logs")
    parser.add_argument("--seed", type=int, default=1, help="the random logs' seed")
    parser.add_argument("--ops", type=int, default=30, help="operations per random log")
    parser.add_argument("--format", choices=FORMATS, default="raw", help="image format")
    parser.add_argument(
        "--cluster-reads",
        action="store_true",
        help="read a point-in-time image one cluster per request (avoids a known QEMU < 8.0 "
        "difference)",
    )
    parser.add_argument("--no-shrink", action="store_true", help="do not shrink differences")
    parser.add_argument("--out", metavar="FILE", help="write the first reproducer to FILE")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.set_defaults(func=_main)
