"""A FlashCopy relationship and the model profile that bounds what may be established."""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.models.ops import Establish
from flashsim.models.state.bitmap import Bitmap


@dataclass(frozen=True, slots=True)
class Profile:
    """Limits of a storage system model. DS8000: 12 targets per source."""

    name: str = "ds8000"
    max_targets_per_source: int = 12


DS8000 = Profile()


@dataclass(slots=True, eq=False)
class Relationship:
    """Source -> target with a bitmap of tracks not yet copied (set = the target still reads
    that track through the source). Incremental relationships record changes on both sides;
    space-efficient ones count allocated target tracks."""

    id: str
    source: str
    target: str
    options: Establish
    bitmap: Bitmap
    source_changes: Bitmap | None = None
    target_changes: Bitmap | None = None
    allocated: Bitmap | None = None
    failed: bool = False

    @property
    def persistent(self) -> bool:
        return self.options.persistent or self.options.incremental

    @property
    def ends_when_copied(self) -> bool:
        """Rule 5: non-persistent with background copy: ends when its bitmap empties."""
        return self.options.background_copy and not self.persistent

    def recorded(self) -> Bitmap:
        """Tracks changed on either side since the last point in time (incremental only)."""
        assert self.source_changes is not None and self.target_changes is not None
        return self.source_changes.union(self.target_changes)

    def clone(self) -> Relationship:
        return Relationship(
            self.id,
            self.source,
            self.target,
            self.options,
            self.bitmap.copy(),
            None if self.source_changes is None else self.source_changes.copy(),
            None if self.target_changes is None else self.target_changes.copy(),
            None if self.allocated is None else self.allocated.copy(),
            self.failed,
        )

    def fingerprint(self) -> tuple[object, ...]:
        return (
            self.id,
            self.source,
            self.target,
            self.options,
            self.bitmap.fingerprint(),
            None if self.source_changes is None else self.source_changes.fingerprint(),
            None if self.target_changes is None else self.target_changes.fingerprint(),
            None if self.allocated is None else self.allocated.fingerprint(),
            self.failed,
        )
