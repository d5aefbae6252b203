"""Offscreen display: an EGL surfaceless context (Mesa) rendering into a framebuffer object.

No window, no X server: for tests, snapshots and benchmarks. Context creation takes ≈ 0.2 s on llvmpipe.
"""

from __future__ import annotations

import time

from vrplayer.display.base import InputEvent, read_framebuffer
from vrplayer.display.egl import SurfacelessContext
from vrplayer.errors import DisplayUnavailable


class OffscreenDisplay:
    name = "offscreen"
    fullscreen = False
    # No vsync paces it: a picture counts as shown when it is presented, so the loop presents a frame drawn ahead
    # at its moment (desktop_loop.render), not by however much sooner than usual it was drawn.
    unpaced = True

    def __init__(self, size: tuple[int, int] = (1280, 720)):
        from OpenGL import GL

        self._GL = GL
        self._gl = SurfacelessContext("offscreen rendering")
        self._fbo = self._colour = None
        self.resize(*size)

    def resize(self, width: int, height: int) -> None:
        GL = self._GL
        if self._fbo is not None:
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteRenderbuffers(1, [self._colour])
        self._size = (int(width), int(height))
        self._colour = GL.glGenRenderbuffers(1)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._colour)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, *self._size)
        self._fbo = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self._colour)
        if GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER) != GL.GL_FRAMEBUFFER_COMPLETE:
            raise DisplayUnavailable(f"cannot make a {width}x{height} offscreen framebuffer")

    def framebuffer_size(self) -> tuple[int, int]:
        return self._size

    def poll_events(self, timeout: float = 0.0) -> list[InputEvent]:
        if timeout > 0:
            time.sleep(timeout)
        return []

    def present(self) -> None:
        # Nothing to show: wait for the GPU so timings and read-backs see the finished picture.
        self._GL.glFinish()

    def should_close(self) -> bool:
        return False

    def set_fullscreen(self, on: bool) -> None:
        pass

    def read_pixels(self):
        return read_framebuffer(*self._size)

    def close(self) -> None:
        if self._fbo is not None and self._gl.context:
            self._GL.glDeleteFramebuffers(1, [self._fbo])
            self._GL.glDeleteRenderbuffers(1, [self._colour])
            self._fbo = None
        self._gl.close()
