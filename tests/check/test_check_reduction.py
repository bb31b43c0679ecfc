"""Partial-order and symmetry reduction: fewer states, the same verdicts (on the correct model
and on every mutant a configuration lists), every quiescent state the full search checks,
and the benchmark prints its figures."""

import pytest

from flashsim.bench.checker import bench
from flashsim.models.check import explore
from flashsim.models.check.schedule import replay_schedule
from flashsim.models.check.symmetry import canonical, renaming

#: name -> (the partial order leaves fewer states, symmetry leaves fewer states)
REDUCED = {
    "a_pair": (True, False),  # every write has its own value and position: nothing to rename
    "b_cascade": (True, False),
    "c_two_targets": (True, False),
    "d_group": (True, False),
    "e_space_efficient": (False, False),  # a shared allocation count: nothing is local
    "f_symmetric_writers": (True, True),  # two hosts write the same tracks in either order
    "l_svc_cascade": (True, False),
    "m_row_snapshots": (False, False),  # the administrator's whole-volume ops come last
    "n_row_partial_writes": (True, False),  # every write has its own value and position
    "n_svc_restart": (False, False),  # the writes and the whole-volume ops all touch S
    "o_svc_incremental": (False, False),  # likewise
    "n_svc_suspended": (False, False),  # likewise: every op touches S or T of one family
}
MODES = ({"reduce": True}, {"symmetry": True}, {"reduce": True, "symmetry": True})


def quiescent(keys):
    """What the state properties see of each state they check: (engine data, oracle) of
    every state with no lock held."""
    return {(system[0], oracle) for system, _, oracle in keys if not system[1]}


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_each_reduction_explores_fewer_states_and_still_holds(reference, name):
    full = explore(reference[name], progress=False)
    order, symmetric, both = (
        explore(reference[name], progress=False, **options) for options in MODES
    )
    for reduced in (order, symmetric, both):
        assert reduced.holds and reduced.exhaustive
        assert reduced.witnessed == full.witnessed
    assert (order.states < full.states, symmetric.states < full.states) == REDUCED[name]
    assert both.states <= min(order.states, symmetric.states)


def test_the_partial_order_reduction_meets_the_aim_on_configuration_a(reference):
    # the aim: at least 5x fewer states on reference configuration (a)
    full = explore(reference["a_pair"], progress=False)
    both = explore(reference["a_pair"], progress=False, reduce=True, symmetry=True)
    assert full.states >= 5 * both.states


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_the_partial_order_reduction_reaches_every_quiescent_state(reference, name):
    # the state properties run on quiescent states: the reduced search must check them all
    full, reduced = set(), set()
    explore(reference[name], progress=False, states_out=full)
    explore(reference[name], progress=False, reduce=True, states_out=reduced)
    assert quiescent(reduced) == quiescent(full)
    assert reduced < full or not REDUCED[name][0]


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_the_symmetry_reduction_keeps_a_representative_of_every_class(reference, name):
    full, reduced = set(), set()
    explore(reference[name], progress=False, states_out=full)
    explore(reference[name], progress=False, symmetry=True, states_out=reduced)
    # pending data is a function of the program counters, equal in both: () stands for it
    classes = {canonical(key, ()) for key in full}
    assert {canonical(key, ()) for key in reduced} == classes
    assert len(reduced) == len(classes)


def test_the_reduced_search_skips_the_cycle_analysis_and_says_so(reference):
    for options in MODES:
        result = explore(reference["b_cascade"], **options)
        assert not result.progress_checked
        assert result.notes == ["progress (cycles) not checked: it needs the unreduced graph"]


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_the_reduced_searches_kill_the_same_mutants(reference, name):
    for mutant in reference[name].mutants:
        full = explore(reference[name], mutant, progress=False)
        for options in MODES:
            reduced = explore(reference[name], mutant, progress=False, **options)
            assert reduced.counterexample is not None, (mutant, options)
            if reduced.counterexample.property != full.counterexample.property:
                # a reduced search meets the violating states in another order, so it may name
                # another of the violations first; replayed in full, its schedule violates it
                replay = replay_schedule(reference[name], mutant, reduced.counterexample.schedule)
                assert replay.violation is not None, (mutant, options)
                assert replay.violation[0] == reduced.counterexample.property, mutant


def test_renaming_keeps_zero_and_numbers_values_by_first_appearance():
    table = renaming([b"\x00\x52\x51", b"\x51\x77"])
    assert b"\x00\x52\x51\x77\x09".translate(table) == b"\x00\x01\x02\x03\x09"
    # two worlds equal up to swapping two values have one representative; others do not
    assert canonical((b"\x11\x22", (b"\x22",)), ()) == canonical((b"\x22\x11", (b"\x11",)), ())
    assert canonical((b"\x11\x22", (b"\x22",)), ()) != canonical((b"\x11\x22", (b"\x11",)), ())
    # zero is no value to rename: a hole is not a write of some other byte
    assert canonical((b"\x00\x11",), ()) != canonical((b"\x22\x11",), ())


def test_the_benchmark_prints_states_edges_rate_reductions_and_memory(capsys, reference):
    figures = bench(repeat=1)
    out = capsys.readouterr().out.splitlines()
    full = explore(reference["a_pair"], progress=False)
    reduced = explore(reference["a_pair"], progress=False, reduce=True, symmetry=True)
    assert (figures["states"], figures["edges"]) == (full.states, full.edges)
    assert figures["both_factor"] == pytest.approx(full.states / reduced.states)
    assert [line.split(":")[0].strip() for line in out] == [
        "configuration",
        "no reduction",
        "partial order",
        "symmetry",
        "both",
        "volume symmetry",
        "all",
        "toy dict BFS",
        "peak RSS",
    ]
