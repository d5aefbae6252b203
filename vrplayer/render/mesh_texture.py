"""A film's mesh projection on the GPU: the lookup `vrplayer.render.mesh_lookup` builds, as the two textures
`shaders/sphere.frag` reads for PROJECTION 7 (a grid of cells naming triangles, and the triangles themselves)."""

from __future__ import annotations

import numpy as np
from OpenGL import GL

from vrplayer.errors import MediaError
from vrplayer.render import mesh_lookup

CELLS_UNIT, TRIANGLES_UNIT = 4, 5  # texture units (0-2 hold the planes, 3 a view's sample positions)


class MeshTextures:
    def __init__(self):
        self._meshes = None  # the meshes now in the textures
        self._textures: list[int] = []
        self.grid = (0, 0)

    def load(self, meshes: tuple) -> None:
        """Send a film's meshes (one for both eyes, or left and right) unless they are the ones already sent."""
        if meshes is self._meshes:
            return
        lookup = mesh_lookup.lookup_for(meshes)
        cells = np.ascontiguousarray(lookup.cells.reshape(-1, lookup.cells.shape[2]), dtype=np.int32)
        triangles = np.ascontiguousarray(lookup.triangle_texels())
        limit = int(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_SIZE))
        if max(cells.shape[0], triangles.shape[0], triangles.shape[1], cells.shape[1]) > limit:
            raise MediaError(f"its mesh has {len(lookup.corners)} triangles, more than this GPU can hold as a"
                             f" texture ({limit} pixels a side); play it with another projection")
        self.close()
        self._textures = [int(t) for t in np.atleast_1d(GL.glGenTextures(2))]
        for texture, data, formats in zip(self._textures, (cells, triangles),
                                          ((GL.GL_R32I, GL.GL_RED_INTEGER, GL.GL_INT),
                                           (GL.GL_RGBA32F, GL.GL_RGBA, GL.GL_FLOAT))):
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            for parameter in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
                GL.glTexParameteri(GL.GL_TEXTURE_2D, parameter, GL.GL_NEAREST)  # read whole, with texelFetch
            GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
            GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, 0)
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, formats[0], data.shape[1], data.shape[0], 0, formats[1], formats[2], data)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self._meshes = meshes
        self.grid = lookup.grid

    def bind(self) -> None:
        if not self._textures:
            return
        for unit, texture in zip((CELLS_UNIT, TRIANGLES_UNIT), self._textures):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)

    def close(self) -> None:
        if self._textures:
            GL.glDeleteTextures(self._textures)
            self._textures = []
        self._meshes = None
