"""The explorer on the reference configurations: the correct model holds exhaustively, the
sometimes-properties make a vacuous model fail, bounds are reported as bounds."""

import dataclasses
import tomllib
from pathlib import Path

import pytest

from flashsim.models.check import explore, load_config
from flashsim.models.check import properties as props
from flashsim.models.check.config import parse_config
from flashsim.models.check.explorer import _find_cycle, state_graph
from flashsim.models.check.schedule import replay_schedule
from flashsim.models.check.world import advance, choices, initial_world, is_final

EXHAUSTIVE = {
    "a_pair": "properties hold (exhaustive: 2149 states, 4976 edges, depth 33)",
    "b_cascade": "properties hold (exhaustive: 314 states, 542 edges, depth 22)",
    "c_two_targets": "properties hold (exhaustive: 2476 states, 4799 edges, depth 39)",
    "d_group": "properties hold (exhaustive: 243 states, 399 edges, depth 23)",
    "e_space_efficient": "properties hold (exhaustive: 634 states, 1251 edges, depth 29)",
    "l_svc_cascade": "properties hold (exhaustive: 446 states, 703 edges, depth 19)",
    "m_row_snapshots": "properties hold (exhaustive: 246 states, 278 edges, depth 24)",
    "n_row_partial_writes": "properties hold (exhaustive: 1529 states, 2350 edges, depth 34)",
    "n_svc_restart": "properties hold (exhaustive: 84 states, 88 edges, depth 20)",
    "o_svc_incremental": "properties hold (exhaustive: 41 states, 42 edges, depth 14)",
    "n_svc_suspended": "properties hold (exhaustive: 210 states, 240 edges, depth 23)",
}


@pytest.mark.parametrize("name", sorted(EXHAUSTIVE))
def test_the_correct_model_holds_exhaustively_on_every_reference_configuration(reference, name):
    result = explore(reference[name])
    assert result.summary() == EXHAUSTIVE[name]
    assert result.holds and result.exhaustive and result.progress_checked
    assert set(reference[name].sometimes) <= set(result.witnessed)


@pytest.mark.parametrize("name", sorted(EXHAUSTIVE))
def test_depth_first_and_breadth_first_search_find_the_same_states(reference, name):
    bfs = explore(reference[name], progress=False)
    dfs = explore(reference[name], progress=False, depth_first=True)
    assert (dfs.states, dfs.edges, dfs.witnessed) == (bfs.states, bfs.edges, bfs.witnessed)
    assert dfs.holds


def test_configuration_a_reaches_every_sometimes_property_it_asks_for(reference):
    assert explore(reference["a_pair"]).witnessed == (
        "background_copy_copies_a_track",
        "copy_before_write",
        "fresh_read_sees_a_write",
        "partly_copied_relationship",
        "target_precopy",
        "target_read_differs_from_source",
        "target_read_redirected",
    )


def test_a_model_that_never_reaches_a_sometimes_property_fails(reference):
    config = reference["b_cascade"]
    # without the writers no write ever copies, and every state is quiescent or fully locked
    idle = dataclasses.replace(config, processes=config.processes[2:])
    result = explore(idle)
    assert not result.holds
    assert result.missing == ("copy_before_write", "partly_copied_relationship")
    assert result.summary() == (
        "vacuous: never reached copy_before_write, partly_copied_relationship "
        "(exhaustive: 10 states, 10 edges, depth 5)"
    )


def test_a_search_stopped_by_max_states_says_bounded_never_verified(reference):
    result = explore(reference["a_pair"], max_states=100)
    assert result.summary() == (
        "properties hold, not yet reached: target_read_differs_from_source "
        "(bounded: 100 states, depth 10 (max states 100))"
    )
    assert result.holds
    assert not result.exhaustive and not result.progress_checked
    assert result.notes == ["progress (cycles) not checked: the search was bounded"]


