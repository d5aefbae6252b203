"""The GL renderer shared by every display: uploads a decoded frame's planes as textures and draws the sphere view.

Planes go up as they were decoded (R8 / RG8 for 8-bit, R16 / RG16 for 10–16-bit), one texture per plane, reused
from frame to frame; the film's colour matrix and range go to the shader as uniforms. Only the parts of a frame that
a view samples go up (see render/regions.py), when a draw first needs them.
"""

from __future__ import annotations

import ctypes
import dataclasses
import math

import numpy as np
from OpenGL import GL

from vrplayer.errors import MediaError
from vrplayer.layout import Layout
from vrplayer.formats.pixels import PixelLayout
from vrplayer.formats import colourspace
from vrplayer.render import colour, mesh_lookup, projection, regions, shaders
from vrplayer.render.mesh_texture import CELLS_UNIT, TRIANGLES_UNIT, MeshTextures

_TEXTURE_FORMATS = {  # (channels, bytes per sample) -> (internal format, format, type)
    (1, 1): (GL.GL_R8, GL.GL_RED, GL.GL_UNSIGNED_BYTE),
    (2, 1): (GL.GL_RG8, GL.GL_RG, GL.GL_UNSIGNED_BYTE),
    (1, 2): (GL.GL_R16, GL.GL_RED, GL.GL_UNSIGNED_SHORT),
    (2, 2): (GL.GL_RG16, GL.GL_RG, GL.GL_UNSIGNED_SHORT),
}
_LAYOUT_CODE = {"yuv": 0, "gbr": 0, "semi": 1, "gray": 2}
_PROJECTION_CODE = {"equirectangular": 0, "eac": 1, "cubemap-3x2": 2, "cubemap-6x1": 3, "fisheye": 4, "dual-fisheye": 5, "flat": 6,
                    "mesh": 7}
_EYE_CODE = {"left": 0, "right": 1, "anaglyph": 0}


def colour_transform_for(layout: PixelLayout, avcol_spc: int | None, avcol_range: int | None, height: int):
    if layout.kind == "gbr":
        return colour.gbr_transform(layout.bit_depth, layout.storage_bits)
    matrix, _ = colourspace.matrix_name(avcol_spc, height)
    value_range = "full" if layout.full_range_format else colourspace.range_name(avcol_range, layout.name)[0]
    return colour.yuv_transform(matrix, value_range, layout.bit_depth, layout.storage_bits, layout.msb_aligned)


_UNIFORMS = (
    "u_plane0", "u_plane1", "u_plane2", "u_half_texel", "u_colour_matrix", "u_colour_offset",
    "u_neutral_chroma", "u_view", "u_tan_bounds", "u_viewport", "u_crop", "u_lens", "u_eac_pad", "u_circle", "u_eye_size",
    "u_picture_size", "u_eye_origin", "u_face_rect", "u_wrap", "u_eye", "u_brightness", "u_positions",
    "u_outline_view", "u_outline_tan", "u_mesh_cells", "u_mesh_triangles", "u_mesh_grid", "u_mesh_row",
)
_POSITIONS_UNIT = 3  # the texture unit of a view's sample positions (units 0-2 hold the planes)
_POSITION_CACHES = 4  # viewports (eye, rectangle) whose positions are kept: side by side uses two
_TILE_CACHES = 8  # views whose needed tiles are kept (both eyes of a headset, side by side, the mirror...)


def _lens_circles(layout: Layout, eye_w: int, eye_h: int) -> np.ndarray:
    """sphere.frag's u_circle: a fisheye's circle for the left and the right eye, or a dual fisheye's left and right
    half's, in eye pixels (centre x, y, radius) and radians (turn)."""
    if layout.projection == "dual-fisheye":
        half = eye_w // 2
        circles = projection.lens_circles(layout) or (projection.centred_circle(eye_w, eye_h, 0.0, half),
                                                      projection.centred_circle(eye_w, eye_h, eye_w - half, half))
    else:
        circles = [projection.lens_circles(layout, eye) or projection.centred_circle(eye_w, eye_h) for eye in ("left", "right")]
    return np.array([(x * eye_w, y * eye_h, radius * eye_h, math.radians(turn)) for x, y, radius, turn in circles],
                    dtype=np.float32)


