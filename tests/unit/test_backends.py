"""Physical storage (`flashsim.models.state.backend`): both backends read and write real bytes at any offset,
keep holes as holes, and cost only what is written, even for a 1 TiB volume."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashsim.models import System
from flashsim.models.state.backend import Backend, MemoryBackend, SparseFileBackend, file_backend_in

KIB = 1024
MIB = 1024 * KIB
TIB_TRACKS_64K = 16 * 1024 * 1024  # 1 TiB of 64 KiB tracks
KINDS = ["memory", "sparse_file"]

MakeBackend = Callable[[int, int], Backend]


def backend_factory(kind: str, directory: Path) -> tuple[MakeBackend, list[Backend]]:
    """A function making backends of `kind` (files in `directory`), and the list it fills."""
    made: list[Backend] = []
    counter = itertools.count()

    def make(tracks: int, track_size: int) -> Backend:
        if kind == "memory":
            backend: Backend = MemoryBackend(tracks, track_size)
        else:
            backend = SparseFileBackend(directory / f"v{next(counter)}.vol", tracks, track_size)
        made.append(backend)
        return backend

    return make, made


@pytest.fixture(params=KINDS)
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeBackend]:
    make, made = backend_factory(request.param, tmp_path)
    yield make
    for backend in made:
        backend.close()


def pattern(length: int, seed: int = 1) -> bytes:
    """Recognisable non-zero bytes (never 0, so a lost write cannot pass for a hole)."""
    return bytes((seed * 7 + i * 13) % 255 + 1 for i in range(length))


# -- bytes at any offset -------------------------------------------------------------------------


@pytest.mark.parametrize("track_size", [1, 3, 4096, 65536])
def test_a_write_spanning_tracks_reads_back_at_any_offset(make_backend, track_size):
    backend = make_backend(4, track_size)
    offset, data = track_size - 1, pattern(track_size + 2)  # a tail, a whole track, a head
    backend.write(offset, data)
    expected = bytearray(4 * track_size)
    expected[offset : offset + len(data)] = data
    assert backend.read(offset, len(data)) == data
    assert backend.read(0, 4 * track_size) == bytes(expected)
    assert backend.snapshot() == bytes(expected)


@pytest.mark.parametrize("track_size", [1, 3, 4096, 65536])
def test_overlapping_writes_leave_the_latest_bytes(make_backend, track_size):
    backend = make_backend(4, track_size)
    size = 4 * track_size
    backend.write(0, pattern(size, seed=1))
    backend.write(size // 3, pattern(size // 2, seed=2))
    expected = bytearray(pattern(size, seed=1))
    expected[size // 3 : size // 3 + size // 2] = pattern(size // 2, seed=2)
    assert backend.snapshot() == bytes(expected)
    assert backend.read(1, size - 2) == bytes(expected[1 : size - 1])


@pytest.mark.parametrize("track_size", [1, 3, 4096, 65536])
def test_unwritten_space_reads_as_zeros(make_backend, track_size):
    backend = make_backend(4, track_size)
    assert backend.read(0, 4 * track_size) == bytes(4 * track_size)
    backend.write(track_size, b"\xff")
    assert backend.read(0, track_size) == bytes(track_size)
    assert backend.read(track_size + 1, 3 * track_size - 1) == bytes(3 * track_size - 1)


def test_geometry_is_what_was_asked(make_backend):
    backend = make_backend(5, 3)
    assert (backend.tracks, backend.track_size, backend.size_bytes) == (5, 3, 15)


# -- track images: load and store ----------------------------------------------------------------


@pytest.mark.parametrize("track_size", [4096, 65536])
def test_load_gives_bytes_for_written_tracks_and_none_for_holes(make_backend, track_size):
    backend = make_backend(4, track_size)
    backend.write(0, pattern(track_size))
    backend.write(2 * track_size + 5, b"xy")  # a partly written track is a whole image
    track_2 = bytearray(track_size)
    track_2[5:7] = b"xy"
    assert backend.load(0, 4) == [pattern(track_size), None, bytes(track_2), None]
    assert backend.load(1, 2) == [None]


@pytest.mark.parametrize("track_size", [1, 3, 4096, 65536])
def test_load_then_store_copies_the_tracks_exactly(make_backend, track_size):
    source, target = make_backend(4, track_size), make_backend(4, track_size)
    source.write(0, pattern(2 * track_size))
    target.write(0, b"\xee" * 4 * track_size)
    target.store(0, source.load(0, 4))
    assert target.snapshot() == pattern(2 * track_size) + bytes(2 * track_size)


@pytest.mark.parametrize("track_size", [1, 3, 4096, 65536])
def test_storing_a_hole_over_data_makes_the_track_read_zeros(make_backend, track_size):
    backend = make_backend(4, track_size)
    backend.write(0, b"\xab" * 4 * track_size)
    backend.store(1, [None, None])
    assert backend.snapshot() == (
        b"\xab" * track_size + bytes(2 * track_size) + b"\xab" * track_size
    )
    assert backend.load(1, 3) in ([None, None], [bytes(track_size)] * 2)


def test_a_stored_image_is_not_changed_by_later_writes_to_the_backend(make_backend):
    backend = make_backend(2, 4)
    image = b"abcd"
    backend.store(0, [image])
    loaded = backend.load(0, 1)
    backend.write(1, b"ZZ")
    assert (image, loaded, backend.read(0, 4)) == (b"abcd", [b"abcd"], b"aZZd")


def test_a_loaded_image_and_its_copy_never_change_with_later_writes_to_either_side(make_backend):
    source, target = make_backend(2, 4), make_backend(2, 4)
    source.write(0, b"abcdefgh")
    images = source.load(0, 2)
    target.store(0, images)
    source.write(1, b"S")
    target.write(6, b"T")
    again = source.load(0, 2)
    source.write(0, b"s")
    assert images == [b"abcd", b"efgh"]
    assert again == [b"aScd", b"efgh"]
    assert (source.snapshot(), target.snapshot()) == (b"sScdefgh", b"abcdefTh")


# -- sparseness ----------------------------------------------------------------------------------


def test_a_1_tib_volume_with_a_few_writes_allocates_a_few_mib(make_backend):
    track_size = 64 * KIB
    backend = make_backend(TIB_TRACKS_64K, track_size)
    assert backend.size_bytes == 1024**4
    backend.write(0, b"first")
    backend.write(512 * 1024**3 - 2, b"straddle")  # across two tracks in the middle
    backend.write(backend.size_bytes - 4, b"last")
    assert backend.allocated_bytes() <= 4 * MIB
    assert backend.read(0, 5) == b"first"
    assert backend.read(512 * 1024**3 - 2, 8) == b"straddle"
    assert backend.read(backend.size_bytes - 4, 4) == b"last"
    assert backend.read(1024**3, 16) == bytes(16)


@pytest.mark.parametrize(("source_kind", "target_kind"), list(itertools.product(KINDS, KINDS)))
def test_copying_never_written_tracks_allocates_nothing(tmp_path, source_kind, target_kind):
    (tmp_path / "source").mkdir()
    (tmp_path / "target").mkdir()
    make_source, made = backend_factory(source_kind, tmp_path / "source")
    make_target, made_target = backend_factory(target_kind, tmp_path / "target")
    try:
        source = make_source(TIB_TRACKS_64K, 64 * KIB)
        target = make_target(TIB_TRACKS_64K, 64 * KIB)
        source.write(0, b"only track 0 holds data")
        before = target.allocated_bytes()
        for first, end in ((1, 257), (TIB_TRACKS_64K - 64, TIB_TRACKS_64K)):
            images = source.load(first, end)
            assert images == [None] * (end - first)
            target.store(first, images)
        assert (before, target.allocated_bytes()) == (0, 0)
        assert target.read(64 * KIB, 64 * KIB) == bytes(64 * KIB)
    finally:
        for backend in made + made_target:
            backend.close()


# -- MemoryBackend.clone -------------------------------------------------------------------------


def test_a_memory_clone_and_its_original_never_see_each_others_writes():
    original = MemoryBackend(4, 4)
    original.write(0, b"aaaabbbb")  # tracks the host wrote (updated in place)
    original.store(2, [b"cccc"])  # a track copied in (shared, immutable)
    original.load(0, 1)  # loading freezes a host-written track into shared bytes
    clone = original.clone()
    original.write(1, b"X")
    original.write(10, b"Y")
    clone.write(4, b"Z")
    clone.write(12, b"dddd")
    assert original.snapshot() == b"aXaabbbbccYc" + bytes(4)
    assert clone.snapshot() == b"aaaaZbbbccccdddd"
    assert (original.allocated_bytes(), clone.allocated_bytes()) == (12, 16)


# -- a property: both backends against a bytearray ------------------------------------------------


@st.composite
def geometry_and_operations(draw: st.DrawFn) -> tuple[int, int, list[tuple[object, ...]]]:
    tracks, track_size = draw(st.integers(1, 6)), draw(st.integers(1, 9))
    size = tracks * track_size
    offset = st.integers(0, size - 1)
    write = offset.flatmap(
        lambda o: st.tuples(st.just("write"), st.just(o), st.binary(min_size=1, max_size=size - o))
    )
    track = st.integers(0, tracks - 1)
    count = st.integers(1, tracks)
    hole = st.tuples(st.just("hole"), track, count)
    copy = st.tuples(st.just("copy"), track, track, count)
    operations = draw(st.lists(st.one_of(write, hole, copy), max_size=12))
    return tracks, track_size, operations


@given(geometry_and_operations(), st.data())
def test_both_backends_read_exactly_like_a_bytearray_after_random_writes(
    tmp_path_factory, case, data
):
    tracks, track_size, operations = case
    size = tracks * track_size
    model = bytearray(size)
    memory = MemoryBackend(tracks, track_size)
    sparse = SparseFileBackend(tmp_path_factory.mktemp("property") / "v.vol", tracks, track_size)
    try:
        for operation in operations:
            if operation[0] == "write":
                _, offset, payload = operation
                model[offset : offset + len(payload)] = payload
                for backend in (memory, sparse):
                    backend.write(offset, payload)
            elif operation[0] == "hole":  # a run of holes stored over tracks [track, end)
                _, track, n = operation
                n = min(n, tracks - track)
                model[track * track_size : (track + n) * track_size] = bytes(n * track_size)
                for backend in (memory, sparse):
                    backend.store(track, [None] * n)
            else:  # a run of tracks copied, holes and data alike (a background copy extent)
                _, source, destination, n = operation
                n = min(n, tracks - source, tracks - destination)
                start = source * track_size
                chunk = model[start : start + n * track_size]
                model[destination * track_size : (destination + n) * track_size] = chunk
                for backend in (memory, sparse):
                    backend.store(destination, backend.load(source, source + n))
            offset = data.draw(st.integers(0, size - 1), label="read offset")
            length = data.draw(st.integers(1, size - offset), label="read length")
            expected = bytes(model[offset : offset + length])
            assert (memory.read(offset, length), sparse.read(offset, length)) == (
                expected,
                expected,
            )
        assert memory.snapshot() == sparse.snapshot() == bytes(model)
        # the memory backend's index of held tracks agrees with what it holds
        held = [t for t, image in enumerate(memory.load(0, tracks)) if image is not None]
        assert [t for a, b in memory.data_runs(0, tracks) for t in range(a, b)] == held
    finally:
        sparse.close()


def test_the_file_backend_gives_every_volume_its_own_file_inside_its_folder(tmp_path):
    names = ["../escape", "x-2e2e2f657363617065", "a" * 120 + "1", "a" * 120 + "2", "\ud800"]
    system = System(backend_factory=file_backend_in(tmp_path / "vols"))
    for i, name in enumerate(names):
        system.create(name, 2, 4)
        system.write(name, 0, bytes([i]) * 8)
    files = sorted((tmp_path / "vols").iterdir())
    assert len(files) == len(names)
    assert all(f.parent == tmp_path / "vols" for f in files)
    assert [system.read(name, 0, 8) for name in names] == [bytes([i]) * 8 for i in range(5)]
    system.close()


def test_a_copy_before_write_to_twelve_targets_holds_the_old_track_once():
    # a partly written 64 KiB track (held in pages) copied to the 12 targets that need it
    # before a write: one immutable image shared by all twelve, not twelve images
    import tracemalloc

    from flashsim.models.ops import Establish
    from flashsim.models.system import System

    system = System()
    system.create("A", 4, 65536)
    system.write("A", 0, b"\x01" * 4096)
    for k in range(12):
        system.create(f"T{k}", 4, 65536)
        system.establish(Establish(f"r{k}", "A", f"T{k}", background_copy=False))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    system.write("A", 4096, b"\x02" * 4096)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert all(system.read(f"T{k}", 0, 8192) == b"\x01" * 4096 + bytes(4096) for k in range(12))
    assert grown < 3 * 65536, f"{grown} bytes for one 64 KiB track copied to 12 targets"
