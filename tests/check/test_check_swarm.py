"""Swarm verification: generated configurations are valid and deterministic, the correct
model passes a swarm, and a swarm finds, shrinks and writes a replayable violation of a
seeded bug."""

import tomllib

import pytest

from flashsim.main import main
from flashsim.models.check.config import parse_config
from flashsim.models.check.schedule import read_schedule, replay_schedule
from flashsim.models.check.swarm import generate, shrink, swarm, to_toml


def test_the_same_seed_generates_the_same_configurations_and_they_round_trip_as_toml():
    for index in range(40):
        raw = generate(7, index)
        assert raw == generate(7, index)
        assert tomllib.loads(to_toml(raw)) == raw
        parse_config(raw, f"#{index}")  # valid, within every limit
    assert generate(7, 0) != generate(8, 0)


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
