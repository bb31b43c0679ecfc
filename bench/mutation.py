"""Mutation run over the semantics source: does the model checker find bugs it was not tuned
to?

Every mutant of `bench.mutator` over the semantics modules (`SEMANTICS`: the rules, the state,
`system.py`, `ops.py`; never the oracle, which is the reference) runs in a child process of
its own: the child puts the mutated module's code in place of the file's before anything
imports it (a `sys.meta_path` finder), then runs one *suite* and prints whether it killed the
mutant. Suites:
- `checker`: `explore` on every bundled configuration (`scenarios/check/`) plus any extra
  configurations given (the hook for a swarm's configurations: `--config`, repeatable); a
  violation, a vacuous search or an exception kills;
- `tests`: pytest on the semantic tests (`TEST_PATHS`, the differential Hypothesis test
  included), seeded, stopping at the first failure.
A child over its time budget (never under 3x the unmutated run) is stopped and counts as a
kill (`timeout`: a mutant that loops).

Before the mutants, one child runs the unmutated code under a line tracer and reports which
lines of the semantics each suite executes: a mutant on a line the suite never runs is
`unreached` (it cannot be killed by that suite, and says so rather than counting as a
survivor). The sample is seeded; the children run `jobs` at a time.

    python -m flashsim.bench.mutation [--sample N] [--seed S] [--jobs J] [--budget SECONDS]
        [--tests N] [--tests-budget SECONDS] [--config EXTRA.toml ...] [--json FILE]
    flashsim bench --only mutation [--quick]
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import CodeType, ModuleType

from flashsim.bench.mutator import CLASSES, Site, mutate, sites

#: The semantics modules under mutation, as installed (flashsim.models.*).
SEMANTICS = (
    "flashsim.models.ops",
    "flashsim.models.system",
    "flashsim.models.rules.actions",
    "flashsim.models.rules.control",
    "flashsim.models.rules.inflight",
    "flashsim.models.rules.locks",
    "flashsim.models.rules.plans",
    "flashsim.models.rules.steps",
    "flashsim.models.state.backend",
    "flashsim.models.state.bitmap",
    "flashsim.models.state.file_names",
    "flashsim.models.state.relationship",
    "flashsim.models.state.store",
    "flashsim.models.state.volume",
)
#: The semantic tests (relative to the repository): unit tests of the core, the
#: engine-vs-oracle differential test and the interleavings test.
TEST_PATHS = ("tests/unit", "tests/property")
_RESULT = "flashsim-mutation-result: "

#: Mutants classified equivalent by hand after a run (docs/checker.md, "Mutation run"):
#: (module, the mutated line's text, the mutation) -> why no run can tell it from the original.
#: Keyed by the line's text, not its number, so an edit elsewhere in the file keeps the entry.
_CACHE = "a cache of the relationships: without it the family is computed again, the same"
_IDS = "operation numbers only need to be distinct, and they still are"
_PAGED = "chooses paged or flat storage of a track: both hold the same bytes"
_SAME_VOLUME = (
    "an establish of a volume onto itself is refused by the cycle check below instead, with "
    "the same error class (EstablishError); only the message differs"
)
_CHUNKS = (
    "the size of one copy action: the same tracks are copied, in fewer actions, all under "
    "the operation's locks, so no other operation sees the difference (only the memory an "
    "action holds)"
)
_HINT = (
    "_low is only a lower bound the search starts from; left lower, it is still a lower "
    "bound, and find_next finds the same track"
)
EQUIVALENT: dict[tuple[str, str, str], str] = {
    ("flashsim.models.state.store", "self._families[member] = family",
     "delete `self._families[member] = family`"): _CACHE,
    ("flashsim.models.state.store", "self._next_op += 1", "`1` -> `2`"): _IDS,
    ("flashsim.models.state.store", "self._next_op += 1", "`+` -> `-`"): _IDS,
    ("flashsim.models.state.store", "if not runs:", "delete `if not runs:`"):
        "an early return: with no runs the loop below marks nothing either",
    ("flashsim.models.state.backend", "self._paged = track_size >= 2 * PAGE_BYTES",
     "`2` -> `3`"): _PAGED,
    ("flashsim.models.state.backend", "self._paged = track_size >= 2 * PAGE_BYTES",
     "`>=` -> `>`"): _PAGED,
    ("flashsim.models.rules.control",
     'raise EstablishError(f"relationship {rid}: source and target are both volume {spec.source}")',
     "delete `raise EstablishError(f'relationship {rid}: source and tar...`"): _SAME_VOLUME,
    ("flashsim.models.rules.control", "seen.add(ancestor)", "delete `seen.add(ancestor)`"):
        "the walk up the sources visits an ancestor more than once but ends all the same: "
        "the relationships form no cycle (this very check keeps them so), the result is the same",
    ("flashsim.models.rules.plans", "return max(1, MAX_COPY_EXTENT_BYTES // track_size)",
     "`1` -> `0`"): "MAX_COPY_EXTENT_BYTES // track_size is at least 1 for every track size "
        "allowed (MAX_TRACK_SIZE <= 4 MiB), so the max() is never decided by its 1",
    ("flashsim.models.rules.plans", "return max(1, MAX_COPY_EXTENT_BYTES // track_size)",
     "`//` -> `*`"): _CHUNKS,
    ("flashsim.models.rules.plans", "if not runs:", "delete `if not runs:`"):
        "an early exit on no runs: what follows does the same with none (resolve's tail "
        "appends the same whole run; plan_receive's capacity check passes with 0 tracks "
        "needed, as a space-efficient target never holds more than its capacity, and it "
        "copies nothing)",
    ("flashsim.models.state.bitmap", "if start < stop:", "`<` -> `<=`"):
        "an empty range sets nothing either; only the search hint _low may move down, and a "
        "lower hint is still a lower bound",
    ("flashsim.models.state.bitmap", "if start < stop and self._count:", "`and` -> `or`"):
        "an empty range clears nothing and an empty map has nothing to clear: the count and "
        "the bits end the same",
    ("flashsim.models.state.bitmap", "if start <= self._low:", "`<=` -> `<`"): _HINT,
    ("flashsim.models.state.bitmap", "self._low = len(self._bits) if pos < 0 else pos",
     "delete `self._low = len(self._bits) if pos < 0 else pos`"): _HINT,
    ("flashsim.models.rules.steps", "if done:", "delete `if done:`"):
        "releasing no locks changes nothing: the release and the filter below are no-ops",
    ("flashsim.models.rules.steps", "op.locks = ()", "delete `op.locks = ()`"):
        "the operation is done: nothing reads its locks again (the lock table is released)",
    ("flashsim.models.state.store", "for member in family:", "delete `for member in family:`"):
        _CACHE,
    ("flashsim.models.state.store", "del self.outgoing[rel.source]",
     "delete `del self.outgoing[rel.source]`"):
        "an empty list of outgoing relationships means what no entry means to every reader "
        "(loops over it, .get(v, ()), its length, its truth value)",
    ("flashsim.models.state.store",
     "elif i < len(held) and held[i][:2] == (first, end):  # one more holder", "`2` -> `1`"):
        "a second shared holder of a range becomes an entry of its own (-1) instead of a count "
        "(-2) on the first: holder() finds a shared entry of the same range either way and "
        "release() removes one holder either way",
    ("flashsim.models.rules.control", "if spec.source == spec.target:",
     "delete `if spec.source == spec.target:`"): _SAME_VOLUME,
    ("flashsim.models.state.store", "self._next_op = 0", "`0` -> `-1`"):
        "operation numbers only need to be distinct and not negative (a negative owner marks "
        "a shared lock): from 0 on they still are",
    ("flashsim.models.state.store", "return cached", "delete `return cached`"): _CACHE,
    ("flashsim.models.state.store",
     "one = held[0] if len(held) == 1 else None  # held exclusively: owner >= 0", "`1` -> `0`"):
        "turns off the fast path of release (a volume's one range, held exclusively): the "
        "general path below removes the same range",
    ("flashsim.models.rules.locks", "return ((members[0], first, end), *extra)",
     "`0` -> `-1`"): "a family of one volume: its first member is its last",
    ("flashsim.models.state.backend", "return held", "delete `return held`"):
        "an immutable track image is copied into a bytearray of the same bytes instead of "
        "shared: the same content, a copy more",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Mutant:
    module: str  # dotted name the mutated code is imported as
    path: str  # its source file
    site: Site

    @property
    def name(self) -> str:
        return f"{self.module.removeprefix('flashsim.')}:{self.site.node_line}#{self.site.index}"


@dataclass(slots=True)
class Outcome:
    """What one suite made of one mutant: `killed`, `survived`, `timeout` (counts as a kill),
    `crash` (the child died without a verdict: counts as a kill) or `unreached`."""

    mutant: str
    op_class: str
    description: str
    status: str
    detail: str = ""
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.status in {"killed", "timeout", "crash"}


def module_file(module: str) -> str:
    """The source file of an installed module, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(module)
    return spec.origin


