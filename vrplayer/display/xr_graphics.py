"""The graphics binding: the GL context we draw in, handed to the runtime with xrCreateSession.

Our GL platform is EGL (PYOPENGL_PLATFORM=egl, see vrplayer/__init__.py), so when the runtime offers
XR_MNDX_egl_enable (Monado and runtimes built on it) we give it an EGL context of our own, surfaceless: no window, no
X server, the same context kind as the offscreen display. Otherwise (SteamVR on Linux offers only the Xlib binding of
XR_KHR_opengl_enable) we open a hidden glfw window with a GLX context and hand its Display, drawable and context to
the runtime; PyOpenGL stays on its EGL platform, whose GL entry points go through GLVND's dispatch and so reach
whichever context is current. On Windows the hidden window's WGL context goes through the Win32 binding.
"""

from __future__ import annotations

import ctypes
import os
import sys

from vrplayer.display.egl import SurfacelessContext
from vrplayer.display.xr_common import XrUnavailable

BINDINGS = ("egl", "glx", "wgl")


def choose_binding(graphics: str, offered: set[str]) -> str:
    """The binding to use: `graphics` ("auto", "egl", "glx", "wgl") checked against the runtime's extensions."""
    if "XR_KHR_opengl_enable" not in offered:
        raise XrUnavailable("the OpenXR runtime does not support OpenGL (XR_KHR_opengl_enable); vrplayer needs it")
    if graphics == "auto":
        if sys.platform == "win32":
            graphics = "wgl"
        else:
            graphics = "egl" if "XR_MNDX_egl_enable" in offered else "glx"
    if graphics == "egl" and "XR_MNDX_egl_enable" not in offered:
        raise XrUnavailable("the OpenXR runtime cannot use an EGL context (no XR_MNDX_egl_enable); use the GLX binding")
    if graphics not in BINDINGS:
        raise ValueError(f"unknown graphics binding {graphics!r}")
    return graphics


def binding_extensions(graphics: str) -> list[str]:
    """The instance extensions a binding needs."""
    wanted = ["XR_KHR_opengl_enable"]
    if graphics == "egl":
        wanted.append("XR_MNDX_egl_enable")
    return wanted


def create_context(graphics: str):
    """The GL context of a binding, made current; `binding(xr)` gives the struct for xrCreateSession."""
    return {"egl": _EglContext, "glx": _GlxContext, "wgl": _WglContext}[graphics]()


class _EglContext(SurfacelessContext):
    """Our own surfaceless EGL context, handed to the runtime through XR_MNDX_egl_enable."""

    def __init__(self):
        super().__init__("the headset", XrUnavailable)
        self._libegl = ctypes.CDLL("libEGL.so.1")

    def binding(self, xr):
        get_proc_address = ctypes.cast(self._libegl.eglGetProcAddress, xr.PFN_xrEglGetProcAddressMNDX)
        binding = xr.GraphicsBindingEGLMNDX(get_proc_address=get_proc_address, display=self.display, config=self.config, context=self.context)
        self._binding = binding  # the runtime reads it during xrCreateSession; keep it alive with us anyway
        return binding


class _HiddenGlfwContext:
    """A hidden glfw window with the platform's own GL context (GLX, WGL) to hand a runtime."""

    def __init__(self, kind: str):
        import glfw

        self._glfw = glfw
        if not glfw.init():
            raise XrUnavailable(f"cannot start glfw for the headset's OpenGL ({kind}) context")
        glfw.default_window_hints()
        glfw.window_hint(glfw.VISIBLE, glfw.FALSE)
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.CONTEXT_CREATION_API, glfw.NATIVE_CONTEXT_API)
        glfw.window_hint(glfw.DOUBLEBUFFER, glfw.FALSE)
        self.window = glfw.create_window(64, 64, "vrplayer (headset)", None, None)
        if not self.window:
            glfw.terminate()
            raise XrUnavailable(f"cannot create a {kind} context for the headset; check the GL drivers")
        self.make_current()

    def make_current(self) -> None:
        self._glfw.make_context_current(self.window)

    def close(self) -> None:
        if self.window:
            self._glfw.destroy_window(self.window)
            self.window = None
            self._glfw.terminate()


class _WglContext(_HiddenGlfwContext):
    """Windows: XR_KHR_opengl_enable's Win32 binding (the window's device context and its WGL context)."""

    def __init__(self):
        super().__init__("WGL")

    def binding(self, xr):
        glfw = self._glfw
        user32 = ctypes.windll.user32
        user32.GetDC.argtypes, user32.GetDC.restype = [ctypes.c_void_p], ctypes.c_void_p  # handles are 64-bit
        binding = xr.GraphicsBindingOpenGLWin32KHR()
        binding.h_dc = user32.GetDC(glfw.get_win32_window(self.window))
        binding.h_glrc = glfw.get_wgl_context(self.window)
        self._binding = binding
        return binding


class _GlxContext(_HiddenGlfwContext):
    """A hidden glfw window with a GLX context, for runtimes that take only XR_KHR_opengl_enable's Xlib binding."""

    def __init__(self):
        if not os.environ.get("DISPLAY"):
            raise XrUnavailable("the headset runtime needs an X display for OpenGL (DISPLAY is not set)")
        super().__init__("GLX")

    def binding(self, xr):
        glfw = self._glfw
        from OpenGL import GLX

        binding = xr.GraphicsBindingOpenGLXlibKHR()
        binding.x_display = ctypes.cast(glfw.get_x11_display(), type(binding.x_display))
        binding.glx_drawable = glfw.get_glx_window(self.window)
        binding.glx_context = ctypes.cast(glfw.get_glx_context(self.window), GLX.GLXContext)
        self._binding = binding
        return binding
