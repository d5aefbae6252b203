"""Displays: where rendered pictures go. Every display owns a GL context the shared renderer draws into.

`open_display(kind)` picks a backend: "xr" (a headset through OpenXR), "desktop" (a glfw window), "offscreen" (EGL
surfaceless, for tests, snapshots and benchmarks), or "auto": the headset when there is one, else the desktop
window (saying why in one line).
"""

from __future__ import annotations

from vrplayer import log
from vrplayer.display.base import Display, InputEvent  # noqa: F401
from vrplayer.errors import DisplayUnavailable

_log = log.get("display")


def open_display(kind: str, size: tuple[int, int] = (1280, 720), title: str = "vrplayer", fullscreen: bool = False,
                 mirror: bool = False) -> Display:
    """mirror: with a headset, also show the left eye in a desktop window (for whoever runs the screening)."""
    if kind == "offscreen":
        from vrplayer.display.offscreen import OffscreenDisplay

        return OffscreenDisplay(size)
    if kind in ("xr", "auto"):
        try:
            return _open_headset(size, title, mirror)
        except DisplayUnavailable as exc:
            if kind == "xr":
                raise
            _log.info("%s; showing the desktop window", str(exc).split(";")[0])
    if kind in ("desktop", "auto"):
        from vrplayer.display.desktop import DesktopDisplay

        return DesktopDisplay(size, title, fullscreen)
    raise ValueError(f"unknown display '{kind}'")


def _open_headset(size, title, mirror):
    from vrplayer.display.xr import XrDisplay

    headset = XrDisplay(app_name=title)
    if mirror:
        from vrplayer.display.mirror import Mirror

        try:
            headset.mirror = Mirror(size, f"{title} mirror")
        except DisplayUnavailable as exc:
            _log.warning("no mirror window: %s", exc)
        headset.make_current()
    return headset