def collect(modules: Sequence[str], paths: Sequence[str] | None = None) -> list[Mutant]:
    """Every mutant of `modules` (their files: `paths`, or found as installed), in order."""
    files = list(paths) if paths is not None else [module_file(m) for m in modules]
    found = []
    for module, path in zip(modules, files, strict=True):
        source = Path(path).read_text(encoding="utf-8")
        found.extend(Mutant(module, path, site) for site in sites(source))
    return found


def equivalents(mutants: Sequence[Mutant]) -> dict[str, str]:
    """The mutants of `mutants` that `EQUIVALENT` classifies: name -> reason."""
    found = {}
    lines: dict[str, list[str]] = {}
    for m in mutants:
        text = lines.setdefault(m.path, Path(m.path).read_text(encoding="utf-8").splitlines())
        reason = EQUIVALENT.get((m.module, text[m.site.node_line - 1].strip(), m.site.description))
        if reason is not None:
            found[m.name] = reason
    return found


def sample(mutants: Sequence[Mutant], size: int | None, seed: int) -> list[Mutant]:
    """A seeded sample (all of them when `size` is None or not smaller), in collection order."""
    if size is None or size >= len(mutants):
        return list(mutants)
    picked = set(random.Random(seed).sample(range(len(mutants)), size))
    return [m for i, m in enumerate(mutants) if i in picked]