class _SphereProgram:
    """One build of sphere.frag and its uniform locations; it catches up with the film's settings when used.

    Builds differ by what llvmpipe would otherwise pay for on every pixel (it runs both sides of even a uniform
    branch): the projection, the plane layout, and the mode (one eye, the anaglyph's two, the unwrapped picture)."""

    def __init__(self, defines: tuple[str, ...] = ()):
        self.id = shaders.program("fullscreen.vert", "sphere.frag", defines)
        self.u = shaders.uniforms(self.id, *_UNIFORMS)
        self.version = -1  # of the film settings last applied

    def use(self, settings: dict, version: int) -> None:
        GL.glUseProgram(self.id)
        if self.version != version:
            for name, (setter, args) in settings.items():
                setter(self.u[name], *args)
            self.version = version

    def close(self) -> None:
        GL.glDeleteProgram(self.id)


class PictureTooLarge(MediaError):
    """A film's picture cannot go up as textures on this GPU; the line names the limit and says to scale the film
    down. It does not name the film: `for_film` makes the line that does."""

    def for_film(self, name: str) -> MediaError:
        return MediaError(f"{name}: {self}")


def _check_texture_size(width: int, height: int, planes) -> None:
    """PictureTooLarge when a plane is larger than the GPU's largest texture (GL_MAX_TEXTURE_SIZE)."""
    limit = int(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_SIZE))
    if all(plane.width <= limit and plane.height <= limit for plane in planes):
        return
    scale = f"{limit}:-2" if width >= height else f"-2:{limit}"
    raise PictureTooLarge(
        f"its picture is {width}x{height}, larger than this GPU's largest texture ({limit}x{limit}); scale the film "
        f"down to at most {limit} pixels a side (e.g. ffmpeg -i FILM -vf scale={scale} SMALLER.mp4)"
    )


def fill_rectangle(rectangle, colour) -> None:
    """Fill a rectangle (x, y, w, h) of the bound framebuffer with `colour` (r, g, b), and nothing outside it
    (glClear alone ignores the viewport: the scissor keeps it in)."""
    GL.glEnable(GL.GL_SCISSOR_TEST)
    GL.glScissor(*rectangle)
    GL.glClearColor(*colour, 1.0)
    GL.glClear(GL.GL_COLOR_BUFFER_BIT)
    GL.glDisable(GL.GL_SCISSOR_TEST)


