"""Where an overlay goes, pure numpy: in view (a card on the viewer's screen, which turns with the head) or on the
sphere (a region of the film's longitude and latitude, which stays where it is in the film).

In-view cards are laid out on a `ViewFrame`: the viewer's screen as a rectangle of the head's tangent plane
(z = 1 in v360 axes: x right, y down, z forward) with a size in pixels. On a desktop it is the window's view
itself, so a card lands on whole pixels; in a headset it is a comfortable rectangle straight ahead, the same for
both eyes, so the eyes agree where a card is. Every card is then drawn into each view through that view's own
rotation and frustum (`to_eye`, `clip_matrix`); `project` is the numpy reference of what the vertex shader does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MARGIN = 8  # pixels between an in-view card and the frame's edge
TEXT_SCALE = 2  # pixels of the frame per pixel of a card's bitmap, for in-view text
HEADSET_HALF_TAN = 0.6  # the headset's in-view frame: ±31° straight ahead, where text can be read without turning
# In a headset, cards in view (captions, the info line, title cards) stand this far before the eyes, in both eyes at
# the one depth: in front of a mono film (drawn at infinity) and of all but the nearest things in a stereo one, and
# where text is read without strain (the headset's focal distance is about 1.5–2 m).
IN_VIEW_DEPTH = 2.0  # metres
NEAR, FAR = 0.01, 100.0  # depth range of the frustum (cards sit at distance 1; what is behind the viewer is clipped)


@dataclass(frozen=True)
class InView:
    """A card on the viewer's screen. anchor: "top-left" (the info line), "centre" (a title card) or "bottom"
    (captions). scale: frame pixels per card pixel; None: as large as fits, the card an eighth of the frame high."""

    anchor: str = "top-left"
    scale: int | None = TEXT_SCALE
    margin: int = MARGIN


@dataclass(frozen=True)
class InFrame(InView):
    """A card stretched over an exact rectangle of the frame, pixels from its top left (x, y, width, height): a
    picture laid over another drawn flat in the view, such as a heat-map over the overview."""

    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0


@dataclass(frozen=True)
class InViewAngle(InView):
    """A card in view sized in degrees of visual angle, the same at every field of view and window size (a
    caption): `height` degrees high, as wide as its picture's aspect makes it, its centre `pitch` degrees above
    the view's centre (negative: below), kept inside the frame."""

    height: float = 2.0
    pitch: float = -18.0


@dataclass(frozen=True)
class AtSpeaker(InView):
    """A card at a direction of the film (a caption at its speaker: `yaw`, `pitch` degrees, the film's own axes),
    `height` degrees of visual angle high, facing the viewer. While the direction is out of view the card waits at
    the edge of the view nearest to it, with an arrow pointing the way to turn (speaker_rect). A caption that
    follows the head lazily (text/follow.py) is one of these too, without the arrow."""

    yaw: float = 0.0
    pitch: float = 0.0
    height: float = 2.0
    arrow: bool = True  # False: kept inside the edge with no arrow (a caption following the head, never far off)


@dataclass(frozen=True)
class OnSphere:
    """A card fixed in the film: centred on (yaw, pitch) degrees (the film's own directions, yaw 0 its centre),
    `height` degrees of latitude high, as wide as its picture's aspect makes it."""

    yaw: float
    pitch: float
    height: float = 4.0


@dataclass(frozen=True)
class SphereRegion:
    """A picture stretched over a region of the film's sphere: longitudes left → right and latitudes top → bottom,
    degrees (a whole-sphere map: −180, 90, 180, −90)."""

    left: float = -180.0
    top: float = 90.0
    right: float = 180.0
    bottom: float = -90.0


@dataclass(frozen=True)
class ViewFrame:
    """The viewer's screen in the head's tangent plane: edge tangents (left, right, down, up; left and down
    negative, up-positive as in a frustum) and its size in pixels."""

    tan_bounds: tuple[float, float, float, float]
    width: int
    height: int

    def tangent(self, x: float, y: float) -> tuple[float, float]:
        """The tangent-plane point (x right, y up) of frame pixel (x, y), counted from the top left."""
        left, right, down, up = self.tan_bounds
        return left + x / self.width * (right - left), up - y / self.height * (up - down)


def desktop_frame(tan_bounds, viewport) -> ViewFrame:
    """A window's view: its own frustum, its own pixels."""
    return ViewFrame(tuple(tan_bounds), int(viewport[2]), int(viewport[3]))


def headset_frame(tan_bounds, viewport) -> ViewFrame:
    """The in-view frame of a headset, from one eye's frustum and image: straight ahead, at most ±HEADSET_HALF_TAN
    and inside that eye's view, at the eye's pixel density (so a card is as sharp as the display allows)."""
    left, right, down, up = tan_bounds
    half = min(HEADSET_HALF_TAN, -left, right, -down, up)
    density = viewport[2] / (right - left)
    size = max(1, round(2 * half * density))
    return ViewFrame((-half, half, -half, half), size, size)


