"""A volume: `tracks` x `track_size` bytes of physical storage on a backend."""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.models.errors import AddressError
from flashsim.models.limits import MAX_IO_BYTES, MAX_IO_TRACKS, io_limit_problem
from flashsim.models.state.backend import Backend


@dataclass(slots=True, eq=False)
class Volume:
    """A named volume. What it *reads as* (its image) is the system's business: a target
    reads uncopied tracks through its source; `backend` holds only what is physically here.
    `consistent` is False after a withdraw or fast reverse left tracks it never received."""

    name: str
    tracks: int
    track_size: int
    backend: Backend
    consistent: bool = True

    @property
    def size_bytes(self) -> int:
        return self.tracks * self.track_size

    def track_range(self, offset: int, length: int) -> tuple[int, int]:
        """Tracks [first, end) that bytes [offset, offset+length) touch; raises AddressError
        if the range is empty or falls outside the volume."""
        if offset < 0:
            raise AddressError(f"volume {self.name}: offset {offset} is negative")
        if length < 1:
            raise AddressError(f"volume {self.name}: length {length} is below 1")
        if offset + length > self.tracks * self.track_size:  # (size_bytes, without the call)
            raise AddressError(
                f"volume {self.name}: bytes {offset}..{offset + length - 1} pass the end of the "
                f"volume ({self.size_bytes} bytes)"
            )
        ts = self.track_size
        first, end = offset // ts, (offset + length - 1) // ts + 1
        if length > MAX_IO_BYTES or end - first > MAX_IO_TRACKS:  # the limits' test, inlined
            problem = io_limit_problem(length, end - first)
            raise AddressError(f"volume {self.name}: I/O at offset {offset}: {problem}")
        return first, end