class SphereRenderer:
    def __init__(self):
        self._programs: dict[tuple, _SphereProgram] = {}  # builds, made when first needed (see _program_for)
        self._planes_code = 0
        # Uniforms that change with the film (plane layout, colour, projection), set on every program that draws.
        self._settings: dict[str, tuple] = {f"u_plane{unit}": (GL.glUniform1i, (unit,)) for unit in range(3)}
        self._settings["u_positions"] = (GL.glUniform1i, (_POSITIONS_UNIT,))
        self._settings["u_mesh_cells"] = (GL.glUniform1i, (CELLS_UNIT,))
        self._settings["u_mesh_triangles"] = (GL.glUniform1i, (TRIANGLES_UNIT,))
        self._mesh = MeshTextures()  # a mesh projection's lookup, when the film has one
        self._positions: dict[tuple, _Positions] = {}  # by (eye, viewport), oldest first
        self._frame = None  # the VideoFrame shown: its planes go up tile by tile as views need them
        self._uploaded = regions.empty()  # its tiles already in the textures
        self._view_tiles: dict[tuple, np.ndarray] = {}  # the tiles each recent view needs, oldest first
        self._views_seen: dict[tuple, None] = {}  # views drawn once, oldest first (see _tiles_for)
        self._settings_version = 0
        self._vao = GL.glGenVertexArrays(1)
        self._textures: list[int] = []
        self._texture_key = None  # (layout name, width, height): textures are remade only when it changes
        self._colour_key = None
        self._layout_key = None
        self.layout = Layout()
        self.swap_eyes = False  # the viewer's own swap, on top of the layout's
        # picture_turn(pts): world → the picture's own axes for the picture at film time pts (a level horizon from
        # the camera's orientation: vrplayer.cameras.level), or None: the picture as it is.
        self.picture_turn = None
        self.brightness = 1.0  # below 1 while the picture fades out
        self.linear_output = False  # True to write linear light (a headset swapchain that is not sRGB)
        self.has_frame = False
        self._picture_size = (0, 0)

    def _set(self, **uniforms) -> None:
        """Film settings for every program: name=(glUniform function, args)."""
        self._settings.update(uniforms)
        self._settings_version += 1

    # -- frames ---------------------------------------------------------------------------------------------------

    def upload(self, frame) -> None:
        """Show a media.video.VideoFrame from now on. Its planes go up as draws need them: a view of a 360° film
        samples a fraction of the picture, and sending a whole 4K frame costs a software GL as much as drawing it.
        The renderer keeps the frame (and so its plane buffers) until the next one."""
        av_frame, layout = frame.frame, frame.layout
        key = (layout.name, av_frame.width, av_frame.height)
        if key != self._texture_key:
            self._make_textures(av_frame, layout)
            self._texture_key = key
        self._picture_size = (av_frame.width, av_frame.height)
        colour_key = (layout.name, av_frame.colorspace, av_frame.color_range, av_frame.height)
        if colour_key != self._colour_key:
            self._set_colour(colour_transform_for(layout, av_frame.colorspace, av_frame.color_range, av_frame.height), layout)
            self._colour_key = colour_key
        self._frame = frame
        self._uploaded = regions.empty()
        self.has_frame = True

    def _upload_tiles(self, needed: np.ndarray) -> None:
        """Send the shown frame's tiles that `needed` marks and the textures do not hold yet."""
        missing = needed & ~self._uploaded
        if not missing.any():
            return
        av_frame, layout = self._frame.frame, self._frame.layout
        boxes = regions.rectangles(missing)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        for texture, plane, channels in zip(self._textures, av_frame.planes, layout.plane_channels):
            _, fmt, gltype = _TEXTURE_FORMATS[(channels, layout.bytes_per_sample)]
            texel_bytes = channels * layout.bytes_per_sample
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            # Planes may be padded wider than the picture: tell GL the real line length.
            GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, plane.line_size // texel_bytes)
            for box in boxes:
                x, y, w, h = regions.plane_rectangle(box, (plane.width, plane.height))
                start = ctypes.c_void_p(plane.buffer_ptr + y * plane.line_size + x * texel_bytes)
                GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, x, y, w, h, fmt, gltype, start)
        GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, 0)
        self._uploaded |= missing

    def _tiles_for(self, key: tuple, exact, rough=None) -> np.ndarray:
        """The tiles a view (`key`) needs. Drawn for the first time, the quick `rough()` superset (when given): a
        moving view would pay ~1 ms a draw to work out exact tiles it then uses once. Drawn again, `exact()`, kept
        while the view is among the recent ones."""
        if rough is not None and key not in self._view_tiles and key not in self._views_seen:
            _recent(self._views_seen, key, lambda: None, _TILE_CACHES)
            return rough()
        return _recent(self._view_tiles, key, exact, _TILE_CACHES)

    def _make_textures(self, av_frame, layout: PixelLayout) -> None:
        planes = av_frame.planes
        _check_texture_size(av_frame.width, av_frame.height, planes)  # before any GL call fails on it
        if self._textures:
            GL.glDeleteTextures(self._textures)
        self._textures = list(np.atleast_1d(GL.glGenTextures(len(planes))))
        for texture, plane, channels in zip(self._textures, planes, layout.plane_channels):
            internal, fmt, gltype = _TEXTURE_FORMATS[(channels, layout.bytes_per_sample)]
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            try:
                GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, plane.width, plane.height, 0, fmt, gltype, None)
            except GL.GLError as exc:  # within the size limit, but more than the GPU's memory holds
                GL.glDeleteTextures(self._textures)
                self._textures = []
                raise PictureTooLarge(f"the GPU cannot hold its {av_frame.width}x{av_frame.height} picture (GL error {exc.err:#x}); "
                                      "scale the film down") from None
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAX_LEVEL, 0)
            # Longitude wraps around (bilinear filtering blends across the ±180° seam); latitude stops at the poles.
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_REPEAT)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        self._planes_code = _LAYOUT_CODE[layout.kind]
        # The first plane's and the others' (chroma planes, or B and R of planar RGB, share one size).
        half_texels = [(0.5 / plane.width, 0.5 / plane.height) for plane in planes[:2]] + [(0.0, 0.0)] * (2 - len(planes[:2]))
        self._set(u_half_texel=(GL.glUniform2fv, (2, np.array(half_texels, dtype=np.float32))))

    def _apply_layout(self, width: int, height: int) -> None:
        """Set the projection uniforms for the current layout and picture size (when either has changed)."""
        layout = self.layout
        if self.swap_eyes:
            layout = dataclasses.replace(layout, eyes_swapped=not layout.eyes_swapped)
        key = (layout, width, height)
        if key == self._layout_key:
            return
        self._layout_key = key
        size = (width, height)
        left, right = projection.eye_rect(layout, size, "left"), projection.eye_rect(layout, size, "right")
        eye_w, eye_h = left[2], left[3]
        p = layout.projection
        lens = (0.0, 0.0)
        if p in ("fisheye", "dual-fisheye"):
            lens = (1.0 / math.radians(projection.layout_fov(layout) / 2.0), 0.0)
        elif p == "flat":
            tx = math.tan(math.radians(projection.layout_fov(layout)) / 2.0)
            lens = (tx, tx * eye_h / eye_w)
        columns, rows = (6, 1) if p == "cubemap-6x1" else (3, 2)
        faces = projection.face_rects(eye_w, eye_h, columns, rows)  # slot k holds face k (order "rludfb")
        if p == "mesh":
            self._mesh.load(layout.meshes)
            rows = self._mesh.grid[1]
            first_rows = [rows * mesh_lookup.mesh_slot(layout.meshes, eye, layout.eyes_swapped) for eye in ("left", "right")]
            self._set(u_mesh_grid=(GL.glUniform2i, self._mesh.grid),
                      u_mesh_row=(GL.glUniform1iv, (2, np.array(first_rows, dtype=np.int32))))
        full_circle = p == "equirectangular" and layout.crop_left == 0.0 and layout.crop_right == 0.0
        wrap = 1 if full_circle and eye_w == width else 0
        self._set(
            u_crop=(GL.glUniform4f, (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)),
            u_lens=(GL.glUniform2f, lens),
            u_eac_pad=(GL.glUniform1f, (projection.eac_pad(layout),)),
            u_circle=(GL.glUniform4fv, (2, _lens_circles(layout, eye_w, eye_h))),
            u_eye_size=(GL.glUniform2f, (eye_w, eye_h)),
            u_picture_size=(GL.glUniform2f, (width, height)),
            u_eye_origin=(GL.glUniform2fv, (2, np.array([left[:2], right[:2]], dtype=np.float32))),
            u_face_rect=(GL.glUniform4fv, (6, np.array(faces, dtype=np.float32))),
            u_wrap=(GL.glUniform1i, (wrap,)),
        )

    def _set_colour(self, transform: colour.ColourTransform, layout: PixelLayout) -> None:
        matrix, offset = transform.affine()  # one affine step per pixel instead of scale, offset, then the matrix
        self._set(
            u_colour_matrix=(GL.glUniformMatrix3fv, (1, GL.GL_TRUE, matrix.astype(np.float32))),
            u_colour_offset=(GL.glUniform3f, tuple(float(v) for v in offset)),
            # The sample value whose chroma is zero, so a gray film stays gray.
            u_neutral_chroma=(GL.glUniform1f, (float(-transform.offset[1] / transform.scale[1]),)),
        )

    # -- drawing --------------------------------------------------------------------------------------------------

    def draw(self, view, viewport: tuple[int, int, int, int], eye: str = "left") -> None:
        """Draw the sphere as seen from `view` (a ViewState) into the viewport (x, y, w, h) of the bound framebuffer.
        `eye`: one of EYE_MODES ("side-by-side": the left eye in the left half, the right eye in the right)."""
        if eye == "side-by-side":
            x, y, w, h = viewport
            self.draw(view, (x, y, w // 2, h), "left")
            self.draw(view, (x + w // 2, y, w - w // 2, h), "right")
            return
        tx, ty = projection.tan_half_fov(view.fov, viewport[2], viewport[3])
        self.draw_rays(projection.view_rotation(view.yaw, view.pitch, view.roll), (-tx, tx, -ty, ty), viewport, eye)

    def draw_rays(self, rotation: np.ndarray, tan_bounds: tuple[float, float, float, float], viewport, eye: str = "left") -> None:
        """Draw the sphere seen through a camera with rotation `rotation` (3×3 camera → world, v360 axes: x right,
        y down, z forward) and a frustum whose left, right, down, up edges have these tangents (a headset eye's
        field of view is asymmetric) into the viewport (x, y, w, h) of the bound framebuffer."""
        if not self.has_frame:
            self.clear(viewport)
            return
        GL.glDisable(GL.GL_BLEND)
        self._apply_layout(*self._picture_size)
        if self.picture_turn is not None and self._frame is not None:
            rotation = self.picture_turn(self._frame.pts) @ np.asarray(rotation, dtype=np.float64)
        rotation = np.asarray(rotation, dtype=np.float32)
        layout = self._layout_key[0]
        eyes = ("left", "right") if eye == "anaglyph" else (eye,)
        def tiles(of) -> np.ndarray:
            return np.logical_or.reduce([of(layout, self._picture_size, e, rotation, tan_bounds) for e in eyes])

        key = (eye, rotation.tobytes(), tuple(tan_bounds), self._layout_key)
        self._upload_tiles(self._tiles_for(key, lambda: tiles(regions.view_tiles), lambda: tiles(regions.rough_view_tiles)))
        positions = self._positions_for(eye, viewport, rotation, tan_bounds)
        if positions is not None:
            GL.glActiveTexture(GL.GL_TEXTURE0 + _POSITIONS_UNIT)
            GL.glBindTexture(GL.GL_TEXTURE_2D, positions.texture)
            GL.glActiveTexture(GL.GL_TEXTURE0)
            self._draw_pass("from_positions", viewport, eye)
        else:
            self._draw_pass(eye, viewport, eye, rotation, tan_bounds)

    def _draw_pass(self, mode: str, viewport, eye: str, rotation=None, tan_bounds=None) -> None:
        x, y, w, h = viewport
        GL.glViewport(x, y, w, h)
        program = self._program_for(mode)
        program.use(self._settings, self._settings_version)
        self._bind_textures()
        u = program.u
        if rotation is not None:
            GL.glUniformMatrix3fv(u["u_view"], 1, GL.GL_TRUE, rotation)
            GL.glUniform4f(u["u_tan_bounds"], *tan_bounds)
        GL.glUniform4f(u["u_viewport"], x, y, w, h)
        GL.glUniform1i(u["u_eye"], _EYE_CODE[eye])
        GL.glUniform1f(u["u_brightness"], self.brightness)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)

    def _positions_for(self, eye: str, viewport, rotation: np.ndarray, tan_bounds) -> "_Positions | None":
        """The sample positions of this eye's view in this viewport, when the view has stayed put since the last draw
        there (drawing them on its second draw); None while it moves, which draws in one pass.

        Where each pixel samples the film depends only on the view, the layout and the picture's size, not on the
        frame: worked out once and read back, a frame costs llvmpipe a fifth less. A moving view (a headset always
        is) never pays for drawing positions it would use once."""
        if eye not in ("left", "right"):
            return None
        key = (rotation.tobytes(), tuple(tan_bounds), self._layout_key, self._texture_key)
        positions = _recent(self._positions, (eye, tuple(viewport)), lambda: _Positions(viewport[2], viewport[3]),
                            _POSITION_CACHES, _Positions.close)
        if key != positions.view_key:
            positions.view_key, positions.drawn = key, False
            return None
        if not positions.drawn:
            previous = GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, positions.framebuffer)
            self._draw_pass("positions", (0, 0, viewport[2], viewport[3]), eye, rotation, tan_bounds)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, int(previous))
            positions.drawn = True
        return positions

    def clear(self, viewport) -> None:
        """Black, where there is no film to show: the viewport alone (one eye's or one cut's part must not blank its
        neighbour's)."""
        GL.glViewport(*viewport)
        fill_rectangle(viewport, (0.0, 0.0, 0.0))

    def draw_picture(self, viewport, eye: str = "left") -> None:
        """The eye's picture itself (its equirectangular film, converted to RGB), filling the viewport top row up:
        what a headset's equirect layer takes."""
        if not self.has_frame:
            self.clear(viewport)
            return
        GL.glDisable(GL.GL_BLEND)
        self._apply_layout(*self._picture_size)
        layout = self._layout_key[0]
        self._upload_tiles(self._tiles_for(("picture", eye, self._layout_key), lambda: regions.eye_tiles(layout, self._picture_size, eye)))
        self._draw_pass("unwrap", viewport, eye)

    def draw_overview(self, viewport, eye: str = "left", outline=None) -> None:
        """The whole sphere unwrapped flat, 2:1 equirectangular (the film's frame centre in the middle, straight up
        at the top), whatever the film's own projection; uncovered directions are black. `outline`: (rotation,
        tan_x, tan_y), a headset view (camera → world rotation, tangents of half its horizontal and vertical field
        of view) outlined exactly where it falls on the sphere, the rest of the picture dimmed; None: no outline."""
        if not self.has_frame:
            self.clear(viewport)
            return
        GL.glDisable(GL.GL_BLEND)
        self._apply_layout(*self._picture_size)
        eye = eye if eye in ("left", "right") else "left"
        layout = self._layout_key[0]
        self._upload_tiles(self._tiles_for(("picture", eye, self._layout_key), lambda: regions.eye_tiles(layout, self._picture_size, eye)))
        x, y, w, h = viewport
        GL.glViewport(x, y, w, h)
        program = self._program_for("overview")
        program.use(self._settings, self._settings_version)
        self._bind_textures()
        u = program.u
        turn = self.picture_turn(self._frame.pts) if self.picture_turn is not None and self._frame is not None else np.eye(3)
        GL.glUniformMatrix3fv(u["u_view"], 1, GL.GL_TRUE, np.asarray(turn, dtype=np.float32))
        rotation, tan_x, tan_y = outline if outline is not None else (np.eye(3), -1.0, -1.0)
        # World → camera is the transpose of the view's rotation.
        GL.glUniformMatrix3fv(u["u_outline_view"], 1, GL.GL_FALSE, np.asarray(rotation, dtype=np.float32))
        GL.glUniform2f(u["u_outline_tan"], tan_x, tan_y)
        GL.glUniform4f(u["u_viewport"], x, y, w, h)
        GL.glUniform1i(u["u_eye"], _EYE_CODE[eye])
        GL.glUniform1f(u["u_brightness"], self.brightness)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)

    def _bind_textures(self) -> None:
        for unit, texture in enumerate(self._textures):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        if self.layout.projection == "mesh":
            self._mesh.bind()

    # Modes of sphere.frag with a build of their own (see _SphereProgram); one eye is the plain build.
    _MODES = {
        "anaglyph": ("ANAGLYPH",), "unwrap": ("UNWRAP",), "positions": ("POSITIONS",), "from_positions": ("FROM_POSITIONS",),
        "overview": ("OVERVIEW",),
    }

    def _program_for(self, mode: str) -> _SphereProgram:
        mode = mode if mode in self._MODES else "eye"
        projection_code = _PROJECTION_CODE[self.layout.projection]
        key = (mode, projection_code, self._planes_code, self.linear_output)
        if key not in self._programs:
            defines = self._MODES.get(mode, ()) + (f"PROJECTION {projection_code}", f"PLANES {self._planes_code}")
            defines += ("LINEAR_OUTPUT",) if self.linear_output else ()
            self._programs[key] = _SphereProgram(defines)
        return self._programs[key]

    def finish(self) -> None:
        """Wait until the GL has drawn everything asked of it."""
        GL.glFinish()

    def close(self) -> None:
        self._frame = None
        self._mesh.close()
        if self._textures:
            GL.glDeleteTextures(self._textures)
            self._textures = []
        GL.glDeleteVertexArrays(1, [self._vao])
        for program in self._programs.values():
            program.close()
        self._programs = {}
        for positions in self._positions.values():
            positions.close()
        self._positions = {}


