"""Which parts of a film's picture a view needs, so that the renderer uploads only those planes' parts.

A 360° view shows a fraction of the picture (a 90° view about a tenth of an equirect film), and uploading all of a
4K 10-bit frame costs a software GL as much as drawing it. The picture is cut into a grid of tiles (TILE_COLUMNS ×
TILE_ROWS, whatever its size); the renderer uploads a frame's tiles as views need them.

A view's exact tiles (`view_tiles`, ~1 ms) come from a grid of rays across its frustum, through the projection's
numpy reference (`projection.eye_uv`, which sphere.frag follows): each cell of that grid marks the tiles under the
bounding box of its four corners in the eye's picture, widened by MARGIN for bilinear taps and the slight bending of
a cell's edges in the picture; a cell straddling the edge of a cube face or a lens is looked at again in finer
cells. A 360° picture is circular across its seam (a cell straddling it marks both ends); an equirect view reaching
near a pole takes whole rows there, since every longitude meets at the pole. Corners the film does not cover still
mark the picture's border nearest to them: a few tiles too many, never one too few. `rough_view_tiles` (50 µs) is a
superset for views drawn once.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from vrplayer.render import projection

TILE_COLUMNS, TILE_ROWS = 32, 16
RAY_CELLS = (24, 14)  # ray grid cells across and down a view (≈ 4° each for a 90° view)
MARGIN = 1.0 / 64  # of the eye's picture, on each side of a cell's box
SPLIT_SPAN = 0.1  # a cell whose corners spread wider than this (of the eye's picture) straddles an edge...
SPLIT_CELLS, SPLIT_DEPTH = 4, 2  # ...and is looked at again as 4 × 4 finer cells, twice over at most
_CIRCLE_MARGIN = math.radians(1.0)  # rough tiles: bilinear taps and rounding, on the sphere

_POLES = (np.array([0.0, -1.0, 0.0]), np.array([0.0, 1.0, 0.0]))  # up and down (v360 axes: y points down)


def empty() -> np.ndarray:
    return np.zeros((TILE_ROWS, TILE_COLUMNS), dtype=bool)


def view_tiles(layout, picture_size: tuple[int, int], eye: str, rotation: np.ndarray, tan_bounds) -> np.ndarray:
    """The tiles (TILE_ROWS × TILE_COLUMNS, True where needed) that one eye's view samples: `rotation` camera →
    world (v360 axes), `tan_bounds` the tangents of the frustum's left, right, down, up edges."""
    left, right, down, up = tan_bounds
    columns, rows = RAY_CELLS
    tx, ty = (grid[None] for grid in np.meshgrid(np.linspace(left, right, columns + 1), np.linspace(up, down, rows + 1)))
    eye_size = projection.eye_rect(layout, picture_size, eye)[2:]
    circular = layout.projection == "equirectangular" and layout.crop_left == 0.0 and layout.crop_right == 0.0
    rotation = np.asarray(rotation, dtype=np.float64)
    boxes, split, directions = _cell_boxes(layout, eye_size, eye, rotation, tx, ty, circular)
    found = [boxes[~split]]
    if layout.projection == "equirectangular":
        found.append(_pole_caps(layout, directions[0]))
    else:
        # A cell whose corners land far apart in the picture straddles an edge of a cube face or of a lens, where a
        # third face can poke in between its corners: look again in finer cells there.
        for _ in range(SPLIT_DEPTH):
            tx, ty = _split(tx, ty, split)
            boxes, split, _ = _cell_boxes(layout, eye_size, eye, rotation, tx, ty, circular)
            found.append(boxes[~split])
        found.append(boxes[split])  # the finest cells still straddling: their corners' box, margin included
        if layout.projection in ("eac", "cubemap-3x2", "cubemap-6x1"):
            found.append(_cube_corners(layout, eye_size, directions[0]))
    return _mark(np.concatenate([b.reshape(-1, 4) for b in found]), circular, layout, picture_size, eye)


