"""`flashsim check`: exit codes 0 (hold), 1 (violation), 2 (bad input naming file and key)."""

import json

from flashsim.commands.check import reference_configs
from flashsim.main import main
from flashsim.models.check import MUTANTS, explore, load_config
from flashsim.models.limits import MAX_CHECK_DEPTH, MAX_CHECK_STATES

A = str(reference_configs()[0])


def test_the_correct_model_exits_0_and_says_how_far_it_searched(capsys):
    assert main(["check", A]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"config: {A} (mutant: none)",
        "properties hold (exhaustive: 2149 states, 4976 edges, depth 33)",
        "checked: pit, freshness, outcome_agreement, bitmap_soundness, group_consistency, "
        "restore, isolation, consistency, relationship_agreement, image_agreement, "
        "no_deadlock, copy_completes, no_copy_starvation_cycle",
    ]
    assert out[-1].endswith(" states/s")


def test_a_bounded_run_exits_0_and_says_bounded(capsys):
    assert main(["check", A, "--max-states", "50"]) == 0
    out = capsys.readouterr().out
    assert "(bounded: 50 states, depth 8 (max states 50))" in out
    assert "verified" not in out
    assert "note: progress (cycles) not checked: the search was bounded" in out


def test_a_mutant_exits_1_prints_the_counterexample_and_writes_schedule_and_plot(capsys, tmp_path):
    schedule, plot = tmp_path / "s.json", tmp_path / "s.png"
    args = ["check", A, "--mutant", "no_target_precopy", "--schedule", str(schedule)]
    assert main([*args, "--plot", str(plot)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "violation of bitmap_soundness after 5 steps (searched 19 states)"
    assert out[2] == (
        "counterexample (5 steps): bitmap_soundness: relationship r1: bit 0 is clear but B "
        "holds 6100 on track 0, its image is 61a1"
    )
    assert out[-2:] == [f"schedule written to {schedule}", f"swimlane written to {plot}"]
    assert json.loads(schedule.read_text())["mutant"] == "no_target_precopy"
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_replay_of_a_schedule_file_reproduces_the_violation(capsys, tmp_path):
    schedule = tmp_path / "s.json"
    main(["check", A, "--mutant", "no_target_precopy", "--schedule", str(schedule)])
    first = capsys.readouterr().out.splitlines()
    assert main(["check", "--replay", str(schedule)]) == 1
    out = capsys.readouterr().out.splitlines()
    violation = (
        "violation of bitmap_soundness: relationship r1: bit 0 is clear but B holds 6100 on "
        "track 0, its image is 61a1"
    )
    assert out[1:] == [*first[3:-1], violation]


def test_list_mutants_prints_one_line_per_mutant(capsys):
    assert main(["check", "--list-mutants"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == list(MUTANTS)


def test_all_mutants_on_one_configuration_exits_1_when_some_survive(capsys):
    assert main(["check", str(reference_configs()[4]), "--all-mutants"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("alive: ")
    assert "space_limit_ignored" not in out[-1]


def test_a_bad_configuration_exits_2_naming_file_and_key(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[check]\nmax_states = 10\nspeed = 3\n")
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}: check.speed: unknown key (known: description, max_depth, max_states, "
        "max_targets_per_source, mutants, profile, sometimes)\n"
    )


def test_a_bad_bound_or_a_missing_config_exits_2(capsys):
    assert main(["check", A, "--max-states", "0"]) == 2
    assert main(["check", A, "--max-depth", str(MAX_CHECK_DEPTH + 1)]) == 2
    assert main(["check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"--max-states: must be 1..{MAX_CHECK_STATES}, got 0",
        f"--max-depth: must be 1..{MAX_CHECK_DEPTH}, got {MAX_CHECK_DEPTH + 1}",
        "flashsim check: give a CONFIG.toml (or --list-mutants, --all-mutants)",
    ]


def test_reduce_says_the_search_was_reduced(capsys):
    assert main(["check", A, "--reduce"]) == 0
    out = capsys.readouterr().out.splitlines()
    r = explore(load_config(A), reduce=True)
    assert out[1] == (
        f"properties hold (exhaustive with partial-order reduction: {r.states} states, "
        f"{r.edges} edges, depth {r.depth})"
    )
    assert "no_copy_starvation_cycle" not in out[2]


def test_symmetry_and_reduce_together_say_both(capsys):
    assert main(["check", A, "--reduce", "--symmetry"]) == 0
    out = capsys.readouterr().out.splitlines()
    r = explore(load_config(A), reduce=True, symmetry=True)
    assert out[1] == (
        f"properties hold (exhaustive with partial-order and symmetry reduction: {r.states} "
        f"states, {r.edges} edges, depth {r.depth})"
    )
    assert "note: progress (cycles) not checked: it needs the unreduced graph" in out


def test_graph_draws_the_explored_state_graph(capsys, tmp_path):
    picture = tmp_path / "g.png"
    assert main(["check", A, "--mutant", "clear_before_copy", "--graph", str(picture)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == f"state graph written to {picture}"
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_graph_refuses_a_reduced_search_or_a_graph_too_big_to_read(capsys, tmp_path, monkeypatch):
    picture = tmp_path / "g.png"
    assert main(["check", A, "--reduce", "--graph", str(picture)]) == 2
    monkeypatch.setattr("flashsim.commands.check_plots.MAX_DRAWN_STATES", 100)
    assert main(["check", A, "--graph", str(picture)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "--graph: draws the unreduced graph; drop --reduce and --symmetry",
        f"--graph: {explore(load_config(A)).states} states: a drawing shows at most 100 (bound "
        "the search with --max-states)",
    ]
    assert not picture.exists()


def test_a_bundled_configuration_is_found_by_its_name_alone(capsys, tmp_path, monkeypatch):
    """From any folder (a wheel install has no scenarios/ beside it), as `flashsim run
    oltp_nightly_backup.toml` finds its scenario."""
    monkeypatch.chdir(tmp_path)
    assert main(["check", "a_pair.toml", "--max-states", "20"]) == 0
    assert capsys.readouterr().out.startswith(f"config: {A} (mutant: none)")
    assert main(["check", "no_such_config.toml"]) == 2
    assert (
        capsys.readouterr().err == "no_such_config.toml: cannot read: No such file or directory\n"
    )
