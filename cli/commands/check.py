"""`flashsim check`: the model checker on the command line.

    flashsim check CONFIG.toml [--mutant NAME] [--max-states N] [--max-depth N]
                   [--reduce] [--symmetry [data|volumes|both]] [--schedule FILE]
                   [--plot FILE.png]
                   [--graph FILE.png]
    flashsim check --list-mutants
    flashsim check [CONFIG.toml] --all-mutants      (all bundled configurations by default)
    flashsim check --replay FILE [CONFIG.toml]
    flashsim check --export-tla CONFIG.toml [--out FILE.tla] [--mutant NAME]
    flashsim check [CONFIG.toml] --all-mutants --jobs N|auto
    flashsim check CONFIG.toml --jobs N|auto        (one search, its frontier on N processes)
    flashsim check [CONFIG.toml] --coverage          (all bundled configurations by default)
    flashsim check [CONFIG.toml] --coverage --swarm N --seed S   (and N swarm configurations)
    flashsim check --swarm N --seed S [--mutant NAME] [--jobs N|auto] [--swarm-out DIR]

Exit codes: 0 the properties hold within the stated search (exhaustive or bounded, said so),
1 a violation (the counterexample is printed) or a mutant left alive, 2 bad input (the message
names the file and the key), 3 an internal error (flashsim.main; README.md's table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flashsim.bundled import check_configs, locate
from flashsim.bundled import root as bundled_root
from flashsim.commands.check_plots import draw_state_graph, plot_counterexample
from flashsim.models.check.config import CheckConfig, CheckConfigError, load_config
from flashsim.models.check.explorer import SYMMETRIES, CheckResult, explore
from flashsim.models.check.hunt import format_table, hunt
from flashsim.models.check.mutants import MUTANTS
from flashsim.models.check.parallel import MAX_WORKERS, default_workers
from flashsim.models.check.properties import PROGRESS, SAFETY
from flashsim.models.check.schedule import (
    ScheduleError,
    format_counterexample,
    format_timeline,
    read_schedule,
    replay_schedule,
    write_schedule,
)
from flashsim.models.check.swarm import swarm, swarm_configs, write_violation
from flashsim.models.check.swarm_generate import DESIGNS, SWARM_MAX_STATES
from flashsim.models.limits import (
    MAX_CHECK_DEPTH,
    MAX_CHECK_STATES,
    MAX_SEED,
    MAX_SWARM_CONFIGS,
    MAX_SWARM_JOBS,
)
from flashsim.models.output_folder import FIGURE_SUFFIXES, OutputFolderError, file_refusal


def reference_configs() -> list[Path]:
    """The bundled reference configurations (a)-(f)."""
    return check_configs()


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Register `check` on the `flashsim` subcommands."""
    parser = subparsers.add_parser(
        "check", help="model-check a configuration: every interleaving of its steps"
    )
    parser.add_argument("config", nargs="?", help="a check configuration (TOML)")
    parser.add_argument("--mutant", choices=sorted(MUTANTS), help="seed this bug first")
    parser.add_argument("--list-mutants", action="store_true", help="list the seeded bugs")
    parser.add_argument(
        "--all-mutants",
        action="store_true",
        help="run every mutant (on CONFIG, or on every bundled configuration); print a table",
    )
    parser.add_argument("--replay", metavar="FILE", help="re-run a schedule file")
    parser.add_argument("--max-states", type=int, metavar="N", help="override check.max_states")
    parser.add_argument("--max-depth", type=int, metavar="N", help="override check.max_depth")
    parser.add_argument(
        "--reduce",
        action="store_true",
        help="partial-order reduction: ample sets and sleep sets (fewer states; the cycle "
        "analysis is then skipped)",
    )
    parser.add_argument(
        "--symmetry",
        nargs="?",
        const="data",
        metavar="data|volumes|both",
        help="symmetry reduction: states equal up to a renaming of byte values (data, the "
        "default), of interchangeable volumes and processes (volumes), or of both are one "
        "(the cycle analysis is then skipped)",
    )
    parser.add_argument(
        "--schedule", metavar="FILE", help="write the counterexample's schedule file here"
    )
    parser.add_argument(
        "--plot", metavar="FILE.png", help="draw the counterexample as a swimlane picture"
    )
    parser.add_argument(
        "--graph",
        metavar="FILE.png",
        help="draw the explored state graph by depth (no reductions; up to 3000 states)",
    )
    parser.add_argument(
        "--export-tla",
        metavar="CONFIG",
        help="write CONFIG's explored state graph as a TLA+ module TLC can check",
    )
    parser.add_argument("--out", metavar="FILE.tla", help="with --export-tla: write it here")
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="report the branches of the semantics the search ran (coverage.py), on CONFIG "
        "or on every bundled configuration together; with --swarm N, and the swarm's N "
        "configurations of --seed",
    )
    parser.add_argument(
        "--swarm",
        type=int,
        metavar="N",
        help="search N small random configurations (seeded by --seed); shrink the first "
        "that fails and write it with its schedule",
    )
    parser.add_argument("--seed", type=int, default=0, help="the swarm's seed (default 0)")
    parser.add_argument(
        "--jobs",
        metavar="N",
        help="run on N processes (default 1; 'auto': every core), as `flashsim sweep --jobs`: "
        "with --all-mutants or --swarm the searches, on one CONFIG one search with its "
        "frontier partitioned (no reductions, no cycle analysis)",
    )
    parser.add_argument(
        "--swarm-out",
        metavar="DIR",
        default="swarm-out",
        help="where the swarm writes a failing configuration and its schedule (swarm-out)",
    )
    parser.set_defaults(func=run)
    return parser


