"""The whole picture with the headset's view on it: the film unwrapped flat as a 2:1 equirectangular overview,
whatever its own projection, with the exact outline of a headset's field of view at the current view direction
(key O in the player, `vrplayer snapshot --overview`). Click in the overview to look there.

The maths is pure numpy (the overview's pixels ↔ directions ↔ the view): the renderer's OVERVIEW build draws the
picture and the outline per pixel (shaders/sphere.frag), and the tests hold its outline to the corners worked out
here. Overview pixels: x from the left edge (longitude −180°) to the right (+180°), y from the top (+90°) down,
the film's frame centre in the middle; the view's yaw and pitch are those longitudes and latitudes.
"""

from __future__ import annotations

import math

import numpy as np

from vrplayer import log
from vrplayer.creator.headsets import FieldOfView
from vrplayer.render.overlay import ImageCard, TextCard
from vrplayer.render.placement import InFrame, InView, SphereRegion
from vrplayer.render.projection import view_rotation

_log = log.get("creator")


def direction(lon: float, lat: float) -> np.ndarray:
    """The unit world direction (v360 axes: x right, y down, z forward) of a longitude and latitude, degrees."""
    lon, lat = math.radians(lon), math.radians(lat)
    return np.array([math.cos(lat) * math.sin(lon), -math.sin(lat), math.cos(lat) * math.cos(lon)])


def lon_lat(d) -> tuple[float, float]:
    """The longitude and latitude (degrees) of a world direction."""
    x, y, z = np.asarray(d, dtype=float) / np.linalg.norm(d)
    return math.degrees(math.atan2(x, z)), math.degrees(math.asin(max(-1.0, min(1.0, -y))))


def overview_pixel(lon: float, lat: float, size: tuple[int, int]) -> tuple[float, float]:
    """Where a direction falls in an overview of `size` (w, h): pixel coordinates from the top left (pixel k spans
    k…k+1)."""
    width, height = size
    return (lon / 360.0 + 0.5) * width, (0.5 - lat / 180.0) * height


def look_at(x: float, y: float, size: tuple[int, int]) -> tuple[float, float]:
    """The yaw and pitch (degrees) of the overview's point (x, y): a click there looks there."""
    width, height = size
    lon = (x / width - 0.5) * 360.0
    lat = (0.5 - y / height) * 180.0
    return max(-180.0, min(180.0, lon)), max(-90.0, min(90.0, lat))


def outline_of(yaw: float, pitch: float, roll: float, fov: FieldOfView) -> tuple[np.ndarray, float, float]:
    """What the renderer outlines: the view's rotation (camera → world) and the tangents of half its horizontal
    and vertical field of view."""
    return (view_rotation(yaw, pitch, roll), math.tan(math.radians(fov.horizontal) / 2.0),
            math.tan(math.radians(fov.vertical) / 2.0))


def outline_corners(yaw: float, pitch: float, roll: float, fov: FieldOfView) -> list[tuple[float, float]]:
    """The (longitude, latitude) of the headset view's four corners: top left, top right, bottom right, bottom left."""
    rotation, tx, ty = outline_of(yaw, pitch, roll, fov)
    camera = [(-tx, -ty), (tx, -ty), (tx, ty), (-tx, ty)]  # camera y points down: the top corners first
    return [lon_lat(rotation @ np.array([x, y, 1.0])) for x, y in camera]


def outline_points(yaw: float, pitch: float, roll: float, fov: FieldOfView, per_edge: int = 64) -> list[tuple[float, float]]:
    """(longitude, latitude) of points all round the view's edge, `per_edge` on each side, in order."""
    rotation, tx, ty = outline_of(yaw, pitch, roll, fov)
    corners = [(-tx, -ty), (tx, -ty), (tx, ty), (-tx, ty)]
    points = []
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
        for k in range(per_edge):
            f = k / per_edge
            points.append(lon_lat(rotation @ np.array([x0 + f * (x1 - x0), y0 + f * (y1 - y0), 1.0])))
    return points


