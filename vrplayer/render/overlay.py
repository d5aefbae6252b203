"""What is drawn over the film: cards, each a picture placed in view (it turns with the viewer) or on the sphere
(it stays where it is in the film), drawn the same way into a desktop view, an offscreen one and each eye of a
headset. Text cards (the info line, title cards, kiosk messages): the bitmap font's coverage over a translucent
backing; image cards (a heat-map over the whole sphere): a picture's own colours and opacity. Placement is pure maths in render/placement.py.

A display loop hands `draw` its cards, one view at a time: the view's rotation (camera → world), its frustum and
viewport, and the frame in-view cards are laid out on (with the head's rotation, where it is not the view's own).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import math

import numpy as np
from OpenGL import GL

from vrplayer.render import font, placement, shaders
from vrplayer.render.placement import AtSpeaker, InView, InViewAngle, OnSphere, SphereRegion, ViewFrame

_TEXTURES_KEPT = 8  # text pictures kept on the GPU (the info line changes four times a second; captions come back)
_SPHERE_GRID = (16, 8)  # cells of a card on the sphere: its edges follow the sphere to well under a pixel


@dataclass(frozen=True)
class TextCard:
    """A line of text (\\n for more) over a translucent backing."""

    text: str
    place: InView | OnSphere = InView()
    colour: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    backing: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.6)


@dataclass(frozen=True, eq=False)
class ImageCard:
    """A picture (H, W, 4 uint8 RGBA, top row first) over a region of the sphere or in view: a heat-map, an outline.
    `key` names it and `version` says when its pixels changed (only then do they go up again)."""

    key: str
    rgba: np.ndarray
    place: InView | OnSphere | SphereRegion = SphereRegion()
    version: int = 0
    depth: float | None = None  # in a headset, metres before the eyes of a card in view (None: IN_VIEW_DEPTH)

    def __eq__(self, other) -> bool:
        return isinstance(other, ImageCard) and (self.key, self.version, self.place) == (other.key, other.version, other.place)

    def __hash__(self) -> int:
        return hash((self.key, self.version))


ARROW_PIXELS = 64  # an arrow's picture, square
ARROW_STEP = 5  # degrees between the directions arrow pictures are made for


def arrow_rgba(angle: float, size: int = ARROW_PIXELS) -> np.ndarray:
    """An arrow pointing at `angle` degrees (0 right, 90 up): white with a dark rim, on transparency, (size, size, 4)
    uint8, its edges smoothed over a pixel."""
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    a = math.radians(angle)
    # Into the arrow's own axes: u along where it points, w across it.
    u = (xx - c) * math.cos(a) - (yy - c) * math.sin(a)
    w = (xx - c) * math.sin(a) + (yy - c) * math.cos(a)
    r = size * 0.42
    # A triangle: tip at u = r, base at u = -r/2, half as wide as it is long at its base (distances in pixels).
    tip_to_base = 1.5 * r
    inside = np.minimum(u + r / 2, np.minimum((r - u) * 0.6 - np.abs(w), tip_to_base))
    fill = np.clip(inside - 3.0 + 0.5, 0, 1)  # 3 px of rim inside the edge
    shape = np.clip(inside + 0.5, 0, 1)
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., :3] = (255 * fill)[..., None].astype(np.uint8)
    rgba[..., 3] = (255 * np.maximum(shape * 0.85, fill)).astype(np.uint8)
    return rgba


def bitmap_text(text: str) -> tuple[np.ndarray, float]:
    """The built-in rasteriser: the 5×7 bitmap font (Latin capitals, digits, punctuation), one font pixel of padding
    round it as part of the backing; (coverage uint8 H×W, card pixels per coverage pixel: 1)."""
    return np.ascontiguousarray(np.pad(font.text_mask(text, scale=1), 1).astype(np.uint8) * 255), 1.0


class OverlayRenderer:
    """`rasterise_text(text)` → (coverage, card pixels per coverage pixel) makes text cards' pictures: the bitmap
    font unless a text engine is handed in (the text room's, for every script: set by whoever wires the player)."""

    def __init__(self):
        self._rasterise_text = bitmap_text
        self.fade = 1.0  # how much of the cards shows: a fade-out of the film takes them down with it
        self._program = shaders.program("overlay.vert", "overlay.frag")
        self._u = shaders.uniforms(self._program, "u_text", "u_colour", "u_backing", "u_rect", "u_on_sphere", "u_grid",
                                   "u_to_eye", "u_clip", "u_picture", "u_offset", "u_fade")
        self._vao = GL.glGenVertexArrays(1)
        self._textures: OrderedDict[str, tuple[int, tuple[int, int]]] = OrderedDict()  # text → (texture, size)
        self._pictures: dict[str, tuple[int, tuple[int, int], int]] = {}  # key → (texture, size, version)

    @property
    def rasterise_text(self):
        return self._rasterise_text

    @rasterise_text.setter
    def rasterise_text(self, rasterise) -> None:
        self._rasterise_text = rasterise
        while self._textures:  # made by the one before
            _, (old, _) = self._textures.popitem()
            GL.glDeleteTextures([old])

    def _texture(self, text: str) -> tuple[int, tuple[int, int]]:
        if text in self._textures:
            self._textures.move_to_end(text)
            return self._textures[text]
        coverage, unit = self._rasterise_text(text)
        coverage = np.ascontiguousarray(coverage, dtype=np.uint8)
        h, w = coverage.shape
        texture = GL.glGenTextures(1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_R8, w, h, 0, GL.GL_RED, GL.GL_UNSIGNED_BYTE, coverage)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        size = (max(1, round(w * unit)), max(1, round(h * unit)))  # in card pixels, as placement counts them
        self._textures[text] = (texture, size)
        while len(self._textures) > _TEXTURES_KEPT:
            _, (old, _) = self._textures.popitem(last=False)
            GL.glDeleteTextures([old])
        return texture, size

    def _picture(self, card: ImageCard) -> tuple[int, tuple[int, int]]:
        held = self._pictures.get(card.key)
        if held is not None and held[2] == card.version:
            return held[0], held[1]
        texture = held[0] if held is not None else GL.glGenTextures(1)
        rgba = np.ascontiguousarray(card.rgba, dtype=np.uint8)
        h, w = rgba.shape[:2]
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, w, h, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, rgba)
        # Longitude wraps round a whole-sphere picture; latitude stops at the poles.
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_REPEAT)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        self._pictures[card.key] = (texture, (w, h), card.version)
        return texture, (w, h)

    def _quad(self, texture, rect, matrix, in_view: bool, grid, crisp: bool, text_card) -> None:
        """One card's picture (text_card None) or text coverage over its backing, at `rect`."""
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        filtering = GL.GL_NEAREST if crisp else GL.GL_LINEAR
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, filtering)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, filtering)
        GL.glUniformMatrix3fv(self._u["u_to_eye"], 1, GL.GL_TRUE, matrix)
        GL.glUniform4f(self._u["u_rect"], *rect)
        GL.glUniform1i(self._u["u_on_sphere"], 0 if in_view else 1)
        GL.glUniform2i(self._u["u_grid"], *grid)
        GL.glUniform1i(self._u["u_picture"], 0 if text_card is not None else 1)
        if text_card is not None:
            GL.glUniform4f(self._u["u_colour"], *text_card.colour)
            GL.glUniform4f(self._u["u_backing"], *text_card.backing)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 6 * grid[0] * grid[1])

    def _arrow(self, angle: float) -> int:
        """The texture of an arrow pointing at `angle` (to the nearest ARROW_STEP degrees; each made once)."""
        step = round(angle / ARROW_STEP) * ARROW_STEP % 360
        key = f"arrow {step}"
        if key in self._pictures:
            return self._pictures[key][0]
        return self._picture(ImageCard(key, arrow_rgba(step)))[0]

    def draw_window(self, cards, view, viewport, eye: str = "left") -> None:
        """`cards` over a window's (or offscreen) view: `view` (a ViewState) is the viewer's frame, in `viewport`.
        With both eyes side by side (`eye`), each half is a view of its own: cards on the sphere and captions (sized
        in degrees) go into each, at one place, so neither is split across the eyes; the rest (the info line, a
        title card) stay on the whole window."""
        if eye == "side-by-side":
            x, y, w, h = viewport
            per_eye, whole = [], []
            for card in cards:
                angular = not isinstance(card.place, InView) or isinstance(card.place, (InViewAngle, AtSpeaker))
                (per_eye if angular else whole).append(card)
            for half in ((x, y, w // 2, h), (x + w // 2, y, w - w // 2, h)):
                self._draw_view(per_eye, view, half)
            cards = whole
        self._draw_view(cards, view, viewport)

    def _draw_view(self, cards, view, viewport) -> None:
        if not cards:
            return
        from vrplayer.render.projection import tan_half_fov, view_rotation

        tx, ty = tan_half_fov(view.fov, viewport[2], viewport[3])
        tan_bounds = (-tx, tx, -ty, ty)
        self.draw(cards, view_rotation(view.yaw, view.pitch, view.roll), tan_bounds, viewport,
                  placement.desktop_frame(tan_bounds, viewport))

    def draw(self, cards, rotation, tan_bounds, viewport, frame: ViewFrame, head_rotation=None, eye_offset=None) -> None:
        """Draw `cards` into the viewport (x, y, w, h) of the bound framebuffer, seen by a camera with `rotation`
        (camera → world) and frustum `tan_bounds`. In-view cards are laid out on `frame`, in the axes of
        `head_rotation` (None: the camera's own, as on a desktop); `eye_offset`, this eye's place from the middle of
        the eyes (metres, world axes), sets them at placement.IN_VIEW_DEPTH before the eyes (an image card: its own depth)."""
        if not cards:
            return
        GL.glViewport(*viewport)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self._program)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glUniform1i(self._u["u_text"], 0)
        GL.glUniform1f(self._u["u_fade"], max(0.0, min(1.0, self.fade)))
        GL.glUniformMatrix4fv(self._u["u_clip"], 1, GL.GL_TRUE, placement.clip_matrix(tan_bounds).astype(np.float32))
        GL.glBindVertexArray(self._vao)
        eye_in_camera = None if eye_offset is None else np.asarray(rotation).T @ np.asarray(eye_offset)
        for card in cards:
            picture = isinstance(card, ImageCard)
            texture, size = self._picture(card) if picture else self._texture(card.text)
            in_view = isinstance(card.place, InView)
            arrow = None
            if isinstance(card.place, AtSpeaker):
                head = rotation if head_rotation is None else head_rotation
                rect, arrow = placement.speaker_rect(card.place, frame, size, head)
                grid, crisp = (1, 1), False
            elif in_view:
                rect = placement.view_rect(card.place, frame, size)
                grid = (1, 1)
                # Whole screen pixels per font pixel when the frame is the view itself: nearest keeps them crisp.
                crisp = head_rotation is None and not picture and self._rasterise_text is bitmap_text
            else:
                rect = placement.sphere_rect(card.place, size)
                grid = placement.sphere_grid(rect) if isinstance(card.place, SphereRegion) else _SPHERE_GRID
                crisp = False
            matrix = placement.to_eye(rotation, head_rotation, in_view).astype(np.float32)
            offset = (0.0, 0.0, 0.0)
            if in_view and eye_in_camera is not None:
                offset = eye_in_camera / (getattr(card, "depth", None) or placement.IN_VIEW_DEPTH)
            GL.glUniform3f(self._u["u_offset"], *offset)
            self._quad(texture, rect, matrix, in_view, grid, crisp, None if picture else card)
            if arrow is not None:
                arrow_rect, angle = arrow
                self._quad(self._arrow(angle), arrow_rect, matrix, True, (1, 1), False, None)
        GL.glDisable(GL.GL_BLEND)

    def close(self) -> None:
        textures = [texture for texture, _ in self._textures.values()] + [held[0] for held in self._pictures.values()]
        if textures:
            GL.glDeleteTextures(textures)
        self._textures.clear()
        self._pictures.clear()
        GL.glDeleteVertexArrays(1, [self._vao])
        GL.glDeleteProgram(self._program)
