"""Where a volume's physical bytes live: a small interface and two sparse backends.

Both are sparse: a track that was never written (a hole) costs nothing, reads as zeros, and is
carried through copies as a hole, so copying a never-written track allocates nothing and a
1 TiB volume costs only what is written to it.

Track images travel between backends as `TrackImages`: one entry per track, `bytes` for data
(immutable, so an in-flight copy can never be changed under it) or None for a hole.
"""

from __future__ import annotations

import ctypes
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from itertools import compress
from pathlib import Path

from bitarray import bitarray

from flashsim.models.state.file_names import image_file_stem

TrackImages = list[bytes | None]


class Backend(ABC):
    """Physical storage of `tracks` x `track_size` bytes, zero-filled at creation."""

    def __init__(self, tracks: int, track_size: int) -> None:
        self.tracks = tracks
        self.track_size = track_size

    @property
    def size_bytes(self) -> int:
        return self.tracks * self.track_size

    @abstractmethod
    def read(self, offset: int, length: int) -> bytes:
        """Physical bytes [offset, offset+length); holes read as zeros."""

    @abstractmethod
    def write(self, offset: int, data: bytes | memoryview) -> None:
        """Store `data` at `offset` (any alignment)."""

    @abstractmethod
    def load(self, first: int, end: int) -> TrackImages:
        """Images of tracks [first, end): bytes, or None for a hole."""

    @abstractmethod
    def store(self, first: int, images: TrackImages) -> None:
        """Replace tracks first, first+1, ... with `images` (None punches a hole)."""

    @abstractmethod
    def data_runs(self, first: int, end: int) -> list[tuple[int, int]]:
        """Runs [a, b) of tracks in [first, end) that may hold data (the rest are holes);
        costs what is written, not the volume's size."""

    @abstractmethod
    def allocated_bytes(self) -> int:
        """Bytes of storage this backend holds for data (holes excluded)."""

    def snapshot(self) -> bytes:
        """The whole physical content; meant for tiny volumes (checker states, tests)."""
        return self.read(0, self.size_bytes)

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release OS resources."""


#: A host write into a never-written track of more than two pages allocates only the pages it
#: touches: random 4 KiB writes cost 4 KiB each, not a whole 64 KiB track (memory, and page
#: faults, which are the dominant cost of a first write on some virtual machines).
PAGE_BYTES = 4096


class _Pages(dict[int, bytes | bytearray]):
    """A partly written track: page number -> bytes of that page; absent pages read as zeros.
    A page written whole from immutable `bytes` keeps that object (no copy); a smaller write
    into it makes it a private bytearray first.
    `image` is the whole track as immutable bytes once loaded, until the next write: every
    copy of an unchanged track (one per target that needs it) then shares one buffer."""

    __slots__ = ("image",)

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.image: bytes | None = None


class MemoryBackend(Backend):
    """Tracks in a dict: absent = hole; `_Pages` = partly written by the host, page by page;
    `bytearray` = a whole track written by the host (updated in place); `bytes` = frozen by a
    copy (immutable, shared by source and target until either is written again)."""

    def __init__(self, tracks: int, track_size: int) -> None:
        super().__init__(tracks, track_size)
        self._tracks: dict[int, bytes | bytearray | _Pages] = {}
        # the keys of _tracks as bits (1 bit a track), so the held tracks of a range are
        # found in C: a copy over holes costs what is held there, not the range's length
        self._held = bitarray(tracks)
        self._held.setall(0)
        self._paged = track_size >= 2 * PAGE_BYTES

    def _track_bytes(self, held: bytes | bytearray | _Pages, o: int, n: int) -> bytes:
        """Bytes [o, o+n) of a stored track."""
        if type(held) is not _Pages:
            return bytes(held[o : o + n])  # type: ignore[index]
        parts = []
        end = o + n
        while o < end:
            p, po = divmod(o, PAGE_BYTES)
            m = min(PAGE_BYTES - po, end - o)
            page = held.get(p)  # type: ignore[union-attr]
            parts.append(bytes(m) if page is None else bytes(page[po : po + m]))
            o += m
        return b"".join(parts)

    def read(self, offset: int, length: int) -> bytes:
        ts = self.track_size
        t, o = divmod(offset, ts)
        tracks = self._tracks
        if o + length <= ts:  # the common case: inside one track
            held = tracks.get(t)
            return bytes(length) if held is None else self._track_bytes(held, o, length)
        parts = []
        while length > 0:
            n = min(ts - o, length)
            held = tracks.get(t)
            parts.append(bytes(n) if held is None else self._track_bytes(held, o, n))
            length -= n
            t += 1
            o = 0
        return b"".join(parts)

    def write(self, offset: int, data: bytes | memoryview) -> None:
        ts = self.track_size
        t, o = divmod(offset, ts)
        if (
            type(data) is bytes
            and len(data) == PAGE_BYTES
            and not o % PAGE_BYTES
            and o + PAGE_BYTES <= ts
            and self._paged
        ):
            # the common host write, one whole page: the page keeps the caller's bytes
            held = self._tracks.get(t)
            if held is None:
                held = self._tracks[t] = _Pages()
                self._held[t] = 1
            if type(held) is _Pages:
                held.image = None  # type: ignore[union-attr]
                held[o // PAGE_BYTES] = data  # type: ignore[index]
                return
        view = memoryview(data)
        pos = 0
        total = len(view)
        tracks = self._tracks
        held_bits = self._held
        while pos < total:
            n = min(ts - o, total - pos)
            held_bits[t] = 1
            if n == ts:
                tracks[t] = bytearray(view[pos : pos + n])
            else:
                held = tracks.get(t)
                if held is None and self._paged:
                    held = tracks[t] = _Pages()
                if type(held) is _Pages:
                    self._write_pages(held, o, view[pos : pos + n])
                else:
                    if type(held) is not bytearray:  # a hole, or a frozen track: a private copy
                        held = tracks[t] = bytearray(ts) if held is None else bytearray(held)  # type: ignore[arg-type]
                    held[o : o + n] = view[pos : pos + n]  # type: ignore[index]
            pos += n
            t += 1
            o = 0

    def _write_pages(self, pages: _Pages, o: int, view: memoryview) -> None:
        ts = self.track_size
        pages.image = None
        pos = 0
        while pos < len(view):
            p, po = divmod(o + pos, PAGE_BYTES)
            m = min(PAGE_BYTES - po, len(view) - pos)
            page = pages.get(p)
            if type(page) is not bytearray:  # a hole, or a page kept as the caller's bytes
                size = min(PAGE_BYTES, ts - p * PAGE_BYTES)
                page = pages[p] = bytearray(size) if page is None else bytearray(page)
            page[po : po + m] = view[pos : pos + m]
            pos += m

    def load(self, first: int, end: int) -> TrackImages:
        # A whole host-written track is frozen into immutable bytes as it is loaded, and the
        # frozen copy replaces it here too: source and target then share one buffer until either
        # is written again, so copying a track costs one memcpy. A partly written track stays
        # in pages here (its next small write stays cheap) and the image is assembled.
        tracks = self._tracks
        out: TrackImages = [None] * (end - first)
        for t in self._held_in(first, end):
            held = tracks[t]
            if type(held) is _Pages:
                image = held.image  # type: ignore[union-attr]
                if image is None:
                    image = held.image = self._track_bytes(held, 0, self.track_size)  # type: ignore[union-attr]
                out[t - first] = image
            elif type(held) is bytes:
                out[t - first] = held
            else:
                out[t - first] = tracks[t] = bytes(held)  # type: ignore[arg-type]
        return out

    def _held_in(self, first: int, end: int) -> list[int]:
        """The tracks of [first, end) that hold data (found in C, see `_held`)."""
        if not self._tracks:
            return []
        return list(self._held.search(1, first, end))

    def store(self, first: int, images: TrackImages) -> None:
        tracks = self._tracks
        held = self._held
        end = first + len(images)
        for t in self._held_in(first, end):  # holes punched where the images have none
            if images[t - first] is None:
                del tracks[t]
                held[t] = 0
        # the images of data, found in C (an image is non-empty bytes, a hole None)
        for i in compress(range(len(images)), images):
            tracks[first + i] = images[i]  # type: ignore[assignment]
            held[first + i] = 1

    def data_runs(self, first: int, end: int) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        for t in self._held_in(first, end):
            if runs and runs[-1][1] == t:
                runs[-1] = (runs[-1][0], t + 1)
            else:
                runs.append((t, t + 1))
        return runs

    def allocated_bytes(self) -> int:
        return sum(
            sum(len(p) for p in held.values()) if type(held) is _Pages else len(held)
            for held in self._tracks.values()
        )

    def clone(self) -> MemoryBackend:
        twin = MemoryBackend(self.tracks, self.track_size)
        twin._tracks = {t: _copy_track(held) for t, held in self._tracks.items()}
        twin._held = self._held.copy()
        return twin


def _copy_track(held: bytes | bytearray | _Pages) -> bytes | bytearray | _Pages:
    if type(held) is bytes:
        return held
    if type(held) is _Pages:
        return _Pages(
            (p, page if type(page) is bytes else bytearray(page)) for p, page in held.items()
        )
    return bytearray(held)


_SEEK_DATA = getattr(os, "SEEK_DATA", None)
_SEEK_HOLE = getattr(os, "SEEK_HOLE", None)
_PUNCH_HOLE_KEEP_SIZE = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE (Linux)


def _libc_fallocate() -> Callable[[int, int, int, int], int] | None:
    try:
        fallocate = ctypes.CDLL(None, use_errno=True).fallocate
    except (OSError, AttributeError):
        return None
    fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    fallocate.restype = ctypes.c_int
    return fallocate


_FALLOCATE = _libc_fallocate()


class SparseFileBackend(Backend):
    """A sparse file of the volume's size: unwritten space stays a hole in the file system."""

    def __init__(self, path: str | os.PathLike[str], tracks: int, track_size: int) -> None:
        super().__init__(tracks, track_size)
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.ftruncate(self._fd, self.size_bytes)

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self._fd, length, offset)
        return data if len(data) == length else data + bytes(length - len(data))

    def write(self, offset: int, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            n = os.pwrite(self._fd, view, offset)
            view = view[n:]
            offset += n

    def _has_data(self, offset: int, length: int) -> bool:
        if _SEEK_DATA is None:
            return True
        try:
            return os.lseek(self._fd, offset, _SEEK_DATA) < offset + length
        except OSError:  # ENXIO: no data after offset
            return False

    def load(self, first: int, end: int) -> TrackImages:
        ts = self.track_size
        out: TrackImages = []
        for t in range(first, end):
            off = t * ts
            out.append(self.read(off, ts) if self._has_data(off, ts) else None)
        return out

    def store(self, first: int, images: TrackImages) -> None:
        ts = self.track_size
        for t, image in enumerate(images, first):
            off = t * ts
            if image is not None:
                self.write(off, image)
            elif self._has_data(off, ts):
                self._punch(off, ts)

    def _punch(self, offset: int, length: int) -> None:
        """Make [offset, offset+length) a hole again (zeros where the file system cannot)."""
        if (
            _FALLOCATE is not None
            and _FALLOCATE(self._fd, _PUNCH_HOLE_KEEP_SIZE, offset, length) == 0
        ):
            return
        self.write(offset, bytes(length))

    def data_runs(self, first: int, end: int) -> list[tuple[int, int]]:
        ts = self.track_size
        if _SEEK_DATA is None or _SEEK_HOLE is None:
            return [(first, end)] if first < end else []
        runs: list[tuple[int, int]] = []
        pos, stop = first * ts, end * ts
        while pos < stop:
            try:
                data = os.lseek(self._fd, pos, _SEEK_DATA)
            except OSError:  # ENXIO: only a hole after pos
                break
            if data >= stop:
                break
            hole = min(os.lseek(self._fd, data, _SEEK_HOLE), stop)
            a, b = data // ts, -(-hole // ts)
            if runs and runs[-1][1] >= a:
                runs[-1] = (runs[-1][0], max(b, runs[-1][1]))
            else:
                runs.append((a, b))
            pos = hole
        return runs

    def allocated_bytes(self) -> int:
        return os.fstat(self._fd).st_blocks * 512

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


BackendFactory = Callable[[str, int, int], Backend]


def memory_backend(_name: str, tracks: int, track_size: int) -> Backend:
    """The default factory: every volume in memory."""
    return MemoryBackend(tracks, track_size)


def file_backend_in(directory: str | os.PathLike[str]) -> BackendFactory:
    """A factory that puts each volume in `directory/<name>.vol` as a sparse file (the name
    encoded by `image_file_stem`, so two volumes never share a file)."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)

    def factory(name: str, tracks: int, track_size: int) -> Backend:
        return SparseFileBackend(root / f"{image_file_stem(name)}.vol", tracks, track_size)

    return factory
