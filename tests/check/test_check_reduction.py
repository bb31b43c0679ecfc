"""Partial-order reduction: fewer states, the same verdicts (on the correct model and on every
mutant a configuration lists), and the benchmark prints its figures."""

import pytest

from models.check import explore
from models.check.bench import bench

REDUCED = {
    "a_pair": (2149, 1229),
    "b_cascade": (314, 246),
    "c_two_targets": (2476, 1673),
    "d_group": (243, 203),
    "e_space_efficient": (634, 634),  # a shared allocation count: nothing is local
}


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_the_reduction_explores_fewer_states_and_still_holds(reference, name):
    full = explore(reference[name], progress=False)
    reduced = explore(reference[name], progress=False, reduce=True)
    assert (full.states, reduced.states) == REDUCED[name]
    assert full.holds and reduced.holds and reduced.exhaustive
    assert reduced.witnessed == full.witnessed
    assert reduced.notes == []


def test_the_reduced_search_skips_the_cycle_analysis_and_says_so(reference):
    result = explore(reference["b_cascade"], reduce=True)
    assert not result.progress_checked
    assert result.notes == ["progress (cycles) not checked: it needs the unreduced graph"]


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_the_reduced_search_kills_the_same_mutants(reference, name):
    for mutant in reference[name].mutants:
        full = explore(reference[name], mutant, progress=False)
        reduced = explore(reference[name], mutant, progress=False, reduce=True)
        assert reduced.counterexample is not None, mutant
        assert reduced.counterexample.property == full.counterexample.property, mutant


def test_the_benchmark_prints_states_edges_rate_and_memory(capsys):
    figures = bench()
    out = capsys.readouterr().out.splitlines()
    assert (figures["states"], figures["edges"], figures["reduced_states"]) == (2149, 4976, 1229)
    assert [line.split(":")[0].strip() for line in out] == [
        "configuration",
        "no reduction",
        "partial order",
        "toy dict BFS",
        "peak RSS",
    ]
