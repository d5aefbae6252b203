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
    """The player's overview: key O shows and hides it, a click in it looks there. Its doors are the player's
    `inputs` (it takes O and the clicks while it shows) and `view_drawer` (it draws the window's picture)."""

    def __init__(self, player, fov: FieldOfView):
        self._player = player
        self.fov = fov
        self.showing = False
        player.inputs.append(self.take)
        player.view_drawer = self.draw

    def take(self, event, playback) -> bool:
        if event.kind == "key" and event.name == "o":
            self.showing = not self.showing
            _log.info("overview %s (%s)", "shown" if self.showing else "hidden", self.fov.text())
            return True
        if self.showing and event.kind == "click":
            x, y, w, h = overview_viewport(self._player.display.framebuffer_size())
            window_h = self._player.display.framebuffer_size()[1]
            top = window_h - (y + h)  # the viewport's top edge, counted from the window's top
            if x <= event.x < x + w and top <= event.y < top + h:
                view = self._player.view
                view.yaw, view.pitch = look_at(event.x - x, event.y - top, (w, h))
                return True
        return self.showing and event.kind == "drag"  # dragging does not turn a view nobody sees

    def draw(self, viewport) -> bool:
        """Draw the overview into the window's viewport; False (the sphere view is drawn) while it is hidden."""
        if not self.showing:
            return False
        draw_overview(self._player.renderer, self._player.view, viewport, self.fov, self._player.options.eye)
        return True


def draw_overview(renderer, view, window_viewport, fov: FieldOfView, eye: str = "left") -> tuple[int, int, int, int]:
    """The overview, 2:1 in the middle of the viewport with black bars round it, the view outlined; its viewport."""
    renderer.clear(window_viewport)
    x, y, w, h = overview_viewport(window_viewport[2:])
    inner = (window_viewport[0] + x, window_viewport[1] + y, w, h)
    renderer.draw_overview(inner, eye, outline_of(view.yaw, view.pitch, view.roll, fov))
    return inner
