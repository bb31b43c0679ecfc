"""A FlashCopy relationship and the model profile that bounds what may be established."""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.models.limits import (
    DS8000_MAX_TARGETS_PER_SOURCE,
    ROW_MAX_SNAPSHOTS_PER_ORIGIN,
    SVC_MAX_MAPPINGS_PER_SOURCE,
)
from flashsim.models.ops import Establish
from flashsim.models.state.bitmap import Bitmap


@dataclass(frozen=True, slots=True)
class Profile:
    """A storage system model: its `design` chooses the rules (`ds8000`, `svc` or `row`;
    `flashsim.models.rules.profiles`), with its limits. DS8000: 12 targets per source; SVC:
    256 mappings per source."""

    name: str = "ds8000"
    max_targets_per_source: int = DS8000_MAX_TARGETS_PER_SOURCE
    design: str = "ds8000"


DS8000 = Profile()
SVC = Profile("svc", SVC_MAX_MAPPINGS_PER_SOURCE, "svc")
ROW = Profile("row", ROW_MAX_SNAPSHOTS_PER_ORIGIN, "row")
PROFILES = {p.name: p for p in (DS8000, SVC, ROW)}

# SVC mapping states a relationship stores (None: a DS8000 relationship or a ROW snapshot).
# idle_or_copied is not stored: it is a started mapping with nothing left to copy.
PREPARED, COPYING, STOPPED = "prepared", "copying", "stopped"
SUSPENDED = "suspended"  # SVC: a copying mapping whose bitmap is unreachable (rule S9)


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
    state: str | None = None  # SVC mapping state (PREPARED, COPYING, STOPPED, SUSPENDED)

    @property
    def persistent(self) -> bool:
        return self.options.persistent or self.options.incremental

    @property
    def ends_when_copied(self) -> bool:
        """Rule 5: non-persistent with background copy: ends when its bitmap empties (SVC:
        an autodelete mapping, rule S5)."""
        if self.state is not None:  # a suspended mapping ends only once resumed
            return self.options.autodelete and self.state != SUSPENDED
        return self.options.background_copy and not self.persistent

    @property
    def linked(self) -> bool:
        """False for a prepared or stopped SVC mapping: its target is offline and reads
        through nothing; it is out of its source's cascade."""
        return self.state is None or self.state in (COPYING, SUSPENDED)

    @property
    def mapping_state(self) -> str | None:
        """The SVC mapping state as IBM names it (None outside the SVC profile)."""
        if self.state == COPYING and not self.bitmap.count:
            return "idle_or_copied"
        return self.state

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
            self.state,
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
            self.state,
        )