def _load(path: str) -> CheckConfig:
    """A configuration by its path, or a bundled one by its name alone (`a_pair.toml` is
    the bundled `check/a_pair.toml`, as `scenarios/check/a_pair.toml` in the repository)."""
    found = locate(path)
    if not found.exists() and len(Path(path).parts) == 1:
        found = locate(Path("check") / path)
    return load_config(found if found.exists() else Path(path))


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (CheckConfigError, ScheduleError) as error:
        print(str(error), file=sys.stderr)
        return 2
    except OutputFolderError as error:  # (what only writing tells: _outputs_refused ran first)
        print(f"flashsim check: {error}", file=sys.stderr)
        return 2


def _outputs_refused(args: argparse.Namespace) -> bool:
    """True after printing why an output file or folder of the command line cannot be
    written: told before the search, which may take minutes, not after it."""
    files = [("--plot", args.plot, FIGURE_SUFFIXES), ("--graph", args.graph, FIGURE_SUFFIXES)]
    files.append(("--schedule", args.schedule, ()))
    for flag, path, suffixes in files:
        refused = None if path is None else file_refusal(path, suffixes)
        if refused is not None:
            print(f"{flag}: {refused}", file=sys.stderr)
            return True
    if (
        args.swarm is not None
        and Path(args.swarm_out).exists()
        and not Path(args.swarm_out).is_dir()
    ):
        print(f"--swarm-out: {args.swarm_out}: is a file, not a folder", file=sys.stderr)
        return True
    return False