def _angular_rect(place: "InViewAngle", frame: ViewFrame, size: tuple[int, int]) -> tuple[float, float, float, float]:
    left_edge, right_edge, down_edge, up_edge = frame.tan_bounds
    margin = place.margin * (up_edge - down_edge) / max(1, frame.height)
    half_h = math.radians(place.height) / 2
    half_x = math.tan(half_h * max(1, size[0]) / max(1, size[1]))
    room = (right_edge - left_edge) / 2 - margin
    if half_x > room > 0:  # wider than the view (a narrow window): smaller, never squeezed
        half_h *= room / half_x
        half_x = room
    # The centre's pitch, raised (or lowered) until the whole card is inside the frame, its margin kept.
    lowest = math.atan(down_edge + margin) + half_h
    highest = math.atan(up_edge - margin) - half_h
    pitch = min(max(math.radians(place.pitch), lowest), max(lowest, highest))
    centre_x = (left_edge + right_edge) / 2
    return centre_x - half_x, math.tan(pitch + half_h), centre_x + half_x, math.tan(pitch - half_h)


ARROW_SCALE = 1.6  # an arrow's side, in heights of a one-line card: it must be seen from the corner of an eye
ARROW_GAP = 0.25  # between the card and its arrow, in arrow sides


def speaker_rect(place: AtSpeaker, frame: ViewFrame, size: tuple[int, int], head_to_world: np.ndarray):
    """Where an AtSpeaker card goes on the frame, with the head turned by `head_to_world` (camera → world):
    (card rectangle, arrow) — the arrow None while the direction is in view, else (its rectangle, the angle in
    degrees it points at: 0 right, 90 up, counter-clockwise as in the tangent plane's y-up axes)."""
    left_edge, right_edge, down_edge, up_edge = frame.tan_bounds
    margin = place.margin * (up_edge - down_edge) / max(1, frame.height)
    half_y = math.tan(math.radians(place.height) / 2)
    half_x = math.tan(math.radians(place.height) / 2 * max(1, size[0]) / max(1, size[1]))
    lon, lat = math.radians(place.yaw), math.radians(place.pitch)
    toward = np.asarray(head_to_world, dtype=np.float64).T @ np.array(
        [math.cos(lat) * math.sin(lon), -math.sin(lat), math.cos(lat) * math.cos(lon)])
    x, y, z = float(toward[0]), -float(toward[1]), float(toward[2])  # y up, as the frame's tangents
    mid_x, mid_y = (left_edge + right_edge) / 2, (down_edge + up_edge) / 2
    if z > 1e-6:
        cx, cy = x / z, y / z
        if (left_edge + margin + half_x <= cx <= right_edge - margin - half_x
                and down_edge + margin + half_y <= cy <= up_edge - margin - half_y):
            return (cx - half_x, cy + half_y, cx + half_x, cy - half_y), None
        dx, dy = cx - mid_x, cy - mid_y
    else:  # behind: the way to turn is the way it lies sideways (straight behind: to the right)
        dx, dy = (x, y) if abs(x) + abs(y) > 1e-9 else (1.0, 0.0)
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    side = ARROW_SCALE * 2 * half_y
    reach = side * (1 + ARROW_GAP) if place.arrow else 0.0  # the arrow's room beyond the card, on every side
    room_x = (right_edge - left_edge) / 2 - margin - half_x - reach
    room_y = (up_edge - down_edge) / 2 - margin - half_y - reach
    # As far toward the direction as the card and its arrow stay inside the frame.
    t = min(room_x / abs(ux) if abs(ux) > 1e-9 else math.inf, room_y / abs(uy) if abs(uy) > 1e-9 else math.inf)
    t = max(0.0, t)
    cx, cy = mid_x + t * ux, mid_y + t * uy
    if not place.arrow:
        return (cx - half_x, cy + half_y, cx + half_x, cy - half_y), None
    # The arrow beyond the card's edge where the ray from its centre leaves it.
    exit_t = min(half_x / abs(ux) if abs(ux) > 1e-9 else math.inf, half_y / abs(uy) if abs(uy) > 1e-9 else math.inf)
    ax, ay = cx + ux * (exit_t + side * (ARROW_GAP + 0.5)), cy + uy * (exit_t + side * (ARROW_GAP + 0.5))
    arrow = (ax - side / 2, ay + side / 2, ax + side / 2, ay - side / 2)
    return (cx - half_x, cy + half_y, cx + half_x, cy - half_y), (arrow, math.degrees(math.atan2(uy, ux)))


