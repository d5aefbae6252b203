"""GLSL sources live as files in the project's `shaders/` folder and are loaded by name."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from OpenGL import GL

from vrplayer.errors import PlayerError


def shader_dir() -> Path:
    override = os.environ.get("VRPLAYER_SHADERS")
    if override:
        return Path(override)
    # The package sits beside shaders/ in the source tree (and installs; see pyproject's data files).
    here = Path(__file__).resolve().parents[2] / "shaders"
    if here.is_dir():
        return here
    import sys

    return Path(sys.prefix) / "share" / "vrplayer" / "shaders"


@lru_cache(maxsize=None)
def source(name: str) -> str:
    path = shader_dir() / name
    try:
        return path.read_text()
    except OSError:
        raise PlayerError(f"shader '{name}' not found in {path.parent}; reinstall vrplayer or set VRPLAYER_SHADERS") from None


def _with_defines(text: str, defines: tuple[str, ...]) -> str:
    """The source with `#define NAME` lines inserted after its #version line (which must stay first)."""
    if not defines:
        return text
    first, _, rest = text.partition("\n")
    return "\n".join([first, *(f"#define {name}" for name in defines), rest])


def _compile(kind, name: str, defines: tuple[str, ...] = ()) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, _with_defines(source(name), defines))
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        message = GL.glGetShaderInfoLog(shader).decode(errors="replace").strip()
        GL.glDeleteShader(shader)
        raise PlayerError(f"shader {name} does not compile: {message.splitlines()[0] if message else 'no log'}")
    return shader


def program(vertex: str, fragment: str, defines: tuple[str, ...] = ()) -> int:
    """Compile and link two shader files into a program; `defines` are #define'd in the fragment shader (builds of
    one shader for different modes)."""
    shaders = [_compile(GL.GL_VERTEX_SHADER, vertex), _compile(GL.GL_FRAGMENT_SHADER, fragment, defines)]
    prog = GL.glCreateProgram()
    for s in shaders:
        GL.glAttachShader(prog, s)
    GL.glLinkProgram(prog)
    for s in shaders:
        GL.glDeleteShader(s)
    if not GL.glGetProgramiv(prog, GL.GL_LINK_STATUS):
        message = GL.glGetProgramInfoLog(prog).decode(errors="replace").strip()
        raise PlayerError(f"shaders {vertex} + {fragment} do not link: {message.splitlines()[0] if message else 'no log'}")
    return prog


def uniforms(prog: int, *names: str) -> dict[str, int]:
    return {name: GL.glGetUniformLocation(prog, name) for name in names}
