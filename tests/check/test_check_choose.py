"""Choosing processes (`choose`, `max_ops`): what a domain expands to, its errors, the order
of the successors, schedules that name a choice, and symmetry on a chooser's data values."""

import time

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.models.check import CheckConfigError, explore, load_config
from flashsim.models.check.config import parse_config
from flashsim.models.check.schedule import replay_schedule
from flashsim.models.check.world import choices, initial_world
from flashsim.models.ops import Establish, Read, Reverse, Withdraw, Write
from flashsim.models.oracle import Oracle


def _raw(*processes, setup=(), tracks=2, size=2, volumes=("A", "B")):
    return {
        "volumes": [{"name": n, "tracks": tracks, "track_size_bytes": size} for n in volumes],
        "setup": list(setup),
        "processes": list(processes),
    }


def _chooser(max_ops=1, name="p", **choose):
    return {"name": name, "max_ops": max_ops, "choose": choose}


def test_a_write_domain_is_every_volume_offset_length_and_value_and_data_cycles():
    config = parse_config(
        _raw(_chooser(ops=["write"], volumes=["A"], offsets=[1], lengths=[1, 3], data=["4142"]))
    )
    assert config.processes[0].choices == (
        Write("A", 1, b"\x41"),
        Write("A", 1, b"\x41\x42\x41"),
    )


def test_the_choices_do_not_depend_on_the_order_of_the_domains():
    one = _chooser(ops=["write", "read"], volumes=["A", "B"], offsets=[3, 0], lengths=[2, 1],
                   data=["52", "51"])  # fmt: skip
    other = _chooser(ops=["read", "write"], volumes=["B", "A"], offsets=[0, 3], lengths=[1, 2],
                     data=["51", "52"])  # fmt: skip
    assert parse_config(_raw(one)).processes == parse_config(_raw(other)).processes
    # 2 volumes x 2 offsets x 2 lengths: 8 reads and 16 writes
    kinds = [type(op) for op in parse_config(_raw(one)).processes[0].choices]
    assert (kinds.count(Read), kinds.count(Write)) == (8, 16)


def test_an_administrator_domain_expands_every_option_and_skips_meaningless_policies():
    config = parse_config(
        _raw(
            _chooser(
                ops=["establish", "withdraw", "reverse"],
                ids=["r1"],
                sources=["A"],
                targets=["B"],
                background_copy=[False],
                target_capacity_tracks=["full", 1],
                out_of_space=["fail_relationship", "inhibit_source_writes"],
                fast=[False, True],
            )
        )
    )
    choices = config.processes[0].choices
    assert set(choices) == {
        Establish("r1", "A", "B", background_copy=False),
        Establish("r1", "A", "B", background_copy=False, target_capacity_tracks=1),
        Establish(
            "r1", "A", "B", background_copy=False, target_capacity_tracks=1,
            out_of_space="inhibit_source_writes",
        ),
        Withdraw("r1"),
        Reverse("r1"),
        Reverse("r1", fast=True),
    }  # fmt: skip
    assert len(choices) == 6


