"""Known upstream differences of QEMU from flashsim's semantics, each recognised in a
difference found and documented with its reproducer (docs/conformance.md)."""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.conform.runner import Difference
from flashsim.models.ops import Read


@dataclass(frozen=True)
class Known:
    name: str
    versions: str  # the QEMU versions that show it
    fixed_in: tuple[int, int]  # the first (major, minor) without it
    summary: str


SNAPSHOT_READ_ACROSS_CLUSTERS = Known(
    name="snapshot-read-across-clusters",
    versions="QEMU 7.0 to 7.2",
    fixed_in=(8, 0),
    summary=(
        "a read of the snapshot-access node that starts on a cluster copy-before-write has "
        "copied and runs into one it has not is served from the source for the copied part, "
        "so it shows data written after the point in time (hbitmap_status() returned false for "
        "a dirty first bit followed by a clean one: upstream commit 'hbitmap: fix "
        "hbitmap_status() return value for first dirty bit case', in QEMU 8.0)"
    ),
)

KNOWN = (SNAPSHOT_READ_ACROSS_CLUSTERS,)


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) of a version string such as "7.2.22"; (0, 0) if it has none."""
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return 0, 0


def classify(difference: Difference, qemu_version: str) -> Known | None:
    """The known difference `difference` is an instance of, on this QEMU, or None."""
    if parse_version(qemu_version) >= SNAPSHOT_READ_ACROSS_CLUSTERS.fixed_in:
        return None
    op = difference.op
    if (
        difference.error is None
        and difference.target_of is not None
        and isinstance(op, Read)
        and difference.track_size > 0
        and op.offset // difference.track_size
        != (op.offset + op.length - 1) // difference.track_size
    ):
        return SNAPSHOT_READ_ACROSS_CLUSTERS
    return None