# -- the child -------------------------------------------------------------------------------
class _MutantLoader(importlib.abc.Loader):
    def __init__(self, code: CodeType) -> None:
        self.code = code

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:  # noqa: ARG002
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(self.code, module.__dict__)  # the mutant's code, in the real module's namespace


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Finds `module` where it is, but loads the mutated code instead of the file's."""

    def __init__(self, module: str, code: CodeType) -> None:
        self.module = module
        self.code = code

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,  # noqa: ARG002 - the finder protocol's signature
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:
            return None
        spec.loader = _MutantLoader(self.code)
        return spec


def install(module: str, path: str, index: int) -> None:
    """Make the next import of `module` load mutant `index` of `path` (in this process:
    children only)."""
    if module in sys.modules:
        raise RuntimeError(f"{module} is already imported: the mutant would not take effect")
    tree = mutate(Path(path).read_text(encoding="utf-8"), index)
    code = compile(tree, path, "exec")
    sys.meta_path.insert(0, _MutantFinder(module, code))


def checker_suite(args: dict[str, object]) -> tuple[bool, str]:
    """The checker alone: every bundled configuration and the extra ones; killed on the first
    that does not hold (a violation, or a vacuous search)."""
    from flashsim.bundled import check_configs
    from flashsim.models.check.config import load_config
    from flashsim.models.check.explorer import explore

    extra = [Path(str(p)) for p in args.get("configs", [])]  # type: ignore[attr-defined]
    for path in [*check_configs(), *extra]:
        try:
            result = explore(load_config(path), progress=True)
        except Exception as error:  # a crash of the semantics is a finding too
            return True, f"{path.name}: {type(error).__name__}: {error}"[:200]
        if not result.holds:
            cex = result.counterexample
            what = cex.property if cex is not None else "vacuous"
            return True, f"{path.name}: {what}"
    return False, ""


