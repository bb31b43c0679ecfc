"""Every seeded bug is killed by a reference configuration, with the exact counterexample
printed for some; the correct model passes all of them."""

from pathlib import Path

import pytest

from flashsim.models.check import MUTANTS, explore, load_config
from flashsim.models.check.hunt import format_table, hunt
from flashsim.models.check.schedule import format_counterexample

KILLERS = {
    # the same 1-step state as before; relationship_agreement comes before image_agreement in
    # STATE_CHECKS and sees it first
    "skip_lock": ("a_pair", "relationship_agreement", 1),
    "lock_written_volume_only": ("a_pair", "pit", 10),
    "clear_before_copy": ("a_pair", "bitmap_soundness", 4),
    "copy_after_write": ("a_pair", "bitmap_soundness", 7),
    "no_target_precopy": ("a_pair", "bitmap_soundness", 5),
    "refresh_ignores_target_changes": ("c_two_targets", "restore", 9),
    "cascade_read_one_level": ("b_cascade", "pit", 4),
    "copy_no_recheck": ("a_pair", "bitmap_soundness", 14),
    "withdraw_skips_rule0": ("b_cascade", "relationship_agreement", 1),  # likewise
    "withdraw_keeps_target_consistent": ("b_cascade", "consistency", 1),
    # the state after the write that overfills the target (the serial run failed it): 14 steps
    "space_limit_ignored": ("e_space_efficient", "relationship_agreement", 14),
    "lock_volume_by_volume": ("a_pair", "no_deadlock", 2),
    # the copier's first copy (lock, plan, 2 actions, unlock) leaves the bit the serial run
    # cleared: 5 steps, where outcome_agreement waited for a later operation (20)
    "copy_never_clears": ("a_pair", "relationship_agreement", 5),
    "group_waits_for_first_member": ("d_group", "freshness", 5),
    "reverse_ignores_source_changes": ("c_two_targets", "restore", 25),
    "failing_write_drops_data": ("e_space_efficient", "isolation", 11),
    # stop m2 (1 step); S's write copies to T3 and to m1's T1 (lock, plan, 7 actions, unlock:
    # 10): m1's grain is copied where the serial run's is not, seen at once (11), before the
    # stop of m1 that showed it to outcome_agreement (12)
    "svc_write_copies_every_target": ("l_svc_cascade", "relationship_agreement", 11),
    # the first step, stop m2, leaves T1 reading grain 0 through T3 (b0), not a0, and m1's
    # bit for it set where the cleaning cleared it: relationship_agreement is checked first
    "cleaning_skips_a_grain": ("l_svc_cascade", "relationship_agreement", 1),
    # snapshot s2 (1), O's write leaves a0 to s2 (7), the read of s2 (4), delete s2 (1)
    "snapshot_delete_frees_shared_blocks": ("m_row_snapshots", "image_agreement", 13),
    # prepare m1 again (1), start it (1): bit 0 is clear, so T's own a0 shows, not S's b0
    "restart_keeps_copied_grains": ("n_svc_restart", "bitmap_soundness", 2),
    # prepare m1 again (1), start it (1): bit 0, written on T, stays clear: T shows 70, not a0
    "incremental_restart_ignores_target_changes": ("o_svc_incremental", "bitmap_soundness", 2),
    # suspend m1 (1), then S's write, which the serial run rejects (S offline), runs: lock,
    # plan, its 4 actions (copy a0 to T, clear the bit, the data), unlock (7)
    "suspended_source_stays_online": ("n_svc_suspended", "outcome_agreement", 8),
    # host1 writes B (lock .. unlock: 5), host0's write to A locks (6), host1's read of B locks
    # and plans (8) before the write fails r1 (9), completes (10)
    "read_skips_space_pool": ("q_space_reads", "pit", 10),
    # establish (1), the copier copies track 0 (6) and locks track 1 (7), the write to B
    # locks, is refused at PLAN and unlocks (10, 11): the serial run has r1 ended by then
    "last_copy_skips_inhibit_lock": ("s_copy_options", "outcome_agreement", 11),
}


def test_there_are_at_least_eight_mutants_and_each_has_a_killer():
    assert len(MUTANTS) >= 8
    assert sorted(KILLERS) == sorted(MUTANTS)


def test_each_configuration_lists_the_mutants_it_kills(reference):
    listed = {m: name for name, config in reference.items() for m in config.mutants}
    assert listed == {m: killer[0] for m, killer in KILLERS.items()}


@pytest.mark.parametrize("mutant", sorted(KILLERS))
def test_the_mutant_is_killed_by_its_reference_configuration(reference, mutant):
    name, prop, steps = KILLERS[mutant]
    result = explore(reference[name], mutant)
    assert result.counterexample is not None
    assert (result.counterexample.property, len(result.counterexample.events)) == (prop, steps)
    assert len(result.counterexample.schedule) == steps