def _recent(cache: dict, key, make, limit: int, drop=lambda value: None):
    """cache[key] (made by make() when missing), kept as the newest of at most `limit` entries (a dict keeps its
    insertion order: the oldest goes first, through `drop`)."""
    value = cache.pop(key, None)
    if value is None:
        value = make()
        while len(cache) >= limit:
            drop(cache.pop(next(iter(cache))))
    cache[key] = value
    return value


class _Positions:
    """A viewport's sample positions (sphere.frag's POSITIONS build): a float texture of the viewport's size, and the
    view (rotation, frustum, layout, picture size) they were drawn for."""

    def __init__(self, width: int, height: int):
        self.view_key = None
        self.drawn = False
        self.texture = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        # 32-bit floats: an 8K picture needs positions finer than a texel; read texel by texel, never filtered.
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA32F, width, height, 0, GL.GL_RGBA, GL.GL_FLOAT, None)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAX_LEVEL, 0)
        self.framebuffer = int(GL.glGenFramebuffers(1))
        previous = GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.framebuffer)
        GL.glFramebufferTexture2D(GL.GL_DRAW_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.texture, 0)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, int(previous))

    def close(self) -> None:
        GL.glDeleteFramebuffers(1, [self.framebuffer])
        GL.glDeleteTextures([self.texture])
