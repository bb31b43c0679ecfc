"""The comparison, the random logs and the shrinking (`flashsim.conform.runner`,
`generate`), with another flashsim System as the other side: the correct rules agree with
themselves on every generated log, a seeded bug is found at its first wrong read and shrunk to
a log that shows it in a few lines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from flashsim.conform.generate import generate
from flashsim.conform.mapping import refusal
from flashsim.conform.runner import ModelSide, Refused, compare, reproducer, shrink
from flashsim.models.check.mutants import rules_of
from flashsim.models.errors import OpLogError
from flashsim.models.oplog import parse_lines
from flashsim.models.ops import Read
from flashsim.models.system import System


@contextlib.contextmanager
def mutant_side(name: str | None) -> Iterator[ModelSide]:
    system = System(rules=rules_of(name))
    try:
        yield ModelSide(system)
    finally:
        system.close()


def test_generated_logs_are_deterministic_and_of_the_supported_subset() -> None:
    assert generate(7, 3) == generate(7, 3)
    assert generate(7, 3) != generate(7, 4) != generate(8, 3)
    for index in range(10):
        lines = generate(5, index, ops=25)
        system = System()
        kinds = set()
        for _line, op in parse_lines(lines):
            assert not isinstance(op, OpLogError)
            assert refusal(system, op, "raw") is None
            kinds.add(type(op).__name__)
            from flashsim.models.ops import apply

            apply(system, op)  # raises if flashsim rejects it: the generator keeps none such
        assert {"Create", "Write", "Read"} <= kinds
        system.close()


def test_the_campaign_draws_every_supported_op() -> None:
    kinds = set()
    for index in range(20):
        kinds |= {type(op).__name__ for _, op in parse_lines(generate(1, index))}
    assert kinds == {"Create", "Write", "Read", "Establish", "BackgroundCopy", "Withdraw"}


def test_the_correct_rules_agree_with_themselves() -> None:
    for index in range(15):
        with mutant_side(None) as side:
            outcome = compare(generate(2, index), side)
        assert outcome.difference is None
        assert outcome.reads > 0


LOG = [
    '{"op": "create", "volume": "a", "tracks": 2, "track_size": 65536}',
    '{"op": "create", "volume": "b", "tracks": 2, "track_size": 65536}',
    '{"op": "write", "volume": "a", "offset": 0, "fill": 1, "length": 131072}',
    '{"op": "read", "volume": "a", "offset": 0, "length": 4}',
    '{"op": "establish", "id": "r", "source": "a", "target": "b", "background_copy": false}',
    '{"op": "read", "volume": "b", "offset": 70000, "length": 4}',
    '{"op": "write", "volume": "a", "offset": 65536, "data": "ff"}',
    '{"op": "read", "volume": "a", "offset": 65536, "length": 2}',
    '{"op": "read", "volume": "b", "offset": 65536, "length": 2}',
    '{"op": "read", "volume": "b", "offset": 0, "length": 2}',
]


def test_a_seeded_bug_is_found_at_its_first_wrong_read() -> None:
    # copy_after_write: the new data lands before copy-before-write reads the old track, so
    # the target's first read after the write shows the new byte
    with mutant_side("copy_after_write") as side:
        outcome = compare(LOG, side)
    difference = outcome.difference
    assert difference is not None
    assert (difference.line, difference.op) == (9, Read("b", 65536, 2))
    assert (difference.expected, difference.got) == (b"\x01\x01", b"\xff\x01")
    assert difference.first_byte() == 0
    assert difference.target_of == "r"
    assert outcome.reads == 4


def test_the_reproducer_is_short_and_still_shows_the_bug() -> None:
    with mutant_side("copy_after_write") as side:
        difference = compare(LOG, side).difference
    assert difference is not None
    short = reproducer(LOG, difference, lambda: mutant_side("copy_after_write"), "raw")
    # a volume pair, the relationship, the write and the target read: nothing can go
    assert short == [LOG[0], LOG[1], LOG[4], LOG[6], LOG[8]]
    with mutant_side(None) as side:
        assert compare(short, side).difference is None


def test_shrinking_gives_a_one_minimal_sublist() -> None:
    # fails while 3 and 7 are both there, in order
    calls = []

    def fails(candidate: list[str]) -> bool:
        calls.append(candidate)
        return "3" in candidate and "7" in candidate

    assert shrink([str(i) for i in range(12)], fails) == ["3", "7"]
    assert shrink(["x", "", "  "], lambda c: "x" in c) == ["x"]


def test_a_malformed_line_raises_with_its_number_and_an_unmappable_one_is_refused() -> None:
    with mutant_side(None) as side, pytest.raises(OpLogError) as caught:
        compare([LOG[0], '{"op": "read"}'], side)
    assert caught.value.line == 2
    refresh = '{"op": "establish", "id": "i", "source": "a", "target": "b", "incremental": true}'
    with mutant_side(None) as side, pytest.raises(Refused) as refused:
        compare([LOG[0], LOG[1], refresh], side)
    assert refused.value.line == 3