@pytest.mark.parametrize(
    ("process", "message"),
    [
        (_chooser(ops=["write"], volumes=["A"], offsets=[0], lengths=[1]),
         "processes[0].choose.data: missing: write draws from it"),
        (_chooser(ops=["fly"]), "processes[0].choose.ops[0]: unknown operation 'fly'"),
        (_chooser(ops=["read"], volumes=["Z"], offsets=[0], lengths=[1]),
         "processes[0].choose.volumes[0]: unknown volume 'Z'"),
        (_chooser(ops=["write"], volumes=["A"], offsets=[0], lengths=[0], data=["41"]),
         "processes[0].choose.lengths[0]: must be >= 1 for a write"),
        (_chooser(ops=["read"], volumes=["A", "A"], offsets=[0], lengths=[1]),
         "processes[0].choose.volumes: repeats a value"),
        (_chooser(ops=["read"], volumes=[], offsets=[0], lengths=[1]),
         "processes[0].choose.volumes: expected a non-empty list"),
        (_chooser(ops=["write"], volumes=["A"], offsets=[0], lengths=[1], data=["zz"]),
         "processes[0].choose.data[0]: expected hex digits"),
        (_chooser(ops=["withdraw"], ids=["r1"], colour=["red"]),
         "processes[0].choose.colour: unknown domain"),
        (_chooser(ops=["establish"], ids=["r1"], target_capacity_tracks=["half"]),
         "processes[0].choose.target_capacity_tracks[0]: expected 'full' or a number"),
        (_chooser(max_ops=0, ops=["withdraw"], ids=["r1"]), "processes[0].max_ops: must be 1..8"),
        ({"name": "p", "choose": {"ops": ["withdraw"], "ids": ["r1"]}},
         "processes[0].max_ops: a choosing process needs max_ops"),
        ({"name": "p", "max_ops": 1, "ops": [{"op": "withdraw", "id": "r1"}]},
         "processes[0].max_ops: a choosing process needs max_ops"),
        (_chooser(name="a b", ops=["withdraw"], ids=["r1"]), "processes[0].name: expected a name"),
        (_chooser(ops=["read"], volumes=["A", "B"], offsets=list(range(16)),
                  lengths=list(range(1, 17))), "processes[0].choose: over 256 ops"),
        (_chooser(max_ops=8, ops=["read"], volumes=["A", "B"], offsets=list(range(8)),
                  lengths=list(range(1, 6))), "80 ops to choose from x max_ops 8 is over"),
    ],
)  # fmt: skip
def test_a_bad_choose_table_names_the_key(process, message):
    with pytest.raises(CheckConfigError) as caught:
        parse_config(_raw(process), "c.toml")
    assert str(caught.value).startswith("c.toml: ")
    assert message in str(caught.value)


def test_a_copier_may_serve_a_relationship_some_choice_establishes_with_background_copy():
    admin = _chooser(ops=["establish"], ids=["r1"], sources=["A"], targets=["B"],
                     background_copy=[False, True])  # fmt: skip
    config = parse_config(_raw(admin, {"name": "c", "copier": "r1"}))
    assert explore(config).holds


def test_every_choice_is_a_successor_in_the_sorted_order():
    host = _chooser(ops=["read", "write"], volumes=["A"], offsets=[0, 3], lengths=[2], data=["51"])
    config = parse_config(_raw(host))
    setting, world = initial_world(config)
    labels = [setting.labels[m] for m in choices(world, setting)]
    assert labels == ["p: read A 0 2", "p: read A 3 2", "p: write A 0 5151", "p: write A 3 5151"]


def test_a_chooser_explores_what_each_fixed_script_of_its_choices_explores():
    """The states of a chooser include those of every script it could run: each fixed
    script's quiescent states and completions are a subset of the chooser's."""
    domain = {"ops": ["write", "read"], "volumes": ["B"], "offsets": [1], "lengths": [2],
              "data": ["51"]}  # fmt: skip
    setup = [
        {"op": "write", "volume": "A", "offset": 0, "data": "a0a1a2a3"},
        {"op": "establish", "id": "r1", "source": "A", "target": "B"},
    ]
    copier = {"name": "c", "copier": "r1"}
    chooser = parse_config(_raw(_chooser(max_ops=2, **domain), copier, setup=setup))
    found: set[object] = set()
    assert explore(chooser, states_out=found).holds
    ops = [{"op": "write", "volume": "B", "offset": 1, "data": "5151"},
           {"op": "read", "volume": "B", "offset": 1, "length": 2}]  # fmt: skip
    for first in ops:
        for second in ops:
            script = parse_config(_raw({"name": "p", "ops": [first, second]}, copier, setup=setup))
            seen: set[object] = set()
            assert explore(script, states_out=seen).holds
            quiet = {k for k in seen if all(p[1] is None for p in k[1])}  # no op in flight
            # a fixed process's program counter is its chooser's: the engine and oracle
            # states with each process between ops are the same
            assert {(k[0], k[2]) for k in quiet} <= {(k[0], k[2]) for k in found}


