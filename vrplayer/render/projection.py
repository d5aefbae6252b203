"""Projection maths, pure numpy, in the conventions of FFmpeg's v360 filter.

Camera frame: x right, y down, z forward. A view pixel (i, j) of a W×H view looks along
    ray = (tan(hfov/2)·((2i+1)/W − 1), tan(vfov/2)·((2j+1)/H − 1), 1)
and the world direction is Ry(yaw)·Rx(pitch)·Rz(roll)·ray: positive yaw turns right, positive pitch looks up,
positive roll tips the camera's right side down. An equirectangular picture maps longitude atan2(x, z) across its
width (0 at the centre column) and latitude asin(y) down its height (the top row looks straight up).

The fragment shader `shaders/sphere.frag` does the same per fragment; these functions are its reference.
"""

from __future__ import annotations

import math

import numpy as np

from vrplayer.geometry import view_rotation
from vrplayer.render import mesh_lookup


def vertical_fov(hfov_deg: float, width: int, height: int) -> float:
    """The vertical FOV that keeps pixels square in a W×H view with horizontal FOV hfov."""
    return math.degrees(2.0 * math.atan(math.tan(math.radians(hfov_deg) / 2.0) * height / width))


def tan_half_fov(hfov_deg: float, width: int, height: int) -> tuple[float, float]:
    tx = math.tan(math.radians(hfov_deg) / 2.0)
    return tx, tx * height / width


def view_rays(width: int, height: int, yaw: float, pitch: float, roll: float, hfov: float) -> np.ndarray:
    """Unit world directions (H, W, 3) of every pixel centre of a view."""
    tx, ty = tan_half_fov(hfov, width, height)
    i = (2.0 * np.arange(width) + 1.0) / width - 1.0
    j = (2.0 * np.arange(height) + 1.0) / height - 1.0
    rays = np.stack(np.broadcast_arrays(tx * i[None, :], ty * j[:, None], np.ones((height, 1))), axis=-1)
    world = rays @ view_rotation(yaw, pitch, roll).T
    return world / np.linalg.norm(world, axis=-1, keepdims=True)


def direction(lon_deg: float, lat_deg: float) -> np.ndarray:
    """World direction of a longitude (right-positive) and latitude (up-positive)."""
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    return np.array([math.cos(lat) * math.sin(lon), -math.sin(lat), math.cos(lat) * math.cos(lon)])


