"""The mesh projection of Spherical Video V2 (`mshp`, what VR180 cameras write): one mesh per eye (or one for
both), vertices on the sphere with texture coordinates into the picture, read strictly and written back.

The box (after its FullBox version and flags): a CRC-32 of everything after it, an encoding ('raw ' or 'dfl8', raw
deflate), then `mesh` boxes. A mesh is a list of coordinates (float32), vertices as five indices into it (x, y, z,
u, v), each the zig-zag coded delta from the vertex before, in ceil(log2(2 × coordinate_count)) bits, and vertex
lists (triangles, a strip or a fan) of indices into the vertices, likewise delta coded, in ceil(log2(2 ×
vertex_count)) bits; all most significant bit first, each run padded to a byte. Positions are OpenGL-style (−Z
forward, +X right, +Y up), texture coordinates from the picture's lower left. Pure Python and numpy.
"""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

from vrplayer.layout.mesh import Mesh

MAX_COORDINATES = 1 << 20  # a 40 × 40 camera mesh has a few thousand; a hostile count is refused before allocating
MAX_VERTICES = 1 << 20
MAX_INDICES = 1 << 24
MAX_INFLATED = 64 << 20  # bytes a 'dfl8' mesh may inflate to (a deflate bomb stops there)
TRIANGLES, STRIP, FAN = 0, 1, 2


class MeshError(ValueError):
    """A mesh projection that cannot be read: why, in a few words."""


class _Bits:
    def __init__(self, data: bytes, start: int):
        self._data, self._bit = data, start * 8

    def read(self, width: int) -> int:
        if width == 0:
            return 0
        end = self._bit + width
        if end > len(self._data) * 8:
            raise MeshError("the mesh ends before its last field")
        first, last = self._bit // 8, (end - 1) // 8
        chunk = int.from_bytes(self._data[first : last + 1], "big")
        value = (chunk >> ((last + 1) * 8 - end)) & ((1 << width) - 1)
        self._bit = end
        return value

    def align(self) -> None:
        self._bit = (self._bit + 7) // 8 * 8

    @property
    def byte(self) -> int:
        return self._bit // 8


def _width(count: int) -> int:
    return math.ceil(math.log2(count * 2)) if count > 0 else 0


def _unzigzag(value: int) -> int:
    return value >> 1 if value % 2 == 0 else -((value + 1) >> 1)


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def read_mshp(content: bytes) -> list[Mesh]:
    """The meshes of an `mshp` box's content (from its version byte on): one (mono) or two (left, right eye)."""
    if len(content) < 12:
        raise MeshError("the mesh projection box is too short")
    crc, encoding = struct.unpack(">II", content[4:12])
    if zlib.crc32(content[8:]) != crc:
        raise MeshError("the mesh projection's CRC does not match its bytes (a damaged file)")
    body = content[12:]
    if encoding == 0x64666C38:  # 'dfl8'
        inflater = zlib.decompressobj(-15)
        try:
            body = inflater.decompress(body, MAX_INFLATED)
        except zlib.error:
            raise MeshError("the mesh projection's deflate data is damaged") from None
        if inflater.unconsumed_tail:
            raise MeshError(f"the mesh projection inflates beyond {MAX_INFLATED >> 20} MB")
    elif encoding != 0x72617720:  # 'raw '
        raise MeshError(f"the mesh projection's encoding {struct.pack('>I', encoding)!r} is unknown (only 'raw ' and 'dfl8')")
    meshes, at = [], 0
    while at + 8 <= len(body):
        size, kind = struct.unpack(">I4s", body[at : at + 8])
        if size < 8 or at + size > len(body):
            raise MeshError("a box inside the mesh projection has a size beyond it")
        if kind == b"mesh":
            meshes.append(_read_mesh(body[at + 8 : at + size]))
        at += size  # (boxes we do not know are passed over)
    if not meshes:
        raise MeshError("the mesh projection holds no mesh")
    return meshes[:2]


def _count(bits: _Bits, limit: int, what: str) -> int:
    count = bits.read(32)
    if count >> 31:
        raise MeshError(f"the mesh's {what} count has its reserved bit set")
    if count > limit:
        raise MeshError(f"the mesh claims {count} {what}s (at most {limit})")
    return count


