"""Swarm verification: generated configurations are valid and deterministic, the correct
model passes a swarm, and a swarm finds, shrinks and writes a replayable violation of a
seeded bug."""

import tomllib

import pytest

from flashsim.main import main
from flashsim.models.check import explore
from flashsim.models.check.config import parse_config
from flashsim.models.check.mutants import design_of
from flashsim.models.check.schedule import read_schedule, replay_schedule
from flashsim.models.check.swarm import (
    SHRINK_BUDGET,
    _candidates,
    _search,
    generate,
    shrink,
    swarm,
    to_toml,
)
from flashsim.models.check.swarm_generate import DESIGNS, draw_design


def test_the_same_seed_generates_the_same_configurations_and_they_round_trip_as_toml():
    for index in range(40):
        raw = generate(7, index)
        assert raw == generate(7, index)
        assert tomllib.loads(to_toml(raw)) == raw
        parse_config(raw, f"#{index}")  # valid, within every limit
    assert generate(7, 0) != generate(8, 0)


@pytest.mark.parametrize("design", DESIGNS)
def test_every_design_generates_configurations_that_parse_explore_and_hold(design):
    for index in range(12):
        raw = generate(4, index, design)
        assert raw == generate(4, index, design)  # the same seed, the same bytes
        assert raw["check"].get("profile", "ds8000") == design
        assert tomllib.loads(to_toml(raw)) == raw
        config = parse_config(raw, f"{design} #{index}")
        result = explore(config)
        assert result.states > 1 and result.counterexample is None, (index, result.summary())


def test_a_swarm_without_a_mutant_draws_every_design_and_keeps_the_ds8000_draws():
    designs = [draw_design(9, i) for i in range(40)]
    assert set(designs) == set(DESIGNS)
    assert [generate(9, i)["check"].get("profile", "ds8000") for i in range(40)] == designs
    for i, design in enumerate(designs):  # the DS8000 ones as drawn before other designs
        if design == "ds8000":
            assert generate(9, i) == generate(9, i, "ds8000")
    with pytest.raises(ValueError, match="unknown design 'hds'"):
        generate(9, 0, "hds")


@pytest.mark.parametrize(
    ("mutant", "count", "seed"),
    [
        ("svc_write_copies_every_target", 40, 1),
        ("restart_keeps_copied_grains", 40, 1),
        ("suspended_source_stays_online", 40, 1),
        ("snapshot_delete_frees_shared_blocks", 40, 1),
    ],
)
def test_a_swarm_finds_a_bug_seeded_in_the_svc_or_row_rules_and_shrinks_it(mutant, count, seed):
    result = swarm(count, seed, mutant)
    assert {o.design for o in result.outcomes} == {design_of(mutant)}
    assert result.first is not None and result.shrunk is not None
    shrunk = result.shrunk
    assert shrunk.attempts < SHRINK_BUDGET  # it stopped because no cut kept the failure
    again = _search(shrunk.raw, mutant)  # the shrunk configuration still fails alike
    assert again is not None and again.counterexample is not None
    assert again.counterexample.property == shrunk.property
    assert tomllib.loads(to_toml(shrunk.raw)) == shrunk.raw
    # every smaller candidate is a valid configuration that passes or fails otherwise, or
    # no configuration at all (a copier whose mapping went)
    for candidate in _candidates(shrunk.raw):
        found = _search(candidate, mutant)
        assert (
            found is None
            or found.counterexample is None
            or (found.counterexample.property != shrunk.property)
        )


def test_the_correct_model_passes_a_swarm_run_in_two_workers():
    result = swarm(12, 3, jobs=2)
    assert result.holds and result.shrunk is None
    assert [o.index for o in result.outcomes] == list(range(12))
    assert all(o.exhaustive for o in result.outcomes)
    # the same seed: the same searches, whatever the workers
    again = swarm(12, 3, jobs=1)
    assert [(o.states, o.property) for o in again.outcomes] == [
        (o.states, o.property) for o in result.outcomes
    ]


@pytest.mark.parametrize("mutant", ["skip_lock", "no_target_precopy", "copy_after_write"])
def test_a_swarm_finds_and_shrinks_a_violation_of_a_mutant(mutant):
    result = swarm(30, 1, mutant)
    assert result.first is not None and result.shrunk is not None
    first = result.outcomes[result.first]
    assert all(o.property is None for o in result.outcomes[: result.first])
    shrunk = result.shrunk
    assert shrunk.property == first.property
    before, after = result.original, shrunk.raw
    assert len(after["processes"]) <= len(before["processes"])
    assert sum(p.get("max_ops", 0) for p in after["processes"]) <= sum(
        p.get("max_ops", 0) for p in before["processes"]
    )
    # nothing left to cut: every smaller candidate passes or fails otherwise
    assert shrink(after, mutant, shrunk.property).raw == after


def test_the_swarm_command_writes_a_configuration_and_schedule_that_replay(tmp_path, capsys):
    out = tmp_path / "found"
    code = main(["check", "--swarm", "30", "--seed", "1", "--mutant", "no_target_precopy",
                 "--swarm-out", str(out)])  # fmt: skip
    assert code == 1
    text = capsys.readouterr().out
    assert "first violation: configuration #" in text and "shrunk in" in text
    (config_file,) = out.glob("*.toml")
    (schedule_file,) = out.glob("*.schedule.json")
    record = read_schedule(schedule_file)
    assert record["config"] == str(config_file) and record["mutant"] == "no_target_precopy"
    assert main(["check", "--replay", str(schedule_file)]) == 1
    assert f"violation of {record['property']}" in capsys.readouterr().out
    config = parse_config(tomllib.loads(config_file.read_text()), str(config_file))
    replay = replay_schedule(config, None, record["schedule"])  # the correct model passes
    assert replay.violation is None


def test_the_swarm_command_passes_on_the_correct_model(capsys, tmp_path):
    # seed 3: seed 5 finds the open space-efficient read race (docs/checker.md, "Findings")
    assert main(["check", "--swarm", "8", "--seed", "3", "--swarm-out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "8 configurations" in out and "properties hold in every configuration" in out
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--swarm", "0"], "--swarm: must be 1..100000, got 0"),
        (["--swarm", "2", "--jobs", "0"], "--jobs: must be 1..256 or auto, got 0"),
        (["--swarm", "2", "--jobs", "100"], "--jobs: must be 1..64, got 100"),
        (["--swarm", "2", "--seed", "-1"], "--seed: must be 0.."),
        (["x.toml", "--swarm", "2"], "--swarm: generates its configurations; drop CONFIG"),
    ],
)
def test_bad_swarm_options_exit_2_with_the_option_named(args, message, capsys):
    assert main(["check", *args]) == 2
    assert message in capsys.readouterr().err
