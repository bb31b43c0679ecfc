"""The design per relationship (issue 12): a `[[flashcopy]]` may name its `design`; one run is
one storage system, which runs one design, so the designs must agree with each other and with
`run.profile` (docs/simulator.md, "Designs"), and the op log's `design` field likewise."""

from __future__ import annotations

import pytest
from sim_helpers import array, flashcopy, scenario, volume

from flashsim.main import main
from flashsim.sim.engine import simulate
from flashsim.sim.scenario.tables import ScenarioError

TRACK = 64 * 1024
WRITER = """
[[workload]]
name = "w"
volume = "prod"
rw = "write"
bs = "64k"
rate_iops = 50
start_s = 0.5
stop_s = 10
"""


def copies(designs: list[str | None], sources: list[str] | None = None) -> str:
    body = array("a0", lat=0.5, bw=1000, par=8) + volume("prod", 64) + volume("other", 64)
    for i, design in enumerate(designs):
        name = f"t{i:02d}"
        source = sources[i] if sources else "prod"
        options: dict[str, object] = {"background_copy": False}
        if design is not None:
            options["design"] = design
        body += volume(name, 64) + flashcopy(name, source, name, 0, **options)
    return body


def test_the_relationships_design_is_the_runs_when_run_profile_is_not_given():
    # 4 NOCOPY copies, every host write a first write: SVC copies one grain (one read and one
    # write of 64 KiB) per host write; the DS8000 would copy four
    result = simulate(scenario(copies(["svc"] * 4) + WRITER, duration_s=11))
    assert result.scenario.run.profile == "svc"
    arr = result.arrays["a0"]
    assert arr.ios["host"] > 0
    assert arr.ios["copy_before_write"] == 2 * arr.ios["host"]


def test_a_design_equal_to_run_profile_is_accepted():
    assert scenario(copies(["row"]), profile='"row"').run.profile == "row"


def test_without_any_design_the_run_is_a_ds8000():
    assert scenario(copies([None, None])).run.profile == "ds8000"


def test_a_design_other_than_run_profile_is_an_error_naming_both():
    with pytest.raises(ScenarioError) as caught:
        scenario(copies([None, "svc"]), profile='"ds8000"')
    assert str(caught.value) == (
        'test.toml: flashcopy[1].design: "svc" differs from run.profile "ds8000": one run is one '
        "storage system, which runs one design (sim/design_comparison.py runs a scenario under each)"
    )


def test_two_designs_in_one_family_is_an_error_naming_the_other_relationship():
    with pytest.raises(ScenarioError) as caught:
        scenario(copies(["svc", "ds8000"]))
    assert str(caught.value) == (
        'test.toml: flashcopy[1].design: "ds8000" differs from the "svc" of flashcopy t00, in '
        "the same family: the relationships of a volume's family run one design"
    )


def test_two_designs_in_two_families_is_an_error_too():
    with pytest.raises(ScenarioError) as caught:
        scenario(copies(["svc", None, "ds8000"], sources=["prod", "prod", "other"]))
    assert str(caught.value) == (
        'test.toml: flashcopy[2].design: "ds8000" differs from the "svc" of flashcopy t00: one '
        "run is one storage system, which runs one design; simulate each design in a run of its own"
    )


def test_an_unknown_design_is_an_error():
    with pytest.raises(ScenarioError) as caught:
        scenario(copies(["hp"]), profile='"ds8000"')
    assert str(caught.value) == "test.toml: flashcopy[0].design: must be ds8000, svc, row, got 'hp'"


@pytest.mark.parametrize(
    ("systems", "code", "err"),
    [
        (("svc", "svc"), 0, ""),
        (("svc", "ds8000"), 2, "relationship m: design ds8000, but this system runs the svc profile "
         "(one system runs one design: choose it with a first profile line)"),
        (("ds8000", "svc"), 2, "relationship m: design svc, but this system runs the ds8000 profile "
         "(one system runs one design: choose it with a first profile line)"),
    ],
)  # fmt: skip
def test_the_op_logs_design_field_must_be_the_systems(tmp_path, capsys, systems, code, err):
    profile, design = systems
    log = tmp_path / "ops.jsonl"
    log.write_text(
        f'{{"op": "profile", "name": "{profile}"}}\n'
        '{"op": "create", "volume": "A", "tracks": 2, "track_size": 2}\n'
        '{"op": "create", "volume": "B", "tracks": 2, "track_size": 2}\n'
        f'{{"op": "establish", "id": "m", "source": "A", "target": "B", "design": "{design}"}}\n'
        '{"op": "read", "volume": "B", "offset": 0, "length": 4}\n'
    )
    assert main(["replay", str(log)]) == code
    out, stderr = capsys.readouterr()
    assert stderr == (f"{log}:4: {err}\n" if err else "")
    assert out == ('{"line": 5, "data": "00000000"}\n' if code == 0 else "")