def rough_view_tiles(layout, picture_size: tuple[int, int], eye: str, rotation: np.ndarray, tan_bounds) -> np.ndarray:
    """A quick superset of view_tiles, for a view drawn once (a moving one: a headset's always is), where working the
    exact tiles out would cost more than sending the extra ones: every tile of an equirect picture whose bounding
    circle on the sphere meets the frustum's; the whole eye for other projections."""
    if layout.projection != "equirectangular":
        return eye_tiles(layout, picture_size, eye)
    left, right, down, up = tan_bounds
    corners = np.array([[left, -up, 1.0], [right, -up, 1.0], [left, -down, 1.0], [right, -down, 1.0]])
    middle = np.array([(left + right) / 2.0, -(up + down) / 2.0, 1.0])
    middle /= np.linalg.norm(middle)
    corners /= np.linalg.norm(corners, axis=-1, keepdims=True)
    view_radius = float(np.arccos(np.clip(corners @ middle, -1.0, 1.0)).max())
    rotation = np.asarray(rotation, dtype=np.float64)
    centres, radii, inside = _tile_circles(layout, tuple(picture_size), eye)
    apart = np.arccos(np.clip(centres @ (rotation @ middle), -1.0, 1.0))
    return inside & (apart <= view_radius + radii + _CIRCLE_MARGIN)


def eye_tiles(layout, picture_size: tuple[int, int], eye: str) -> np.ndarray:
    """Every tile of one eye's picture (a headset's equirect layer shows it all)."""
    return _mark(np.array([[0.0, 1.0, 0.0, 1.0]]), False, layout, picture_size, eye)


