"""An OpenGL 3.3 core context on Mesa's surfaceless EGL platform: no window, no X server. The offscreen display
draws into one; the headset hands one to the OpenXR runtime (XR_MNDX_egl_enable)."""

from __future__ import annotations

import ctypes

from vrplayer.errors import DisplayUnavailable

_EGL_PLATFORM_SURFACELESS_MESA = 0x31DD


class SurfacelessContext:
    def __init__(self, what: str, error: type[DisplayUnavailable] = DisplayUnavailable):
        """what: whose context it is, for the messages ("offscreen rendering", "the headset"); error: the
        DisplayUnavailable kind to raise, one line saying what to install."""
        try:
            from OpenGL import EGL
        except ImportError as exc:  # pragma: no cover - missing libEGL
            raise error(f"no EGL library for {what} ({exc}); install libegl1 and Mesa") from None
        self._EGL, self._error, self._what = EGL, error, what
        self.display = self.context = self.config = None
        try:
            self.display = EGL.eglGetPlatformDisplayEXT(_EGL_PLATFORM_SURFACELESS_MESA, EGL.EGL_DEFAULT_DISPLAY, None)
            major, minor = EGL.EGLint(), EGL.EGLint()
            if not self.display or not EGL.eglInitialize(self.display, ctypes.pointer(major), ctypes.pointer(minor)):
                raise error(f"EGL has no surfaceless display for {what}; install Mesa's EGL (libegl-mesa0)")
            EGL.eglBindAPI(EGL.EGL_OPENGL_API)
            self.config = EGL.EGLConfig()
            count = EGL.EGLint()
            attrs = (EGL.EGLint * 5)(EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT, EGL.EGL_SURFACE_TYPE, EGL.EGL_PBUFFER_BIT, EGL.EGL_NONE)
            EGL.eglChooseConfig(self.display, attrs, ctypes.pointer(self.config), 1, ctypes.pointer(count))
            if not count.value:
                raise error(f"EGL offers no OpenGL configuration for {what}; update Mesa")
            context_attrs = (EGL.EGLint * 7)(
                EGL.EGL_CONTEXT_MAJOR_VERSION, 3, EGL.EGL_CONTEXT_MINOR_VERSION, 3,
                EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL.EGL_NONE)
            self.context = EGL.eglCreateContext(self.display, self.config, EGL.EGL_NO_CONTEXT, context_attrs)
            if not self.context:
                raise error(f"EGL could not create an OpenGL 3.3 core context for {what}; update Mesa")
            self.make_current()
        except DisplayUnavailable:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise error(f"OpenGL (EGL) is not available for {what} ({exc}); install Mesa's EGL (libegl1 libegl-mesa0)") from None

    def make_current(self) -> None:
        EGL = self._EGL
        if not EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, self.context):
            raise self._error(f"EGL could not make the GL context for {self._what} current")

    def close(self) -> None:
        EGL = self._EGL
        if self.display:
            EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
            if self.context:
                EGL.eglDestroyContext(self.display, self.context)
            EGL.eglTerminate(self.display)
        self.display = self.context = None
