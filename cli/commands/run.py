"""`flashsim run SCENARIO.toml --out DIR [--seed N] [--set key.path=value ...]`.

Writes, atomically (into a fresh folder beside DIR, swapped into place at the end; DIR is
refused, exit 2, if it holds files and is not a flashsim output, unless --force):
`summary.json`, `windows.csv`, `ios.csv` (unless `run.records = false`), `copy_impact.png`
and `.svg` (unless `run.plots = false`), `scenario.json` (the inputs, overrides applied) and,
with `--verify`, `verify.json` (exit status 1 if a volume differs from the oracle's).
Equal scenario, overrides and seed give byte-identical files.

"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flashsim.bundled import locate
from flashsim.models.output_folder import OutputFolderError
from flashsim.sim import metrics
from flashsim.sim.outputs import run_to
from flashsim.sim.scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    load,
    parse_size,
    validate,
)

#: The minimal scenario of `flashsim run --fio JOB --volume-size SIZE` (see its --help).
FIO_ARRAY = {
    "name": "array",
    "read_latency_ms": 0.5,
    "write_latency_ms": 0.5,
    "bandwidth_mib_s": 500,
    "parallelism": 8,
}
FIO_DURATION_S = 60.0


def fio_scenario(
    job: str, volume_size: str, duration_s: float | None = None, seed: int | None = None
) -> dict[str, Any]:
    """The raw scenario of a quick what-if: one array (`FIO_ARRAY`), one volume "vol" of
    `volume_size`, the job file's jobs on it; the run lasts `duration_s`, else as long as the
    longest job's startdelay + runtime, else `FIO_DURATION_S`."""
    from flashsim.sim.inputs.fio import FioJobError, read_job_file, workload_tables

    try:
        size = parse_size(volume_size)
    except ValueError as error:
        raise ScenarioError(f"--volume-size: {error}") from None
    if size < 1 or size % (64 * 1024):
        raise ScenarioError(f"--volume-size: must be a positive multiple of 64k, got {size}")
    if duration_s is None:
        try:
            tables = [t for j in read_job_file(job) for t in workload_tables(j, "vol")]
        except FioJobError as error:
            raise ScenarioError(str(error)) from None
        stops = [float(t["stop_s"]) for t in tables if "stop_s" in t]  # type: ignore[arg-type]
        duration_s = max(stops) if stops else FIO_DURATION_S
    raw: dict[str, Any] = {
        "run": {"duration_s": duration_s},
        "array": [dict(FIO_ARRAY)],
        "volume": [{"name": "vol", "size_mib": size / (1 << 20), "array": "array"}],
        "workload": [{"fio": str(Path(job).resolve()), "volume": "vol"}],
    }
    if seed is not None:
        raw["run"]["seed"] = seed
    return raw


def _load(args: argparse.Namespace) -> Scenario:
    if args.fio is None:
        if args.scenario is None:
            raise ScenarioError("give a SCENARIO.toml, or --fio JOB --volume-size SIZE")
        if args.out is None:
            raise ScenarioError("--out DIR is required with a scenario file")
        if args.volume_size is not None or args.duration is not None:
            raise ScenarioError("--volume-size and --duration go with --fio")
        return load(locate(args.scenario), args.set or (), args.seed, args.skip_bad_lines)
    if args.scenario is not None:
        raise ScenarioError("give a scenario file or --fio, not both")
    if args.volume_size is None:
        raise ScenarioError("--fio needs --volume-size (e.g. 64g)")
    raw = fio_scenario(args.fio, args.volume_size, args.duration, args.seed)
    for text in args.set or ():
        apply_override(raw, text, args.fio)
    if args.out is None:
        args.out = str(Path("flashsim-out") / Path(args.fio).stem)
    return validate(raw, args.fio)


def _run(args: argparse.Namespace) -> int:
    try:
        scenario = _load(args)
    except ScenarioError as error:
        print(f"flashsim run: {error}", file=sys.stderr)
        return 2
    for w in scenario.workloads:
        if w.ignored_options and not args.quiet:
            print(
                f"flashsim run: workload {w.name}: fio options ignored (they change no I/O): "
                + ", ".join(w.ignored_options),
                file=sys.stderr,
            )
    progress = not args.quiet and sys.stderr.isatty()
    try:
        result, verification = run_to(
            scenario, args.out, progress=progress, verify=args.verify, force=args.force
        )
    except (ScenarioError, OutputFolderError) as error:
        print(f"flashsim run: {error}", file=sys.stderr)
        return 2
    status = 0
    if verification is not None and not verification.ok:
        status = 1
        for problem in verification.problems:
            print(f"flashsim run: verify: {problem}", file=sys.stderr)
    if not args.quiet:
        for line in console_lines(metrics.summary(result)):
            print(line)
        print(
            f"{result.host_ios} host I/Os simulated in {result.wall_s:.2f} s wall; "
            f"outputs in {args.out}"
        )
        if verification is not None and verification.ok:
            print(
                f"verify: every volume reads as the oracle's after "
                f"{verification.operations} operations (point in time kept)"
            )
    return status


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g} ms"


