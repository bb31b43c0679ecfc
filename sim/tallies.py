"""What the run's figures are computed from, aggregated as the run goes so that memory does
not grow with simulated time: per workload, a `Tally` of the I/Os issued in each segment of
the run (`Segments`), and a `Tally` of the I/Os completed in each open window (`Windows`),
reduced to its `windows.csv` row as the window closes.

Segments are cut at every instant the recorder notes (a timeline event, an establish, a copy
completion, a failure, a freeze or thaw), so every phase and copy window the summary reports
is a union of whole segments and its figures are exact sums (latency percentiles from the
merged histograms, `flashsim.sim.histogram`).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right

from flashsim.sim.histogram import Histogram


class Tally:
    """Host I/Os of one workload in one piece of the run: successful I/Os as latency
    histograms by direction (with their bytes), failed ones counted apart."""

    __slots__ = ("bytes", "errors", "read", "write")

    def __init__(self) -> None:
        self.bytes = 0
        self.errors = 0
        self.read = Histogram()
        self.write = Histogram()

    def add(self, is_read: bool, latency: float, key: int, length: int) -> None:
        """A successful I/O (`key` is `bucket(latency)`)."""
        (self.read if is_read else self.write).add(latency, key)
        self.bytes += length

    def merge(self, other: Tally) -> None:
        self.bytes += other.bytes
        self.errors += other.errors
        self.read.merge(other.read)
        self.write.merge(other.write)

    @classmethod
    def of(cls, parts: list[Tally]) -> Tally:
        out = cls()
        for part in parts:
            out.merge(part)
        return out

    @property
    def ios(self) -> int:
        return self.read.n + self.write.n

    def latency(self) -> Histogram:
        """Both directions together."""
        return Histogram.of((self.read, self.write))


def _tallies(n: int) -> list[Tally]:
    return [Tally() for _ in range(n)]


class Segments:
    """Per workload, the tallies of the I/Os issued in each segment [cut_i, cut_i+1), and
    each workload's first issue and last completion (over failed I/Os too)."""

    def __init__(self, workloads: int, end_s: float) -> None:
        self.workloads = workloads
        self.end_s = end_s
        self.starts: list[float] = [0.0]
        self.parts: list[list[Tally]] = [_tallies(workloads)]
        self.first_issue = [math.inf] * workloads
        self.last_done = [-math.inf] * workloads
        # I/Os answered in the instant they were issued: a cut at that same instant may still
        # be noted after them (it would own them), so they are placed once time moves on.
        self._pending: list[tuple[int, bool, float, float, int, int | None]] = []
        self._pending_at = -math.inf

    def cut(self, at_s: float) -> None:
        """A new segment from `at_s` (the current instant: cuts come in time order)."""
        if self._pending and at_s > self._pending_at:
            self._flush()
        if at_s < self.starts[-1]:
            raise AssertionError(f"cut at {at_s} s after one at {self.starts[-1]} s")
        if at_s > self.starts[-1]:
            self.starts.append(at_s)
            self.parts.append(_tallies(self.workloads))

    def add(  # noqa: PLR0917 - once per host I/O: positional is cheapest
        self, index: int, is_read: bool, issue: float, latency: float, length: int, key: int | None
    ) -> None:
        """A completed host I/O of workload `index`; `key` is its latency's bucket, None if it
        failed."""
        done = issue + latency
        if self._pending and done > self._pending_at:
            self._flush()
        self.first_issue[index] = min(self.first_issue[index], issue)
        self.last_done[index] = max(self.last_done[index], done)
        if latency <= 0.0 and issue >= self.starts[-1]:
            self._pending.append((index, is_read, issue, latency, length, key))
            self._pending_at = issue
            return
        self._place(index, is_read, issue, latency, length, key)

    def _place(  # noqa: PLR0917
        self, index: int, is_read: bool, issue: float, latency: float, length: int, key: int | None
    ) -> None:
        starts = self.starts
        # mostly issued in the last segment: no search
        part = (
            self.parts[-1] if issue >= starts[-1] else self.parts[bisect_right(starts, issue) - 1]
        )
        tally = part[index]
        if key is None:
            tally.errors += 1
        else:
            tally.add(is_read, latency, key, length)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for item in pending:
            self._place(*item)

    def finish(self) -> None:
        """At the end of the run: place what is still pending."""
        self._flush()
        self._pending_at = math.inf

    def span(self, index: int) -> tuple[float, float] | None:
        """First issue to last completion of workload `index` (None if it did no I/O)."""
        if self.first_issue[index] == math.inf:
            return None
        return self.first_issue[index], self.last_done[index]

    def between(self, index: int, t0: float, t1: float) -> Tally:
        """The I/Os of workload `index` issued in [t0, t1). `t0` must be a cut (or 0) and
        `t1` a cut or at least the end of the run: a phase is a union of whole segments."""
        starts = self.starts
        if t0 >= min(t1, self.end_s):
            return Tally()
        lo = bisect_right(starts, t0) - 1
        if starts[lo] != t0:
            raise AssertionError(f"{t0} s is not a segment boundary")
        if t1 >= self.end_s:
            hi = len(starts)
        else:
            hi = bisect_right(starts, t1) - 1
            if starts[hi] != t1:
                raise AssertionError(f"{t1} s is not a segment boundary")
        return Tally.of([part[index] for part in self.parts[lo:hi]])

    def whole(self, index: int) -> Tally:
        """Every I/O of workload `index`."""
        return Tally.of([part[index] for part in self.parts])


