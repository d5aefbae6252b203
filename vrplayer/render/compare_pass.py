"""Two pictures composed into one: a wipe, a split, a toggle between them, their difference.

A wipe, a split and a toggle put each cut's pixels side by side, unchanged: each cut's part is drawn straight into
its columns of the bound framebuffer (`parts_drawn`: which columns of its whole view, and where they go), the wipe's
line cleared in between (`draw_wipe_line`) — one view's rasterising for both cuts, and no pass after it (on a
software GL a composite pass and a texture per cut cost as much again as the drawing).

The difference needs both pictures at every pixel: each is drawn into a texture of its own at the viewport's size
(`CutTarget`), by whoever draws it (the sphere renderer, with the same view for both), and the composite pass
(shaders/difference.frag) reads them texel by texel into the bound framebuffer. Which columns each mode reads is pure
arithmetic (`columns_read`).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from OpenGL import GL

from vrplayer.render import shaders
from vrplayer.render.renderer import fill_rectangle

MODES = ("wipe", "split", "toggle", "difference")
CUTS = ("A", "B")
LINE_COLOUR = (0.9, 0.9, 0.9)  # the wipe's line: light, but not white (a white picture still shows it)


@dataclass(frozen=True)
class Composition:
    """What the comparison shows: the mode; the wipe's line as a fraction of the width (0: all B, 1: all A); the cut on
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
    """For A and B: the columns (first, count) of its whole view that the picture shows, or None for none."""
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


def parts_drawn(composition: Composition, width: int) -> tuple[tuple[tuple[int, int], int] | None, ...]:
    """For A and B in a wipe, a split or a toggle: ((first, count) columns of its whole view, the column of the
    viewport they go to), or None where it shows nothing."""
    if composition.mode == "difference":
        raise ValueError("the difference is composed from both pictures whole (columns_read)")
    left = split_halves(width)[0] if composition.mode == "split" else None
    places = (0, left) if left is not None else None
    return tuple(None if columns is None else (columns, places[index] if places else columns[0])
                 for index, columns in enumerate(columns_read(composition, width)))


def draw_wipe_line(composition: Composition, viewport) -> None:
    """The wipe's line, light, in its column of the viewport (x, y, w, h) of the bound framebuffer (none when it is
    off the right edge)."""
    x, y, width, height = viewport
    line = wipe_line(composition.wipe, width)
    if line < width:
        fill_rectangle((x + line, y, 1, height), LINE_COLOUR)


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

    def close(self) -> None:
        GL.glDeleteFramebuffers(1, [self.framebuffer])
        GL.glDeleteTextures([self.texture])


class DifferencePass:
    def __init__(self):
        self._program = shaders.program("fullscreen.vert", "difference.frag")
        self._u = shaders.uniforms(self._program, "u_cut_a", "u_cut_b", "u_viewport", "u_gain")
        self._vao = GL.glGenVertexArrays(1)
        self.targets = (CutTarget(), CutTarget())

    def prepare(self, size: tuple[int, int]) -> None:
        """Both targets at the viewport's size (width, height)."""
        for target in self.targets:
            target.ensure(size)

    def compose(self, gain: float, viewport) -> None:
        """|A - B| × gain of the two targets into the viewport (x, y, w, h) of the bound framebuffer."""
        x, y, width, height = viewport
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
        GL.glUniform4f(u["u_viewport"], x, y, width, height)
        GL.glUniform1f(u["u_gain"], gain)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)

    def close(self) -> None:
        for target in self.targets:
            target.close()
        GL.glDeleteVertexArrays(1, [self._vao])
        GL.glDeleteProgram(self._program)
