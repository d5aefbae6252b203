"""A mesh projection drawn by casting rays: which triangle of the film's mesh each view direction meets, and the
point of the picture it shows there. Pure numpy; `shaders/sphere.frag` (PROJECTION 7) follows `mesh_uv` line by line.

The renderer casts a ray per pixel for every projection, so a mesh is drawn the same way rather than as geometry:
each pixel then keeps everything else the ray cast gives (no seam at ±180°, the overview, the sample-position cache,
the tiles a view needs). Per film, once:

- a coarse equirectangular grid of cells (about a quarter of a triangle's edge each) names, per eye, a triangle that
  the cell's centre direction meets; cells the mesh does not reach take a neighbouring cell's triangle, so a ray
  just inside the mesh's edge still finds one.

Per ray:

- the cell's triangle, and the ray's weights in it: the triple products d·(b×c), d·(c×a), d·(a×b) over their sum
  are the barycentric coordinates of the point where the ray meets the triangle's plane, which is what GL's
  perspective-correct interpolation gives when it draws the triangle from the viewer's place;
- a ray outside that triangle (a weight below zero) steps once to the neighbour across the edge it is beyond; a
  ray beyond an edge of the mesh itself is not covered;
- the texture coordinate is the weighted sum of the three vertices'.

Texture coordinates come out eye-local (u right, v down from the eye picture's top row), like every projection's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vrplayer.layout.mesh import Mesh, to_view_axes

MAX_CELL_COLUMNS = 4096  # the grid's finest: 0.09° cells (a mesh finer than that still draws exactly, by stepping)
COARSEST_CELL = 0.5  # degrees: the grid's coarsest
INSIDE = -1e-6  # a barycentric weight this far below 0 is still inside (rays along a shared edge)
TRIANGLES_PER_ROW = 800  # of the triangle texture, 5 RGBA texels each (4000 texels wide)
TEXELS_PER_TRIANGLE = 5
NO_TRIANGLE = -1


@dataclass(frozen=True, eq=False)
class MeshLookup:
    cells: np.ndarray  # (eyes, rows, columns) int32: a triangle near each cell's centre direction, or NO_TRIANGLE
    corners: np.ndarray  # (T, 3, 3) float64: each triangle's vertices a, b, c in vrplayer's axes (all eyes' meshes)
    uv: np.ndarray  # (T, 3, 2) float64: their eye-local texture coordinates (u right, v down)
    across: np.ndarray  # (T, 3) int32: the triangle across the edge opposite each vertex, NO_TRIANGLE at the mesh's edge

    @property
    def grid(self) -> tuple[int, int]:
        """(columns, rows) of one eye's cells."""
        return self.cells.shape[2], self.cells.shape[1]

    def triangle_texels(self) -> np.ndarray:
        """The triangles as the shader reads them: (rows, TRIANGLES_PER_ROW × 5, 4) float32, triangle t's five texels
        at row t // TRIANGLES_PER_ROW from column (t % TRIANGLES_PER_ROW) × 5: a.xyz u_a, b.xyz u_b, c.xyz u_c,
        (v_a, v_b, v_c, 0), (the three neighbours, 0)."""
        count = len(self.corners)
        texels = np.zeros((count, TEXELS_PER_TRIANGLE, 4), np.float32)
        texels[:, :3, :3] = self.corners
        texels[:, :3, 3] = self.uv[:, :, 0]
        texels[:, 3, :3] = self.uv[:, :, 1]
        texels[:, 4, :3] = self.across
        rows = max(1, math.ceil(count / TRIANGLES_PER_ROW))
        padded = np.zeros((rows * TRIANGLES_PER_ROW, TEXELS_PER_TRIANGLE, 4), np.float32)
        padded[:count] = texels
        return padded.reshape(rows, TRIANGLES_PER_ROW * TEXELS_PER_TRIANGLE, 4)


