"""What the differential tests (engine against oracle) compare of one call."""

from flashsim.models.errors import FlashCopyError


def outcome(fn, *args):  # type: ignore[no-untyped-def]
    """('ok', value) or ('error', class name): what both implementations must agree on."""
    try:
        return ("ok", fn(*args))
    except FlashCopyError as error:
        return ("error", type(error).__name__)