def lon_lat(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude in degrees of world directions (..., 3)."""
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    return np.degrees(np.arctan2(x, z)), -np.degrees(np.arcsin(np.clip(y, -1.0, 1.0)))


def equirect_uv(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Texture coordinates in [0, 1] (u right, v down from the top row) of world directions."""
    lon, lat = lon_lat(directions)
    return lon / 360.0 + 0.5, 0.5 - lat / 180.0


def pixel_of(lon_deg: float, lat_deg: float, width: int, height: int, yaw: float, pitch: float, roll: float, hfov: float):
    """Where a world direction appears in a view, as (x, y) pixel coordinates, or None when it is behind or outside."""
    cam = view_rotation(yaw, pitch, roll).T @ direction(lon_deg, lat_deg)
    if cam[2] <= 1e-9:
        return None
    tx, ty = tan_half_fov(hfov, width, height)
    x = (cam[0] / cam[2] / tx + 1.0) * width / 2.0 - 0.5
    y = (cam[1] / cam[2] / ty + 1.0) * height / 2.0 - 0.5
    if -0.5 <= x < width - 0.5 and -0.5 <= y < height - 0.5:
        return x, y
    return None


# ---------------------------------------------------------------------------------------------------------------------
# Picture layouts: where a world direction lies in the decoded picture, for every projection and stereo packing.
#
# Each projection below is a small function of unit directions (x, y, z arrays) and the eye picture's size in
# pixels (w, h) → eye-local texture coordinates (u, v) in [0, 1]² (texel centres at (i + ½)/w, v down from the top
# row) and a mask `valid`, False where the picture does not cover the direction. They follow FFmpeg 5.1's v360
# `xyz_to_*` input mappings; where v360 puts pixels on a (W−1) grid (`scale()`: equirect, fisheye, dual fisheye,
# flat) we keep the texel-centre convention instead (at most half a pixel apart, zero at the picture centre).
# `texture_uv` adds the stereo packing; `render_reference` samples a picture the way the player should.
# ---------------------------------------------------------------------------------------------------------------------

# Cube faces, in v360's direction order (enum Direction in libavfilter/v360.h).
RIGHT, LEFT, UP, DOWN, FRONT, BACK = range(6)
FACE_NAMES = ("right", "left", "up", "down", "front", "back")

# v360's default input face order ("rludfb"), slot k of a 3x2 cubemap at column k % 3, row k // 3; of a 6x1 at
# column k. No face is rotated (in_frot "000000").
CUBEMAP_FACE_SLOTS = {RIGHT: 0, LEFT: 1, UP: 2, DOWN: 3, FRONT: 4, BACK: 5}

# Equi-angular cubemap (v360 prepare_eac_in): top row left, front, right; bottom row down, back, up, the bottom
# row's faces turned a quarter turn (v360 ROT_270 / ROT_90 / ROT_270), so each row is one continuous strip.
EAC_FACE_SLOTS = {LEFT: 0, FRONT: 1, RIGHT: 2, DOWN: 3, BACK: 4, UP: 5}
EAC_FACE_TURNS = {LEFT: 0, FRONT: 0, RIGHT: 0, DOWN: 270, BACK: 90, UP: 270}
# v360 assumes every EAC picture carries 2 pixels of padding round the outside of each row (left and right of the
# whole row, above and below each row; none between faces of a row): its comment says it matched YouTube's files.
EAC_PAD_PIXELS = 2.0

# Lens / screen field of view in degrees when a Layout leaves `fov` unset and vrplayer.layout has no DEFAULT_FOV
# (v360's ih_fov defaults; a flat screen's height follows the picture's aspect, where v360 defaults iv_fov to 45).
V360_DEFAULT_FOV = {"fisheye": 180.0, "dual-fisheye": 180.0, "flat": 90.0}


def _xyz(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(directions, dtype=np.float64)
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    return d[..., 0], d[..., 1], d[..., 2]


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, with b = 0 read as a tiny number (a GLSL division by zero gives ±inf; numpy would warn)."""
    return a / np.where(np.abs(b) < 1e-12, np.copysign(1e-12, b), b)


def equirect_crop_uv(x, y, z, crop_left=0.0, crop_top=0.0, crop_right=0.0, crop_bottom=0.0):
    """Equirectangular, full 360x180 or a crop of it (fractions of the full picture cut off each side; VR180 is
    crop_left = crop_right = 0.25, the same mapping as v360's `hequirect`).

    Longitude atan2(x, z) runs left→right, latitude −asin(y) top→bottom; the uncropped picture puts longitude 0 at
    its centre column and the seam (±180°) at its left/right edges (v360 `xyz_to_equirect`)."""
    lon = np.arctan2(x, z) / (2.0 * math.pi) + 0.5  # 0..1 across the full 360°
    lat = np.arcsin(np.clip(y, -1.0, 1.0)) / math.pi + 0.5  # 0 at the top (up, y = −1), 1 at the bottom
    u = (lon - crop_left) / (1.0 - crop_left - crop_right)
    v = (lat - crop_top) / (1.0 - crop_top - crop_bottom)
    valid = (u >= 0.0) & (u <= 1.0) & (v >= 0.0) & (v <= 1.0)
    return u, v, valid


def cube_face(x, y, z):
    """The cube face a direction hits and its face-local coordinates (a, b) in [−1, 1]² (v360 `xyz_to_cube`).

    The face is the direction's largest component (a tie between a side and up/down goes to the side, as in v360).
    Each face is seen from inside the cube: a runs to the viewer's right, b downward, when facing that face with
    the head upright (up and down faces: as seen turning the head up or down from the front, the top of the up face
    towards the back, the bottom of the down face towards the back)."""
    ax, ay, az = np.abs(x), np.abs(y), np.abs(z)
    on_y = (ay > ax) & (ay > az)
    on_x = ~on_y & (ax >= az)
    face = np.where(on_y, np.where(y < 0, UP, DOWN), np.where(on_x, np.where(x > 0, RIGHT, LEFT), np.where(z > 0, FRONT, BACK)))
    major = np.where(on_y, ay, np.where(on_x, ax, az))
    # (a, b) = (right, down) on each face, divided by the major axis length.
    a = np.select([face == RIGHT, face == LEFT, face == UP, face == DOWN, face == FRONT], [-z, z, x, x, x], -x)
    b = np.select([face == UP, face == DOWN], [z, -z], y)
    return face, _safe_div(a, major), _safe_div(b, major)


def cube_face_direction(face, a, b):
    """Inverse of `cube_face`: the (unnormalised) direction of face-local (a, b) on `face` (v360 `cube_to_xyz`)."""
    one = np.ones_like(np.asarray(a, dtype=np.float64))
    x = np.select([face == RIGHT, face == LEFT, face == BACK], [one, -one, -a], a)
    y = np.select([face == UP, face == DOWN], [-one, one], b)
    z = np.select([face == RIGHT, face == LEFT, face == UP, face == DOWN, face == FRONT], [-a, a, b, -b, one], -one)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def face_rects(w: int, h: int, columns: int, rows: int) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles (x0, y0, width, height) of the face slots of a columns×rows cubemap, row-major. Like v360,
    slot edges are at ceil(k·w/columns), so faces differ by a pixel when the size does not divide evenly."""
    rects = []
    for k in range(columns * rows):
        c, r = k % columns, k // columns
        x0, x1 = math.ceil(w * c / columns), math.ceil(w * (c + 1) / columns)
        y0, y1 = math.ceil(h * r / rows), math.ceil(h * (r + 1) / rows)
        rects.append((x0, y0, x1 - x0, y1 - y0))
    return rects


def _slot_lookup(face, slots: dict[int, int], rects):
    """Per-direction x0, y0, width, height of the face's slot rectangle."""
    rect_of_face = np.array([rects[slots[f]] for f in range(6)], dtype=np.float64)
    r = rect_of_face[face]
    return r[..., 0], r[..., 1], r[..., 2], r[..., 3]


def cubemap_uv(x, y, z, w: int, h: int, columns: int, rows: int):
    """Cubemap 3x2 (columns=3, rows=2) or 6x1 (6, 1), v360's default face order "rludfb" (3x2: right left up /
    down front back; 6x1: right left up down front back) with no face rotation and no padding. Each face is a plain
    perspective (gnomonic) picture, face-local a, b ∈ [−1, 1] spread over the face's pixels with texel centres (v360
    `xyz_to_cube3x2` / `xyz_to_cube6x1`: `0.5·ewi·(uf + 1) − 0.5`). Always valid."""
    face, a, b = cube_face(x, y, z)
    x0, y0, fw, fh = _slot_lookup(face, CUBEMAP_FACE_SLOTS, face_rects(w, h, columns, rows))
    u = (x0 + 0.5 * (a + 1.0) * fw) / w
    v = (y0 + 0.5 * (b + 1.0) * fh) / h
    return u, v, np.ones(np.shape(u), dtype=bool)


def _turn(a, b, degrees):
    """Face-local (a, b) → where they are stored in a face turned as v360's rotate_cube_face:
    90 → (−b, a), 180 → (−a, −b), 270 → (b, −a). So in EAC's bottom row, down and up store (u, v) = (b, −a),
    back stores (−b, a)."""
    degrees = np.asarray(degrees)
    ta = np.select([degrees == 90, degrees == 180, degrees == 270], [-b, -a, b], a)
    tb = np.select([degrees == 90, degrees == 180, degrees == 270], [a, -b, -a], b)
    return ta, tb


def eac_uv(x, y, z, w: int, h: int, pad: float = EAC_PAD_PIXELS):
    """Equi-angular cubemap (v360 `xyz_to_eac`): the cube face coordinate t ∈ [−1, 1] becomes the angle
    s = 2/π·atan(t) + ½ ∈ [0, 1] (equal angles, equal pixels). Faces as EAC_FACE_SLOTS / EAC_FACE_TURNS; each row
    of three faces is padded by `pad` pixels (v360: EAC_PAD_PIXELS) on its outer sides (left/right of the row, above/below it). The rows
    are continuous strips, so bilinear sampling may cross face edges within a row. Always valid."""
    face, a, b = cube_face(x, y, z)
    turns = np.array([EAC_FACE_TURNS[f] for f in range(6)])[face]
    a, b = _turn(a, b, turns)
    slot = np.array([EAC_FACE_SLOTS[f] for f in range(6)])[face]
    column, row = slot % 3, slot // 3
    s = (2.0 / math.pi) * np.arctan(a) + 0.5
    t = (2.0 / math.pi) * np.arctan(b) + 0.5
    pad_u, pad_v = pad / w, pad / h
    u = (s + column) * (1.0 - 2.0 * pad_u) / 3.0 + pad_u
    v = t * (0.5 - 2.0 * pad_v) + pad_v + 0.5 * row
    return u, v, np.ones(np.shape(u), dtype=bool)


def fisheye_uv(x, y, z, fov_deg: float, w: float, h: float, circle=None):
    """One circular fisheye lens looking forward (+z), equidistant: the distance from the circle's centre is
    proportional to the angle from the lens axis, r = angle / (fov/2), r = 1 on the circle (v360 `xyz_to_fisheye`
    with ih_fov = fov·w/d, iv_fov = fov·h/d, d = min(w, h)). Image x right = world +x, image down = world +y.
    Valid inside the circle (angle ≤ fov/2); the corners outside it are black.

    `circle`: where the lens's circle lies, when not centred with the shorter side as diameter: (centre x, centre
    y, radius, turn) — the centre as fractions of the picture's width and height, the radius of its height, and
    the degrees the lens's picture is turned clockwise in the frame (a camera's own calibration)."""
    rho = np.hypot(x, y)
    angle = np.arctan2(rho, z)
    r = angle / math.radians(fov_deg / 2.0)
    cx, cy = _safe_div(x, rho), _safe_div(y, rho)
    cx, cy = np.where(rho > 0, cx, 0.0), np.where(rho > 0, cy, 0.0)
    u, v = _lens_point(cx, cy, r, circle or centred_circle(w, h), w, h)
    return u, v, r <= 1.0


def centred_circle(w: float, h: float, x0: float = 0.0, width: float | None = None) -> tuple[float, float, float, float]:
    """The default circle of a lens in a `width`-wide part of a w × h picture from x0: centred in it, the part's
    shorter side its diameter, not turned (as fractions, like a `circle`)."""
    width = w if width is None else width
    return ((x0 + width / 2.0) / w, 0.5, min(width, h) / 2.0 / h, 0.0)


def _lens_point(cx, cy, r, circle, w: float, h: float):
    """(u, v) of a point `r` (of the radius) out from a lens circle's centre along the image direction (cx, cy),
    turned with the circle."""
    centre_x, centre_y, radius, turn = circle
    c, s = math.cos(math.radians(turn)), math.sin(math.radians(turn))
    along_x, along_y = c * cx - s * cy, s * cx + c * cy  # clockwise on the picture (its y runs down)
    return centre_x + r * radius * h * along_x / w, centre_y + r * radius * along_y


def dual_fisheye_uv(x, y, z, fov_deg: float, w: int, h: int, circles=None):
    """Two fisheye lenses back to back in one picture, each in its own half (v360 `xyz_to_dfisheye`): the FRONT
    lens (+z) in the RIGHT half, the back lens (−z) in the LEFT half, mirrored left-right (it looks backwards).
    Each lens is equidistant like `fisheye_uv`, with `fov` per lens, its circle centred in its half (or where
    `circles` say: the left half's lens's and the right half's, as `fisheye_uv`'s circle, fractions of the whole
    picture). The lens is chosen by the sign of z alone (no blending in the overlap), so with fov ≥ 180 every
    direction is valid."""
    half_w = w // 2
    front = z >= 0.0
    rho = np.hypot(x, y)
    angle = np.arccos(np.clip(np.abs(z), 0.0, 1.0))  # angle from the chosen lens's axis
    r = angle / math.radians(fov_deg / 2.0)
    cx, cy = _safe_div(x, rho), _safe_div(y, rho)
    cx, cy = np.where(rho > 0, cx, 0.0), np.where(rho > 0, cy, 0.0)
    back_circle, front_circle = circles or (centred_circle(w, h, 0.0, half_w), centred_circle(w, h, w - half_w, half_w))
    ub, vb = _lens_point(-cx, cy, r, back_circle, w, h)  # v360: the front half starts at ceil(w/2)
    uf, vf = _lens_point(cx, cy, r, front_circle, w, h)
    return np.where(front, uf, ub), np.where(front, vf, vb), r <= 1.0


def flat_uv(x, y, z, fov_deg: float, w: float, h: float):
    """An ordinary film on a flat screen straight ahead (v360 `xyz_to_flat`): a gnomonic picture `fov` degrees wide,
    its height following the picture's aspect (square pixels: tan(vfov/2) = tan(fov/2)·h/w). Valid on the screen
    only (in front, inside the picture's edges)."""
    tx = math.tan(math.radians(fov_deg) / 2.0)
    ty = tx * h / w
    u = 0.5 + 0.5 * _safe_div(x, z) / tx
    v = 0.5 + 0.5 * _safe_div(y, z) / ty
    valid = (z > 0.0) & (u >= 0.0) & (u <= 1.0) & (v >= 0.0) & (v <= 1.0)
    return u, v, valid


def eye_rect(layout, size: tuple[int, int], eye: str = "left") -> tuple[int, int, int, int]:
    """The pixel rectangle (x0, y0, width, height) of one eye's picture in the decoded picture of `size` (w, h).

    Top-bottom: the top half is the left eye, side-by-side: the left half, unless `eyes_swapped` (right eye first).
    Like v360 (in_stereo tb / sbs), each eye is floor(h/2) (or floor(w/2)) pixels and the second starts right
    after the first. Mono: the whole picture, for either eye."""
    if eye not in ("left", "right"):
        raise ValueError(f"eye must be 'left' or 'right', not {eye!r}")
    w, h = size
    second = (eye == "right") != bool(layout.eyes_swapped)
    if layout.stereo == "top-bottom":
        return (0, h // 2 if second else 0, w, h // 2)
    if layout.stereo == "side-by-side":
        return (w // 2 if second else 0, 0, w // 2, h)
    if layout.stereo == "mono":
        return (0, 0, w, h)
    raise ValueError(f"unknown stereo mode {layout.stereo!r}")


def lens_circles(layout, eye: str = "left"):
    """The layout's own lens circles for an eye's picture (vrplayer.layout's `lens_circles`, in picture order):
    a fisheye eye's one circle, a dual fisheye's two (left half's, right half's); None: the default circles."""
    circles = layout.lens_circles
    if not circles:
        return None
    if layout.projection == "dual-fisheye":
        return tuple(circles[:2]) if len(circles) >= 2 else None
    second = layout.stereo != "mono" and ((eye == "right") != bool(layout.eyes_swapped))
    return circles[1] if second and len(circles) > 1 else circles[0]


def eac_pad(layout) -> float:
    """Pixels of padding round the outside of each EAC row: the layout's (a GoPro MAX's assembled picture has
    none), else v360's EAC_PAD_PIXELS."""
    return EAC_PAD_PIXELS if layout.eac_padding is None else float(layout.eac_padding)


def layout_fov(layout) -> float:
    """The layout's lens / screen fov in degrees, or the projection's default (the layout module's DEFAULT_FOV, the
    one the layout decision documents, when it has one)."""
    if layout.fov is not None:
        return float(layout.fov)
    from vrplayer import layout as layout_module

    defaults = getattr(layout_module, "DEFAULT_FOV", V360_DEFAULT_FOV)
    return float(defaults.get(layout.projection, V360_DEFAULT_FOV[layout.projection]))


def eye_uv(layout, directions: np.ndarray, eye_size: tuple[int, int], eye: str = "left"):
    """Eye-local (u, v, valid) of world directions (..., 3) in one eye's picture of `eye_size` (w, h) pixels (the
    eye matters only to a film with a mesh for each)."""
    x, y, z = _xyz(directions)
    w, h = eye_size
    p = layout.projection
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == "mesh":
            slot = mesh_lookup.mesh_slot(layout.meshes, eye, layout.eyes_swapped)
            return mesh_lookup.mesh_uv(mesh_lookup.lookup_for(layout.meshes), slot, x, y, z)
        if p == "equirectangular":
            return equirect_crop_uv(x, y, z, layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)
        if p == "cubemap-3x2":
            return cubemap_uv(x, y, z, w, h, 3, 2)
        if p == "cubemap-6x1":
            return cubemap_uv(x, y, z, w, h, 6, 1)
        if p == "eac":
            return eac_uv(x, y, z, w, h, eac_pad(layout))
        if p == "fisheye":
            return fisheye_uv(x, y, z, layout_fov(layout), w, h, lens_circles(layout, eye))
        if p == "dual-fisheye":
            return dual_fisheye_uv(x, y, z, layout_fov(layout), w, h, lens_circles(layout, eye))
        if p == "flat":
            return flat_uv(x, y, z, layout_fov(layout), w, h)
    raise ValueError(f"unknown projection {p!r}")


def texture_uv(layout, directions: np.ndarray, size: tuple[int, int], eye: str = "left"):
    """Texture coordinates (u, v) in [0, 1]² of the WHOLE decoded picture of `size` (w, h) pixels for world
    directions (..., 3), and `valid`, False where the picture does not cover the direction (render black there).

    The size matters beyond stereo: EAC's padding is in pixels, cubemap faces are whole pixels, and the aspect of
    a fisheye or flat picture sets its geometry."""
    x0, y0, ew, eh = eye_rect(layout, size, eye)
    u, v, valid = eye_uv(layout, directions, (ew, eh), eye)
    w, h = size
    return (x0 + u * ew) / w, (y0 + v * eh) / h, valid


# --- Sampling --------------------------------------------------------------------------------------------------------


def _bilinear(picture: np.ndarray, px: np.ndarray, py: np.ndarray, address) -> np.ndarray:
    """Bilinear sample at pixel coordinates (texel centres at integers); `address(ix, iy)` maps each of the four
    integer taps to a pixel inside `picture` (clamping, wrapping or crossing a cube edge)."""
    px = np.where(np.isfinite(px), px, 0.0)
    py = np.where(np.isfinite(py), py, 0.0)
    x0, y0 = np.floor(px), np.floor(py)
    fx, fy = (px - x0)[..., None], (py - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = np.zeros(px.shape + picture.shape[2:], dtype=np.float64)
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            ix, iy = address(x0 + dx, y0 + dy)
            out += wx * wy * picture[iy, ix]
    return out


def _clamp_address(x0: int, y0: int, w: int, h: int):
    """Taps clamped to the rectangle (edge texels repeat): EAC, fisheye, flat."""
    return lambda ix, iy: (x0 + np.clip(ix, 0, w - 1), y0 + np.clip(iy, 0, h - 1))


def _equirect_address(x0: int, y0: int, w: int, h: int, crop: tuple[float, float, float, float]):
    """Equirect: a picture spanning all 360° wraps round its seam, and when it also reaches a pole, a tap past that
    pole lands on the edge row half a turn round (the texel across the pole). Cropped edges clamp."""
    left, top, right, bottom = crop
    wraps = left == 0 and right == 0
    over_top, over_bottom = (wraps and top == 0), (wraps and bottom == 0)

    def address(ix, iy):
        across = ((iy < 0) & over_top) | ((iy >= h) & over_bottom)
        ix = np.where(across, ix + w // 2, ix)
        iy = np.where(across, np.where(iy < 0, -1 - iy, 2 * h - 1 - iy), iy)
        ix = np.mod(ix, w) if wraps else np.clip(ix, 0, w - 1)
        return x0 + ix, y0 + np.clip(iy, 0, h - 1)

    return address


def _eac_address(x0: int, y0: int, w: int, h: int, bottom: np.ndarray):
    """EAC: taps clamped inside the row of faces in use (the other row's faces lie elsewhere on the sphere; with no
    padding, as a GoPro's picture has, the rows touch)."""
    top_rows = h // 2
    r0 = np.where(bottom, top_rows, 0)
    rows = np.where(bottom, h - top_rows, top_rows)
    return lambda ix, iy: (x0 + np.clip(ix, 0, w - 1), y0 + r0 + np.clip(iy - r0, 0, rows - 1))


def _dual_fisheye_address(x0: int, y0: int, w: int, h: int, front: np.ndarray):
    """Dual fisheye: taps clamped inside the half of the lens in use (front: right half, from ceil(w/2))."""
    half = w // 2
    hx0 = np.where(front, w - half, 0)
    return lambda ix, iy: (x0 + hx0 + np.clip(ix - hx0, 0, half - 1), y0 + np.clip(iy, 0, h - 1))


def _cube_sample(picture, x0, y0, w, h, directions, columns, rows):
    """Bilinear within the direction's face; a tap past a face edge is fetched from the neighbouring face (the tap's
    texel centre turned into a direction and looked up again), as v360 does. A tap past a face corner (beyond both
    edges) has no texel: it takes the face's corner texel, as in v360."""
    x, y, z = _xyz(directions)
    face, a, b = cube_face(x, y, z)
    rects = face_rects(w, h, columns, rows)
    fx0, fy0, fw, fh = _slot_lookup(face, CUBEMAP_FACE_SLOTS, rects)
    fw_i, fh_i = fw.astype(np.int64), fh.astype(np.int64)
    px = 0.5 * (a + 1.0) * fw - 0.5
    py = 0.5 * (b + 1.0) * fh - 0.5

    def address(ix, iy):
        out_u, out_v = (ix < 0) | (ix >= fw_i), (iy < 0) | (iy >= fh_i)
        cross = out_u ^ out_v
        # The neighbour: re-project the tap's texel centre.
        ta = 2.0 * (ix + 0.5) / fw - 1.0
        tb = 2.0 * (iy + 0.5) / fh - 1.0
        nface, na, nb = cube_face(*np.moveaxis(cube_face_direction(face, ta, tb), -1, 0))
        nx0, ny0, nw, nh = _slot_lookup(nface, CUBEMAP_FACE_SLOTS, rects)
        nix = np.clip(np.rint(0.5 * (na + 1.0) * nw - 0.5), 0, nw - 1)
        niy = np.clip(np.rint(0.5 * (nb + 1.0) * nh - 0.5), 0, nh - 1)
        gx = np.where(cross, nx0 + nix, fx0 + np.clip(ix, 0, fw_i - 1))
        gy = np.where(cross, ny0 + niy, fy0 + np.clip(iy, 0, fh_i - 1))
        return x0 + gx.astype(np.int64), y0 + gy.astype(np.int64)

    return _bilinear(picture, px, py, address)


def sample_layout(picture: np.ndarray, layout, directions: np.ndarray, eye: str = "left") -> tuple[np.ndarray, np.ndarray]:
    """Bilinear samples of `picture` (H, W, C) in world directions (..., 3), and the `valid` mask (samples are
    black where it is False).

    Addressing per projection: full 360° equirect wraps round the seam and crosses the poles; cubemaps fetch taps
    past a face edge from the neighbouring face; dual fisheye clamps inside the lens's half; EAC inside its row of
    faces (each row a continuous strip); everything else clamps to the eye's picture."""
    h_pic, w_pic = picture.shape[:2]
    x0, y0, ew, eh = eye_rect(layout, (w_pic, h_pic), eye)
    u, v, valid = eye_uv(layout, directions, (ew, eh), eye)
    p = layout.projection
    if p in ("cubemap-3x2", "cubemap-6x1"):
        columns, rows = (3, 2) if p == "cubemap-3x2" else (6, 1)
        colour = _cube_sample(picture, x0, y0, ew, eh, directions, columns, rows)
    else:
        px, py = u * ew - 0.5, v * eh - 0.5
        if p == "equirectangular":
            crop = (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)
            address = _equirect_address(x0, y0, ew, eh, crop)
        elif p == "dual-fisheye":
            address = _dual_fisheye_address(x0, y0, ew, eh, np.asarray(directions)[..., 2] >= 0.0)
        elif p == "eac":
            address = _eac_address(x0, y0, ew, eh, v >= 0.5)
        else:
            address = _clamp_address(x0, y0, ew, eh)
        colour = _bilinear(picture, px, py, address)
    return np.where(valid[..., None], colour, 0.0), valid


def render_reference(picture_rgb_float: np.ndarray, layout, width: int, height: int, yaw: float, pitch: float,
                     roll: float, hfov: float, eye: str = "left") -> np.ndarray:
    """The view (height, width, 3) of a decoded picture (H, W, 3 floats) for a layout: bilinear, texel centres,
    black where the picture does not cover the view."""
    rays = view_rays(width, height, yaw, pitch, roll, hfov)
    colour, _ = sample_layout(np.asarray(picture_rgb_float, dtype=np.float64), layout, rays, eye)
    return colour
