"""The storage controller's cache in simulated time (`[controller]`): who waits for the
device time of a host I/O's micro-actions. What the I/O does to the volumes is the core's
(`Driver.drive_untimed` runs its steps unchanged); the cache models time only.

- **Write cache (NVS).** A host write waits until the write cache has room for the tracks it
  makes dirty, its operation then runs through the core's steps at once, and it completes
  `cache_hit_latency_ms` later. The back-end I/Os its micro-actions stand for (copy-before-
  write or target pre-copy: a read of the old track, a write to the target; then the data)
  stay with the dirty tracks they belong to. `destage_parallelism` destage processes take
  dirty tracks oldest first and charge them: each track's copies first, then one write of its
  data, at host priority. A rewrite of a track waiting for destage coalesces into it; a
  rewrite during its destage makes it dirty again once that destage is done. A track counts
  `track_size` bytes of dirty room from its first write until its destage completes.
- **Read cache.** LRU on physical tracks (the volume that holds the data, so a redirected
  target read hits on its source's tracks). A host read all of whose tracks are cached (or
  dirty in the write cache) costs `cache_hit_latency_ms`; otherwise each segment with a
  missing track is read from its array, as without a cache, and its tracks are cached after.
  Written tracks are cached once on the array (after their destage, or after a write-through).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

import simpy

from flashsim.models.rules.actions import (
    COPY_BEFORE_WRITE,
    HOST,
    ROW_MERGE,
    ROW_REMAP,
    TARGET_PRECOPY,
    Action,
    ApplyData,
    ReadBytes,
    ReadTracks,
    WriteTracks,
)
from flashsim.sim.devices import HOST_PRIORITY, Array
from flashsim.sim.driver import METADATA_BYTES, Driver, Proc
from flashsim.sim.scenario import MIB, ControllerSpec

Key = tuple[str, int]  # (volume holding the track, track)
DESTAGE_KINDS = (HOST, COPY_BEFORE_WRITE, TARGET_PRECOPY)


class _Dirty:
    """A dirty track: the back-end I/Os owed before its data (array, write?, bytes, kind),
    the bytes of data to write, and the next version if it is rewritten while destaging."""

    __slots__ = ("again", "nbytes", "pre")

    def __init__(self) -> None:
        self.pre: list[tuple[Array, bool, int, str]] = []
        self.nbytes = 0
        self.again: _Dirty | None = None


class Controller:
    """The cache of one run, in front of the `driver`'s arrays."""

    def __init__(self, spec: ControllerSpec, driver: Driver) -> None:
        self.spec = spec
        self.env = driver.env
        self.system = driver.system
        self.driver = driver
        self.arrays = driver.array_of
        self.track_size = driver.track_size
        self.hit_s = spec.cache_hit_latency_ms / 1000.0
        self.write_capacity = spec.write_cache_mib * MIB
        self.read_capacity = spec.read_cache_mib * MIB
        self.dirty: dict[Key, _Dirty] = {}
        self.queue: OrderedDict[Key, _Dirty] = OrderedDict()  # waiting for destage, oldest first
        self.dirty_bytes = 0
        self.reserved = 0  # room granted to writes not yet in the cache
        self.waiting: deque[tuple[int, simpy.Event]] = deque()  # writes waiting for room, FIFO
        self.idle: list[simpy.Event] = []  # idle destage processes
        self.clean: OrderedDict[Key, int] = OrderedDict()  # the read cache, LRU first
        self.clean_bytes = 0
        self.high_water = 0
        self.waits = 0
        self.wait_s = 0.0
        self.coalesced = 0
        self.read_hits = 0
        self.read_misses = 0
        self.destage_ios = dict.fromkeys(DESTAGE_KINDS, 0)

    def start(self) -> None:
        """Start the destage processes."""
        if self.write_capacity:
            for _ in range(self.spec.destage_parallelism):
                self.env.process(self._destager())

    # -- host I/O ------------------------------------------------------------------------------
    def write(self, volume: str, offset: int, data: bytes) -> Proc:
        """A host write, once past the gates; returns its operation."""
        system = self.system
        if not self.write_capacity:  # write-through; the written tracks are then cached
            op = system.start_write(volume, offset, data)
            yield from self.driver.drive(op, HOST_PRIORITY)
            if op.error is None:
                self._cache(volume, *self._tracks(volume, offset, len(data)))
            return op
        first, end = self._tracks(volume, offset, len(data))
        size = self.track_size[volume]
        dirty = self.dirty
        need = size * sum((volume, t) not in dirty for t in range(first, end))
        yield from self._room(need)
        op = system.start_write(volume, offset, data)
        actions = yield from self.driver.drive_untimed(op)
        self._absorb(volume, first, end, actions)
        self.reserved -= need
        self._grant()
        yield self.env.timeout(self.hit_s)
        return op

    def read(self, volume: str, offset: int, length: int) -> Proc:
        """A host read, once past the gates; returns its operation."""
        op = self.system.start_read(volume, offset, length)
        actions = yield from self.driver.drive_untimed(op)
        missed = False
        for action in actions:
            if type(action) is not ReadBytes:
                continue
            for holder, start, n in action.segments:
                first, end = self._tracks(holder, start, n)
                if not self._cached(holder, first, end):
                    missed = True
                    yield from self.arrays[holder].io(False, n, action.purpose, HOST_PRIORITY)
                self._cache(holder, first, end)
        if missed:
            self.read_misses += 1
        else:
            yield self.env.timeout(self.hit_s)
            self.read_hits += 1  # counted when done, as the host's records are
        return op

    # -- write cache ---------------------------------------------------------------------------
    def _tracks(self, volume: str, offset: int, length: int) -> tuple[int, int]:
        size = self.track_size[volume]
        return offset // size, -(-(offset + length) // size)

    def _fits(self, need: int) -> bool:
        used = self.dirty_bytes + self.reserved
        return used + need <= self.write_capacity or used == 0  # a write larger than the cache

    def _room(self, need: int) -> Proc:
        """Wait (first come, first served) until `need` bytes of dirty room are granted."""
        if not need:
            return
        if not self.waiting and self._fits(need):
            self.reserved += need
            return
        env = self.env
        turn = env.event()
        self.waiting.append((need, turn))
        since = env.now
        yield turn
        self.waits += 1
        self.wait_s += env.now - since

    def _grant(self) -> None:
        waiting = self.waiting
        while waiting and self._fits(waiting[0][0]):
            need, turn = waiting.popleft()
            self.reserved += need
            turn.succeed()

    def _absorb(self, volume: str, first: int, end: int, actions: list[Action]) -> None:
        """Keep the back-end I/Os of a write's micro-actions with its dirty tracks."""
        size = self.track_size
        arrays = self.arrays
        holders: list[str] = []
        purpose = COPY_BEFORE_WRITE
        merged: set[int] = set()
        for action in actions:
            kind = type(action)
            if isinstance(action, ReadTracks) and action.purpose == ROW_MERGE:
                # rule R2b: the old block read before the new one is destaged whole
                for vol, lo, hi in action.runs:
                    for t in range(lo, hi):
                        pre = self._entry(volume, t, first, end).pre
                        pre.append((arrays[vol], False, size[vol], ROW_MERGE))
                        merged.add(t)
            elif kind is ReadTracks:
                holders = [vol for vol, lo, hi in action.runs for _ in range(hi - lo)]
                purpose = action.purpose
            elif kind is WriteTracks:
                target = action.volume
                for i, holder in enumerate(holders):
                    pre = self._entry(volume, action.first + i, first, end).pre
                    if purpose == ROW_REMAP:  # a block handed over: a block-map write only
                        pre.append((arrays[target], True, METADATA_BYTES, purpose))
                        continue
                    pre.append((arrays[holder], False, size[holder], purpose))
                    pre.append((arrays[target], True, size[target], purpose))
            elif kind is ApplyData:
                ts = size[volume]
                lo, hi = action.offset, action.offset + len(action.data)
                for t in range(first, end):
                    entry = self._entry(volume, t, first, end)
                    if entry.nbytes:
                        self.coalesced += 1
                    written = ts if t in merged else min(hi, (t + 1) * ts) - max(lo, t * ts)
                    entry.nbytes = min(ts, entry.nbytes + written)

    def _entry(self, volume: str, track: int, first: int, end: int) -> _Dirty:
        """The dirty version of `track` of `volume` that a write of [first, end) adds to."""
        if not first <= track < end:
            track = first  # not expected: the core copies within the written tracks
        key = (volume, track)
        entry = self.dirty.get(key)
        if entry is None:
            entry = self.dirty[key] = self.queue[key] = _Dirty()
            self.dirty_bytes += self.track_size[volume]
            self.high_water = max(self.high_water, self.dirty_bytes)
            if self.idle:
                self.idle.pop().succeed()
            return entry
        if key in self.queue:
            return entry
        if entry.again is None:  # being destaged: dirty again after it
            entry.again = _Dirty()
        return entry.again

    def _destager(self) -> Proc:
        """One destage process: the oldest dirty track, its copies, then its data."""
        env = self.env
        queue = self.queue
        counts = self.destage_ios
        while True:
            if not queue:
                wake = env.event()
                self.idle.append(wake)
                yield wake
                continue
            key, entry = queue.popitem(last=False)
            for arr, write, nbytes, kind in entry.pre:
                counts[kind] = counts.get(kind, 0) + 1
                yield from arr.io(write, nbytes, kind, HOST_PRIORITY)
            if entry.nbytes:
                counts[HOST] += 1
                yield from self.arrays[key[0]].io(True, entry.nbytes, HOST, HOST_PRIORITY)
            if entry.again is not None:
                self.dirty[key] = queue[key] = entry.again
                continue
            del self.dirty[key]
            self.dirty_bytes -= self.track_size[key[0]]
            self._cache(key[0], key[1], key[1] + 1)
            self._grant()

    # -- read cache ----------------------------------------------------------------------------
    def _cached(self, volume: str, first: int, end: int) -> bool:
        clean, dirty = self.clean, self.dirty
        return all((volume, t) in clean or (volume, t) in dirty for t in range(first, end))

    def _cache(self, volume: str, first: int, end: int) -> None:
        """Tracks [first, end) of `volume` are in the read cache, most recently used."""
        capacity = self.read_capacity
        if not capacity:
            return
        clean = self.clean
        size = self.track_size[volume]
        for t in range(first, end):
            key = (volume, t)
            if key in clean:
                clean.move_to_end(key)
            else:
                clean[key] = size
                self.clean_bytes += size
        while self.clean_bytes > capacity:
            self.clean_bytes -= clean.popitem(last=False)[1]

    # -- summary -------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """The controller's block of summary.json."""
        spec = self.spec
        return {
            "write_cache_mib": spec.write_cache_mib,
            "read_cache_mib": spec.read_cache_mib,
            "cache_hit_latency_ms": spec.cache_hit_latency_ms,
            "destage_parallelism": spec.destage_parallelism,
            "dirty_high_water_bytes": self.high_water,
            "dirty_bytes_at_end": self.dirty_bytes,
            "writes_waited_for_room": self.waits,
            "write_wait_for_room_s": round(self.wait_s, 6),
            "coalesced_track_writes": self.coalesced,
            "destage_ios": dict(sorted(self.destage_ios.items())),
            "read_hits": self.read_hits,
            "read_misses": self.read_misses,
        }
