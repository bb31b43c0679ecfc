"""The one error hierarchy of flashsim: every rejected operation raises a child of
`FlashCopyError` whose message names the volume, relationship, offset or key at fault.

A rejected operation changes nothing (docs/semantics.md, rule 13); the only documented
exception is a space-efficient relationship with the `fail_relationship` policy, which fails
as it must (rule 12). The errors of each operation: docs/oplog.md, "Errors".
"""


class FlashCopyError(Exception):
    """Base of every error an operation, an op log or a scenario can raise."""


class VolumeError(FlashCopyError):
    """Unknown volume, a volume that exists already, or an impossible geometry."""


class AddressError(FlashCopyError):
    """An I/O whose offset or length falls outside its volume (or is not positive)."""


class EstablishError(FlashCopyError):
    """An illegal establish: id in use, sizes differ, target already a target, cycle, limit."""


class RelationshipError(FlashCopyError):
    """An operation on a relationship that does not exist or does not allow it."""


class WriteInhibitedError(FlashCopyError):
    """A write to a target whose relationship inhibits target writes."""


class OutOfSpaceError(FlashCopyError):
    """A space-efficient target has no room left for a track it must hold."""


class RelationshipFailedError(FlashCopyError):
    """I/O to the target of a relationship that has failed (out of space)."""


class VolumeOfflineError(FlashCopyError):
    """I/O to the target of a prepared or stopped SVC mapping (the target is offline)."""


class UnsupportedOperationError(FlashCopyError):
    """An operation the system's profile does not offer (e.g. `snapshot` on a DS8000)."""


class OpLogError(FlashCopyError):
    """A malformed op-log line; `line` counts the file's lines from 1."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
