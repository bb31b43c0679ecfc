"""Locks are ranges of tracks: one per volume of the family, whatever the extent's length,
and they conflict exactly when a per-track lock table would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.models.ops import Establish
from flashsim.models.rules.inflight import PLAN
from flashsim.models.state.store import Shared, State
from flashsim.models.system import System


def test_a_background_copy_extent_holds_one_range_per_family_member() -> None:
    system = System()
    tracks = 1 << 16
    system.create("A", tracks, 512)
    system.create("B", tracks, 512)
    system.establish(Establish("r1", "A", "B"))
    extent = 8192  # 4 MiB of 512-byte tracks
    op = system.start_copy("r1", extent)
    system.step(op)  # LOCK
    assert op.phase == PLAN
    assert (op.first, op.end) == (0, extent)
    assert op.locks == (("A", 0, extent), ("B", 0, extent))
    assert system.locks == {"A": ((0, extent, op.id),), "B": ((0, extent, op.id),)}
    system.run(op)
    assert not system.locks and system.relationships["r1"].bitmap.count == tracks - extent


def test_ranges_overlap_at_shared_tracks_only() -> None:
    state = State()
    assert state.try_acquire(7, [("A", 2, 5), ("A", -1, 0)])  # tracks 2-4 and A's space pool
    assert state.holder(("A", 0, 2)) is None
    assert state.holder(("A", 4, 6)) == ("A", 2, 5)
    assert state.holder(("A", 5, 9)) is None
    assert state.holder(("B", 2, 5)) is None
    assert state.holder(("A", -1, 0)) == ("A", -1, 0)
    assert state.holder(("A", 0, 1)) is None  # the pool is below every track
    state.release([("A", 2, 5)])
    assert state.holder(("A", 3, 4)) is None and state.locks == {"A": ((-1, 0, 7),)}


RANGE = st.tuples(st.sampled_from("AB"), st.integers(0, 12), st.integers(1, 5)).map(
    lambda t: (t[0], t[1], t[1] + t[2])
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), RANGE), max_size=40))
def test_conflicts_are_those_of_a_per_track_table(moves) -> None:
    # a model with one entry per (volume, track): a range may be taken iff none of its tracks
    # is held; releasing the range frees exactly its tracks
    state = State()
    held: dict[tuple[str, int, int], int] = {}
    tracks: set[tuple[str, int]] = set()
    for op_id, (take, key) in enumerate(moves):
        volume, first, end = key
        mine = {(volume, t) for t in range(first, end)}
        free = not (mine & tracks)
        assert (state.holder(key) is None) == free
        if take and state.try_acquire(op_id, [key]):  # taken exactly when free
            assert free
            held[key] = op_id
            tracks |= mine
        elif take:
            assert not free
        elif not take and held:
            victim = sorted(held)[op_id % len(held)]
            state.release([victim])
            del held[victim]
            v, f, e = victim
            tracks -= {(v, t) for t in range(f, e)}
    assert {(v, f, e) for v, ranges in state.locks.items() for f, e, _ in ranges} == set(held)


def test_a_shared_lock_admits_other_sharers_and_no_exclusive_holder() -> None:
    state = State()
    pool = ("B", -1, 0)
    assert state.try_acquire(1, [Shared(*pool)])
    assert state.try_acquire(2, [Shared(*pool)])  # a second reader beside the first
    assert state.holder(Shared(*pool)) is None
    assert state.holder(pool) == pool  # a writer waits for both
    assert state.locks == {"B": ((-1, 0, -2),)}  # one entry, two holders
    state.release([Shared(*pool)])
    assert state.holder(pool) == pool  # one reader still holds it
    state.release([Shared(*pool)])
    assert state.holder(pool) is None and not state.locks
    assert state.try_acquire(3, [pool])  # held exclusively: no reader gets in
    assert state.holder(Shared(*pool)) == pool
    assert state.holder(Shared("B", 0, 1)) is None  # the pool is below every track


def test_a_read_of_a_space_efficient_target_holds_its_pool_shared_until_it_has_planned() -> None:
    system = System()
    for name in "AB":
        system.create(name, 2, 512)
    system.establish(Establish("r1", "A", "B", background_copy=False, target_capacity_tracks=1))
    first, second = system.start_read("B", 0, 512), system.start_read("B", 512, 512)
    system.step(first)  # LOCK
    system.step(second)  # LOCK: beside the first reader
    pool = ("B", -1, 0)
    assert Shared(*pool) in first.locks and Shared(*pool) in second.locks
    assert system.holder(pool) == pool  # a write that may allocate must wait
    system.step(first)  # PLAN: the failed flag is tested, the pool no longer needed
    assert first.phase != PLAN and Shared(*pool) not in first.locks
    system.step(second)
    assert system.holder(pool) is None
    assert system.locks == {
        "A": ((0, 1, first.id), (1, 2, second.id)),
        "B": ((0, 1, first.id), (1, 2, second.id)),
    }


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["take", "share", "drop"]), RANGE), max_size=40))
def test_shared_ranges_conflict_as_documented(moves) -> None:
    # the contract (Shared): holds of one range in shared mode coexist; any other overlap of
    # held tracks conflicts, whatever the modes
    state = State()
    held: list[tuple[tuple[str, int, int], bool]] = []  # (range, shared), one per holder
    for op_id, (move, key) in enumerate(moves):
        volume, first, end = key
        shared = move == "share"
        request = Shared(*key) if shared else key

        free = not any(
            v == volume
            and f < end
            and first < e
            and not (shared and other_shared and (f, e) == (first, end))
            for (v, f, e), other_shared in held
        )
        assert (state.holder(request) is None) == free
        if move != "drop" and state.try_acquire(op_id + 1, [request]):  # ids start at 1
            assert free
            held.append((key, shared))
        elif move != "drop":
            assert not free
        elif move == "drop" and held:
            victim, was_shared = held.pop(op_id % len(held))
            state.release([Shared(*victim) if was_shared else victim])
    counts: dict[tuple[str, int, int], int] = {}
    for key, _ in held:
        counts[key] = counts.get(key, 0) + 1
    assert {(v, f, e) for v, ranges in state.locks.items() for f, e, _ in ranges} == set(counts)
    for v, ranges in state.locks.items():
        for f, e, owner in ranges:
            assert owner > 0 or -owner == counts[(v, f, e)]


def test_an_operation_takes_all_of_its_locks_or_none() -> None:
    state = State()
    assert state.try_acquire(1, [("B", 3, 5)])
    # A's tracks are free but B's overlap the held range: nothing is taken
    assert not state.try_acquire(2, [("A", 3, 5), ("B", 4, 6)])
    assert state.locks == {"B": ((3, 5, 1),)}
    assert state.try_acquire(2, [("A", 3, 5), ("B", 5, 6)])
    assert state.locks == {"A": ((3, 5, 2),), "B": ((3, 5, 1), (5, 6, 2))}
