"""Recognising the known upstream differences (`flashsim.conform.known`) in a difference."""

from __future__ import annotations

from flashsim.conform.known import SNAPSHOT_READ_ACROSS_CLUSTERS, classify, parse_version
from flashsim.conform.runner import Difference
from flashsim.models.ops import Read

T = 65536


def _difference(
    offset: int, length: int, target_of: str | None = "r", error: str | None = None
) -> Difference:
    return Difference(
        7, Read("snap", offset, length), b"A", b"N", error=error, target_of=target_of, track_size=T
    )


def test_a_target_read_across_clusters_on_qemu_before_8_is_the_known_one() -> None:
    assert classify(_difference(0, 2 * T), "7.2.22") is SNAPSHOT_READ_ACROSS_CLUSTERS
    assert classify(_difference(T - 1, 2), "7.0.0") is SNAPSHOT_READ_ACROSS_CLUSTERS


def test_anything_else_is_not() -> None:
    assert classify(_difference(0, 2 * T), "8.0.0") is None  # fixed there
    assert classify(_difference(0, T), "7.2.22") is None  # one cluster
    assert classify(_difference(T, 4), "7.2.22") is None
    assert classify(_difference(0, 2 * T, target_of=None), "7.2.22") is None  # a source read
    assert classify(_difference(0, 2 * T, error="QmpError: x"), "7.2.22") is None


def test_versions_are_major_and_minor() -> None:
    assert parse_version("7.2.22") == (7, 2)
    assert parse_version("10.1") == (10, 1)
    assert parse_version("") == (0, 0)
    assert parse_version("x.y") == (0, 0)
