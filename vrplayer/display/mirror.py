"""The operator's window on a headset screening: what the viewer's left eye sees, in a desktop window.

It has its own GL context (a glfw window) and its own renderer, drawing the film frame on show with the head's
rotation at a fixed 90° horizontal FOV, at most 30 times a second so it never holds up the headset's frames. Its
keyboard is the operator's: the player reads it like a desktop window's.
"""

from __future__ import annotations

import time

from vrplayer.render import projection

MIRROR_FPS = 30.0
MIRROR_FOV = 90.0


class Mirror:
    def __init__(self, size: tuple[int, int], title: str):
        from vrplayer.display.desktop import DesktopDisplay
        from vrplayer.render.renderer import SphereRenderer

        self.window = DesktopDisplay(size, title, False, vsync=False)  # never wait for the monitor: the headset paces
        self.renderer = SphereRenderer()
        self._shown = None  # the frame last uploaded here
        self._next = 0.0

    def show(self, frame, layout, rotation) -> bool:
        """Draw `frame` (a VideoFrame, or None for black) seen with `rotation`; False when skipped (rate limit).
        Leaves the mirror's context current: the caller makes its own current again."""
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + 1.0 / MIRROR_FPS
        self.window.make_current()
        self.renderer.layout = layout
        if frame is not None and frame is not self._shown:
            self.renderer.upload(frame)
            self._shown = frame
        width, height = self.window.framebuffer_size()
        tx, ty = projection.tan_half_fov(MIRROR_FOV, width, height)
        self.renderer.draw_rays(rotation, (-tx, tx, -ty, ty), (0, 0, width, height), "left")
        self.window.present()
        return True

    def poll_events(self):
        return self.window.poll_events(0.0)

    def forget_frame(self) -> None:
        """Drop the reference to the frame shown (before its decoder is closed)."""
        self._shown = None

    def close(self) -> None:
        self.window.make_current()
        self.renderer.close()
        self.window.close()
