"""The mesh projection (`mshp`, VR180 cameras): a camera-like 40 × 40 fisheye mesh written and read back, raw and
deflated, and every damaged or hostile form refused with a reason."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from vrplayer.media.mesh import MAX_INFLATED, Mesh, MeshError, _triangles, read_mshp, write_mshp


def fisheye_mesh(rows: int = 40, columns: int = 40, fov: float = 180.0, half: int | None = None) -> Mesh:
    """A VR180 camera's mesh: a grid over the front hemisphere, each vertex's texture coordinate where an
    equidistant fisheye lens of `fov` puts it, in the left (half=0) or right (1) half of a side-by-side picture."""
    lon = np.radians(np.linspace(-90, 90, columns))
    lat = np.radians(np.linspace(-90, 90, rows))
    lon, lat = np.meshgrid(lon, lat)
    x, y, z = np.cos(lat) * np.sin(lon), np.sin(lat), -np.cos(lat) * np.cos(lon)  # −Z forward
    theta = np.arccos(np.clip(-z, -1, 1))  # from the optical axis
    phi = np.arctan2(y, x)
    r = theta / np.radians(fov / 2) * 0.5
    u, v = 0.5 + r * np.cos(phi), 0.5 + r * np.sin(phi)
    if half is not None:
        u = u * 0.5 + 0.5 * half
    positions = np.stack([x, y, z], -1).reshape(-1, 3).astype(np.float32)
    uv = np.stack([u, v], -1).reshape(-1, 2).astype(np.float32)
    quads = [(r * columns + c, r * columns + c + 1, (r + 1) * columns + c + 1, (r + 1) * columns + c)
             for r in range(rows - 1) for c in range(columns - 1)]
    triangles = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))], np.int32)
    return Mesh(positions, uv, triangles)


@pytest.mark.parametrize("compress", [False, True])
def test_a_stereo_camera_mesh_reads_back_exactly(compress):
    left, right = fisheye_mesh(half=0), fisheye_mesh(half=1)
    content = write_mshp([left, right], compress=compress)
    assert content[8:12] == (b"dfl8" if compress else b"raw ")
    read = read_mshp(content)
    assert len(read) == 2
    for original, back in zip((left, right), read):
        assert back.vertex_count == 1600 and len(back.triangles) == 2 * 39 * 39
        np.testing.assert_array_equal(back.positions, original.positions)
        np.testing.assert_array_equal(back.uv, original.uv)
        np.testing.assert_array_equal(back.triangles, original.triangles)
    assert len(write_mshp([left], compress=True)) < len(write_mshp([left]))


def test_strips_and_fans_become_counter_clockwise_triangles():
    assert _triangles([0, 1, 2, 3, 4], 1) == [(0, 1, 2), (2, 1, 3), (2, 3, 4)]
    assert _triangles([0, 1, 2, 2, 3, 4], 1) == [(0, 1, 2), (3, 2, 4)]  # degenerate joins dropped; the 4th turns back
    assert _triangles([9, 1, 2, 3], 2) == [(9, 1, 2), (9, 2, 3)]
    with pytest.raises(MeshError, match="type 7"):
        _triangles([0, 1, 2], 7)


def rechecked(content: bytes) -> bytes:
    """The same box with its CRC made right again (to reach the checks behind it)."""
    return content[:4] + struct.pack(">I", zlib.crc32(content[8:])) + content[8:]


def test_damaged_and_hostile_meshes_are_refused():
    good = write_mshp([fisheye_mesh(8, 8)])
    with pytest.raises(MeshError, match="CRC"):
        read_mshp(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(MeshError, match="unknown"):
        read_mshp(rechecked(good[:8] + b"lzma" + good[12:]))
    with pytest.raises(MeshError, match="too short"):
        read_mshp(b"\0" * 6)
    with pytest.raises(MeshError, match="no mesh"):
        read_mshp(rechecked(good[:12] + struct.pack(">I4s", 8, b"free")))
    mesh_at = 12  # the mesh box: a count of 2^30 coordinates is refused before anything is allocated
    huge = good[: mesh_at + 8] + struct.pack(">I", 1 << 30) + good[mesh_at + 12 :]
    with pytest.raises(MeshError, match="at most"):
        read_mshp(rechecked(huge))
    reserved = good[: mesh_at + 8] + struct.pack(">I", (1 << 31) | 5) + good[mesh_at + 12 :]
    with pytest.raises(MeshError, match="reserved"):
        read_mshp(rechecked(reserved))
    cut = good[:-40]
    cut = cut[:12] + struct.pack(">I", len(cut) - 12) + cut[16:]  # the mesh box says it ends where the bytes do
    with pytest.raises(MeshError, match="ends"):
        read_mshp(rechecked(cut))
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    inflating = bomb.compress(b"\0" * (MAX_INFLATED + 1024)) + bomb.flush()
    with pytest.raises(MeshError, match="inflates beyond"):
        read_mshp(rechecked(b"\0\0\0\0\0\0\0\0dfl8" + inflating))
