"""Host workloads with fio's key names: what the next I/O is (read or write, offset, size).

Each workload draws from its own `numpy.random.Generator` (a child stream of the run seed), in
batches so that drawing costs little per I/O. Random offsets are aligned to the block size, as
fio does by default. Distributions over the region's blocks:

- ``random``: uniform;
- ``zipf:θ``: block rank k has weight 1/k^θ (drawn by inverting the continuous CDF);
- ``pareto:h``: fio's form, rank = n * u^(log h / log(1-h));
- ``normal[:dev%]``: centred on the middle of the region, standard deviation dev% of it
  (default 10), clipped to the region;
- ``zoned:a/s:a/s...`` (fio's hot-spot form): a% of accesses go to the next s% of the region.

``percentage_random`` (fio's option; random modes only, default 100): that percentage of the
I/Os are drawn as above, the others are sequential: each starts where the previous I/O ended.

Ranks of zipf and pareto are scattered over the region by a fixed permutation (multiplication
by a prime modulo the block count), so hot blocks are not all adjacent, as in fio.
"""

from __future__ import annotations

import math

import numpy as np

from flashsim.sim.scenario import WorkloadSpec

BATCH = 4096
_SCATTER_PRIME = 2_654_435_761  # Knuth's multiplicative hash constant (a prime)


class Workload:
    """The I/O stream of one `[[workload]]`: call `next()` for (is_read, offset, length)."""

    def __init__(self, spec: WorkloadSpec, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng
        self.read_fraction = spec.read_fraction
        self.sizes = np.array([b for b, _ in spec.block_sizes], dtype=np.int64)
        self.weights = np.array([w for _, w in spec.block_sizes], dtype=np.float64)
        self.min_bs = int(self.sizes.min())
        self.cursor = spec.offset  # sequential position
        self.issued_bytes = 0  # shared by the issuers of a closed loop (time_based = false)
        self._queue: list[tuple[bool, int, int]] = []
        self._pos = 0
        kind, _, arg = spec.random_distribution.partition(":")
        self.kind = kind
        self.arg = float(arg) if arg and kind != "zoned" else None
        self.zones: list[tuple[float, float]] = []
        if kind == "zoned":
            self.zones = [
                (float(a) / 100, float(s) / 100) for a, s in (z.split("/") for z in arg.split(":"))
            ]
        # The scatter multiplier must be coprime with every block count used.
        self._prime = _SCATTER_PRIME

    def interarrivals(self, n: int) -> np.ndarray:
        """Exponential gaps of an open-loop (Poisson) workload, in seconds."""
        assert self.spec.rate_iops is not None
        return self.rng.exponential(1.0 / self.spec.rate_iops, n)

    def next(self) -> tuple[bool, int, int]:
        if self._pos == len(self._queue):
            self._queue = self._draw(BATCH)
            self._pos = 0
        item = self._queue[self._pos]
        self._pos += 1
        return item

    def _draw(self, n: int) -> list[tuple[bool, int, int]]:
        rng = self.rng
        spec = self.spec
        reads = rng.random(n) < self.read_fraction
        if len(self.sizes) == 1:
            lengths = np.full(n, self.sizes[0], dtype=np.int64)
        else:
            lengths = self.sizes[rng.choice(len(self.sizes), n, p=self.weights)]
        if spec.random and spec.percentage_random < 100:
            offsets = self._random_offsets(lengths)
            sequential = rng.random(n) * 100 >= spec.percentage_random
            offsets = self._follow(offsets, lengths, sequential)
        elif spec.random:
            offsets = self._random_offsets(lengths)
        else:
            offsets = np.empty(n, dtype=np.int64)
            cursor = self.cursor
            end = spec.offset + spec.size
            for i, length in enumerate(lengths.tolist()):
                if cursor + length > end:
                    cursor = spec.offset
                offsets[i] = cursor
                cursor += length
            self.cursor = cursor
        return list(zip(reads.tolist(), offsets.tolist(), lengths.tolist(), strict=True))

    def _follow(
        self, offsets: np.ndarray, lengths: np.ndarray, sequential: np.ndarray
    ) -> np.ndarray:
        """`percentage_random`: an I/O marked sequential starts where the previous one ended
        (back at the region's start when it would pass the end), as fio does."""
        spec = self.spec
        end = spec.offset + spec.size
        cursor = self.cursor
        out = offsets.copy()
        for i, (seq, length) in enumerate(zip(sequential.tolist(), lengths.tolist(), strict=True)):
            if seq:
                out[i] = cursor if cursor + length <= end else spec.offset
            cursor = int(out[i]) + length
        self.cursor = cursor
        return out

    def _random_offsets(self, lengths: np.ndarray) -> np.ndarray:
        """Offsets aligned to each I/O's block size, inside the region."""
        spec = self.spec
        n = len(lengths)
        blocks = (spec.size - lengths) // lengths + 1  # positions per I/O size
        u = self.rng.random(n)
        kind = self.kind
        if kind == "random":
            index = np.floor(u * blocks).astype(np.int64)
        elif kind == "zipf":
            theta = self.arg
            assert theta is not None
            if abs(theta - 1.0) < 1e-9:
                rank = np.power(blocks.astype(np.float64), u)
            else:
                a = 1.0 - theta
                rank = np.power(1.0 + u * (np.power(blocks.astype(np.float64), a) - 1.0), 1.0 / a)
            index = self._scatter(
                np.clip(np.floor(rank).astype(np.int64) - 1, 0, blocks - 1), blocks
            )
        elif kind == "pareto":
            h = self.arg
            assert h is not None
            power = math.log(h) / math.log(1.0 - h)
            rank = np.floor(blocks * np.power(u, power)).astype(np.int64)
            index = self._scatter(np.clip(rank, 0, blocks - 1), blocks)
        elif kind == "normal":
            dev = (self.arg if self.arg is not None else 10.0) / 100.0
            z = self.rng.normal(0.5, dev, n)
            index = np.clip(np.floor(z * blocks), 0, blocks - 1).astype(np.int64)
        else:  # zoned
            index = np.zeros(n, dtype=np.int64)
            cum_access = np.cumsum([a for a, _ in self.zones])
            zone = np.searchsorted(cum_access, u * cum_access[-1], side="right")
            zone = np.minimum(zone, len(self.zones) - 1)
            starts = np.concatenate([[0.0], np.cumsum([s for _, s in self.zones])])
            v = self.rng.random(n)
            lo = starts[zone] + v * (starts[zone + 1] - starts[zone])
            index = np.clip(np.floor(lo * blocks), 0, blocks - 1).astype(np.int64)
        return spec.offset + index * lengths

    def _scatter(self, rank: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        """A fixed permutation of 0..blocks-1 (blocks coprime with the prime)."""
        return (rank * self._prime) % blocks