def _run(args: argparse.Namespace) -> int:
    for flag, most in (("max_states", MAX_CHECK_STATES), ("max_depth", MAX_CHECK_DEPTH)):
        value = getattr(args, flag)
        if value is not None and not 1 <= value <= most:
            print(f"--{flag.replace('_', '-')}: must be 1..{most}, got {value}", file=sys.stderr)
            return 2
    workers = _jobs(args.jobs)
    if workers is None:
        return 2
    if args.symmetry is not None and args.symmetry not in SYMMETRIES:
        print(
            f"--symmetry: expected {', '.join(SYMMETRIES)} (or nothing: data), "
            f"got {args.symmetry!r}",
            file=sys.stderr,
        )
        return 2
    if args.out and not args.export_tla:
        print("--out: only with --export-tla", file=sys.stderr)
        return 2
    if _outputs_refused(args):
        return 2
    if args.export_tla:
        from flashsim.commands.check_export import export

        return export(_load(args.export_tla), args)
    if args.list_mutants:
        for name, what in MUTANTS.items():
            print(f"{name}: {what}")
        return 0
    if args.replay:
        return _replay(args)
    if args.coverage:
        # the swarm's range is checked before any configuration is read: a bad number costs
        # nothing
        if args.swarm is not None and not _swarm_numbers_valid(args.swarm, args.seed):
            return 2
        paths = [args.config] if args.config else [str(p) for p in reference_configs()]
        configs = [_load(p) for p in paths]
        if args.swarm is not None:  # the swarm's configurations measured with them
            configs += swarm_configs(args.swarm, args.seed)
        return _coverage(configs)
    if args.swarm is not None:
        return _swarm(args, workers)
    if args.all_mutants:
        paths = [args.config] if args.config else [str(p) for p in reference_configs()]
        if not paths:
            print(
                f"flashsim check --all-mutants: no bundled check configurations in "
                f"{bundled_root() / 'check'} (the installation is incomplete); give a CONFIG.toml",
                file=sys.stderr,
            )
            return 2
        return _all_mutants(paths, workers)
    if not args.config:
        print(
            "flashsim check: give a CONFIG.toml (or --list-mutants, --all-mutants)", file=sys.stderr
        )
        return 2
    if args.graph and (args.reduce or args.symmetry):
        print("--graph: draws the unreduced graph; drop --reduce and --symmetry", file=sys.stderr)
        return 2
    if workers > 1 and (args.reduce or args.symmetry or args.graph):
        print(
            "--jobs: one search over N processes runs without reductions and keeps no graph; "
            "drop --reduce, --symmetry and --graph",
            file=sys.stderr,
        )
        return 2
    config = _load(args.config)
    if workers > 1:
        from flashsim.models.check.partition import explore_partitioned

        result = explore_partitioned(config, args.mutant, workers, args.max_states, args.max_depth)
    else:
        result = explore(
            config,
            args.mutant,
            args.max_states,
            args.max_depth,
            reduce=args.reduce,
            symmetry=args.symmetry,
            keep_graph=bool(args.graph),
        )
    _print_result(config, result)
    if args.graph:
        try:
            draw_state_graph(result, args.graph)
        except ValueError as error:
            print(f"--graph: {error}", file=sys.stderr)
            return 2
        print(f"state graph written to {args.graph}")
    if result.counterexample is not None:
        if args.schedule:
            write_schedule(args.schedule, config, args.mutant, result.counterexample)
            print(f"schedule written to {args.schedule}")
        if args.plot:
            plot_counterexample(result.counterexample, config, args.plot)
            print(f"swimlane written to {args.plot}")
    return 0 if result.holds else 1


