"""The small interface every display backend offers the player."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class InputEvent:
    """kind: "key" (name, shift), "click" (left button pressed), "release" (left button let go), "drag" (dx, dy in
    pixels, the button held), "move" (the pointer moved, no button), "scroll" (dy steps), "resize", "close";
    from a headset also "session", "presence" and "button" (name "select": a controller's button went down).
    Pointer events (click, release, drag, move) carry where the pointer is: x, y in framebuffer pixels from the top
    left (a timeline is clicked, a wipe follows the mouse)."""

    kind: str
    name: str = ""
    dx: float = 0.0
    dy: float = 0.0
    shift: bool = False
    x: float = 0.0
    y: float = 0.0


class Display(Protocol):
    name: str

    def framebuffer_size(self) -> tuple[int, int]: ...
    def poll_events(self, timeout: float = 0.0) -> list[InputEvent]:
        """Events since the last call, waiting up to `timeout` seconds for the first one."""
    def present(self) -> None: ...
    def should_close(self) -> bool: ...
    def set_fullscreen(self, on: bool) -> None: ...
    @property
    def fullscreen(self) -> bool: ...
    def read_pixels(self) -> np.ndarray:
        """The last drawn picture as (H, W, 3) uint8 RGB, top row first."""
    def close(self) -> None: ...


def read_framebuffer(width: int, height: int) -> np.ndarray:
    """Read the bound framebuffer's colour (bottom-up in GL) as a top-down RGB array."""
    from OpenGL import GL

    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
    data = GL.glReadPixels(0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
    return np.frombuffer(data, np.uint8).reshape(height, width, 3)[::-1].copy()