def mesh_slot(meshes: tuple, eye: str, eyes_swapped: bool) -> int:
    """Which of the film's meshes an eye sees: the one mesh, or the left eye's first (the second with the eyes
    swapped, which swaps the meshes as it swaps the halves of the picture)."""
    return 1 if len(meshes) > 1 and ((eye == "right") != bool(eyes_swapped)) else 0


@lru_cache(maxsize=4)
def lookup_for(meshes: tuple) -> MeshLookup:
    """The lookup of a film's meshes (one for both eyes, or left and right), built once per film."""
    parts = [_triangles(mesh) for mesh in meshes]
    starts = np.cumsum([0] + [len(corners) for corners, _, _ in parts])
    corners = np.concatenate([corners for corners, _, _ in parts])
    columns = _grid_columns(corners)
    cells = np.stack([_cells(c, int(start), columns) for (c, _, _), start in zip(parts, starts)])
    across = np.concatenate([np.where(a >= 0, a + start, NO_TRIANGLE) for (_, _, a), start in zip(parts, starts)])
    return MeshLookup(cells, corners, np.concatenate([uv for _, uv, _ in parts]), across.astype(np.int32))


@lru_cache(maxsize=8)
def _triangles(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mesh's drawable triangles (not degenerate, their plane not through the viewer) as corners in our axes,
    eye-local texture coordinates, and each one's neighbours across its three edges."""
    p = to_view_axes(mesh.positions)
    tri = np.asarray(mesh.triangles, dtype=np.int64).reshape(-1, 3)
    corners = p[tri]
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    size = np.linalg.norm(normal, axis=1)
    reach = np.abs(np.einsum("ij,ij->i", normal, corners[:, 0])) / np.maximum(size, 1e-300)
    keep = (size > 1e-12) & (reach > 1e-6)
    tri, corners = tri[keep], corners[keep]
    uv = np.asarray(mesh.uv, dtype=np.float64)[tri]
    uv[..., 1] = 1.0 - uv[..., 1]  # the RFC's v runs up from the bottom; ours down from the top row
    return corners, uv, _neighbours(tri)


def _neighbours(tri: np.ndarray) -> np.ndarray:
    """(T, 3): for each triangle the one sharing the edge opposite vertex k (edge (k+1, k+2)), NO_TRIANGLE if none."""
    across = np.full(tri.shape, NO_TRIANGLE, np.int64)
    if not len(tri):
        return across
    edges = np.stack([tri[:, [1, 2]], tri[:, [2, 0]], tri[:, [0, 1]]], axis=1)  # (T, 3, 2)
    keys = np.sort(edges, axis=2).reshape(-1, 2)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    ordered = keys[order]
    same = np.all(ordered[1:] == ordered[:-1], axis=1)  # an edge shared by the next entry
    first, second = order[:-1][same], order[1:][same]
    across.reshape(-1)[first] = second // 3
    across.reshape(-1)[second] = first // 3
    return across


def _grid_columns(corners: np.ndarray) -> int:
    """Cells a quarter of the typical triangle edge wide, between COARSEST_CELL and MAX_CELL_COLUMNS round."""
    unit = corners / np.linalg.norm(corners, axis=2, keepdims=True)
    edge = np.degrees(2.0 * np.arcsin(np.clip(np.linalg.norm(unit[:, 0] - unit[:, 1], axis=1) / 2.0, 0.0, 1.0)))
    cell = min(COARSEST_CELL, float(np.median(edge)) / 4.0) if len(edge) else COARSEST_CELL
    columns = min(MAX_CELL_COLUMNS, math.ceil(360.0 / max(cell, 1e-9)))
    return columns + columns % 2


def cell_directions(columns: int, rows: int, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The centre directions (..., 3) of cells."""
    lon = np.radians((col + 0.5) / columns * 360.0 - 180.0)
    lat = np.radians(90.0 - (row + 0.5) / rows * 180.0)
    return np.stack([np.cos(lat) * np.sin(lon), -np.sin(lat), np.cos(lat) * np.cos(lon)], axis=-1)


def cell_of(directions: np.ndarray, columns: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The (column, row) of the cell each unit direction (..., 3) falls in."""
    lon = np.arctan2(directions[..., 0], directions[..., 2])
    lat = -np.arcsin(np.clip(directions[..., 1], -1.0, 1.0))
    col = np.floor((lon / (2.0 * math.pi) + 0.5) * columns).astype(np.int64) % columns
    row = np.clip(np.floor((0.5 - lat / math.pi) * rows).astype(np.int64), 0, rows - 1)
    return col, row


def weights(directions: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Barycentric weights (..., 3) of where each ray (..., 3) meets its triangle's plane (corners (..., 3, 3))."""
    a, b, c = corners[..., 0, :], corners[..., 1, :], corners[..., 2, :]
    w = np.stack([np.einsum("...i,...i->...", directions, np.cross(b, c)),
                  np.einsum("...i,...i->...", directions, np.cross(c, a)),
                  np.einsum("...i,...i->...", directions, np.cross(a, b))], axis=-1)
    total = w.sum(axis=-1, keepdims=True)
    return w / np.where(np.abs(total) < 1e-300, 1e-300, total)


def _cells(corners: np.ndarray, first: int, columns: int) -> np.ndarray:
    """One eye's grid: each cell the (global) index of a triangle its centre meets, then one cell round the mesh
    the nearest neighbour's. Every triangle is tried against the cells of its box in longitude and latitude."""
    rows = columns // 2
    cells = np.full((rows, columns), NO_TRIANGLE, np.int32)
    if not len(corners):
        return cells
    unit = corners / np.linalg.norm(corners, axis=2, keepdims=True)
    lat = -np.degrees(np.arcsin(np.clip(unit[..., 1], -1.0, 1.0)))  # (T, 3)
    on_pole = np.abs(unit[..., 1]) > 1.0 - 1e-12  # a corner on a pole: its longitude means nothing
    lon = np.degrees(np.arctan2(unit[..., 0], unit[..., 2]))
    lon = np.where(on_pole, np.where(on_pole.all(axis=1, keepdims=True), 0.0, np.nan), lon)
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    sides = np.stack([np.cross(b, c), np.cross(c, a), np.cross(a, b)], axis=1)  # d · sides[k] ∝ weight k
    normal = sides.sum(axis=1)  # d · normal: the weights' sum (its sign: whether the ray is headed at the plane)
    facing = np.sign(np.einsum("ij,ij->i", normal, a))
    # A triangle round a pole spans every longitude, from the pole to its farthest corner.
    poles = np.array([[0.0, -1.0, 0.0], [0.0, 1.0, 0.0]])  # up, down
    at_pole = np.einsum("pi,tki->tpk", poles, sides)
    pole_total = at_pole.sum(axis=2)
    holds = (np.sign(pole_total) == facing[:, None]) & np.all(
        at_pole / np.where(pole_total == 0, 1.0, pole_total)[..., None] >= INSIDE, axis=2)
    # (A corner on the pole does not make the triangle go round it: its edges from there are meridians.)
    holds &= ~np.stack([(on_pole & (unit[..., 1] < 0)).any(axis=1), (on_pole & (unit[..., 1] > 0)).any(axis=1)], 1)
    # An edge's great-circle arc bulges poleward of its ends by less than half its length.
    chord = np.linalg.norm(unit - np.roll(unit, 1, axis=1), axis=2)
    bulge = np.degrees(np.arcsin(np.clip(chord.max(axis=1) / 2.0, 0.0, 1.0)))
    low = np.where(holds[:, 1], -90.0, lat.min(axis=1) - bulge)
    high = np.where(holds[:, 0], 90.0, lat.max(axis=1) + bulge)
    wraps = (np.nanmax(lon, axis=1) - np.nanmin(lon, axis=1)) > 180.0
    lons = np.where(wraps[:, None] & (lon < 0), lon + 360.0, lon)
    cell_w, cell_h = 360.0 / columns, 180.0 / rows
    c0 = np.floor((np.nanmin(lons, axis=1) + 180.0) / cell_w - 0.5).astype(np.int64)
    c1 = np.ceil((np.nanmax(lons, axis=1) + 180.0) / cell_w - 0.5).astype(np.int64)
    round_pole = holds.any(axis=1)
    c0, width = np.where(round_pole, 0, c0), np.where(round_pole, columns, np.minimum(columns, c1 - c0 + 1))
    r0 = np.clip(np.floor((90.0 - high) / cell_h - 0.5), 0, rows - 1).astype(np.int64)
    r1 = np.clip(np.ceil((90.0 - low) / cell_h - 0.5), 0, rows - 1).astype(np.int64)
    height = r1 - r0 + 1
    centres = cell_directions(columns, rows, *np.meshgrid(np.arange(columns), np.arange(rows)))
    counts = width * height
    for group in _groups(counts, 1 << 20):
        tri = np.repeat(group, counts[group])
        local = np.arange(len(tri)) - np.repeat(np.cumsum(counts[group]) - counts[group], counts[group])
        rr = r0[tri] + local // width[tri]
        cc = (c0[tri] + local % width[tri]) % columns
        d = centres[rr, cc]
        w = np.stack([np.einsum("ni,ni->n", d, sides[tri, k]) for k in range(3)], axis=1)
        total = w.sum(axis=1)
        inside = (np.sign(total) == facing[tri]) & np.all(w / np.where(total == 0, 1.0, total)[:, None] >= INSIDE, axis=1)
        cells[rr[inside], cc[inside]] = first + tri[inside]
    return _grow(cells)


def _groups(counts: np.ndarray, limit: int) -> list[np.ndarray]:
    """Triangle indices in runs whose cells add up to about `limit` at most (bounded memory for big meshes)."""
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(limit, int(ends[-1]), limit))
    return [group for group in np.split(np.arange(len(counts)), np.unique(cuts)) if len(group)]


def _grow(cells: np.ndarray) -> np.ndarray:
    """Cells the mesh does not reach take a neighbouring cell's triangle (one cell round: longitude wraps)."""
    grown = cells.copy()
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            shifted = np.roll(cells, dc, axis=1)
            shifted = np.roll(shifted, dr, axis=0)
            if dr == 1:
                shifted[0] = NO_TRIANGLE
            elif dr == -1:
                shifted[-1] = NO_TRIANGLE
            take = (grown == NO_TRIANGLE) & (shifted != NO_TRIANGLE)
            grown[take] = shifted[take]
    return grown


def mesh_uv(lookup: MeshLookup, slot: int, x, y, z):
    """Eye-local (u, v, valid) of unit directions through the film's mesh `slot` (0, or 1 for the right eye's)."""
    d = np.stack(np.broadcast_arrays(x, y, z), axis=-1).astype(np.float64)
    columns, rows = lookup.grid
    col, row = cell_of(d, columns, rows)
    triangle = lookup.cells[slot, row, col]
    found = triangle != NO_TRIANGLE
    t = np.where(found, triangle, 0)
    w = weights(d, lookup.corners[t])
    beyond = np.argmin(w, axis=-1)
    outside = np.take_along_axis(w, beyond[..., None], -1)[..., 0] < INSIDE
    neighbour = np.take_along_axis(lookup.across[t], beyond[..., None], -1)[..., 0]
    step = found & outside & (neighbour != NO_TRIANGLE)
    t = np.where(step, neighbour, t)
    w = np.where(step[..., None], weights(d, lookup.corners[t]), w)
    # Covered unless the ray is beyond an edge of the mesh itself.
    beyond = np.argmin(w, axis=-1)
    outside = np.take_along_axis(w, beyond[..., None], -1)[..., 0] < INSIDE
    edge = np.take_along_axis(lookup.across[t], beyond[..., None], -1)[..., 0] == NO_TRIANGLE
    valid = found & ~(outside & edge)
    uv = np.einsum("...k,...kj->...j", w, lookup.uv[t])
    uv[~found] = np.nan  # far from the mesh: no place in the picture at all
    return uv[..., 0], uv[..., 1], valid
