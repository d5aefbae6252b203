"""What the OpenXR display's parts share: its one error, and the check of a raw call's result."""

from __future__ import annotations

from vrplayer.errors import DisplayUnavailable


class XrUnavailable(DisplayUnavailable):
    """No OpenXR runtime, no headset, or the session cannot start: one line saying which."""


def check(xr, result) -> None:
    """Raise the exception pyopenxr has for a failed raw call's result."""
    if result.value < 0:
        raise xr.check_result(result)
