"""Two pictures composed into one (shaders/compare.frag): a wipe, a split, a toggle between them, their difference.

Each picture is drawn first into a texture of its own at the viewport's size (`CutTarget`), by whoever draws it
(the sphere renderer, with the same view for both); the composite pass reads them texel by texel into the bound
framebuffer. Which columns of each texture the composite reads, per mode, is pure arithmetic (`columns_read`), so
a drawer can draw only those: a wipe or a split then costs one view's rasterising, not two.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from OpenGL import GL

from vrplayer.render import shaders

MODES = ("wipe", "split", "toggle", "difference")
_MODE_CODE = {name: code for code, name in enumerate(MODES)}
CUTS = ("A", "B")


@dataclass(frozen=True)
class Composition:
    """What the composite shows: the mode; the wipe's line as a fraction of the width (0: all B, 1: all A); the cut on
    show in toggle (0 A, 1 B); the difference's amplification."""

    mode: str = "wipe"
    wipe: float = 0.5
    shown: int = 0
    gain: float = 4.0


def wipe_line(fraction: float, width: int) -> int:
    """The wipe line's column: B's pixels start just after it, A's end before it; `width` when it is off the right
    edge (all A)."""
    return max(0, min(width, int(round(fraction * width))))


def split_halves(width: int) -> tuple[int, int, int]:
    """Split: (width of the left half, where A's half starts in A's texture, where B's starts in B's). Each half
    shows the middle of its cut's whole view, so both halves are centred on the view direction at the scale of the
    other modes."""
    left = width // 2
    return left, (width - left) // 2, (width - (width - left)) // 2


def columns_read(composition: Composition, width: int) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """For A and B: the columns (first, count) of its texture the composite reads, or None for none."""
    mode = composition.mode
    if mode == "wipe":
        line = wipe_line(composition.wipe, width)
        a = (0, line) if line > 0 else None
        b = (line + 1, width - line - 1) if line + 1 < width else None
        return a, b
    if mode == "split":
        left, shift_a, shift_b = split_halves(width)
        return (shift_a, left) if left > 0 else None, (shift_b, width - left)
    if mode == "toggle":
        return ((0, width), None) if composition.shown == 0 else (None, (0, width))
    if mode == "difference":
        return (0, width), (0, width)
    raise ValueError(f"unknown comparison mode {mode!r}")


def column_bounds(tan_bounds, width: int, columns: tuple[int, int]) -> tuple[float, float, float, float]:
    """The frustum (left, right, down, up tangents) of `columns` (first, count) of a view of `width` pixels with
    frustum `tan_bounds`: drawn into those columns alone, each pixel samples exactly what the whole view's would."""
    left, right, down, up = tan_bounds
    first, count = columns
    step = (right - left) / width
    return left + first * step, left + (first + count) * step, down, up


class CutTarget:
    """A colour texture with its framebuffer, that one cut's picture is drawn into."""

    def __init__(self):
        self.texture = int(GL.glGenTextures(1))
        self.framebuffer = int(GL.glGenFramebuffers(1))
        self.size = (0, 0)

    def ensure(self, size: tuple[int, int]) -> None:
        """Make the texture `size` (width, height), when it is not."""
        if tuple(size) == self.size:
            return
        self.size = (int(size[0]), int(size[1]))
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, *self.size, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, None)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAX_LEVEL, 0)
        previous = GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.framebuffer)
        GL.glFramebufferTexture2D(GL.GL_DRAW_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.texture, 0)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, int(previous))

    @contextmanager
    def drawing(self):
        """Draws inside go into this target; the framebuffer bound before (a window's, an offscreen one's) after."""
        previous = GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.framebuffer)
        try:
            yield
        finally:
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, int(previous))

    def clear(self) -> None:
        """Black (a cut with no picture at this moment); call inside `drawing`."""
        GL.glViewport(0, 0, *self.size)
        GL.glClearColor(0.0, 0.0, 0.0, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)

    def close(self) -> None:
        GL.glDeleteFramebuffers(1, [self.framebuffer])
        GL.glDeleteTextures([self.texture])


class ComparePass:
    def __init__(self):
        self._program = shaders.program("fullscreen.vert", "compare.frag")
        self._u = shaders.uniforms(self._program, "u_cut_a", "u_cut_b", "u_mode", "u_viewport", "u_line", "u_shift",
                                   "u_half", "u_shown", "u_gain")
        self._vao = GL.glGenVertexArrays(1)
        self.targets = (CutTarget(), CutTarget())

    def prepare(self, size: tuple[int, int]) -> None:
        """Both targets at the viewport's size (width, height)."""
        for target in self.targets:
            target.ensure(size)

    def compose(self, composition: Composition, viewport) -> None:
        """Compose the two targets into the viewport (x, y, w, h) of the bound framebuffer."""
        x, y, width, height = viewport
        left, shift_a, shift_b = split_halves(width)
        GL.glDisable(GL.GL_BLEND)
        GL.glViewport(x, y, width, height)
        GL.glUseProgram(self._program)
        u = self._u
        for unit, target in enumerate(self.targets):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, target.texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glUniform1i(u["u_cut_a"], 0)
        GL.glUniform1i(u["u_cut_b"], 1)
        GL.glUniform1i(u["u_mode"], _MODE_CODE[composition.mode])
        GL.glUniform4f(u["u_viewport"], x, y, width, height)
        GL.glUniform1i(u["u_line"], wipe_line(composition.wipe, width))
        GL.glUniform2i(u["u_shift"], shift_a, shift_b)
        GL.glUniform1i(u["u_half"], left)
        GL.glUniform1i(u["u_shown"], composition.shown)
        GL.glUniform1f(u["u_gain"], composition.gain)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)

    def close(self) -> None:
        for target in self.targets:
            target.close()
        GL.glDeleteVertexArrays(1, [self._vao])
        GL.glDeleteProgram(self._program)