def tests_suite(args: dict[str, object]) -> tuple[bool, str]:
    """The semantic tests, derandomised (the `ci` Hypothesis profile), stopping at the first
    failure."""
    import pytest

    root = Path(str(args["repo"]))
    paths = [str(root / p) for p in TEST_PATHS]
    with tempfile.TemporaryDirectory() as folder:  # a fresh Hypothesis database each time
        os.chdir(folder)
        os.environ["HYPOTHESIS_PROFILE"] = "ci"  # derandomised: the same examples every run
        code = pytest.main(
            [*paths, "-x", "-q", "-p", "no:cacheprovider",
             f"--rootdir={root}", "-W", "ignore"]
        )  # fmt: skip
    return code != 0, f"pytest exit {int(code)}" if code != 0 else ""


SUITES: dict[str, Callable[[dict[str, object]], tuple[bool, str]]] = {
    "checker": checker_suite,
    "tests": tests_suite,
}


def _suite(name: str) -> Callable[[dict[str, object]], tuple[bool, str]]:
    """A named suite, or `package.module:function` (a toy suite of the tests)."""
    if name in SUITES:
        return SUITES[name]
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def _traced(run: Callable[[], object], files: set[str]) -> dict[str, list[int]]:
    """The lines of `files` that `run` executes."""
    lines: dict[str, set[int]] = {f: set() for f in files}

    def local(frame, event, _arg):  # type: ignore[no-untyped-def]
        if event == "line":
            lines[frame.f_code.co_filename].add(frame.f_lineno)
        return local

    def tracer(frame, _event, _arg):  # type: ignore[no-untyped-def]
        return local if frame.f_code.co_filename in lines else None

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return {f: sorted(found) for f, found in lines.items()}


def child(request: dict[str, object]) -> dict[str, object]:
    """One child's work: install the mutant (index None: none), run the suite; with `trace`,
    the lines of `files` it executed instead of a verdict."""
    index = request.get("index")
    if index is not None:
        install(str(request["module"]), str(request["path"]), int(index))  # type: ignore[call-overload]
    suite = _suite(str(request["suite"]))
    args: dict[str, object] = request.get("args", {})  # type: ignore[assignment]
    if request.get("trace"):
        files = {os.path.realpath(str(f)) for f in request["files"]}  # type: ignore[attr-defined]
        for module in SEMANTICS:  # import first: a line run only at import is set-up, not search
            importlib.import_module(module)
        return {"lines": _traced(lambda: suite(args), files)}
    killed, detail = suite(args)
    return {"killed": killed, "detail": detail}


