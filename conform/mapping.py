"""Which op-log operations the QEMU side can run, and why the rest are refused.

QEMU's copy-before-write filter copies a cluster of the filtered (source) node to its target
before a write changes it, and its snapshot-access node reads the point-in-time image (copied
clusters from the target, the rest from the source). The driver maps:

- `create`: an image file (raw or qcow2) under a format node, exported writable over NBD;
- `write`, `read`: an NBD write or read of the volume's export (a source's goes through its
  filter);
- `establish`, NOCOPY: a `copy-before-write` filter (file = source, target = target) and a
  `snapshot-access` node on it; the source's export moves to the filter, the target's to the
  snapshot-access node (read-only);
- `establish` with background copy: the same, plus a `blockdev-backup` job (`sync=full`) from
  the snapshot-access node to the target;
- `establish_group`: its members, one after another (nothing runs in between);
- `background_copy`: nothing, the job copies at its own pace; when flashsim's copy completes
  (rule 5) the job is waited for and the filter removed;
- `withdraw` (NOCOPY): the snapshot-access node and the filter removed.

`refusal` names what cannot be mapped. It reads the flashsim state before the operation, so a
refusal depends on what the log did so far (a write is refused only while its volume is a
target). The cluster size of QEMU's copy is at least 64 KiB (the larger of 64 KiB and the
target's cluster size), so tracks must be that size: a raw image's are 64 KiB, a qcow2 image's
are its cluster size, a power of two from 64 KiB to 2 MiB.
"""

from __future__ import annotations

import re

from flashsim.models.ops import (
    BackgroundCopy,
    Create,
    Establish,
    EstablishGroup,
    Op,
    Read,
    Refresh,
    Reverse,
    SetProfile,
    Withdraw,
    Write,
)
from flashsim.models.state.store import State

FORMATS = ("raw", "qcow2")
#: QEMU's smallest copy-before-write cluster (block-copy's default cluster size).
MIN_CLUSTER = 64 * 1024
#: qcow2's largest cluster size.
MAX_QCOW2_CLUSTER = 2 * 1024 * 1024


def track_sizes(image_format: str) -> str:
    """The track sizes an image format allows, in words."""
    if image_format == "raw":
        return f"{MIN_CLUSTER} (64 KiB)"
    return "a power of two from 65536 (64 KiB) to 2097152 (2 MiB)"


def _track_size_ok(track_size: int, image_format: str) -> bool:
    if image_format == "raw":
        return track_size == MIN_CLUSTER
    return MIN_CLUSTER <= track_size <= MAX_QCOW2_CLUSTER and track_size & (track_size - 1) == 0


def _partner(state: State, volume: str) -> str | None:
    """The relationship `volume` is in, as source or target, if any."""
    for rel in state.relationships.values():
        if volume in (rel.source, rel.target):
            return rel.id
    return None


def _establish(state: State, spec: Establish, group: set[str] | None = None) -> str | None:
    what = f"establish {spec.id}"
    if spec.incremental:
        return f"{what}: incremental relationships (refresh, reverse) have no QEMU counterpart"
    if spec.persistent:
        return (
            f"{what}: a persistent relationship has no QEMU counterpart (the filter ends with "
            "the copy)"
        )
    if spec.target_capacity_tracks is not None:
        return f"{what}: space-efficient targets (target_capacity_tracks) have no QEMU counterpart"
    for role, volume in (("source", spec.source), ("target", spec.target)):
        other = _partner(state, volume)
        if other is not None:
            return (
                f"{what}: {role} {volume!r} is already in relationship {other!r}; the QEMU "
                "driver maps one copy-before-write filter per volume (no cascade, one target "
                "per source)"
            )
        if group is not None and volume in group:
            return (
                f"{what}: {role} {volume!r} is in another member of the group; the QEMU "
                "driver maps one copy-before-write filter per volume"
            )
    return None


def refusal(state: State, op: Op, image_format: str) -> str | None:
    """Why `op` cannot run on the QEMU side in `state` (flashsim's state before it), naming
    the op; None if it can."""
    match op:
        case Create(volume, _, track_size):
            if not _track_size_ok(track_size, image_format):
                return (
                    f"create {volume!r}: track_size {track_size} is not a QEMU copy-before-write "
                    f"cluster size for {image_format} images (allowed: "
                    f"{track_sizes(image_format)})"
                )
        case Write(volume, _, _):
            for rel in state.relationships.values():
                if rel.target == volume:
                    return (
                        f"write to {volume!r}: it is the target of relationship {rel.id!r}, read "
                        "through QEMU's snapshot-access node, which is read-only (withdraw first)"
                    )
        case Establish():
            return _establish(state, op)
        case EstablishGroup(members):
            seen: set[str] = set()
            for member in members:
                problem = _establish(state, member, seen)
                if problem is not None:
                    return f"establish_group: {problem}"
                seen.update((member.source, member.target))
        case Withdraw(rel_id):
            ending = state.relationships.get(rel_id)
            if ending is not None and ending.options.background_copy and ending.bitmap.count:
                return (
                    f"withdraw {rel_id}: its background copy is not complete "
                    f"({ending.bitmap.count} "
                    "tracks left); QEMU's backup job copies at its own pace, so what the target "
                    "holds after the withdraw is not determined"
                )
        case Refresh(rel_id):
            return f"refresh {rel_id}: QEMU's copy-before-write has no incremental refresh"
        case Reverse(rel_id):
            return f"reverse {rel_id}: QEMU's copy-before-write has no reverse restore"
        case Read() | BackgroundCopy():
            pass
        case SetProfile(name) if name == "ds8000":
            pass
        case _:  # the other designs' operations: QEMU's filter is one copy-before-write
            name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(op).__name__).lower()
            return (
                f"{name}: QEMU's copy-before-write has no such operation (conform maps create, "
                "read, write, establish, establish_group, withdraw and background_copy of the "
                "ds8000 profile)"
            )
    return None