def test_a_cascade_read_from_the_wrong_volume_is_printed_as_this_counterexample(reference):
    result = explore(reference["b_cascade"], "cascade_read_one_level")
    assert result.summary() == "violation of pit after 4 steps (searched 27 states)"
    assert format_counterexample(result.counterexample) == (
        "counterexample (4 steps): pit: read C[0:4] returned 00000000, expected a0a1a2a3\n"
        "step  process   operation    phase    detail\n"
        "   1  reader_c  read C[0:4]  lock     lock A,B,C t0-1\n"
        "   2  reader_c  read C[0:4]  plan     1 actions\n"
        "   3  reader_c  read C[0:4]  act      read B[0:4] = 00000000\n"
        "   4  reader_c  read C[0:4]  unlock   -> 00000000"
    )


def test_a_copy_that_does_not_recheck_its_bit_is_printed_as_this_counterexample(reference):
    result = explore(reference["a_pair"], "copy_no_recheck")
    assert format_counterexample(result.counterexample).splitlines() == [
        "counterexample (14 steps): bitmap_soundness: relationship r1: bit 0 is clear but B "
        "holds a051 on track 0, its image is a0a1",
        "step  process     operation        phase    detail",
        "   1  src_writer  write A[1:2]=51  lock     lock A,B t0",
        "   2  src_writer  write A[1:2]=51  plan     4 actions",
        "   3  src_writer  write A[1:2]=51  act      read A t0 = a0a1 (copy_before_write)",
        "   4  src_writer  write A[1:2]=51  act      write B t0 = a0a1 (copy_before_write)",
        "   5  copier      copy r1          lock     choose t0",
        "   6  src_writer  write A[1:2]=51  act      clear r1 t0",
        "   7  src_writer  write A[1:2]=51  act      apply A[1:2] = 51",
        "   8  src_writer  write A[1:2]=51  unlock",
        "   9  copier      copy r1          lock     lock A,B t0",
        "  10  copier      copy r1          plan     3 actions",
        "  11  copier      copy r1          act      read A t0 = a051 (background)",
        "  12  copier      copy r1          act      write B t0 = a051 (background)",
        "  13  copier      copy r1          act      clear r1 t0",
        "  14  copier      copy r1          unlock",
    ]


def test_locks_taken_a_volume_at_a_time_deadlock_two_writers(reference):
    result = explore(reference["a_pair"], "lock_volume_by_volume")
    assert format_counterexample(result.counterexample).splitlines() == [
        "counterexample (2 steps): no_deadlock: no process can take a step, yet not every "
        "process is done",
        "step  process     operation        phase    detail",
        "   1  src_writer  write A[1:2]=51  lock     lock A t0, waits for more",
        "   2  tgt_writer  write B[0:1]=61  lock     lock B t0, waits for more",
    ]


def test_the_hunt_over_all_reference_configurations_kills_every_mutant(reference):
    configs = [reference[name] for name in sorted(reference)]
    correct, rows = hunt(configs)
    assert [r.holds for r in correct] == [True] * len(configs)
    assert [
        (r.mutant, r.killed, r.config.rsplit("/", 1)[-1], r.property, r.steps) for r in rows
    ] == [(m, True, f"{KILLERS[m][0]}.toml", KILLERS[m][1], KILLERS[m][2]) for m in MUTANTS]
    table = format_table(rows)
    assert table[0].split() == ["mutant", "killed", "by", "property", "steps", "states", "time_s"]
    assert table[1].split()[:6] == [
        "skip_lock",
        "killed",
        "a_pair.toml",
        "relationship_agreement",
        "1",
        "1",
    ]


def test_group_consistency_names_the_member_a_group_establish_did_not_wait_for():
    # without d's backup reader, what the targets show is seen by the state property alone
    config = load_config(Path(__file__).parent / "data" / "group_no_reader.toml")
    assert explore(config).holds
    cex = explore(config, "group_waits_for_first_member").counterexample
    assert (cex.property, cex.message) == (
        "group_consistency",
        "group g1,g2: member g2 (B->B2) shows another instant: B2 track 1 reads as b1, the "
        "group's instant gives 52",
    )
    # the write to B was ordered before the group (it locked first), its copy-before-write
    # planned after the group was established
    assert [(e.process, e.phase) for e in cex.events[4:7]] == [
        ("app", "lock"),
        ("admin", "control"),
        ("app", "plan"),
    ]


def test_a_mutant_swapped_in_after_the_setup_locks_by_its_own_rules() -> None:
    # the setup runs correct and the correct rules derive the lock shapes; the seeded bug
    # that takes over must not inherit them (`System.use_rules` forgets them)
    from flashsim.models.check.mutants import rules_of
    from flashsim.models.ops import Establish
    from flashsim.models.rules.inflight import WRITE
    from flashsim.models.system import System

    system = System()
    system.create("A", 2, 1)
    system.create("B", 2, 1)
    system.establish(Establish("r1", "A", "B", background_copy=False))
    system.write("A", 0, b"x")  # derives the write shape of A: its family, A and B
    assert system.rules.lock_keys(system, WRITE, "A", 0, 1) == (("A", 0, 1), ("B", 0, 1))
    system.use_rules(rules_of("lock_written_volume_only"))
    assert system.rules.lock_keys(system, WRITE, "A", 0, 1) == (("A", 0, 1),)