def _print_result(config: CheckConfig, result: CheckResult) -> None:
    print(f"config: {config.path} (mutant: {result.mutant or 'none'})")
    print(result.summary())
    if result.counterexample is not None:
        print(format_counterexample(result.counterexample))
        return
    checked = list(SAFETY) + [p for p in PROGRESS if p != "no_copy_starvation_cycle"]
    if result.progress_checked:
        checked.append("no_copy_starvation_cycle")
    print(f"checked: {', '.join(checked)}")
    print(f"sometimes reached: {', '.join(result.witnessed) or 'none'}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"{result.states_per_s:.0f} states/s")


def _replay(args: argparse.Namespace) -> int:
    record = read_schedule(args.replay)
    config = _load(args.config or str(record["config"]))
    mutant = args.mutant or record.get("mutant")
    schedule = [str(s) for s in record["schedule"]]  # type: ignore[union-attr]
    replay = replay_schedule(config, mutant, schedule, args.replay)  # type: ignore[arg-type]
    print(f"replay of {args.replay}: {config.path} (mutant: {mutant or 'none'})")
    print("\n".join(format_timeline(replay.events)))
    if replay.violation is None:
        print(f"no violation in {len(replay.events)} steps")
        return 0
    print(f"violation of {replay.violation.property}: {replay.violation.message}")
    return 1


def _coverage(configs: list[CheckConfig]) -> int:
    from flashsim.models.check.semantics_coverage import measure

    report = measure(configs)
    status = 0
    for config, result in zip(configs, report.results, strict=True):
        print(f"correct model on {config.path}: {result.summary()}")
        status |= 0 if result.holds else 1
    print("\n".join(report.lines()))
    return status


def _swarm_numbers_valid(swarm: int, seed: int, jobs: int = 1) -> bool:
    """--swarm, --seed and --jobs of a swarm within their bounds, else False after printing
    the first that is not."""
    for flag, value, least, most in (
        ("--swarm", swarm, 1, MAX_SWARM_CONFIGS),
        ("--jobs", jobs, 1, MAX_SWARM_JOBS),
        ("--seed", seed, 0, MAX_SEED),
    ):
        if not least <= value <= most:
            print(f"{flag}: must be {least}..{most}, got {value}", file=sys.stderr)
            return False
    return True


def _swarm(args: argparse.Namespace, jobs: int) -> int:
    if not _swarm_numbers_valid(args.swarm, args.seed, jobs):
        return 2
    if args.config:
        print("--swarm: generates its configurations; drop CONFIG", file=sys.stderr)
        return 2
    result = swarm(args.swarm, args.seed, args.mutant, jobs)
    bounded = sum(not o.exhaustive for o in result.outcomes)
    states = sum(o.states for o in result.outcomes)
    designs = ", ".join(
        f"{sum(o.design == d for o in result.outcomes)} {d}"
        for d in DESIGNS
        if any(o.design == d for o in result.outcomes)
    )
    print(
        f"swarm seed {args.seed} (mutant: {args.mutant or 'none'}): {len(result.outcomes)} "
        f"configurations ({designs}), {states} states, {len(result.outcomes) - bounded} "
        f"exhaustive, {bounded} bounded at {SWARM_MAX_STATES} states"
    )
    if result.holds:
        print("properties hold in every configuration")
        print(f"{result.elapsed_s:.1f} s")
        return 0
    failing = result.outcomes[result.first or 0]
    print(f"first violation: configuration #{failing.index}: {failing.property}")
    shrunk = result.shrunk
    assert shrunk is not None and result.original is not None
    print(
        f"shrunk in {shrunk.attempts} searches: {_size(result.original)} -> "
        f"{_size(shrunk.raw)}, counterexample of {shrunk.steps} steps"
    )
    config_path, schedule_path = write_violation(result, args.mutant, args.swarm_out)
    print(f"configuration written to {config_path}")
    print(f"schedule written to {schedule_path}")
    print(f"replay: flashsim check --replay {schedule_path}")
    print(f"{result.elapsed_s:.1f} s")
    return 1


def _size(raw: dict[str, object]) -> str:
    """A configuration's size as the shrink reports it."""
    procs: list[dict[str, object]] = raw["processes"]  # type: ignore[assignment]
    ops = sum(int(p.get("max_ops", len(p.get("ops", ())))) for p in procs)  # type: ignore[arg-type]
    values = sum(len(v) for p in procs for v in p.get("choose", {}).values())  # type: ignore[attr-defined]
    volumes: list[dict[str, int]] = raw["volumes"]  # type: ignore[assignment]
    return (
        f"{len(procs)} processes, {ops} ops, {values} domain values, "
        f"{volumes[0]['tracks']} tracks x {volumes[0]['track_size_bytes']} bytes"
    )


def _jobs(given: str | None) -> int | None:
    """--jobs as a number (1 if not given); None after printing why it is bad."""
    if given is None:
        return 1
    if given == "auto":
        return default_workers()
    try:
        workers = int(given)
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_WORKERS:
        print(f"--jobs: must be 1..{MAX_WORKERS} or auto, got {given}", file=sys.stderr)
        return None
    return workers


def _all_mutants(paths: list[str], workers: int = 1) -> int:
    configs = [_load(p) for p in paths]
    correct, rows = hunt(configs, workers=workers)
    status = 0
    for config, result in zip(configs, correct, strict=True):
        print(f"correct model on {config.path}: {result.summary()}")
        if not result.holds:
            status = 1
    print("\n".join(format_table(rows)))
    alive = [r.mutant for r in rows if not r.killed]
    if alive:
        print(f"alive: {', '.join(alive)}")
        status = 1
    return status