def rectangles(tiles: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Marked tiles as few rectangles (column, row, end column, end row; ends exclusive): runs along each row,
    joined with the same run on the rows below. (A view that stays put asks for the same tiles every frame: the
    answer is kept for the last few.)"""
    return list(_rectangles(np.asarray(tiles, dtype=bool).tobytes(), tiles.shape))


@lru_cache(maxsize=16)
def _rectangles(packed: bytes, shape: tuple[int, int]) -> tuple[tuple[int, int, int, int], ...]:
    tiles = np.frombuffer(packed, dtype=bool).reshape(shape)
    open_runs: dict[tuple[int, int], int] = {}  # (first column, end column) -> first row
    found = []
    for row in range(tiles.shape[0] + 1):
        runs = set(_runs(tiles[row])) if row < tiles.shape[0] else set()
        for run in [r for r in open_runs if r not in runs]:
            found.append((run[0], open_runs.pop(run), run[1], row))
        for run in runs:
            open_runs.setdefault(run, row)
    return tuple(sorted(found, key=lambda r: (r[1], r[0])))


def plane_rectangle(rectangle: tuple[int, int, int, int], plane_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A tile rectangle in one plane's texels (x, y, width, height), rounded outwards (chroma planes are smaller)."""
    c0, r0, c1, r1 = rectangle
    width, height = plane_size
    x0, y0 = c0 * width // TILE_COLUMNS, r0 * height // TILE_ROWS
    x1, y1 = -(-c1 * width // TILE_COLUMNS), -(-r1 * height // TILE_ROWS)
    return x0, y0, x1 - x0, y1 - y0


# -- helpers ------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _tile_circles(layout, picture_size: tuple[int, int], eye: str):
    """Each tile's part of an equirect eye as a circle on the sphere: its centre direction (rows, columns, 3), its
    radius (the farthest of its corners and edge middles, radians), and whether the tile holds any of the eye."""
    width, height = picture_size
    ex, ey, ew, eh = projection.eye_rect(layout, picture_size, eye)
    # Tile edges in eye-local coordinates (0..1 across the eye's picture), cut to the eye.
    u_edges = np.clip((np.arange(TILE_COLUMNS + 1) * width / TILE_COLUMNS - ex) / ew, 0.0, 1.0)
    v_edges = np.clip((np.arange(TILE_ROWS + 1) * height / TILE_ROWS - ey) / eh, 0.0, 1.0)
    inside = (np.diff(v_edges)[:, None] > 0) & (np.diff(u_edges)[None, :] > 0)
    lon_span = 1.0 - layout.crop_left - layout.crop_right
    lat_span = 1.0 - layout.crop_top - layout.crop_bottom
    lon = np.radians((layout.crop_left + u_edges * lon_span) * 360.0 - 180.0)
    lat = np.radians(90.0 - (layout.crop_top + v_edges * lat_span) * 180.0)
    points = []  # per tile: its corners, edge middles and centre (lon, lat), 9 of them
    for fu in (0.0, 0.5, 1.0):
        for fv in (0.0, 0.5, 1.0):
            tile_lon = lon[:-1][None, :] + fu * np.diff(lon)[None, :]
            tile_lat = lat[:-1][:, None] + fv * np.diff(lat)[:, None]
            tile_lon, tile_lat = np.broadcast_arrays(tile_lon, tile_lat)
            # v360 axes: x right, y down, z forward.
            points.append(np.stack([np.cos(tile_lat) * np.sin(tile_lon), -np.sin(tile_lat), np.cos(tile_lat) * np.cos(tile_lon)], axis=-1))
    points = np.stack(points, axis=2)  # (rows, columns, 9, 3); index 4 is the middle
    centres = points[:, :, 4]
    radii = np.arccos(np.clip(np.einsum("rcpk,rck->rcp", points, centres), -1.0, 1.0)).max(axis=-1)
    return centres, radii, inside


def _cell_corners(grid: np.ndarray) -> np.ndarray:
    """(..., rows + 1, columns + 1) values at grid points -> (..., rows, columns, 4) at each cell's corners."""
    return np.stack([grid[..., :-1, :-1], grid[..., :-1, 1:], grid[..., 1:, :-1], grid[..., 1:, 1:]], axis=-1)


def _cell_boxes(layout, eye_size, eye: str, rotation, tx: np.ndarray, ty: np.ndarray, circular: bool):
    """For grids of frustum tangents (K, n + 1, m + 1): each cell's box in the eye's picture (K, n, m, 4: u0, u1,
    v0, v1, margin included), whether the cell straddles an edge (K, n, m), and the grid's unit directions."""
    rays = np.stack([tx, -ty, np.ones_like(tx)], axis=-1)  # camera y points down: the top row looks up
    directions = rays @ rotation.T
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    u, v, _ = projection.eye_uv(layout, directions, eye_size, eye)
    corners_u = _cell_corners(np.asarray(u, dtype=np.float64))
    corners_v = _cell_corners(np.asarray(v, dtype=np.float64))
    finite = np.isfinite(corners_u).all(axis=-1) & np.isfinite(corners_v).all(axis=-1)
    if circular:  # unwrap each cell's corners around its first one: the short way round the seam
        first = corners_u[..., :1]
        corners_u = first + ((corners_u - first + 0.5) % 1.0 - 0.5)
    else:
        corners_u = np.clip(corners_u, 0.0, 1.0)
    corners_v = np.clip(corners_v, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        low_u, high_u = corners_u.min(axis=-1), corners_u.max(axis=-1)
        low_v, high_v = corners_v.min(axis=-1), corners_v.max(axis=-1)
        boxes = np.stack([low_u - MARGIN, high_u + MARGIN, low_v - MARGIN, high_v + MARGIN], axis=-1)
        split = ~finite | (high_u - low_u > SPLIT_SPAN) | (high_v - low_v > SPLIT_SPAN)
    boxes[~finite] = (0.0, 1.0, 0.0, 1.0)  # a corner the projection cannot place: the whole eye, to be safe
    return boxes, split, directions


def _split(tx: np.ndarray, ty: np.ndarray, split: np.ndarray):
    """The cells marked in `split` (K, n, m) of tangent grids (K, n + 1, m + 1), each as a finer grid of its own."""
    k, i, j = np.nonzero(split)
    steps = np.linspace(0.0, 1.0, SPLIT_CELLS + 1)
    x0, x1 = tx[k, i, j], tx[k, i, j + 1]
    y0, y1 = ty[k, i, j], ty[k, i + 1, j]
    fine_x = x0[:, None] + (x1 - x0)[:, None] * steps[None, :]
    fine_y = y0[:, None] + (y1 - y0)[:, None] * steps[None, :]
    return (np.broadcast_to(fine_x[:, None, :], (len(k), SPLIT_CELLS + 1, SPLIT_CELLS + 1)),
            np.broadcast_to(fine_y[:, :, None], (len(k), SPLIT_CELLS + 1, SPLIT_CELLS + 1)))


def _pole_caps(layout, directions: np.ndarray) -> np.ndarray:
    """Whole-width boxes round each pole the view comes within three cells of (every longitude meets there), from
    the pole to two cells past the view's nearest ray."""
    cell = _largest_cell(directions)
    lat_span = 1.0 - layout.crop_top - layout.crop_bottom
    boxes = []
    for pole, at_top in zip(_POLES, (True, False)):
        nearest = _nearest_angle(directions, pole)
        cap = nearest + 2.0 * cell
        if cap >= math.pi / 2:
            cap = math.pi / 2  # a view this close takes the whole hemisphere
        reach = cap / math.pi  # of the full picture's height, from the pole
        if nearest <= 3.0 * cell:
            if at_top:
                top, bottom = -layout.crop_top, reach - layout.crop_top
            else:
                top, bottom = 1.0 - reach - layout.crop_top, 1.0 - layout.crop_top
            boxes.append((0.0, 1.0, top / lat_span - MARGIN, bottom / lat_span + MARGIN))
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def _cube_corners(layout, eye_size, directions: np.ndarray) -> np.ndarray:
    """Boxes round each cube corner the view comes near, in all three faces that meet there: two of them may lie side
    by side in the picture, so a cell with its corners in those two can still hold a sliver of the third."""
    reach = 2.0 * _largest_cell(directions)
    offsets = np.stack(np.meshgrid(*[np.linspace(-1.0, 1.0, 5)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    boxes = []
    for corner in np.stack(np.meshgrid([-1.0, 1.0], [-1.0, 1.0], [-1.0, 1.0], indexing="ij"), axis=-1).reshape(-1, 3):
        corner = corner / math.sqrt(3.0)
        if _nearest_angle(directions, corner) > reach:
            continue
        around = corner + math.tan(reach) * offsets  # a patch of directions round the corner, a little past it
        u, v, _ = projection.eye_uv(layout, around / np.linalg.norm(around, axis=-1, keepdims=True), eye_size)
        boxes.append(np.stack([u - MARGIN, u + MARGIN, v - MARGIN, v + MARGIN], axis=-1))
    return np.concatenate(boxes) if boxes else np.zeros((0, 4))


def _largest_cell(directions: np.ndarray) -> float:
    """A middle cell's diagonal (radians): the largest, since the grid is even in tangents and cells shrink outwards."""
    rows, columns = directions.shape[0] // 2, directions.shape[1] // 2
    return _angle(directions[rows - 1, columns - 1], directions[rows + 1, columns + 1]) / 2.0 if rows and columns else math.pi


def _nearest_angle(directions: np.ndarray, towards: np.ndarray) -> float:
    """The angle (radians) from a unit direction to the nearest of a grid's unit directions."""
    return math.acos(float(np.clip((directions.reshape(-1, 3) @ towards).max(), -1.0, 1.0)))


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return math.acos(float(np.clip(np.dot(a, b), -1.0, 1.0)))


def _mark(boxes: np.ndarray, circular: bool, layout, picture_size, eye: str) -> np.ndarray:
    """Tiles under eye-local boxes (u0, u1, v0, v1; u across, v down, 0..1 over the eye's picture)."""
    width, height = picture_size
    ex, ey, ew, eh = projection.eye_rect(layout, picture_size, eye)
    u0, u1, v0, v1 = boxes.T
    if circular:
        whole = u1 - u0 >= 1.0
        shift = np.floor(u0)
        u0, u1 = np.where(whole, 0.0, u0 - shift), np.where(whole, 1.0, u1 - shift)
        past = u1 > 1.0  # across the seam: the part past it continues at the eye's left edge
        u0 = np.concatenate([u0, np.zeros(np.count_nonzero(past))])
        u1 = np.concatenate([np.minimum(u1, 1.0), u1[past] - 1.0])
        v0, v1 = np.concatenate([v0, v0[past]]), np.concatenate([v1, v1[past]])
    u0, u1, v0, v1 = (np.clip(a, 0.0, 1.0) for a in (u0, u1, v0, v1))
    # Eye-local -> picture tiles. Ends are inclusive: a box ending exactly on a tile edge still takes that tile's
    # first texels (bilinear), which the margin covers anyway.
    c0 = np.floor((ex + u0 * ew) / width * TILE_COLUMNS).astype(int)
    c1 = np.floor((ex + u1 * ew) / width * TILE_COLUMNS).astype(int)
    r0 = np.floor((ey + v0 * eh) / height * TILE_ROWS).astype(int)
    r1 = np.floor((ey + v1 * eh) / height * TILE_ROWS).astype(int)
    c0, c1 = np.clip(c0, 0, TILE_COLUMNS - 1), np.clip(c1, 0, TILE_COLUMNS - 1)
    r0, r1 = np.clip(r0, 0, TILE_ROWS - 1), np.clip(r1, 0, TILE_ROWS - 1)
    # Paint every box at once: +1/-1 at its corners of a difference grid, then sum it up both ways.
    counts = np.zeros((TILE_ROWS + 1, TILE_COLUMNS + 1), dtype=np.int32)
    np.add.at(counts, (r0, c0), 1)
    np.add.at(counts, (r0, c1 + 1), -1)
    np.add.at(counts, (r1 + 1, c0), -1)
    np.add.at(counts, (r1 + 1, c1 + 1), 1)
    return counts.cumsum(axis=0).cumsum(axis=1)[:TILE_ROWS, :TILE_COLUMNS] > 0


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) of each run of True in a row of tiles."""
    padded = np.concatenate([[False], row, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))
