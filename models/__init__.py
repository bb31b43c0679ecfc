"""flashsim's semantics of FlashCopy (point-in-time copy), with no notion of time.

Glossary (names used everywhere, chosen once):
- **volume**: `tracks` x `track_size` bytes of real data on a backend (memory or sparse file).
- **track**: the unit a relationship copies (DS8000 fixed-block track: 64 KiB by default).
- **relationship**: source -> target, created by **establish**; its **bitmap** has a set bit
  for every track the target still reads through the source (not yet copied).
- **copy-before-write**: a write to a source first copies the old track to targets that need it.
- **background copy**: copies set tracks lowest first, below host I/O (NOCOPY: none).
- **withdraw** ends a relationship; **refresh** takes a new point in time of an incremental one;
  **reverse** restores the source from the target and flips the direction.
- **step**: one atomic action of an in-flight operation (`flashsim.models.rules.steps`); the
  simulator and the model checker drive the same steps the sequential executor runs.
"""

from flashsim.models.errors import (
    AddressError,
    EstablishError,
    FlashCopyError,
    OpLogError,
    OutOfSpaceError,
    RelationshipError,
    RelationshipFailedError,
    VolumeError,
    WriteInhibitedError,
)
from flashsim.models.ops import Establish, apply
from flashsim.models.rules.steps import DS8000_RULES, Rules
from flashsim.models.state.backend import Backend, MemoryBackend, SparseFileBackend, file_backend_in
from flashsim.models.state.bitmap import Bitmap
from flashsim.models.state.relationship import DS8000, Profile, Relationship
from flashsim.models.system import System

__all__ = [
    "DS8000",
    "DS8000_RULES",
    "AddressError",
    "Backend",
    "Bitmap",
    "Establish",
    "EstablishError",
    "FlashCopyError",
    "MemoryBackend",
    "OpLogError",
    "OutOfSpaceError",
    "Profile",
    "Relationship",
    "RelationshipError",
    "RelationshipFailedError",
    "Rules",
    "SparseFileBackend",
    "System",
    "VolumeError",
    "WriteInhibitedError",
    "apply",
    "file_backend_in",
]