def overview_viewport(window: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest 2:1 rectangle centred in a window (x, y, w, h; GL's y up), black bars round it."""
    width, height = window
    w = min(width, 2 * height)
    h = w // 2
    w = 2 * h
    return (width - w) // 2, (height - h) // 2, w, h


class OverviewDesk:
    """The player's overview: key O shows and hides it, a click in it looks there. With an audience (`--heatmap`):
    its heat-map (key H) lies flat over the picture, and key B lets a box be dragged on it, answered with the share
    of viewers who saw it in the heat-map's window round the time on screen. Its doors are the player's `inputs`
    and `view_drawer` (it draws the window's picture, and lays the sphere's pictures flat over it)."""

    def __init__(self, player, fov: FieldOfView, audience=None):
        self._player = player
        self.fov = fov
        self.audience = audience  # analytics.desk.HeatmapOverlay, or None
        self.showing = False
        self.boxing = False  # key B: a drag draws a box instead of doing nothing
        self._box: tuple[float, float, float, float] | None = None  # overview pixels: x0, y0, x1, y1
        self._dragging_box = False
        self._answer: str | None = None
        self._box_version = 0
        player.inputs.append(self.take)
        player.view_drawer = self.draw

    def _rect(self) -> tuple[int, int, int, int]:
        """The overview's rectangle in the window: x, y from the top left, width, height."""
        size = self._player.display.framebuffer_size()
        x, y, w, h = overview_viewport(size)
        return x, size[1] - (y + h), w, h

    def take(self, event, playback) -> bool:
        if event.kind == "key" and event.name == "o":
            self.showing = not self.showing
            _log.info("overview %s (%s)", "shown" if self.showing else "hidden", self.fov.text())
            return True
        if not self.showing:
            return False
        if event.kind == "key" and event.name == "b":
            self.boxing, self._box, self._answer = not self.boxing, None, None
            _log.info("overview: box %s", "on: drag a box to ask who saw it" if self.boxing else "off")
            return True
        x, top, w, h = self._rect()
        inside = x <= event.x < x + w and top <= event.y < top + h
        if event.kind == "click" and inside:
            if self.boxing:
                self._box, self._dragging_box, self._answer = (event.x - x, event.y - top) * 2, True, None
            else:
                view = self._player.view
                view.yaw, view.pitch = look_at(event.x - x, event.y - top, (w, h))
            return True
        if event.kind == "drag" and self._dragging_box:
            self._box = self._box[:2] + (min(w, max(0.0, event.x - x)), min(h, max(0.0, event.y - top)))
            self._box_version += 1
            return True
        if event.kind == "release" and self._dragging_box:
            self._dragging_box = False
            # Where the button was let go ends the box (its last move may not have come).
            self._box = self._box[:2] + (min(w, max(0.0, event.x - x)), min(h, max(0.0, event.y - top)))
            self._box_version += 1
            self._answer = self._ask(playback, (w, h))
            return True
        return event.kind == "drag"  # dragging does not turn a view nobody sees

    def _ask(self, playback, size) -> str | None:
        x0, y0, x1, y1 = self._box
        if abs(x1 - x0) < 2 or abs(y1 - y0) < 2:
            _log.debug("overview: a box of %.0f x %.0f pixels is no question", abs(x1 - x0), abs(y1 - y0))
            self._box = None
            return None
        lon1, lat1 = look_at(min(x0, x1), min(y0, y1), size)
        lon2, lat2 = look_at(max(x0, x1), max(y0, y1), size)
        if self.audience is None or playback is None:
            return "NO AUDIENCE: GIVE --HEATMAP TRACE..."
        answer = self.audience.region((lon1, lat1, lon2, lat2), playback.position)
        _log.info("box %.1f, %.1f to %.1f, %.1f: %s", lon1, lat1, lon2, lat2, answer.lower())
        return answer

    def draw(self, viewport, cards):
        """Draw the overview into the window's viewport, and hand back the cards to draw over it: those in view as
        they are, pictures over a region of the sphere laid flat where that region is; None while it is hidden."""
        if not self.showing:
            return None
        draw_overview(self._player.renderer, self._player.view, viewport, self.fov, self._player.options.eye)
        x, top, w, h = self._rect()
        kept = []
        for card in cards:
            if isinstance(card.place, InView):
                kept.append(card)
            elif isinstance(card, ImageCard) and isinstance(card.place, SphereRegion):
                region = card.place
                left, upper = overview_pixel(region.left, region.top, (w, h))
                right, lower = overview_pixel(region.right, region.bottom, (w, h))
                flat = InFrame(x=x + left, y=top + upper, width=right - left, height=lower - upper)
                kept.append(ImageCard(f"{card.key} (overview)", card.rgba, flat, card.version))
        if self._box is not None:
            x0, y0, x1, y1 = self._box
            bx, by = min(x0, x1), min(y0, y1)
            bw, bh = max(2, round(abs(x1 - x0))), max(2, round(abs(y1 - y0)))
            kept.append(ImageCard("overview box", box_picture(bw, bh), InFrame(x=x + bx, y=top + by, width=bw, height=bh),
                                  self._box_version))
        if self._answer is not None:
            kept.append(TextCard(self._answer, InView("bottom", margin=48)))
        elif self.boxing:
            kept.append(TextCard("DRAG A BOX: WHO SAW IT?", InView("bottom", margin=48)))
        return kept


def box_picture(width: int, height: int) -> np.ndarray:
    """A box's outline, two pixels wide, in the outline's yellow, clear inside."""
    rgba = np.zeros((height, width, 4), np.uint8)
    edge = (255, 217, 0, 255)
    rgba[:2], rgba[-2:], rgba[:, :2], rgba[:, -2:] = edge, edge, edge, edge
    return rgba


def draw_overview(renderer, view, window_viewport, fov: FieldOfView, eye: str = "left") -> tuple[int, int, int, int]:
    """The overview, 2:1 in the middle of the viewport with black bars round it, the view outlined; its viewport."""
    renderer.clear(window_viewport)
    x, y, w, h = overview_viewport(window_viewport[2:])
    inner = (window_viewport[0] + x, window_viewport[1] + y, w, h)
    renderer.draw_overview(inner, eye, outline_of(view.yaw, view.pitch, view.roll, fov))
    return inner
