"""Track bitmaps: one bit per track, vectorised with `bitarray` (C), never a Python loop
over tracks for find-next-set, count or fill.

Chosen by measurement on 16 M tracks (1 TiB at 64 KiB; this machine, in one run): fill 36 us
(numpy bool array: 344 us), find-next-set across the map 138 us (numpy argmax: 391 us) and
0.23 us nearby (numpy: 2.5 us), 2 MiB of memory (numpy: 16 MiB). The population count is
kept incrementally so "is the copy complete?" is O(1) after every clear.
"""

from __future__ import annotations

from bitarray import bitarray


class Bitmap:
    """A fixed-size set of track numbers.

    >>> b = Bitmap(4, fill=True)
    >>> b.clear_range(1, 3); b.runs(0, 4)
    [(0, 1), (3, 4)]
    """

    # _low: no bit below it is set. A background copy clears from the bottom up and asks
    # for the lowest set bit every extent: without it, each search would rescan the cleared
    # prefix (quadratic in the volume's size).
    __slots__ = ("_bits", "_count", "_low")

    def __init__(self, tracks: int, fill: bool = False) -> None:
        self._bits = bitarray(tracks)
        self._bits.setall(fill)
        self._count = tracks if fill else 0
        self._low = 0

    @classmethod
    def _wrap(cls, bits: bitarray) -> Bitmap:
        b = cls.__new__(cls)
        b._bits = bits
        b._count = bits.count(1)
        b._low = 0
        return b

    def __len__(self) -> int:
        return len(self._bits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitmap) and self._bits == other._bits

    def __hash__(self) -> int:
        return hash(self._bits.tobytes())

    def __repr__(self) -> str:
        return (
            f"Bitmap({self._bits.to01()!r})" if len(self) <= 64 else f"Bitmap({len(self)} tracks)"
        )

    @property
    def count(self) -> int:
        """Number of set bits (O(1))."""
        return self._count

    def test(self, track: int) -> bool:
        return bool(self._bits[track])

    def count_range(self, start: int, stop: int) -> int:
        return self._bits.count(1, start, stop) if self._count else 0

    def any_in(self, start: int, stop: int) -> bool:
        return self._count > 0 and self._bits.find(1, start, stop) >= 0

    def set_range(self, start: int, stop: int) -> None:
        if start < stop:
            self._count += (stop - start) - self._bits.count(1, start, stop)
            self._bits[start:stop] = 1
            self._low = min(self._low, start)

    def clear_range(self, start: int, stop: int) -> None:
        if start < stop and self._count:
            self._count -= self._bits.count(1, start, stop)
            self._bits[start:stop] = 0

    def set_all(self) -> None:
        self._bits.setall(1)
        self._count = len(self._bits)
        self._low = 0

    def clear_all(self) -> None:
        self._bits.setall(0)
        self._count = 0

    def find_next(self, start: int = 0) -> int:
        """Lowest set track >= start, or -1."""
        if not self._count:
            return -1
        pos = self._bits.find(1, max(start, self._low))
        if start <= self._low:
            self._low = len(self._bits) if pos < 0 else pos
        return pos

    def runs(self, start: int, stop: int) -> list[tuple[int, int]]:
        """Maximal runs [a, b) of set tracks inside [start, stop), lowest first."""
        out: list[tuple[int, int]] = []
        if not self._count:
            return out
        bits = self._bits
        pos = bits.find(1, start, stop)
        while pos >= 0:
            end = bits.find(0, pos, stop)
            if end < 0:
                end = stop
            out.append((pos, end))
            pos = bits.find(1, end, stop)
        return out

    def lowest_runs(self, limit_tracks: int) -> list[tuple[int, int]]:
        """The runs that hold the `limit_tracks` lowest set tracks (the last one cut short)."""
        out: list[tuple[int, int]] = []
        left = limit_tracks
        pos = self.find_next(0)
        size = len(self._bits)
        while pos >= 0 and left > 0:
            stop = min(size, pos + left)  # search no further than the run may reach
            end = self._bits.find(0, pos, stop)
            end = stop if end < 0 else end
            out.append((pos, end))
            left -= end - pos
            pos = self._bits.find(1, end)
        return out

    def union(self, other: Bitmap) -> Bitmap:
        return Bitmap._wrap(self._bits | other._bits)

    def difference(self, other: Bitmap) -> Bitmap:
        return Bitmap._wrap(self._bits & ~other._bits)

    def copy(self) -> Bitmap:
        return Bitmap._wrap(self._bits.copy())

    def tracks(self) -> list[int]:
        """The set tracks as a list; for small bitmaps (tests, checker output)."""
        return list(self._bits.search(1))

    def fingerprint(self) -> str:
        """The bits as a string of 0s and 1s (not bytes: checker states rename data bytes)."""
        return self._bits.to01()
