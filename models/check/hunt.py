"""Every mutant against the reference configurations: the evidence that the checker checks.

`hunt(configs)` first checks the correct model on each configuration, then runs each mutant
on the configurations of its profile in order until one kills it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.models.check.config import CheckConfig
from flashsim.models.check.explorer import CheckResult, explore
from flashsim.models.check.mutants import MUTANTS, design_of
from flashsim.models.check.parallel import explore_all


@dataclass(frozen=True, slots=True)
class MutantRow:
    mutant: str
    killed: bool
    config: str  # the configuration that killed it ("" if none did)
    property: str
    steps: int  # counterexample length
    states: int  # states searched, summed over the configurations tried
    elapsed_s: float


def hunt(
    configs: list[CheckConfig], mutants: list[str] | None = None, workers: int = 1
) -> tuple[list[CheckResult], list[MutantRow]]:
    """The correct model's results on `configs`, and one row per mutant. With `workers` > 1
    every (configuration, mutant) search runs at once over a process pool
    (`flashsim.models.check.parallel`), the rows the same as in order."""
    names = mutants if mutants is not None else list(MUTANTS)
    if workers > 1:
        jobs: list[tuple[CheckConfig, str | None]] = [(c, None) for c in configs]
        pairs = [(c, m) for m in names for c in configs if c.profile.design == design_of(m)]
        jobs += pairs
        done = explore_all(jobs, workers)
        correct, found = done[: len(configs)], iter(done[len(configs) :])
        results = {(m, c.path): next(found) for c, m in pairs}
    else:
        correct, results = [explore(config) for config in configs], {}
    rows = []
    for mutant in names:
        states, elapsed = 0, 0.0
        row = None
        for config in configs:
            if config.profile.design != design_of(mutant):
                continue  # a profile's seeded bugs run on that profile's configurations
            result = results.get((mutant, config.path)) or explore(config, mutant)
            states += result.states
            elapsed += result.elapsed_s
            cex = result.counterexample
            if cex is not None:
                row = MutantRow(
                    mutant, True, config.path, cex.property, len(cex.events), states, elapsed
                )
                break
        rows.append(row or MutantRow(mutant, False, "", "", 0, states, elapsed))
    return correct, rows


def format_table(rows: list[MutantRow]) -> list[str]:
    """The --all-mutants table (times vary; every other column is deterministic)."""
    head = ("mutant", "killed", "by", "property", "steps", "states", "time_s")
    body = [
        (
            r.mutant,
            "killed" if r.killed else "ALIVE",
            r.config.rsplit("/", 1)[-1],
            r.property or "-",
            str(r.steps) if r.killed else "-",
            str(r.states),
            f"{r.elapsed_s:.2f}",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    return [
        "  ".join(
            cell.ljust(w) if i < 4 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in (head, *body)
    ]