def _read_mesh(data: bytes) -> Mesh:
    bits = _Bits(data, 0)
    coordinate_count = _count(bits, MAX_COORDINATES, "coordinate")
    if len(data) < 4 + 4 * coordinate_count:
        raise MeshError("the mesh ends inside its coordinates")
    coordinates = np.frombuffer(data, ">f4", coordinate_count, 4).astype(np.float32)
    bits = _Bits(data, 4 + 4 * coordinate_count)
    vertex_count = _count(bits, MAX_VERTICES, "vertex")
    width = _width(coordinate_count)
    if (len(data) - bits.byte) * 8 < vertex_count * 5 * width:
        raise MeshError("the mesh ends inside its vertices")
    indices = np.zeros((vertex_count, 5), np.int64)
    running = [0] * 5
    for vertex in range(vertex_count):
        for axis in range(5):
            running[axis] += _unzigzag(bits.read(width))
            indices[vertex, axis] = running[axis]
    if vertex_count and (indices.min() < 0 or indices.max() >= coordinate_count):
        raise MeshError("a mesh vertex points outside its coordinates")
    bits.align()
    list_count = _count(bits, 1 << 16, "vertex list")
    triangles = []
    vertex_width = _width(vertex_count)
    for _ in range(list_count):
        texture, kind = bits.read(8), bits.read(8)
        index_count = _count(bits, MAX_INDICES, "index")
        if (len(data) - bits.byte) * 8 < index_count * vertex_width:
            raise MeshError("the mesh ends inside a vertex list")
        running_index, listed = 0, []
        for _ in range(index_count):
            running_index += _unzigzag(bits.read(vertex_width))
            if not 0 <= running_index < vertex_count:
                raise MeshError("a mesh vertex list points outside its vertices")
            listed.append(running_index)
        bits.align()
        if texture == 0:  # (texture ids above 0 name static images, which no camera we know writes)
            triangles.extend(_triangles(listed, kind))
    if not triangles:
        raise MeshError("the mesh has no triangles of the video frame")
    values = coordinates[indices]
    if not np.isfinite(values).all():
        raise MeshError("a mesh vertex has a coordinate that is not a number")
    shape = np.array(triangles, np.int32).reshape(-1, 3)
    return Mesh(np.ascontiguousarray(values[:, :3]), np.ascontiguousarray(values[:, 3:]), shape)


def _triangles(listed: list[int], kind: int) -> list[tuple[int, int, int]]:
    if kind == TRIANGLES:
        found = [tuple(listed[i : i + 3]) for i in range(0, len(listed) - 2, 3)]
    elif kind == STRIP:  # every other triangle of a strip turns the other way: swapped back to counter-clockwise
        found = [(listed[i], listed[i + 1], listed[i + 2]) if i % 2 == 0 else (listed[i + 1], listed[i], listed[i + 2])
                 for i in range(len(listed) - 2)]
    elif kind == FAN:
        found = [(listed[0], listed[i], listed[i + 1]) for i in range(1, len(listed) - 1)]
    else:
        raise MeshError(f"a mesh vertex list of type {kind} (only triangles, strips and fans)")
    return [t for t in found if len(set(t)) == 3]  # (strips join rows with degenerate triangles)


# --- writing ---------------------------------------------------------------------------------------------------


class _BitWriter:
    def __init__(self):
        self._value, self._bits, self.out = 0, 0, bytearray()

    def write(self, value: int, width: int) -> None:
        self._value = (self._value << width) | value
        self._bits += width
        while self._bits >= 8:
            self._bits -= 8
            self.out.append((self._value >> self._bits) & 0xFF)
        self._value &= (1 << self._bits) - 1

    def align(self) -> None:
        if self._bits:
            self.write(0, 8 - self._bits)


def write_mshp(meshes: list[Mesh], compress: bool = False) -> bytes:
    """An `mshp` box's content (version, flags, CRC, encoding, meshes): what read_mshp reads back. Each mesh's
    coordinates are its distinct values; its triangles one list of triangles."""
    boxes = b"".join(_mesh_box(mesh) for mesh in meshes)
    if compress:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        boxes, encoding = packer.compress(boxes) + packer.flush(), b"dfl8"
    else:
        encoding = b"raw "
    checked = encoding + boxes
    return b"\0\0\0\0" + struct.pack(">I", zlib.crc32(checked)) + checked


def _mesh_box(mesh: Mesh) -> bytes:
    values = np.concatenate([mesh.positions, mesh.uv], axis=1).astype(np.float32)
    coordinates, indices = np.unique(values, return_inverse=True)
    indices = indices.reshape(values.shape)
    out = _BitWriter()
    out.write(len(coordinates), 32)
    out.out += coordinates.astype(">f4").tobytes()
    out.write(len(values), 32)
    width = _width(len(coordinates))
    previous = [0] * 5
    for vertex in indices:
        for axis in range(5):
            out.write(_zigzag(int(vertex[axis]) - previous[axis]), width)
            previous[axis] = int(vertex[axis])
    out.align()
    out.write(1, 32)  # one vertex list: the triangles, of the video frame (texture 0)
    out.write(0, 8)
    out.write(TRIANGLES, 8)
    listed = mesh.triangles.reshape(-1)
    out.write(len(listed), 32)
    vertex_width, previous_index = _width(len(values)), 0
    for index in listed:
        out.write(_zigzag(int(index) - previous_index), vertex_width)
        previous_index = int(index)
    out.align()
    body = bytes(out.out)
    return struct.pack(">I4s", 8 + len(body), b"mesh") + body
