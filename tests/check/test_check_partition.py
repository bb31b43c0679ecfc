"""One search split over worker processes (`partition.explore_partitioned`) against the
single-process search of the same configuration: the same distinct states, edges, depth
and sometimes-properties; for a seeded bug a counterexample of the same (shortest) length
whose schedule replays to the violation it names."""

from __future__ import annotations

import pytest

from flashsim.models.check.explorer import explore
from flashsim.models.check.partition import explore_partitioned
from flashsim.models.check.schedule import replay_schedule


@pytest.mark.parametrize("name", ["a_pair", "c_two_targets", "g_host_choices", "l_svc_cascade"])
@pytest.mark.parametrize("workers", [2, 3])
def test_same_states_edges_and_witnesses(reference, name, workers) -> None:
    config = reference[name]
    single = explore(config, progress=False)
    split = explore_partitioned(config, workers=workers)
    assert split.exhaustive and split.holds
    assert (split.states, split.edges, split.depth) == (single.states, single.edges, single.depth)
    assert split.witnessed == single.witnessed
    assert not split.progress_checked
    assert split.notes == [
        "progress (cycles) not checked: the partitioned search keeps no state graph"
    ]


@pytest.mark.parametrize(
    ("name", "mutant"),
    [
        ("a_pair", "skip_lock"),
        ("a_pair", "clear_before_copy"),
        ("a_pair", "lock_volume_by_volume"),  # a deadlock: a terminal state's violation
        ("b_cascade", "withdraw_skips_rule0"),
        ("e_space_efficient", "failing_write_drops_data"),
    ],
)
def test_a_mutant_is_killed_by_an_equally_short_counterexample(reference, name, mutant) -> None:
    config = reference[name]
    single = explore(config, mutant, progress=False).counterexample
    split = explore_partitioned(config, mutant, workers=2).counterexample
    assert single is not None and split is not None
    assert len(split.schedule) == len(single.schedule)
    assert split.property == single.property
    replayed = replay_schedule(config, mutant, split.schedule)
    assert replayed.violation is not None
    assert replayed.violation.property == split.property
    assert replayed.events == split.events


def test_a_depth_bound_is_reported(reference) -> None:
    split = explore_partitioned(reference["a_pair"], workers=2, max_depth=5)
    single = explore(reference["a_pair"], max_depth=5, progress=False)
    assert not split.exhaustive and split.bound == "max depth 5"
    assert split.states == single.states


def test_workers_must_be_positive(reference) -> None:
    with pytest.raises(ValueError, match="workers: must be at least 1"):
        explore_partitioned(reference["a_pair"], workers=0)