def console_lines(info: dict[str, Any]) -> list[str]:
    """The console summary of a run: per workload its rates over its active time, latency and
    errors; per relationship when it was established, when (and whether) the copy completed
    or why it failed, and each workload's p99 before and during its copy window."""
    lines = []
    for w in info["workloads"]:
        lat = w["latency_ms"]
        errors = f"errors {w['errors']}"
        if w["errors"]:
            kinds = ", ".join(f"{k} {n}" for k, n in w["error_kinds"].items())
            errors += f" ({kinds}; {w['errors_per_s']}/s)"
        lines.append(
            f"{w['name']} on {w['volume']}: {w['ios']} I/Os in {w['active_s']} s active, "
            f"{w['iops']} IOPS, {w['mib_s']} MiB/s, p50 {_ms(lat['p50'])}, "
            f"p99 {_ms(lat['p99'])}, p99.9 {_ms(lat['p99_9'])}, {errors}"
        )
    for rid, r in info["relationships"].items():
        if r["established_at_s"] is None:
            lines.append(f"{rid}: not established: {r['error'] or 'not by the end of the run'}")
            continue
        text = f"{rid}: established {r['established_at_s']} s, "
        if r["copy_complete_at_s"] is not None:
            text += f"copy complete {r['copy_complete_at_s']} s ({r['copy_s']} s of copy)"
        elif not r["background_copy"]:
            text += "no background copy (NOCOPY)"
        else:
            text += "copy not complete at the end of the run"
        if r["failed"]:
            text += f", failed at {r['failed_at_s']} s: {r['error']}"
        text += (
            f"; COW {r['cow_copies']}, background {r['background_tracks_copied']}, "
            f"redirected reads {r['redirected_reads']}"
        )
        lines.append(text)
        window = r["impact"]["copy_window_s"]
        for name, phases in r["impact"]["workloads"].items():
            before, during = phases["before"]["latency_ms"], phases["during"]["latency_ms"]
            if during["p99"] is None:
                continue
            lines.append(
                f"  {name}: p99 {_ms(during['p99'])} in the copy window {window[0]}-{window[1]} s"
                f" (before: {_ms(before['p99'])})"
            )
    for gid, g in info["groups"].items():
        held = "" if g["writes_held_s"] is None else f"writes held {g['writes_held_s']} s"
        lines.append(f"{gid}: {held}" + (f", failed: {g['error']}" if g["failed"] else ""))
    return lines


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `run` to the `flashsim` command line."""
    run = subparsers.add_parser(
        "run",
        help="simulate a scenario file in time; write results",
        description="Simulate a scenario file, or (--fio) a fio job file on one volume.",
        epilog=(
            "--fio JOB --volume-size SIZE builds a minimal scenario: one array 'array' "
            f"(read and write latency {FIO_ARRAY['read_latency_ms']} ms, "
            f"{FIO_ARRAY['bandwidth_mib_s']} MiB/s per I/O slot, parallelism "
            f"{FIO_ARRAY['parallelism']}), one volume 'vol' of SIZE (64 KiB tracks) on it, and "
            "the job file's jobs as workloads on 'vol'; no FlashCopy. The run lasts --duration, "
            "else the longest startdelay + runtime of the jobs, else "
            f"{FIO_DURATION_S:g} s. --set applies to that scenario (e.g. "
            "array.0.parallelism=16)."
        ),
    )
    run.add_argument("scenario", nargs="?", help="the scenario (TOML; see scenarios/)")
    run.add_argument(
        "--out",
        metavar="DIR",
        help="folder for the results (required with a scenario; with --fio, default "
        "flashsim-out/JOB-NAME)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="replace --out even if it is not a flashsim output (everything in it is deleted)",
    )
    run.add_argument("--fio", metavar="JOB", help="a fio job file instead of a scenario")
    run.add_argument(
        "--volume-size", metavar="SIZE", help="with --fio: the volume's size, e.g. 64g"
    )
    run.add_argument(
        "--duration", type=float, metavar="S", help="with --fio: simulated seconds to run"
    )
    run.add_argument("--seed", type=int, help="override run.seed")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. flashcopy.fc1.copy_rate=100 (repeatable)",
    )
    run.add_argument(
        "--verify",
        action="store_true",
        help="check every volume against the oracle at the end (small volumes only); exit 1 "
        "if one differs",
    )
    run.add_argument(
        "--skip-bad-lines",
        action="store_true",
        help="trace workloads skip malformed lines and count them in the summary",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(func=_run)
    return run
