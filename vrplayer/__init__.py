"""vrplayer — a 360° VR screening player.

Data flows one way: media (open, probe, decode) → clock/sync → render (textures, projection, shaders) →
display (desktop | offscreen), with audio (decode → mix → output) beside it; `player` wires them together.
"""

import os as _os
import sys as _sys

__version__ = "0.1.0"

if _sys.platform.startswith("linux"):
    # One GL platform for every display: EGL works headless (surfaceless) and in a window (glfw's EGL context
    # API on X11), so PyOpenGL must load through EGL before anything imports it.
    _os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