class Windows:
    """The tallies of the I/Os completed in each open window, by workload: window k is
    [k w, (k + 1) w), the last one ending at the run's end (I/Os by completion)."""

    def __init__(self, window_s: float, duration_s: float, workloads: int) -> None:
        self.window_s = window_s
        self.duration_s = duration_s
        self.workloads = workloads
        self.open: dict[int, list[Tally]] = {}
        # the window of the last completion: [lo, hi) -> k, its tallies (completions come
        # in time order, so most fall in it and need no `index`)
        self._last: tuple[float, float, int, list[Tally]] | None = None

    def index(self, done: float) -> int:
        """The window `done` falls in, with its bounds computed as the monitor computes them."""
        w = self.window_s
        k = int(done / w)
        while k > 0 and k * w > done:
            k -= 1
        while (k + 1) * w <= done and (k + 1) * w < self.duration_s:
            k += 1
        return k

    def add(  # noqa: PLR0917
        self, index: int, is_read: bool, done: float, latency: float, length: int, key: int | None
    ) -> None:
        """A host I/O completed at `done` (`key` as for `Segments.add`)."""
        if done >= self.duration_s:
            return
        last = self._last
        if last is not None and last[0] <= done < last[1]:
            tallies = last[3]
        else:
            k = self.index(done)
            tallies = self.open.get(k)
            if tallies is None:
                tallies = self.open[k] = _tallies(self.workloads)
            w = self.window_s
            # the bounds `index` gives k: [k w, (k + 1) w), the last window to the end
            hi = (k + 1) * w if (k + 1) * w < self.duration_s else math.inf
            self._last = (k * w if k else -math.inf, hi, k, tallies)
        if key is None:
            tallies[index].errors += 1
        else:
            tallies[index].add(is_read, latency, key, length)

    def close(self, k: int) -> list[Tally]:
        """Window `k`'s tallies, forgotten here (empty ones if it saw no completion)."""
        if self._last is not None and self._last[2] == k:
            self._last = None
        return self.open.pop(k, None) or _tallies(self.workloads)


class Rows:
    """Rows of numbers kept compactly (8 bytes a cell; None as NaN, whole numbers exact)."""

    def __init__(self, width: int, whole: list[bool]) -> None:
        self.width = width
        self.whole = whole
        self._cells = array("d")

    def append(self, row: list[float | None]) -> None:
        if len(row) != self.width:
            raise AssertionError(f"a row of {len(row)} cells in a table of {self.width}")
        self._cells.extend(math.nan if v is None else v for v in row)

    def __len__(self) -> int:
        return len(self._cells) // self.width

    def __iter__(self):  # type: ignore[no-untyped-def]
        cells, width, whole = self._cells, self.width, self.whole
        for lo in range(0, len(cells), width):
            yield [
                None if math.isnan(v) else (int(v) if w else v)
                for v, w in zip(cells[lo : lo + width], whole, strict=True)
            ]
