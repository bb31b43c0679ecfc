"""Seeded bugs: variants of the same step and plan code, switched on by `System.mutant`.

Each hook is a line or two in `flashsim.models.steps`, `flashsim.models.plans`,
`flashsim.models.control` or
`flashsim.models.system`, commented `mutant`; the correct model is `mutant = None`. A checker that
cannot kill every one of them on the reference configurations is not checking anything.
"""

from __future__ import annotations

#: name -> the bug it seeds (where the hook lives).
MUTANTS: dict[str, str] = {
    "skip_lock": "LOCK takes no locks at all (steps.wanted_locks)",
    "lock_written_volume_only": (
        "an operation locks its own volume's tracks, not its family's (steps.wanted_locks)"
    ),
    "clear_before_copy": (
        "background copy clears the bit and unlocks before the copied data lands "
        "(plans.plan_copy, steps.step)"
    ),
    "copy_after_write": (
        "a host write applies its data before copy-before-write reads the old track "
        "(plans.plan_write)"
    ),
    "no_target_precopy": (
        "a partial target write clears the bit without pulling the rest of the track "
        "(plans.plan_write)"
    ),
    "refresh_ignores_target_changes": (
        "refresh recopies the tracks changed on the source only (control.refresh)"
    ),
    "cascade_read_one_level": (
        "a read through a cascade resolves one level up only: the wrong volume (System.resolve)"
    ),
    "copy_no_recheck": (
        "background copy chooses its track before locking and does not recheck the bit "
        "under the lock: it overwrites a newer target write (steps, plans.plan_copy)"
    ),
    "withdraw_skips_rule0": (
        "withdraw does not first copy to the target's own targets (control.withdraw)"
    ),
    "space_limit_ignored": (
        "a space-efficient target's capacity is never checked (plans.plan_write, plan_receive)"
    ),
    "lock_volume_by_volume": (
        "LOCK takes one volume's locks per step, its own volume first: two writers in one "
        "family deadlock (steps.wanted_locks, enabled, step)"
    ),
    "copy_never_clears": (
        "background copy copies but never clears the bit: the copy never completes "
        "(plans.plan_copy)"
    ),
    "group_waits_for_first_member": (
        "establish_group waits for in-flight I/O on its first member only: a write already "
        "ordered before the group copies its old data to the other member's target "
        "(System.control_scope)"
    ),
    "reverse_ignores_source_changes": (
        "reverse restores only the tracks changed on the target since the last instant: the "
        "source keeps its newer writes (control.reverse)"
    ),
    "failing_write_drops_data": (
        "a source write that fails a full space-efficient relationship is acknowledged but "
        "never lands on the source (plans.plan_write)"
    ),
}
