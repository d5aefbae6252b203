"""A mesh projection's meshes (Spherical Video V2 `mshp`, what VR180 cameras write): triangles on the sphere round the
viewer, each vertex with the point of the picture it shows; and what part of the sphere they cover.

Positions are in the RFC's OpenGL-style axes (−Z forward, +X right, +Y up); `to_view_axes` turns them into
vrplayer's (those of FFmpeg's v360: x right, y down, z forward). Texture coordinates are the RFC's, (0, 0) the lower
left of the eye's picture (of the whole picture when each eye has its own mesh and the packing is mono). Pure numpy:
`vrplayer.media.mesh` reads and writes the box, `vrplayer.render.mesh_lookup` draws through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a film's meshes are one object
class Mesh:
    positions: np.ndarray  # (V, 3) float32, on (or near) the unit sphere
    uv: np.ndarray  # (V, 2) float32, (0, 0) the picture's lower left
    triangles: np.ndarray  # (T, 3) int32 indices into the vertices, counter-clockwise seen from inside

    @property
    def vertex_count(self) -> int:
        return len(self.positions)


def to_view_axes(positions: np.ndarray) -> np.ndarray:
    """Mesh positions (OpenGL-style: y up, −z forward) in vrplayer's axes (y down, z forward)."""
    return np.asarray(positions, dtype=np.float64) * np.array([1.0, -1.0, -1.0])


def sphere_share(mesh: Mesh) -> float:
    """The share (0..1) of the whole sphere the mesh's triangles cover, seen from its centre: the sum of their
    solid angles (Van Oosterom and Strackee's formula), overlaps counted twice."""
    if not len(mesh.triangles):
        return 0.0
    p = np.asarray(mesh.positions, dtype=np.float64)
    a, b, c = (p[mesh.triangles[:, k]] for k in range(3))
    la, lb, lc = (np.linalg.norm(v, axis=1) for v in (a, b, c))
    numerator = np.abs(np.einsum("ij,ij->i", a, np.cross(b, c)))
    denominator = (la * lb * lc + np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la
                   + np.einsum("ij,ij->i", c, a) * lb)
    return float(np.sum(2.0 * np.arctan2(numerator, denominator)) / (4.0 * math.pi))


def span(mesh: Mesh) -> tuple[float, float]:
    """(horizontal, vertical) degrees the mesh's vertices span: longitudes round the widest gap between them (360
    when no gap is wider than a triangle's edge), latitudes from the lowest to the highest."""
    d = to_view_axes(mesh.positions)
    if not len(d):
        return (0.0, 0.0)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    lat = -np.degrees(np.arcsin(np.clip(d[:, 1], -1.0, 1.0)))
    off_pole = np.abs(lat) < 89.999
    lon = np.sort(np.degrees(np.arctan2(d[off_pole, 0], d[off_pole, 2])))
    if len(lon) < 2:
        return (0.0, float(lat.max() - lat.min()))
    gaps = np.diff(np.concatenate([lon, lon[:1] + 360.0]))
    edges = np.linalg.norm(d[mesh.triangles[:, 0]] - d[mesh.triangles[:, 1]], axis=1) if len(mesh.triangles) else [0]
    widest_edge = math.degrees(2.0 * math.asin(min(1.0, float(np.max(edges)) / 2.0)))
    horizontal = 360.0 if gaps.max() <= widest_edge + 1e-6 else 360.0 - float(gaps.max())
    return (horizontal, float(lat.max() - lat.min()))
