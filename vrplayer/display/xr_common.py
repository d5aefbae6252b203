"""What the OpenXR display's parts share: its one error, the check of a raw call's result, loading pyopenxr, and the
small types the display hands out."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from vrplayer.errors import DisplayUnavailable

log = logging.getLogger("vrplayer.display.xr")


class XrUnavailable(DisplayUnavailable):
    """No OpenXR runtime, no headset, or the session cannot start: one line saying which."""


def check(xr, result) -> None:
    """Raise the exception pyopenxr has for a failed raw call's result."""
    if result.value < 0:
        raise xr.check_result(result)


def load_xr():
    """Import pyopenxr without letting it switch PyOpenGL to GLX (its Linux platform module does that on import)."""
    if "xr" in sys.modules:
        return sys.modules["xr"]
    import OpenGL.platform as gl_platform
    from OpenGL import EGL  # noqa: F401  (loaded first, so pyopenxr's EGL handle types are the ones we create)

    platform = gl_platform.PLATFORM
    try:
        import xr
    except ImportError as exc:
        raise XrUnavailable(f"OpenXR support is not installed ({exc}); install pyopenxr (pip install pyopenxr)") from None
    finally:
        gl_platform.PLATFORM = platform
    return xr


class StderrToLog:
    """Collects what native code (the OpenXR loader) prints on fd 2 while inside, and logs it at debug level: the
    loader's own multi-line complaints would bury our one-line message."""

    def __enter__(self):
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = tempfile.TemporaryFile()
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        for line in self._file.read().decode(errors="replace").splitlines():
            log.debug("openxr loader: %s", line)
        self._file.close()


@dataclass
class XrFrame:
    """The frame begun by `wait_frame`. One object, updated in place each frame."""

    display_time: int = 0  # XrTime (ns) when this frame's pictures will be shown
    display_period: int = 0  # ns between frames
    should_render: bool = False


@dataclass(frozen=True)
class HeadPose:
    """The head's orientation (our conventions, degrees, recenter applied) at a frame's predicted display time."""

    yaw: float
    pitch: float
    roll: float
    display_time: int  # XrTime, ns
    monotonic: float | None  # the same instant on time.monotonic()'s clock, when the runtime can convert it
    rotation: np.ndarray  # camera → world, our axes


@dataclass
class FrameTimes:
    """Mean milliseconds per frame spent in each part of the loop (wall clock), and CPU time of the whole loop."""

    frames: int = 0
    wait_ms: float = 0.0  # xrWaitFrame + xrBeginFrame (mostly the runtime pacing us)
    render_ms: float = 0.0  # locate views, acquire/wait/release images, the draw callbacks
    end_ms: float = 0.0  # xrEndFrame
    cpu_ms: float = 0.0  # this thread's CPU time over the three parts


def address(struct) -> ctypes.c_void_p:
    """A struct's address for a `next` chain (pyopenxr's helper takes a ctypes.pointer for the wrong address)."""
    return ctypes.cast(ctypes.pointer(struct), ctypes.c_void_p)


def describe(exc) -> str:
    return type(exc).__name__.removesuffix("Error") or str(exc)


def text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def say_eyes(offsets, fovs, said: float) -> float:
    """Log the eyes' distance apart and their fields of view when first known, and when the wearer changes the
    distance (by over a millimetre); returns the distance said (mm)."""
    import math

    apart = 1000 * float(np.linalg.norm(offsets[0] - offsets[-1])) if len(offsets) > 1 else 0.0
    if abs(apart - said) <= 1.0:
        return said
    log.info("headset eyes: %.1f mm apart; fields of view (left, right, up, down) %s degrees", apart,
             ", ".join("(%s)" % ", ".join(f"{math.degrees(a):.1f}" for a in fov) for fov in fovs))
    return apart


def monotonic_of(xr, instance, extensions, xr_time: int) -> float | None:
    """An XrTime on time.monotonic()'s clock (XR_KHR_convert_timespec_time), None when the runtime cannot say."""
    if not xr_time or "XR_KHR_convert_timespec_time" not in extensions or instance is None:
        return None
    try:
        ts = xr.convert_time_to_timespec_time_khr(instance, xr_time)
    except xr.XrException:
        return None
    return ts.tv_sec + ts.tv_nsec * 1e-9
