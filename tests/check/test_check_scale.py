"""Scale: the edge list is kept only for a graph and below the graph-size cap (the note says
so), and --jobs is validated and on one configuration splits its search."""

from __future__ import annotations

import pytest

from flashsim.bundled import root
from flashsim.main import main
from flashsim.models.check import result
from flashsim.models.check.config import load_config
from flashsim.models.check.explorer import explore


def test_progress_not_checked_names_the_graph_size_cap(reference, monkeypatch) -> None:
    full = explore(reference["a_pair"])
    assert full.progress_checked and not full.notes
    monkeypatch.setattr(result, "MAX_GRAPH_STATES", 100)
    capped = explore(reference["a_pair"])
    assert (capped.states, capped.edges, capped.exhaustive) == (full.states, full.edges, True)
    assert not capped.progress_checked
    assert capped.notes == [
        "progress (cycles) not checked: the state graph outgrew the graph-size cap "
        "(100 states), so its edges were not kept"
    ]
    bounded = explore(reference["a_pair"], max_states=50)
    assert bounded.notes == ["progress (cycles) not checked: the search was bounded"]


def test_the_graph_is_kept_only_when_asked_for(reference) -> None:
    assert explore(reference["a_pair"], progress=False).graph is None
    kept = explore(reference["a_pair"], progress=False, keep_graph=True).graph
    assert kept is not None and kept.number_of_edges() <= explore(reference["a_pair"]).edges


@pytest.mark.parametrize("bad", ["0", "-1", "257", "two", ""])
def test_bad_workers_exit_2_naming_the_flag(bad, capsys) -> None:
    assert main(["check", "--all-mutants", "check/d_group.toml", "--jobs", bad]) == 2
    assert f"--jobs: must be 1..256 or auto, got {bad}" in capsys.readouterr().err


def test_jobs_on_one_configuration_runs_one_partitioned_search(capsys) -> None:
    assert main(["check", "check/d_group.toml", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    full = explore(load_config(root() / "check" / "d_group.toml"), progress=False)
    assert f"exhaustive: {full.states} states, {full.edges} edges" in out
    assert "the partitioned search keeps no state graph" in out


@pytest.mark.parametrize("flag", ["--reduce", "--symmetry"])
def test_jobs_refuses_reductions(flag, capsys) -> None:
    assert main(["check", "check/d_group.toml", "--jobs", "2", flag]) == 2
    assert "--jobs: one search over N processes runs without reductions" in capsys.readouterr().err
