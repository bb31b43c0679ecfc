"""Symmetry on interchangeable volumes: the group found from a configuration, a canonical
form invariant under it, the orbit count of the full search, and verdicts equal to the
unreduced search on every bundled configuration and mutant."""

from pathlib import Path

import pytest

from flashsim.main import main
from flashsim.models.check import explore
from flashsim.models.check.mutants import MUTANTS, design_of
from flashsim.models.check.schedule import replay_schedule
from flashsim.models.check.symmetry import data_canonical, orbit_key, renamed_key
from flashsim.models.check.volume_symmetry import volume_group

REFERENCE = Path(__file__).resolve().parents[2] / "scenarios" / "check"


def test_two_unrelated_twin_pairs_give_one_swap_of_names_and_processes(reference):
    config = reference["w_twin_pairs"]
    group, note = volume_group(config, None, False, data_canonical)
    assert note is None and len(group) == 2 and group[0].identity
    swap = group[1]
    # A -> B and C -> D trade places with their ids; writer, reader and copier of each pair
    # trade places with the other pair's (processes: writer_a, writer_c, reader_b,
    # reader_d, copier_1, copier_2)
    assert swap.names == {"A": "C", "C": "A", "B": "D", "D": "B", "r1": "r2", "r2": "r1"}
    assert swap.procs == (1, 0, 3, 2, 5, 4)


@pytest.mark.parametrize("name", ["a_pair", "c_two_targets", "h_admin_choices", "u_row_choices"])
def test_a_configuration_without_interchangeable_parts_gets_only_the_identity(reference, name):
    # (a): one pair; (c): B copied, C incremental NOCOPY; (h): D of another size and the
    # processes name volumes apart; (u): O and the snapshots play different parts
    for data in (False, True):
        group, _ = volume_group(reference[name], None, data, data_canonical)
        assert len(group) == 1 and group[0].identity


def test_the_host_processes_of_f_trade_places_only_with_their_data_values(reference):
    config = reference["f_symmetric_writers"]
    assert len(volume_group(config, None, False, data_canonical)[0]) == 1  # 11, 12 vs 21, 22
    group, _ = volume_group(config, None, True, data_canonical)
    assert len(group) == 2 and not group[1].names and group[1].procs == (1, 0, 2)


@pytest.mark.parametrize(
    ("name", "mode"), [("w_twin_pairs", "volumes"), ("f_symmetric_writers", "both")]
)
def test_the_canonical_form_is_invariant_and_the_search_keeps_one_state_per_orbit(
    reference, name, mode
):
    config = reference[name]
    data = mode == "both"
    group, _ = volume_group(config, None, data, data_canonical)
    full, reduced = set(), set()
    explore(config, progress=False, states_out=full)
    result = explore(config, progress=False, symmetry=mode, states_out=reduced)
    for key in full:
        canon = orbit_key(key, group, data)
        for perm in group:  # every allowed renaming of the state has the same canonical form
            assert orbit_key(renamed_key(key, perm), group, data) == canon
    orbits = {orbit_key(key, group, data) for key in full}
    assert result.holds and result.exhaustive
    assert result.states == len(orbits) == len({orbit_key(k, group, data) for k in reduced})
    assert len(orbits) < len(full)


def test_the_twin_pairs_halve_but_for_the_states_that_are_their_own_mirror(reference):
    config = reference["w_twin_pairs"]
    group, _ = volume_group(config, None, False, data_canonical)
    full = set()
    explore(config, progress=False, states_out=full)
    fixed = sum(renamed_key(key, group[1]) == renamed_key(key, group[0]) for key in full)
    reduced = explore(config, progress=False, symmetry="volumes")
    assert reduced.states == (len(full) + fixed) // 2  # Burnside, a group of two
    assert explore(config, progress=False, symmetry="both").states <= reduced.states


def _mutants(config):
    return (None, *(m for m in MUTANTS if design_of(m) == config.profile.design))


def _has_symmetry(config, mutant) -> bool:
    return any(
        len(volume_group(config, mutant, data, data_canonical)[0]) > 1 for data in (False, True)
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in REFERENCE.glob("*.toml")))
def test_volume_symmetry_gives_the_unreduced_verdicts_on_every_mutant(reference, name):
    config = reference[name]
    symmetric = [m for m in _mutants(config) if _has_symmetry(config, m)]
    if not symmetric:
        # only the identity, for the correct model and every mutant: the reduced search is
        # the unreduced one (with "both", the data symmetry alone, tested on its own)
        full = explore(config, progress=False)
        reduced = explore(config, progress=False, symmetry="volumes")
        assert (reduced.states, reduced.edges, reduced.holds) == (
            full.states,
            full.edges,
            full.holds,
        )
        return
    for mutant in symmetric:
        full = explore(config, mutant, progress=False)
        for mode in ("volumes", "both"):
            reduced = explore(config, mutant, progress=False, symmetry=mode)
            assert reduced.states <= full.states, (mutant, mode)
            if full.counterexample is None:
                assert reduced.counterexample is None and reduced.holds == full.holds, (
                    mutant,
                    mode,
                )
                continue
            cex = reduced.counterexample
            assert cex is not None, (mutant, mode)
            # the counterexample replays on the unreduced model: the same violation
            # (a reduced search meets the violating states in another order, so it may name
            # another violation first: replayed in full, its schedule violates that one)
            replay = replay_schedule(config, mutant, cex.schedule)
            assert replay.violation is not None and replay.violation[0] == cex.property


def test_the_symmetry_flag_takes_a_mode_and_refuses_others(capsys):
    w = str(REFERENCE / "w_twin_pairs.toml")
    assert main(["check", w, "--symmetry", "volumes"]) == 0
    assert "exhaustive with volume symmetry reduction" in capsys.readouterr().out
    assert main(["check", w, "--symmetry", "sideways"]) == 2
    assert "--symmetry: expected data, volumes, both" in capsys.readouterr().err


def test_a_mutant_with_its_own_lock_batches_gets_only_the_identity(reference):
    # lock_volume_by_volume takes a family's locks in the order of their names: renaming
    # the names would change which it takes first, so the twin pairs' swap is not offered
    group, note = volume_group(
        reference["w_twin_pairs"], "lock_volume_by_volume", False, data_canonical
    )
    assert len(group) == 1 and group[0].identity
    assert note is not None and "lock" in note
    result = explore(reference["w_twin_pairs"], "lock_volume_by_volume", symmetry="volumes")
    assert note in result.notes


def test_a_counterexample_of_the_reduced_search_replays_from_its_schedule_file(tmp_path, capsys):
    w, schedule = str(REFERENCE / "w_twin_pairs.toml"), tmp_path / "cex.json"
    args = ["check", w, "--mutant", "copy_after_write", "--symmetry", "both"]
    assert main([*args, "--schedule", str(schedule)]) == 1
    prop = capsys.readouterr().out.split("violation of ")[1].split()[0]
    assert main(["check", "--replay", str(schedule)]) == 1
    assert f"violation of {prop}:" in capsys.readouterr().out
