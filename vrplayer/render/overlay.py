"""What is drawn over the film: cards, each a picture placed in view (it turns with the viewer) or on the sphere
(it stays where it is in the film), drawn the same way into a desktop view, an offscreen one and each eye of a
headset. Text cards (the info line, title cards, kiosk messages) are the first kind: the bitmap font's coverage
over a translucent backing. Placement is pure maths in render/placement.py.

A display loop hands `draw` its cards, one view at a time: the view's rotation (camera → world), its frustum and
viewport, and the frame in-view cards are laid out on (with the head's rotation, where it is not the view's own).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from OpenGL import GL

from vrplayer.render import font, placement, shaders
from vrplayer.render.placement import InView, OnSphere, ViewFrame

_TEXTURES_KEPT = 8  # text pictures kept on the GPU (the info line changes four times a second; captions come back)
_SPHERE_GRID = (16, 8)  # cells of a card on the sphere: its edges follow the sphere to well under a pixel


@dataclass(frozen=True)
class TextCard:
    """A line of text (\\n for more) over a translucent backing."""

    text: str
    place: InView | OnSphere = InView()
    colour: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    backing: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.6)


class OverlayRenderer:
    def __init__(self):
        self._program = shaders.program("overlay.vert", "overlay.frag")
        self._u = shaders.uniforms(self._program, "u_text", "u_colour", "u_backing", "u_rect", "u_on_sphere", "u_grid",
                                   "u_to_eye", "u_clip")
        self._vao = GL.glGenVertexArrays(1)
        self._textures: OrderedDict[str, tuple[int, tuple[int, int]]] = OrderedDict()  # text → (texture, size)

    def _texture(self, text: str) -> tuple[int, tuple[int, int]]:
        if text in self._textures:
            self._textures.move_to_end(text)
            return self._textures[text]
        # One font pixel of padding around the text, as part of the translucent backing.
        coverage = np.ascontiguousarray(np.pad(font.text_mask(text, scale=1), 1).astype(np.uint8) * 255)
        h, w = coverage.shape
        texture = GL.glGenTextures(1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_R8, w, h, 0, GL.GL_RED, GL.GL_UNSIGNED_BYTE, coverage)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        self._textures[text] = (texture, (w, h))
        while len(self._textures) > _TEXTURES_KEPT:
            _, (old, _) = self._textures.popitem(last=False)
            GL.glDeleteTextures([old])
        return texture, (w, h)

    def draw(self, cards, rotation, tan_bounds, viewport, frame: ViewFrame, head_rotation=None) -> None:
        """Draw `cards` into the viewport (x, y, w, h) of the bound framebuffer, seen by a camera with `rotation`
        (camera → world) and frustum `tan_bounds`. In-view cards are laid out on `frame`, in the axes of
        `head_rotation` (None: the camera's own, as on a desktop)."""
        if not cards:
            return
        GL.glViewport(*viewport)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self._program)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glUniform1i(self._u["u_text"], 0)
        GL.glUniformMatrix4fv(self._u["u_clip"], 1, GL.GL_TRUE, placement.clip_matrix(tan_bounds).astype(np.float32))
        GL.glBindVertexArray(self._vao)
        for card in cards:
            texture, size = self._texture(card.text)
            in_view = isinstance(card.place, InView)
            if in_view:
                rect = placement.view_rect(card.place, frame, size)
                grid = (1, 1)
                # Whole screen pixels per font pixel when the frame is the view itself: nearest keeps them crisp.
                crisp = head_rotation is None
            else:
                rect = placement.sphere_rect(card.place, size)
                grid, crisp = _SPHERE_GRID, False
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            filtering = GL.GL_NEAREST if crisp else GL.GL_LINEAR
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, filtering)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, filtering)
            matrix = placement.to_eye(rotation, head_rotation, in_view).astype(np.float32)
            GL.glUniformMatrix3fv(self._u["u_to_eye"], 1, GL.GL_TRUE, matrix)
            GL.glUniform4f(self._u["u_rect"], *rect)
            GL.glUniform1i(self._u["u_on_sphere"], 0 if in_view else 1)
            GL.glUniform2i(self._u["u_grid"], *grid)
            GL.glUniform4f(self._u["u_colour"], *card.colour)
            GL.glUniform4f(self._u["u_backing"], *card.backing)
            GL.glDrawArrays(GL.GL_TRIANGLES, 0, 6 * grid[0] * grid[1])
        GL.glDisable(GL.GL_BLEND)

    def close(self) -> None:
        if self._textures:
            GL.glDeleteTextures([texture for texture, _ in self._textures.values()])
            self._textures.clear()
        GL.glDeleteVertexArrays(1, [self._vao])
        GL.glDeleteProgram(self._program)
