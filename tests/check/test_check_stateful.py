"""Hypothesis over the same steps as the explorer: the rules are scheduler choices (which
process takes its next step), drawn as data; every step is checked against the oracle and the
properties, and a failure shrinks to a short interleaving. Each mutant is found here too."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from flashsim.models.check import MUTANTS, explore, load_config
from flashsim.models.check import properties as props
from flashsim.models.check.world import advance, choices, initial_world, is_final

REFERENCE = Path(__file__).resolve().parents[2] / "scenarios" / "check"
CONFIGS = {path.stem: load_config(path) for path in sorted(REFERENCE.glob("*.toml"))}
#: mutant -> the reference configuration that lists it as killed
KILLER = {m: name for name, config in CONFIGS.items() for m in config.mutants}


def scheduler_machine(config, mutant=None, known=None, priorities=False):
    """A state machine over `config`: one rule, 'the scheduler lets a process step' (a
    choosing process about to start an op: with one of its choices, drawn). With
    `known` (the explorer's state keys), every state reached must be one of them.

    The scheduler picks uniformly among the ready processes or, with `priorities`, as PCT
    (probabilistic concurrency testing) does: the ready process of highest priority steps,
    the priorities and a few change points (after its n-th step, process p drops to the
    lowest) drawn once. A uniform pick rarely holds one process back while another runs many steps, which
    a bug such as "this write only between that refresh and that reverse" needs."""
    names_all = [p.name for p in config.processes]

    class Scheduler(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.setting, self.world = initial_world(config, mutant)
            self.steps = []
            self.priority = list(names_all)
            self.changes = {}
            self.taken = dict.fromkeys(names_all, 0)  # steps each process took

        @initialize(
            order=st.permutations(names_all),
            changes=st.dictionaries(st.sampled_from(names_all), st.integers(1, 30), max_size=3),
        )
        def draw_the_priorities(self, order, changes):
            self.priority, self.changes = list(order), changes

        @precondition(lambda self: bool(choices(self.world, self.setting)))
        @rule(data=st.data())
        def let_a_process_step(self, data):
            moves: dict[str, list[int]] = {}  # a choosing process may have several
            for move in choices(self.world, self.setting):
                process = config.processes[move % len(config.processes)]
                moves.setdefault(process.name, []).append(move)
            names = list(moves)
            if priorities:
                name = min(names, key=self.priority.index)
            else:
                name = data.draw(st.sampled_from(names), label="process")
            mine = moves[name]
            move = mine[0] if len(mine) == 1 else data.draw(st.sampled_from(mine), label="choice")
            self.world, event, violations, _ = advance(self.world, self.setting, move)
            self.steps.append(event)
            self.taken[name] += 1
            if self.changes.get(name) == self.taken[name]:  # a change point: to the lowest
                self.priority.remove(name)
                self.priority.append(name)
            assert known is None or self.world.key() in known, "a state the explorer missed"
            assert not violations, f"{violations[0].property}: {violations[0].message}"

        @rule()
        def nothing_is_stuck(self):
            if not choices(self.world, self.setting):
                assert is_final(self.world, self.setting), "no_deadlock: stuck"
                message = props.copy_completes(self.world.system, self.setting.copied)
                assert message is None, f"copy_completes: {message}"

    return Scheduler


def _settings(max_examples, shrink=False):
    return settings(
        max_examples=max_examples,
        stateful_step_count=100,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
        print_blob=False,
    )


@pytest.mark.parametrize("priorities", [False, True])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_any_schedule_hypothesis_draws_keeps_the_properties_on_the_correct_model(name, priorities):
    machine = scheduler_machine(CONFIGS[name], priorities=priorities)
    run_state_machine_as_test(machine, settings=_settings(25))


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_hypothesis_finds_the_mutant_too(mutant):
    config = CONFIGS[KILLER[mutant]]
    found = []
    for priorities in (False, True):  # the uniform scheduler, then PCT's priorities
        machine = scheduler_machine(config, mutant, priorities=priorities)
        try:
            run_state_machine_as_test(machine, settings=_settings(300))
        except AssertionError as error:
            found.append(str(error).split(":")[0])
            break
    assert found, f"neither scheduler found {mutant} in 300 examples"
    assert found[0] in (*props.SAFETY, "no_deadlock", "copy_completes")


def test_the_priority_scheduler_finds_a_bug_that_needs_a_long_hold():
    # the write must fall between the refresh and the reverse: PCT's priorities hold the
    # writer back while the admin runs on
    mutant = "reverse_ignores_source_changes"
    machine = scheduler_machine(CONFIGS[KILLER[mutant]], mutant, priorities=True)
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(machine, settings=_settings(300))
    assert str(caught.value).startswith("restore: fast reverse of r2: restored A track 1 reads ")


def test_a_failure_shrinks_to_a_short_interleaving():
    machine = scheduler_machine(CONFIGS["b_cascade"], "cascade_read_one_level")
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(machine, settings=_settings(100, shrink=True))
    assert str(caught.value).startswith("pit: read C[0:4] returned ")


@pytest.mark.parametrize("name", ["a_pair", "c_two_targets"])
def test_every_state_hypothesis_reaches_is_one_the_explorer_found(name):
    known = set()
    explore(CONFIGS[name], progress=False, states_out=known)
    run_state_machine_as_test(scheduler_machine(CONFIGS[name], known=known), settings=_settings(25))
