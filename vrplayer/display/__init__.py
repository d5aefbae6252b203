"""Displays: where rendered pictures go. Every display owns a GL context the shared renderer draws into.

`open_display(kind)` picks a backend: "desktop" (a glfw window), "offscreen" (EGL surfaceless, for tests, snapshots
and benchmarks), or "auto" (the desktop window).
"""

from __future__ import annotations

from vrplayer.display.base import Display, InputEvent  # noqa: F401


def open_display(kind: str, size: tuple[int, int] = (1280, 720), title: str = "vrplayer", fullscreen: bool = False) -> Display:
    if kind == "offscreen":
        from vrplayer.display.offscreen import OffscreenDisplay

        return OffscreenDisplay(size)
    if kind in ("desktop", "auto"):
        from vrplayer.display.desktop import DesktopDisplay

        return DesktopDisplay(size, title, fullscreen)
    raise ValueError(f"unknown display '{kind}'")