def test_a_search_stopped_by_max_depth_says_bounded(reference):
    config = dataclasses.replace(reference["a_pair"], sometimes=())
    result = explore(config, max_depth=5)
    assert result.summary() == "properties hold (bounded: 23 states, depth 5 (max depth 5))"


def test_every_step_of_a_world_leaves_the_previous_world_unchanged(reference):
    setting, world = initial_world(reference["a_pair"])
    key = world.key()
    for proc in choices(world, setting):
        advance(world, setting, proc)
    assert world.key() == key


def test_running_the_processes_one_after_another_ends_in_a_final_state(reference):
    setting, world = initial_world(reference["a_pair"])
    steps = 0
    while (ready := choices(world, setting)) and steps < 100:
        world, _, violations, _ = advance(world, setting, ready[0])
        assert violations == []
        steps += 1
    assert is_final(world, setting) and steps == 32


def test_a_cycle_is_found_by_strongly_connected_components():
    copier = frozenset({1})
    assert _find_cycle(state_graph(4, [(0, 1, 0), (1, 2, 0), (2, 3, 1)]), copier) is None
    assert _find_cycle(state_graph(4, [(0, 1, 0), (1, 2, 1), (2, 1, 2), (2, 3, 0)]), copier) == (
        1,
        [1, 2],
    )
    assert _find_cycle(state_graph(3, [(0, 1, 0), (1, 2, 0), (2, 2, 1)]), copier) == (2, [1])


def test_a_cycle_counts_only_if_it_is_fair_to_the_copier():
    # 1 -> 2 -> 1 by hosts 0 and 2 while the copier (1) waits, enabled all the way round:
    # no fair scheduler runs it
    edges = [(0, 1, 0), (1, 2, 0), (2, 1, 2), (1, 3, 1)]
    assert _find_cycle(state_graph(4, edges), frozenset({1})) is None
    # the same cycle through a state where no copier is enabled is fair
    assert _find_cycle(state_graph(4, edges), frozenset({1}), frozenset({2})) == (1, [0, 2])
    assert _find_cycle(state_graph(4, edges), frozenset({1}), frozenset({1})) == (1, [0, 2])
    # a longer cycle through the copier's own step is preferred to none at all
    edges = [(0, 1, 0), (1, 2, 0), (2, 1, 2), (2, 4, 1), (4, 1, 0)]
    assert _find_cycle(state_graph(5, edges), frozenset({1})) == (1, [0, 1, 0])


def test_a_copier_that_never_clears_its_bit_is_a_cycle_the_copy_never_leaves(monkeypatch):
    config = load_config(Path(__file__).parent / "data" / "persistent_copy.toml")
    assert explore(config).summary() == (
        "properties hold (exhaustive: 65 states, 107 edges, depth 15)"
    )
    # relationship_agreement names this bug first (the bit the serial run cleared stays set):
    # without it, the cycle analysis must find it on its own
    assert explore(config, "copy_never_clears").counterexample.property == (
        "relationship_agreement"
    )
    checks = tuple(c for c in props.STATE_CHECKS if c[0] != "relationship_agreement")
    monkeypatch.setattr(props, "STATE_CHECKS", checks)
    result = explore(config, "copy_never_clears")
    cex = result.counterexample
    assert (cex.property, cex.message) == (
        "no_copy_starvation_cycle",
        "steps 6-10 return to the state after step 5: a cycle that can repeat forever, the "
        "copy never completing",
    )
    assert cex.schedule == ("writer",) + ("copier",) * 9
    assert [e.phase for e in cex.events[5:]] == ["unlock", "lock", "plan", "act", "act"]
    replay = replay_schedule(config, "copy_never_clears", cex.schedule)
    assert replay.violation == (cex.property, cex.message)


def test_concurrent_source_writes_never_overfill_a_space_efficient_target():
    """Regression: the capacity check (PLAN) and the allocation (ACT) raced until writes
    took the target's space-pool lock (found by this checker)."""
    config = load_config(Path(__file__).parent / "data" / "space_race.toml")
    result = explore(config)
    assert result.counterexample is None, result.counterexample.message


