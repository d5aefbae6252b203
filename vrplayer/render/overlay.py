"""On-screen text: the info line (top left), and the kiosk's title cards and messages (centred, large), drawn with
the bitmap font into a texture and shown over the picture."""

from __future__ import annotations

import numpy as np
from OpenGL import GL

from vrplayer.render import font, shaders

SCALE = 2  # font pixels per screen pixel
MARGIN = 8


class TextOverlay:
    def __init__(self):
        self._program = shaders.program("overlay.vert", "overlay.frag")
        self._u = shaders.uniforms(self._program, "u_text", "u_colour", "u_backing", "u_rect", "u_target")
        self._vao = GL.glGenVertexArrays(1)
        self._texture = GL.glGenTextures(1)
        self._text = None
        self._size = (0, 0)

    def _set_text(self, text: str) -> None:
        mask = font.text_mask(text, scale=1)
        # One font pixel of padding around the text, as part of the translucent backing.
        coverage = np.pad(mask, 1).astype(np.uint8) * 255
        h, w = coverage.shape
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_R8, w, h, 0, GL.GL_RED, GL.GL_UNSIGNED_BYTE, np.ascontiguousarray(coverage))
        # Nearest: crisp pixels when the glyphs are scaled up.
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        self._text, self._size = text, (w, h)

    def draw(self, text: str, viewport: tuple[int, int, int, int], centred: bool = False) -> None:
        """`text` over the viewport: the info line at the top left, or (centred) as large as fits, in the middle."""
        if text != self._text:
            self._set_text(text)
        x, y, w, h = viewport
        GL.glViewport(x, y, w, h)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self._program)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._texture)
        GL.glUniform1i(self._u["u_text"], 0)
        GL.glUniform4f(self._u["u_colour"], 1.0, 1.0, 1.0, 1.0)
        GL.glUniform4f(self._u["u_backing"], 0.0, 0.0, 0.0, 0.6)
        tw, th = self._size
        # Whole-pixel scaling keeps the glyphs crisp; a narrow window gets smaller text rather than a cut line.
        largest = max(1, (w - 2 * MARGIN) // max(1, tw))
        if centred:
            scale = max(1, min(largest, (h // 8) // max(1, th)))
            left, top = (w - tw * scale) // 2, (h - th * scale) // 2
        else:
            scale = min(SCALE, largest)
            left, top = MARGIN, MARGIN
        GL.glUniform4f(self._u["u_rect"], left, top, tw * scale, th * scale)
        GL.glUniform2f(self._u["u_target"], w, h)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glDisable(GL.GL_BLEND)

    def close(self) -> None:
        GL.glDeleteTextures([self._texture])
        GL.glDeleteVertexArrays(1, [self._vao])
        GL.glDeleteProgram(self._program)
