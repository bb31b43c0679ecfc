"""Concurrent operations advanced step by step in any order are linearisable: every read and
the final state equal a serial run of the naive oracle in the order the operations took their
locks (each holds its locks from LOCK to UNLOCK, so that order is the serialisation order).
This is what the per-track locks of `flashsim.models.rules.steps` must guarantee."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.models import System
from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Establish, Withdraw
from flashsim.models.oracle import Oracle
from flashsim.models.rules.inflight import CONTROL, COPY, DONE, LOCK, READ, WRITE

TRACKS, TRACK_SIZE = 4, 2
SIZE = TRACKS * TRACK_SIZE
SETUPS = {
    "pair": [Establish("r1", "A", "B")],
    "nocopy pair": [Establish("r1", "A", "B", background_copy=False)],
    "cascade": [Establish("r1", "A", "B"), Establish("r2", "B", "C")],
    "two targets": [Establish("r1", "A", "B"), Establish("r2", "A", "C", incremental=True)],
}


def io_ops():
    offsets = st.integers(0, SIZE - 1)
    write = st.tuples(st.just(WRITE), st.sampled_from("ABC"), offsets, st.integers(1, 3))
    read = st.tuples(st.just(READ), st.sampled_from("ABC"), offsets, st.integers(1, 3))
    copy = st.tuples(st.just(COPY), st.sampled_from(("r1", "r2")), st.just(0), st.integers(1, 2))
    control = st.tuples(
        st.just(CONTROL),
        st.sampled_from(("withdraw r1", "withdraw r2", "establish r3 C->D")),
        st.just(0),
        st.just(0),
    )
    return st.one_of(write, write, read, read, copy, control)


def start(system, spec, stamp):
    kind, name, offset, length = spec
    length = min(length, SIZE - offset) if kind in (WRITE, READ) else length
    if kind == WRITE:
        return system.start_write(name, offset, bytes([stamp]) * length)
    if kind == READ:
        return system.start_read(name, offset, length)
    if kind == COPY:
        return system.start_copy(name, length)
    words = name.split()
    op = Withdraw(words[1]) if words[0] == "withdraw" else Establish("r3", "C", "D")
    return system.start_control(op)


def serial(oracle, op):
    """The same operation on the oracle, all at once; its read data or None."""
    try:
        if op.kind == WRITE:
            oracle.write(op.volume, op.offset, op.data)
        elif op.kind == READ:
            return oracle.read(op.volume, op.offset, op.length)
        elif op.kind == COPY:  # one extent: the lowest run of set bits, as many as it copied
            if op.copied:
                oracle.background_copy(op.relationship, op.copied)
        elif op.control.__class__ is Withdraw:
            oracle.withdraw(op.control.id)
        else:
            oracle.establish(op.control)
    except FlashCopyError:
        return None
    return None


@settings(max_examples=600)
@given(
    setup=st.sampled_from(sorted(SETUPS)),
    specs=st.lists(io_ops(), min_size=1, max_size=5),
    choices=st.lists(st.integers(0, 10**6), min_size=200, max_size=200),
)
def test_any_interleaving_equals_the_serial_run_in_lock_order(setup, specs, choices):
    system, oracle = System(), Oracle()
    for impl in (system, oracle):
        for name in "ABCD":
            impl.create(name, TRACKS, TRACK_SIZE)
        impl.write("A", 0, bytes(range(1, SIZE + 1)))
        for spec in SETUPS[setup]:
            impl.establish(spec)
    ops = [start(system, spec, 100 + i) for i, spec in enumerate(specs)]
    order = []
    choice = iter(choices)
    while any(op.phase != DONE for op in ops):
        ready = [op for op in ops if op.phase != DONE and system.enabled(op)]
        assert ready, "deadlock: no operation can take a step"
        op = ready[next(choice, 0) % len(ready)]
        if op.phase == LOCK:
            order.append(op)
        system.step(op)
    for op in order:
        expected = serial(oracle, op)
        if op.kind == READ and op.error is None:
            assert op.result == expected, f"read of {op.volume}@{op.offset}"
    for name in "ABCD":
        assert system.read(name, 0, SIZE) == oracle.read(name, 0, SIZE), f"image of {name}"
    assert sorted(system.relationships) == oracle.relationship_ids()
    assert not system.locks