def test_a_read_of_a_space_efficient_target_never_slips_past_a_write_that_fails_it():
    """Regression, found by the swarm (docs/checker.md, "Findings"): a read of another track
    of a space-efficient target took its locks between the LOCK of a write that fails the
    relationship and its ACT, and read the target as alive though ordered after the write.
    Reads of the target now hold its space pool shared until they have planned; without that
    (the mutant read_skips_space_pool) the race is back."""
    config = load_config(Path(__file__).parent / "data" / "space_read_race.toml")
    result = explore(config)
    assert result.counterexample is None, result.counterexample.message
    assert result.exhaustive
    cex = explore(config, "read_skips_space_pool").counterexample
    assert cex is not None
    assert (cex.property, len(cex.events)) == ("pit", 10)
    assert cex.message == "read B[0:1] returned 51, expected RelationshipFailedError"
    assert cex.schedule[0] == "host1: write B 0 51" and "host0: write A 1 51" in cex.schedule


def test_the_explored_graph_is_kept_on_request_with_depths_and_kinds_of_state(reference):
    result = explore(reference["a_pair"], keep_graph=True)
    graph = result.graph
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (result.states, result.edges)
    assert max(d for _, d in graph.nodes(data="depth")) == result.depth
    ends = [n for n, end in graph.nodes(data="terminal") if end]
    assert ends and all(graph.out_degree(n) == 0 and graph.nodes[n]["quiescent"] for n in ends)
    assert {name for _, _, name in graph.edges(data="process")} == {
        p.name for p in reference["a_pair"].processes
    }
    assert explore(reference["a_pair"]).graph is None  # not kept unless asked for


@pytest.mark.parametrize("name", sorted(EXHAUSTIVE))
def test_no_step_changes_an_engine_state_other_worlds_share(reference, name):
    # the step memo shares one System per engine state among worlds, and runs PLAN and
    # reading actions on it in place: every stored engine must still be what its id says
    config = reference[name]
    for mutant in (None, *config.mutants):
        setting, world = initial_world(config, mutant)
        seen, frontier = {world.ident()}, [world]
        while frontier and len(seen) < 3000:  # a mutant's space may be large: a sample
            world = frontier.pop()
            for proc in choices(world, setting):
                new, _, violations, _ = advance(world, setting, proc, check_state=False)
                if not violations and new.ident() not in seen:
                    seen.add(new.ident())
                    frontier.append(new)
        memo = setting.memo
        for system_id, system in memo.system_objects.items():
            assert system.fingerprint() == memo.systems.values[system_id], (mutant, system_id)


SUSPENDED_COPIER = """
[check]
profile = "svc"

[[volumes]]
name = "S"
tracks = 1
track_size_bytes = 1

[[volumes]]
name = "T1"
tracks = 1
track_size_bytes = 1

[[setup]]
op = "write"
volume = "S"
offset = 0
data = "a0"

[[setup]]
op = "establish"
id = "m1"
source = "S"
target = "T1"

[[processes]]
name = "admin"
ops = [{ op = "suspend", id = "m1" }%s]

[[processes]]
name = "copier"
copier = "m1"
"""


@pytest.mark.parametrize("resume", [True, False])
def test_the_copier_of_a_suspended_mapping_waits_for_the_resume(resume):
    """Regression, found by the SVC swarm (docs/checker.md, "Swarm verification"): the
    copier of a suspended mapping took a step that copies nothing, again and again, a cycle
    reported as starvation while the resume was still to come. Left suspended, the mapping
    copies nothing: no terminal state owes its copy."""
    text = SUSPENDED_COPIER % (', { op = "resume", id = "m1" }' if resume else "")
    result = explore(parse_config(tomllib.loads(text)))
    assert result.holds and result.exhaustive and result.progress_checked
