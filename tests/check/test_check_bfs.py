"""The unreduced search's counterexamples (`bfs`): every seeded bug's, on every configuration
of its design, replays to the violation it names, with the same timeline."""

from __future__ import annotations

import pytest

from flashsim.models.check.explorer import explore
from flashsim.models.check.mutants import MUTANTS, design_of
from flashsim.models.check.schedule import replay_schedule


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_counterexample_replays_to_the_violation_it_names(reference, mutant) -> None:
    for name, config in sorted(reference.items()):
        if design_of(mutant) != config.profile.design:
            continue
        cex = explore(config, mutant).counterexample
        if cex is None or cex.property == "no_copy_starvation_cycle":
            continue  # a cycle's schedule ends where it began, not at a violation
        replayed = replay_schedule(config, mutant, cex.schedule)
        assert replayed.violation is not None, (name, mutant)
        assert replayed.violation.property == cex.property
        assert replayed.events == cex.events