def test_a_schedule_names_a_choice_and_replays_it():
    config = load_config_text(
        _raw(
            _chooser(max_ops=1, ops=["write"], volumes=["B"], offsets=[1], lengths=[1],
                     data=["51"]),
            setup=[{"op": "write", "volume": "A", "offset": 0, "data": "a0a1a2a3"},
                   {"op": "establish", "id": "r1", "source": "A", "target": "B",
                    "background_copy": False}],
        )
    )  # fmt: skip
    result = explore(config, "no_target_precopy")
    cex = result.counterexample
    assert cex is not None
    assert cex.schedule[0] == "p: write B 1 51"
    assert all(step == "p" for step in cex.schedule[1:])
    replay = replay_schedule(config, "no_target_precopy", cex.schedule)
    assert replay.violation is not None and replay.violation.property == cex.property


def load_config_text(raw):
    return parse_config(raw, "<test>")


def test_symmetry_merges_states_that_differ_only_in_which_data_value_was_written():
    setup = [{"op": "establish", "id": "r1", "source": "A", "target": "B"}]
    host = _chooser(max_ops=2, ops=["write", "read"], volumes=["A", "B"], offsets=[0, 1],
                    lengths=[1, 2], data=["51", "52"])  # fmt: skip
    config = parse_config(_raw(host, {"name": "c", "copier": "r1"}, setup=setup))
    full, merged = explore(config), explore(config, symmetry=True)
    assert full.holds and merged.holds
    assert merged.states < full.states * 0.7  # two values: most states come in pairs
    # sound: every mutant this configuration kills, it kills with symmetry too
    for mutant in ("skip_lock", "clear_before_copy", "copy_after_write"):
        assert (explore(config, mutant).counterexample is None) == (
            explore(config, mutant, symmetry=True).counterexample is None
        )


def test_oracles_that_differ_only_in_an_option_are_different_states():
    # the regression of h_admin_choices.toml: an incremental and a plain establish of r1 were
    # one oracle state, so a refresh's outcome was taken from the wrong one
    def refreshed(incremental):
        oracle = Oracle()
        for name in "AB":
            oracle.create(name, 1, 1)
        oracle.establish(Establish("r1", "A", "B", incremental=incremental))
        return oracle

    from flashsim.models.check.properties import oracle_fingerprint

    assert oracle_fingerprint(refreshed(True)) != oracle_fingerprint(refreshed(False))


choose_values = st.one_of(
    st.lists(st.sampled_from(["A", "B", "write", "read", "establish", "reverse", "r1", "41"]),
             max_size=4),
    st.lists(st.integers(-2, 20), max_size=4),
    st.lists(st.booleans(), max_size=3),
    st.integers(), st.text(max_size=4), st.lists(st.lists(st.integers(), max_size=2), max_size=2),
)  # fmt: skip
choose_keys = st.sampled_from(
    ["ops", "volumes", "offsets", "lengths", "data", "ids", "sources", "targets", "fast",
     "background_copy", "incremental", "target_capacity_tracks", "out_of_space", "groups", "x"]
)  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    choose=st.dictionaries(choose_keys, choose_values, max_size=8),
    max_ops=st.one_of(st.integers(-1, 10), st.text(max_size=2)),
)
def test_any_choose_table_is_a_configuration_or_an_error_naming_the_process(choose, max_ops):
    start = time.monotonic()
    try:
        outcome: object = parse_config(
            _raw({"name": "p", "max_ops": max_ops, "choose": choose}), "f.toml"
        )
    except CheckConfigError as error:
        outcome = error
    if isinstance(outcome, CheckConfigError):
        assert str(outcome).startswith("f.toml: processes[0]")
    else:
        assert 1 <= len(outcome.processes[0].choices) <= 256  # type: ignore[attr-defined]
    assert time.monotonic() - start < 5


def test_the_bundled_chooser_configurations_load():
    from flashsim.bundled import check_configs

    names = {p.stem for p in check_configs()}
    assert {"g_host_choices", "h_admin_choices", "i_space_choices", "j_group_choices"} <= names
    for path in check_configs():
        load_config(path)