def view_rect(place: InView, frame: ViewFrame, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """An in-view card of `size` (w, h) bitmap pixels on the frame: its tangent rectangle (left, top, right, bottom;
    y up). Whole-pixel scales keep bitmap text crisp; a narrow frame gets a smaller card rather than a cut one."""
    if isinstance(place, InFrame):
        left, top = frame.tangent(place.x, place.y)
        right, bottom = frame.tangent(place.x + place.width, place.y + place.height)
        return left, top, right, bottom
    if isinstance(place, InViewAngle):
        return _angular_rect(place, frame, size)
    w, h = max(1, size[0]), max(1, size[1])
    largest = max(1, (frame.width - 2 * place.margin) // w)
    if place.scale is None:
        scale = max(1, min(largest, (frame.height // 8) // h))
    else:
        scale = min(place.scale, largest)
    cw, ch = w * scale, h * scale
    if place.anchor == "top-left":
        x, y = place.margin, place.margin
    elif place.anchor == "centre":
        x, y = (frame.width - cw) // 2, (frame.height - ch) // 2
    elif place.anchor == "bottom":
        x, y = (frame.width - cw) // 2, frame.height - place.margin - ch
    else:
        raise ValueError(f"unknown anchor {place.anchor!r}")
    left, top = frame.tangent(x, y)
    right, bottom = frame.tangent(x + cw, y + ch)
    return left, top, right, bottom


def sphere_rect(place: OnSphere | SphereRegion, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """A card on the sphere: its region (left, top, right, bottom) in radians of longitude and latitude. A card at
    a direction is stretched in longitude by 1/cos(pitch), so it keeps its aspect where it sits."""
    if isinstance(place, SphereRegion):
        return tuple(math.radians(v) for v in (place.left, place.top, place.right, place.bottom))
    w, h = max(1, size[0]), max(1, size[1])
    half_h = math.radians(place.height) / 2
    half_w = half_h * w / h / max(0.05, math.cos(math.radians(place.pitch)))
    lon, lat = math.radians(place.yaw), math.radians(place.pitch)
    return lon - half_w, lat + half_h, lon + half_w, lat - half_h


def sphere_grid(rect) -> tuple[int, int]:
    """Cells across and down for a region on the sphere: about 6° each, so its edges and texture follow the curve."""
    left, top, right, bottom = rect
    cell = math.radians(6.0)
    return max(4, math.ceil(abs(right - left) / cell)), max(2, math.ceil(abs(top - bottom) / cell))


def to_eye(eye_rotation: np.ndarray, head_rotation: np.ndarray | None, in_view: bool) -> np.ndarray:
    """The 3×3 matrix taking a card's points into the eye's camera axes. Rotations are camera → world; an in-view
    card's points are in the head's axes (on a desktop, the view is the head), a sphere card's in the world's."""
    eye = np.asarray(eye_rotation, dtype=np.float64)
    if not in_view:
        return eye.T
    head = eye if head_rotation is None else np.asarray(head_rotation, dtype=np.float64)
    return eye.T @ head


def clip_matrix(tan_bounds) -> np.ndarray:
    """4×4: camera point (x right, y down, z forward, 1) → GL clip coordinates of the frustum, w = z, so points
    behind the viewer (z ≤ NEAR) are clipped and cards on the sphere stay perspective-correct."""
    left, right, down, up = tan_bounds
    return np.array([
        [2 / (right - left), 0.0, -(right + left) / (right - left), 0.0],
        [0.0, -2 / (up - down), -(up + down) / (up - down), 0.0],
        [0.0, 0.0, (FAR + NEAR) / (FAR - NEAR), -2 * FAR * NEAR / (FAR - NEAR)],
        [0.0, 0.0, 1.0, 0.0],
    ])


def card_points(rect, in_view: bool, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Points (…, 3) of a card at card coordinates (u, v) in [0, 1] (v from the top): on the tangent plane for an
    in-view card, on the unit sphere for a sphere card. The vertex shader `overlay.vert` does the same."""
    left, top, right, bottom = rect
    a = left + (right - left) * np.asarray(u, dtype=np.float64)
    b = top + (bottom - top) * np.asarray(v, dtype=np.float64)
    if in_view:
        return np.stack(np.broadcast_arrays(a, -b, np.ones_like(a)), axis=-1)
    return np.stack([np.cos(b) * np.sin(a), -np.sin(b), np.cos(b) * np.cos(a)], axis=-1)


def project(points: np.ndarray, matrix: np.ndarray, tan_bounds, viewport, offset=None) -> np.ndarray:
    """Pixel positions (x from the left, y from the top, of the viewport) of card points seen by an eye; NaN
    where a point is behind it. offset: the shader's u_offset (an in-view card's depth for this eye)."""
    eye = np.asarray(points) @ np.asarray(matrix).T - (0.0 if offset is None else np.asarray(offset))
    clip = np.concatenate([eye, np.ones(eye.shape[:-1] + (1,))], axis=-1) @ clip_matrix(tan_bounds).T
    w = clip[..., 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        ndc = np.where((w > NEAR)[..., None], clip[..., :2] / w[..., None], np.nan)
    x = (ndc[..., 0] + 1) / 2 * viewport[2]
    y = (1 - ndc[..., 1]) / 2 * viewport[3]
    return np.stack([x, y], axis=-1)
