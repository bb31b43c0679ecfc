"""Track bitmaps (`flashsim.models.state.bitmap.Bitmap`): runs, counts, searches, equality, 16 M tracks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flashsim.models.state.bitmap import Bitmap

TIB_TRACKS_64K = 16 * 1024 * 1024  # 1 TiB of 64 KiB tracks


def bitmap_of(size: int, tracks: set[int] | list[int]) -> Bitmap:
    bitmap = Bitmap(size)
    for track in tracks:
        bitmap.set_range(track, track + 1)
    return bitmap


def runs_of(tracks: set[int], start: int, stop: int) -> list[tuple[int, int]]:
    """Maximal runs of `tracks` inside [start, stop), computed the slow, obvious way."""
    out: list[tuple[int, int]] = []
    for track in range(start, stop):
        if track not in tracks:
            continue
        if out and out[-1][1] == track:
            out[-1] = (out[-1][0], track + 1)
        else:
            out.append((track, track + 1))
    return out


# -- construction, runs, lowest_runs ---------------------------------------------------------


def test_a_new_bitmap_is_empty_or_full_as_asked():
    empty, full = Bitmap(5), Bitmap(5, fill=True)
    assert (len(empty), empty.count, empty.tracks()) == (5, 0, [])
    assert (len(full), full.count, full.tracks()) == (5, 5, [0, 1, 2, 3, 4])


def test_the_docstring_example_clears_the_middle_of_a_full_map():
    bitmap = Bitmap(4, fill=True)
    bitmap.clear_range(1, 3)
    assert bitmap.runs(0, 4) == [(0, 1), (3, 4)]


def test_runs_are_maximal_and_lowest_first():
    bitmap = bitmap_of(10, [1, 2, 5, 7, 8, 9])
    assert bitmap.runs(0, 10) == [(1, 3), (5, 6), (7, 10)]


def test_runs_are_cut_to_the_window_asked_for():
    bitmap = bitmap_of(10, [1, 2, 5, 7, 8, 9])
    assert bitmap.runs(2, 8) == [(2, 3), (5, 6), (7, 8)]
    assert bitmap.runs(3, 5) == []
    assert bitmap.runs(9, 10) == [(9, 10)]


def test_runs_of_an_empty_bitmap_are_none():
    assert Bitmap(8).runs(0, 8) == []


def test_lowest_runs_cut_the_last_run_at_the_limit():
    bitmap = bitmap_of(10, [1, 2, 5, 7, 8, 9])
    assert bitmap.lowest_runs(1) == [(1, 2)]
    assert bitmap.lowest_runs(2) == [(1, 3)]
    assert bitmap.lowest_runs(4) == [(1, 3), (5, 6), (7, 8)]
    assert bitmap.lowest_runs(6) == [(1, 3), (5, 6), (7, 10)]


def test_lowest_runs_past_the_count_give_every_run_and_zero_gives_none():
    bitmap = bitmap_of(10, [1, 2, 5, 7, 8, 9])
    assert bitmap.lowest_runs(100) == [(1, 3), (5, 6), (7, 10)]
    assert bitmap.lowest_runs(0) == []
    assert Bitmap(10).lowest_runs(3) == []


def test_lowest_runs_of_a_full_map_end_at_the_last_track():
    assert Bitmap(6, fill=True).lowest_runs(100) == [(0, 6)]
    assert Bitmap(6, fill=True).lowest_runs(4) == [(0, 4)]


# -- searches and counts ---------------------------------------------------------------------


def test_find_next_gives_the_lowest_set_track_at_or_after_start():
    bitmap = bitmap_of(8, [3, 6])
    assert [bitmap.find_next(start) for start in range(9)] == [3, 3, 3, 3, 6, 6, 6, -1, -1]
    assert bitmap.find_next() == 3


def test_find_next_in_an_empty_bitmap_is_minus_one():
    assert Bitmap(8).find_next(0) == -1


def test_any_in_and_count_range_look_at_a_half_open_window():
    bitmap = bitmap_of(8, [3, 4, 6])
    assert [bitmap.any_in(0, stop) for stop in range(9)] == [False] * 4 + [True] * 5
    assert [bitmap.count_range(0, stop) for stop in range(9)] == [0, 0, 0, 0, 1, 2, 2, 3, 3]
    assert (bitmap.any_in(5, 6), bitmap.count_range(5, 6)) == (False, 0)
    assert (bitmap.any_in(4, 7), bitmap.count_range(4, 7)) == (True, 2)
    assert (Bitmap(8).any_in(0, 8), Bitmap(8).count_range(0, 8)) == (False, 0)


def test_test_reports_each_track():
    bitmap = bitmap_of(5, [0, 3])
    assert [bitmap.test(t) for t in range(5)] == [True, False, False, True, False]


def test_count_stays_exact_when_ranges_overlap_what_is_already_set_or_clear():
    bitmap = Bitmap(10)
    bitmap.set_range(2, 6)
    bitmap.set_range(4, 8)
    assert (bitmap.count, bitmap.tracks()) == (6, [2, 3, 4, 5, 6, 7])
    bitmap.clear_range(0, 3)
    bitmap.clear_range(0, 3)
    assert (bitmap.count, bitmap.tracks()) == (5, [3, 4, 5, 6, 7])
    bitmap.set_range(5, 5)
    bitmap.clear_range(6, 6)
    assert (bitmap.count, bitmap.tracks()) == (5, [3, 4, 5, 6, 7])


def test_union_and_difference_build_new_bitmaps_and_leave_their_operands_alone():
    a, b = bitmap_of(6, [0, 1, 2]), bitmap_of(6, [2, 3])
    union, difference = a.union(b), a.difference(b)
    assert (union.tracks(), union.count) == ([0, 1, 2, 3], 4)
    assert (difference.tracks(), difference.count) == ([0, 1], 2)
    assert (a.tracks(), b.tracks()) == ([0, 1, 2], [2, 3])


def test_a_copy_is_independent_of_its_original():
    original = bitmap_of(6, [1, 2])
    twin = original.copy()
    twin.set_range(4, 6)
    original.clear_range(1, 2)
    assert (original.tracks(), original.count) == ([2], 1)
    assert (twin.tracks(), twin.count) == ([1, 2, 4, 5], 4)


# -- equality, hashing, fingerprint ------------------------------------------------------------


def test_bitmaps_with_the_same_tracks_are_equal_however_they_were_built():
    built = Bitmap(5)
    built.set_range(0, 5)
    built.clear_range(2, 3)
    other = Bitmap(5, fill=True).difference(bitmap_of(5, [2]))
    assert built == other
    assert hash(built) == hash(other)
    assert built.fingerprint() == other.fingerprint()
    assert len({built, other}) == 1


def test_bitmaps_that_differ_in_one_track_or_in_size_are_not_equal():
    assert bitmap_of(5, [1]) != bitmap_of(5, [2])
    assert bitmap_of(5, [1]).fingerprint() != bitmap_of(5, [2]).fingerprint()
    assert Bitmap(5) != Bitmap(6)
    assert Bitmap(5, fill=True) != Bitmap(6, fill=True)


def test_a_bitmap_is_never_equal_to_something_that_is_not_a_bitmap():
    bitmap = bitmap_of(4, [1])
    assert bitmap != {1}
    assert bitmap != bitmap.fingerprint()
    assert bitmap != [False, True, False, False]


def test_a_full_bitmap_has_the_fingerprint_of_one_filled_by_ranges():
    by_ranges = Bitmap(3)
    by_ranges.set_range(0, 2)
    by_ranges.set_range(2, 3)
    assert Bitmap(3, fill=True).fingerprint() == by_ranges.fingerprint()


def test_repr_shows_the_bits_of_small_maps_and_the_size_of_large_ones():
    assert repr(bitmap_of(4, [0, 3])) == "Bitmap('1001')"
    assert repr(Bitmap(65)) == "Bitmap(65 tracks)"


# -- a property: count and contents against a plain set ---------------------------------------


@st.composite
def sizes_and_operations(draw: st.DrawFn) -> tuple[int, list[tuple[object, ...]]]:
    size = draw(st.integers(1, 200))
    bound = st.integers(0, size)
    range_op = st.tuples(st.sampled_from(["set", "clear"]), bound, bound)
    whole_op = st.tuples(st.sampled_from(["set_all", "clear_all", "copy"]))
    other_op = st.tuples(
        st.sampled_from(["union", "difference"]),
        st.lists(st.tuples(bound, bound), max_size=4),
    )
    operations = draw(st.lists(st.one_of(range_op, whole_op, other_op), max_size=30))
    return size, operations


def check_against_model(bitmap: Bitmap, model: set[int], size: int, probe: int) -> None:
    assert len(bitmap) == size
    assert bitmap.count == len(model)
    assert bitmap.tracks() == sorted(model)
    assert bitmap.runs(0, size) == runs_of(model, 0, size)
    assert bitmap.find_next(probe) == min((t for t in model if t >= probe), default=-1)
    low, high = min(probe, size - probe), max(probe, size - probe)
    window = {t for t in model if low <= t < high}
    assert bitmap.count_range(low, high) == len(window)
    assert bitmap.any_in(low, high) == bool(window)
    assert bitmap == bitmap_of(size, model)
    assert bitmap.fingerprint() == bitmap_of(size, model).fingerprint()


@given(sizes_and_operations(), st.data())
def test_count_and_contents_match_a_set_after_any_sequence_of_range_operations(case, data):
    size, operations = case
    bitmap, model = Bitmap(size), set()
    for operation in operations:
        kind = operation[0]
        if kind in ("set", "clear"):
            _, a, b = operation
            start, stop = min(a, b), max(a, b)
            if kind == "set":
                bitmap.set_range(start, stop)
                model |= set(range(start, stop))
            else:
                bitmap.clear_range(start, stop)
                model -= set(range(start, stop))
        elif kind == "set_all":
            bitmap.set_all()
            model = set(range(size))
        elif kind == "clear_all":
            bitmap.clear_all()
            model = set()
        elif kind == "copy":
            previous = bitmap
            bitmap = bitmap.copy()
            previous.clear_all()  # the copy must not share bits with its original
        else:
            _, ranges = operation
            other_model = {t for a, b in ranges for t in range(min(a, b), max(a, b))}
            other = bitmap_of(size, other_model)
            if kind == "union":
                bitmap, model = bitmap.union(other), model | other_model
            else:
                bitmap, model = bitmap.difference(other), model - other_model
        check_against_model(bitmap, model, size, data.draw(st.integers(0, size), label="probe"))


# -- a 1 TiB volume's bitmap -------------------------------------------------------------------


def test_a_16m_track_bitmap_is_filled_cleared_in_ranges_and_searched():
    n = TIB_TRACKS_64K
    bitmap = Bitmap(n, fill=True)
    assert (len(bitmap), bitmap.count, bitmap.find_next(0), bitmap.find_next(n - 1)) == (
        n,
        n,
        0,
        n - 1,
    )
    bitmap.clear_range(0, n // 2)
    bitmap.clear_range(n // 2 + 10, n - 1)
    assert bitmap.count == 11
    assert bitmap.runs(0, n) == [(n // 2, n // 2 + 10), (n - 1, n)]
    assert bitmap.lowest_runs(12) == [(n // 2, n // 2 + 10), (n - 1, n)]
    assert bitmap.lowest_runs(3) == [(n // 2, n // 2 + 3)]
    assert (bitmap.find_next(0), bitmap.find_next(n // 2 + 10)) == (n // 2, n - 1)
    assert (bitmap.any_in(0, n // 2), bitmap.count_range(n // 2, n)) == (False, 11)
    bitmap.clear_range(0, n)
    assert (bitmap.count, bitmap.find_next(0), bitmap.runs(0, n)) == (0, -1, [])
    bitmap.set_range(n - 3, n)
    bitmap.set_range(5, 6)
    assert (bitmap.count, bitmap.tracks()) == (4, [5, n - 3, n - 2, n - 1])
    assert bitmap.union(Bitmap(n, fill=True)).count == n
    assert bitmap.difference(Bitmap(n, fill=True)).count == 0
    bitmap.set_all()
    assert bitmap == Bitmap(n, fill=True)
    bitmap.clear_all()
    assert bitmap == Bitmap(n)
