"""Packed states: a world's ident (engine id, oracle id, each process record's id; see
`flashsim.models.check.memo`) as one int.

`pack` and `unpack` keep every id in a 32-bit field (the partitioned search's states).
`Layout` is the unreduced search's (`bfs`): the engine and oracle ids in 32 bits each, then
each process's *slot* in `slot_bits` bits. Process i's slot is r * P + i (its record id r,
P processes): unique across the processes, so that it alone keys a process's outcomes in a
search table. The slots of `per_key` neighbouring processes share one 64-bit word, and the
word (a *key*) keys their outcomes together: one look-up per word, not per process. A slot
too large for its field raises `Outgrown` (the search then runs again with wider fields).
"""

from __future__ import annotations

import struct

#: Bits per field of `pack`: ids below 2**32 (a search of 4 G states is far off).
FIELD_BITS = 32
MASK = (1 << FIELD_BITS) - 1
LOW = (1 << (2 * FIELD_BITS)) - 1  # the engine and oracle fields

#: struct codes by size in bits: the last, partly filled word's
_CODES = ((8, "B"), (16, "H"), (32, "I"), (64, "Q"))


def pack(ident: tuple[int, ...]) -> int:
    """A world's ident as one int (field i at bits 32i..32i+31)."""
    value = 0
    for i, part in enumerate(ident):
        assert 0 <= part <= MASK, f"an id outgrew {FIELD_BITS} bits"
        value |= part << (FIELD_BITS * i)
    return value


def unpack(value: int, fields: int) -> tuple[int, ...]:
    return tuple((value >> (FIELD_BITS * i)) & MASK for i in range(fields))


class Outgrown(Exception):
    """A process's slot outgrew its field in a `Layout`."""


class Layout:
    """The unreduced search's packed state for `count` processes, slots of `slot_bits`
    (8, 16 or 32) bits (see the module)."""

    __slots__ = ("count", "keys_of", "per_key", "shifts", "slot_bits", "slot_mask", "width")

    def __init__(self, count: int, slot_bits: int) -> None:
        assert slot_bits in (8, 16, 32)
        self.count, self.slot_bits = count, slot_bits
        self.slot_mask = (1 << slot_bits) - 1
        self.per_key = 64 // slot_bits
        full, rest = divmod(count, self.per_key)
        code = "Q" * full
        if rest:
            code += next(c for bits, c in _CODES if bits >= rest * slot_bits)
        words = struct.Struct(f"<II{code}")
        self.width = words.size
        #: a packed state's bytes (`width`, little-endian) -> (engine, oracle, *its keys)
        self.keys_of = words.unpack
        self.shifts = tuple(2 * FIELD_BITS + slot_bits * i for i in range(count))

    def slot(self, pi: int, record: int) -> int:
        """Process `pi`'s slot for its record id `record`."""
        slot = record * self.count + pi
        if slot > self.slot_mask:
            raise Outgrown(f"a slot outgrew {self.slot_bits} bits")
        return slot

    def pack(self, ident: tuple[int, ...]) -> int:
        value = ident[0] | ident[1] << FIELD_BITS
        for pi, record in enumerate(ident[2:]):
            value |= self.slot(pi, record) << self.shifts[pi]
        return value

    def ident(self, value: int) -> tuple[int, ...]:
        """`pack`'s inverse."""
        mask, count = self.slot_mask, self.count
        records = [((value >> shift) & mask) // count for shift in self.shifts]
        return (value & MASK, (value >> FIELD_BITS) & MASK, *records)

    def slots(self, key: int) -> list[int]:
        """The slots a key holds (`keys_of`), in process order."""
        mask, bits = self.slot_mask, self.slot_bits
        first = key & mask
        held = min(self.per_key, self.count - first % self.count)
        return [(key >> (bits * j)) & mask for j in range(held)]