def _spawn(
    request: dict[str, object], budget_s: float, env: dict[str, str] | None
) -> tuple[dict[str, object] | None, str, float]:
    """Run a child; (its result or None, why not, seconds)."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flashsim.bench.mutation", "--child"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=budget_s,
            env={**os.environ, "PYTHONHASHSEED": "0", **(env or {})},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, "timeout", time.perf_counter() - started
    seconds = time.perf_counter() - started
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_RESULT):
            return json.loads(line[len(_RESULT) :]), "", seconds
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"exit {done.returncode}: {tail}"[:200], seconds


def reached_lines(
    files: Sequence[str], suite: str, args: dict[str, object], env: dict[str, str] | None = None
) -> tuple[dict[str, set[int]], float]:
    """The lines of `files` the unmutated `suite` executes (one traced child), and the
    seconds it took."""
    request = {"suite": suite, "args": args, "trace": True, "files": list(files)}
    result, why, seconds = _spawn(request, 3600.0, env)
    if result is None:
        raise RuntimeError(f"the traced run of suite {suite} failed: {why}")
    lines = {f: set(found) for f, found in result["lines"].items()}  # type: ignore[attr-defined]
    return lines, seconds


def _reached(mutant: Mutant, lines: dict[str, set[int]]) -> bool:
    executed = lines.get(os.path.realpath(mutant.path), set())
    return any(n in executed for n in range(mutant.site.line, mutant.site.last_line + 1))


def run(
    mutants: Sequence[Mutant],
    suite: str,
    *,
    args: dict[str, object] | None = None,
    budget_s: float = 60.0,
    jobs: int = 2,
    env: dict[str, str] | None = None,
    trace: bool = True,
    progress: bool = False,
) -> list[Outcome]:
    """Each mutant against `suite` in a child of its own, `jobs` at a time; with `trace`,
    mutants on lines the unmutated suite never runs are `unreached` and not run."""
    args = args or {}
    lines = None
    if trace:
        lines, traced_s = reached_lines(sorted({m.path for m in mutants}), suite, args, env)
        # a loaded machine slows every child alike: the budget never falls below 3x the
        # unmutated run (traced, so slower still), or a slow survivor would pass as a loop
        budget_s = max(budget_s, 3 * traced_s)

    def one(mutant: Mutant) -> Outcome:
        base = (mutant.name, mutant.site.op_class, mutant.site.description)
        if lines is not None and not _reached(mutant, lines):
            return Outcome(*base, "unreached")
        request = {
            "module": mutant.module,
            "path": mutant.path,
            "index": mutant.site.index,
            "suite": suite,
            "args": args,
        }
        result, why, seconds = _spawn(request, budget_s, env)
        if result is None:
            outcome = Outcome(*base, "timeout" if why == "timeout" else "crash", why, seconds)
        else:
            status = "killed" if result["killed"] else "survived"
            outcome = Outcome(*base, status, str(result["detail"]), seconds)
        if progress:
            print(f"  {suite}: {outcome.status:<8} {mutant.name} {outcome.description}", flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # each thread waits on a child
        return list(pool.map(one, mutants))


# -- the report ------------------------------------------------------------------------------
@dataclass(slots=True)
class Summary:
    """Kill rates of one suite: over the reached mutants (non-equivalent unless classified
    equivalent by hand, `equivalent`)."""

    suite: str
    outcomes: list[Outcome]
    equivalent: dict[str, str] = field(default_factory=dict)  # mutant -> reason

    def counts(self, op_class: str | None = None) -> Counter[str]:
        return Counter(
            "equivalent" if o.mutant in self.equivalent else o.status
            for o in self.outcomes
            if op_class is None or o.op_class == op_class
        )

    def rate(self, op_class: str | None = None) -> float:
        counts = self.counts(op_class)
        killed = counts["killed"] + counts["timeout"] + counts["crash"]
        counted = killed + counts["survived"]
        return killed / counted if counted else 0.0


def table(summaries: Sequence[Summary]) -> list[str]:
    """A Markdown table: per operator class and suite, mutants, unreached, killed, survived
    and the kill rate over the reached, non-equivalent ones."""
    lines = [
        "| class | suite | mutants | unreached | equivalent | killed (timeout, crash) "
        "| survived | kill rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for op_class in (*CLASSES, None):
        for summary in summaries:
            c = summary.counts(op_class)
            total = sum(c.values())
            if not total:
                continue
            killed = c["killed"] + c["timeout"] + c["crash"]
            lines.append(
                f"| {op_class or '**all**'} | {summary.suite} | {total} | {c['unreached']} | "
                f"{c['equivalent']} | {killed} ({c['timeout']}, {c['crash']}) | "
                f"{c['survived']} | {summary.rate(op_class):.0%} |"
            )
    return lines


def repo_root() -> Path:
    """The repository the installed `flashsim.models` comes from (an editable install)."""
    return Path(module_file("flashsim.models")).resolve().parent.parent


def bench(  # noqa: PLR0917 - the command line's options, in order
    size: int | None = 200,
    seed: int = 15,
    jobs: int = 2,
    budget_s: float = 20.0,
    tests: int = 0,
    tests_budget_s: float = 600.0,
    configs: Sequence[str] = (),
    json_out: str | None = None,
) -> list[Summary]:
    """The mutation run: a seeded sample of `size` semantics mutants against the checker, and
    a seeded sub-sample of `tests` of them against the semantic tests (a survivor runs the
    whole suite, minutes: hence the smaller sample and budget of its own); prints the table
    and the survivors."""
    started = time.perf_counter()
    mutants = sample(collect(SEMANTICS), size, seed)
    print(
        f"mutation run: {len(mutants)} mutants of {len(SEMANTICS)} semantics modules "
        f"(seed {seed}, budget {budget_s:.0f} s each, {jobs} at a time)"
    )
    same = equivalents(mutants)
    outcomes = run(
        mutants,
        "checker",
        args={"configs": list(configs)},
        budget_s=budget_s,
        jobs=jobs,
        progress=True,
    )
    summaries = [Summary("checker", outcomes, same)]
    if tests:
        repo = repo_root()
        if not (repo / TEST_PATHS[0]).is_dir():
            print(f"  tests: skipped, no {TEST_PATHS[0]} under {repo} (not a repository install)")
        else:
            subset = sample(mutants, tests, seed)
            # untraced: the suite under a line tracer takes longer than the mutants it would
            # spare; a test survivor is looked at by hand instead (docs/checker.md)
            outcomes = run(
                subset,
                "tests",
                args={"repo": str(repo)},
                budget_s=tests_budget_s,
                jobs=jobs,
                trace=False,
                progress=True,
            )
            summaries.append(Summary("tests", outcomes, same))
            checker = {o.mutant: o for o in summaries[0].outcomes}
            both = [checker[o.mutant] for o in outcomes]
            summaries.insert(1, Summary("checker, same mutants as tests", both, same))
    print("\n".join(table(summaries)))
    by_name = {s.suite: {o.mutant: o for o in s.outcomes} for s in summaries}
    survivors = [o for o in summaries[0].outcomes if o.status in {"survived", "unreached"}]
    print(f"not killed by the checker ({len(survivors)}):")
    for o in survivors:
        other = by_name.get("tests", {}).get(o.mutant)
        tests = f"; tests: {other.status}" if other else ""
        why = f" (equivalent: {same[o.mutant]})" if o.mutant in same else ""
        print(f"  {o.mutant} [{o.op_class}] {o.description}: {o.status}{tests}{why}")
    print(f"mutation run: {time.perf_counter() - started:.0f} s")
    if json_out:
        Path(json_out).write_text(
            json.dumps({s.suite: [asdict(o) for o in s.outcomes] for s in summaries}, indent=1)
            + "\n",
            encoding="utf-8",
        )
    return summaries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashsim.bench.mutation")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=200, help="mutants to run (0: all)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per mutant")
    parser.add_argument(
        "--tests", type=int, default=0, metavar="N", help="also run the semantic tests on N"
    )
    parser.add_argument("--tests-budget", type=float, default=600.0, help="seconds per mutant")
    parser.add_argument("--config", action="append", default=[], help="an extra configuration")
    parser.add_argument("--json", help="write every outcome here")
    args = parser.parse_args(argv)
    if args.child:
        result = child(json.loads(sys.stdin.read()))
        print(_RESULT + json.dumps(result), flush=True)
        return 0
    for flag in ("sample", "jobs", "budget", "tests", "tests_budget"):
        value = getattr(args, flag)
        if value < (0 if flag in {"sample", "tests"} else 1):
            print(f"--{flag.replace('_', '-')}: out of range, got {value}", file=sys.stderr)
            return 2
    bench(args.sample or None, args.seed, args.jobs, args.budget, args.tests,
          args.tests_budget, args.config, args.json)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
