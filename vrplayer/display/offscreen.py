"""Offscreen display: an EGL surfaceless context (Mesa) rendering into a framebuffer object.

No window, no X server: for tests, snapshots and benchmarks. Context creation takes ≈ 0.2 s on llvmpipe.
"""

from __future__ import annotations

import ctypes
import time

from vrplayer.display.base import InputEvent, read_framebuffer
from vrplayer.errors import DisplayUnavailable

_EGL_PLATFORM_SURFACELESS_MESA = 0x31DD


class OffscreenDisplay:
    name = "offscreen"
    fullscreen = False

    def __init__(self, size: tuple[int, int] = (1280, 720)):
        try:
            from OpenGL import EGL, GL
        except ImportError as exc:  # pragma: no cover - missing libEGL
            raise DisplayUnavailable(f"no EGL library for offscreen rendering ({exc}); install libegl1 and Mesa") from None
        self._EGL, self._GL = EGL, GL
        self._dpy = self._context = None
        try:
            self._dpy = EGL.eglGetPlatformDisplayEXT(_EGL_PLATFORM_SURFACELESS_MESA, EGL.EGL_DEFAULT_DISPLAY, None)
            major, minor = EGL.EGLint(), EGL.EGLint()
            if not self._dpy or not EGL.eglInitialize(self._dpy, ctypes.pointer(major), ctypes.pointer(minor)):
                raise DisplayUnavailable("EGL has no surfaceless display; install Mesa's EGL (libegl-mesa0)")
            EGL.eglBindAPI(EGL.EGL_OPENGL_API)
            attrs = (EGL.EGLint * 7)(
                EGL.EGL_CONTEXT_MAJOR_VERSION, 3, EGL.EGL_CONTEXT_MINOR_VERSION, 3,
                EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL.EGL_NONE,
            )
            config = EGL.EGLConfig()
            count = EGL.EGLint()
            cfg_attrs = (EGL.EGLint * 3)(EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT, EGL.EGL_NONE)
            EGL.eglChooseConfig(self._dpy, cfg_attrs, ctypes.pointer(config), 1, ctypes.pointer(count))
            self._context = EGL.eglCreateContext(self._dpy, config if count.value else None, EGL.EGL_NO_CONTEXT, attrs)
            if not self._context:
                raise DisplayUnavailable("EGL could not create an OpenGL 3.3 core context; update Mesa")
            if not EGL.eglMakeCurrent(self._dpy, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, self._context):
                raise DisplayUnavailable("EGL could not make the offscreen context current")
        except DisplayUnavailable:
            self._terminate()
            raise
        except Exception as exc:
            self._terminate()
            raise DisplayUnavailable(f"offscreen OpenGL is not available here ({exc}); install Mesa's EGL (libegl1 libegl-mesa0)") from None
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
        if self._fbo is not None and self._context:
            self._GL.glDeleteFramebuffers(1, [self._fbo])
            self._GL.glDeleteRenderbuffers(1, [self._colour])
            self._fbo = None
        self._terminate()

    def _terminate(self) -> None:
        EGL = self._EGL
        if self._dpy:
            EGL.eglMakeCurrent(self._dpy, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
            if self._context:
                EGL.eglDestroyContext(self._dpy, self._context)
            EGL.eglTerminate(self._dpy)
        self._dpy = self._context = None
