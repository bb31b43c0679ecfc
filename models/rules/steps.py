"""In-flight operations advanced one atomic step at a time: the one executor of the rules.

A host read or write, or the background copy of one extent of tracks, goes through the phases
LOCK -> PLAN -> ACT (one micro-action per step) -> UNLOCK -> DONE. LOCK takes the locks of
`Locking.lock_request`; PLAN tests the bits under those locks and fixes the micro-actions
(`Plans`); ACT performs them one by one. A whole-volume operation (establish, withdraw,
refresh, reverse) is one atomic step, enabled only while no track of the volumes it touches is
locked (`Locking.control_scope`).

`Rules.enabled(state, op)` says whether `op`'s next step can run now, `Rules.step(state, op)`
runs it and `Rules.run(state, op)` is the sequential executor. The op-log replayer, the
simulator and the model checker all drive these same steps.
"""

from __future__ import annotations

from flashsim.models.errors import FlashCopyError, RelationshipError
from flashsim.models.ops import SpaceReport
from flashsim.models.rules.actions import Action, ClearBits
from flashsim.models.rules.control import Control, unsupported
from flashsim.models.rules.inflight import (
    ACT,
    CONTROL,
    DONE,
    LOCK,
    PLAN,
    READ,
    UNLOCK,
    WRITE,
    InFlight,
)
from flashsim.models.state.relationship import SUSPENDED
from flashsim.models.state.store import State


class Rules(Control):
    """The DS8000 FlashCopy rules as steps. A variant (`flashsim.models.rules.profiles`), or a
    seeded bug of the checker (`flashsim.models.check`), is a subclass that replaces the
    methods it changes."""

    #: False where the profile has no background copy to ask for (redirect-on-write).
    offers_background_copy = True

    def space(self, state: State) -> SpaceReport:
        """Space accounting per volume (rule R4): only redirect-on-write offers it."""
        raise unsupported(state, "space")

    def enabled(self, state: State, op: InFlight) -> bool:
        """True if `op`'s next step can run now (LOCK waits for its locks to be free)."""
        if op.phase != LOCK:
            return op.phase != DONE
        if op.kind == CONTROL:
            scope = self.control_scope(state, op.control)
            return not any(v in state.locks for v in scope)
        try:
            request = self.lock_request(state, op)
        except FlashCopyError:
            return True  # the step will end the operation with the error
        if request is None:
            return True
        holder = state.holder
        return all(holder(key) is None for key in self.lock_batch(op, request[2]))

    def step(self, state: State, op: InFlight) -> None:
        """Run `op`'s next atomic step (the caller checked `enabled`)."""
        phase = op.phase
        if phase == ACT:
            self.perform(state, op, op.plan[op.pc])
            op.pc += 1
            if op.pc == len(op.plan) or op.error is not None:
                op.phase = UNLOCK
        elif phase == LOCK:
            if op.kind == CONTROL:
                try:  # the plan of a whole-volume operation: the rule-0 copies it made, at once
                    op.plan = tuple(self.perform_control(state, op.control))
                except FlashCopyError as error:
                    op.error = error
                op.phase = DONE
                return
            if not self.try_lock(state, op):
                raise AssertionError(f"operation {op.id}: LOCK is not enabled, its locks are held")
        elif phase == PLAN:
            self._plan_step(state, op)
        elif phase == UNLOCK:
            state.release(op.locks)
            op.locks = ()
            op.buffer = None
            op.phase = DONE
        else:
            raise AssertionError(f"operation {op.id} is done; it has no next step")

    def try_lock(self, state: State, op: InFlight) -> bool:
        """`op`'s LOCK step if it is enabled, else False: `enabled` then `step` with one lock
        request for both (a driver that steps as soon as it may, like the simulator, asks
        this instead of the two). An operation with no locks to take (or an invalid one, or
        a copy with nothing to copy) ends here, as its `step` would."""
        try:
            request = self.lock_request(state, op)
        except FlashCopyError as error:
            op.error = error
            op.phase = DONE
            return True
        if request is None:
            op.phase = DONE
            return True
        first, end, wanted = request
        part = self.lock_batch(op, wanted)
        if part:
            if not state.try_acquire(op.id, part):
                return False
            op.locks = op.locks + part if op.locks else part
        op.first, op.end = first, end
        if len(op.locks) == len(wanted):
            op.phase = PLAN
        return True

    def lock_and_plan(self, state: State, op: InFlight) -> bool:
        """`try_lock`, then the PLAN step at once if LOCK took every lock (nothing can run
        between the two in a driver that does not yield there: the simulator)."""
        if not self.try_lock(state, op):
            return False
        if op.phase == PLAN:
            self._plan_step(state, op)
        return True

    def _plan_step(self, state: State, op: InFlight) -> None:
        try:
            op.plan = self.plan(state, op)
        except FlashCopyError as error:
            op.error = error
            op.plan = ()
        done = self.released_at_plan(op)
        if done:
            state.release(done)
            op.locks = tuple(key for key in op.locks if key not in done)
        op.phase = ACT if op.plan else UNLOCK

    def plan(self, state: State, op: InFlight) -> tuple[Action, ...]:
        """The micro-actions of a read, write or copy, under its locks."""
        if op.kind == WRITE:
            assert op.data is not None
            return self.plan_write(state, op.volume, op.offset, op.data)
        if op.kind == READ:
            return self.plan_read(state, op.volume, op.offset, op.length)
        rel = state.relationships.get(op.relationship or "")
        if rel is None:
            return ()
        plan = self.plan_copy(state, rel, op.first, op.end)
        op.copied = sum(a.end - a.first for a in plan if isinstance(a, ClearBits))
        return plan

    def run(self, state: State, op: InFlight) -> InFlight:
        """The sequential executor: run `op` to completion, alone."""
        while op.phase != DONE:
            self.step(state, op)
        return op


#: The rules of the correct model.
DS8000_RULES = Rules()


def require_background_copy(state: State, rel_id: str, tracks: int) -> None:
    """Errors of an op-log `background_copy` request (rule 4), raised before any step."""
    rel = state.relationship(rel_id)
    if not rel.linked or rel.state == SUSPENDED:
        raise RelationshipError(f"mapping {rel_id} is {rel.state}: it copies nothing")
    if not rel.options.background_copy:
        raise RelationshipError(
            f"relationship {rel_id} is NOCOPY: it was established without background copy"
        )
    if tracks < 1:
        raise RelationshipError(f"background_copy of {rel_id}: tracks must be >= 1, got {tracks}")
