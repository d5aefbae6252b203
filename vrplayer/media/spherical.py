"""Spherical-video metadata read straight from the container bytes: MP4 (Spherical Video V1 and V2) and Matroska.

PyAV exposes only part of it (no meshes, no V1 initial view), so we walk the boxes / EBML elements ourselves
(`vrplayer.media.boxes`, `vrplayer.media.ebml`); what they say about the picture is read here.
"""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import BinaryIO

from vrplayer.media.bounded import BoundedReader
from vrplayer.media.boxes import Box, BoxReader, fourcc_text, looks_like_mp4
from vrplayer.media.ebml import ELEMENT_NAMES, Element, ElementReader, looks_like_ebml
from vrplayer.media.mesh import MeshError, read_mshp
from vrplayer.media import xmp
from vrplayer.media.network import open_binary


@dataclass
class ContainerLayout:
    """What the container says about the picture. Every field is None when the container says nothing about it."""

    # Which metadata spoke, in words: "Spherical Video V2", "Spherical Video V1", "Matroska Projection", or
    # "Matroska StereoMode" when a Matroska video track has a StereoMode but no Projection.
    kind: str
    projection: str | None = None  # "equirectangular" | "cubemap" | "mesh" | "rectangular" | other text as found
    stereo: str | None = None  # "mono" | "top-bottom" | "side-by-side" (or text naming what is unsupported)
    eyes_swapped: bool | None = None  # right eye first
    crop: tuple[float, float, float, float] | None = None  # equi bounds (left, top, right, bottom) as fractions
    cubemap_layout: int | None = None
    cubemap_padding: int | None = None
    # The stored pose, degrees, exactly as stored (V2 prhd / Matroska ProjectionPose*); V1: initial view heading,
    # pitch, roll as stored.
    pose: tuple[float, float, float] | None = None
    problems: list[str] = field(default_factory=list)  # malformed or unsupported boxes, one line each
    # The metadata the stereo facts came from, when it is not `kind`'s: a Matroska track's StereoMode, beside its
    # Projection element. (Where a fact came from, not a fact about the picture: left out of comparisons.)
    stereo_source: str | None = field(default=None, compare=False)
    # A mesh projection's meshes (media/mesh.py: one for both eyes, or left and right), when they could be read.
    meshes: tuple | None = field(default=None, compare=False)


def read_container_layout(path: str) -> ContainerLayout | None:
    """The spherical-video metadata of the film at `path`, or None when it carries none (or is no MP4/Matroska).

    Never raises for malformed metadata: what cannot be used is left None and named in `problems`, one line each
    (a box or element found broken while walking to the metadata, such as a truncated file, is named there too;
    when no metadata is found at all the result is None and such findings are dropped). Raises OSError only when
    the file cannot be opened or read. Reads box/element headers and the metadata itself, seeking over media data
    (mdat, Clusters), so the cost does not grow with the film's length.

    MP4: the first video track's sample entry (st3d, sv3d: Spherical Video V2), else a Spherical Video V1 uuid box
    in that track or in moov; V2 wins when both are present, with a problem line if V1 says otherwise (projection,
    stereo, crop; the pose is not compared, V1's initial view being a different thing from V2's projection pose).
    Matroska/WebM: StereoMode and Projection in the first video track's Video element.
    """
    with open_binary(path) as file:
        return read_layout_from(file)


def read_layout_from(file: BinaryIO) -> ContainerLayout | None:
    """`read_container_layout` for an open, seekable binary file (a real file or an io.BytesIO)."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    head = file.read(8)
    if looks_like_ebml(head):
        return _MatroskaReader(file, size).layout()
    if looks_like_mp4(head):
        return _Mp4Reader(file, size).layout()
    return None


# ---------------------------------------------------------------------------------------------------------------
# Shared by both containers


def _finish(reader: BoundedReader, layout: ContainerLayout | None) -> ContainerLayout | None:
    # Structural problems only matter to the caller alongside metadata that was found.
    if layout is not None:
        layout.problems = reader.problems + [line for line in layout.problems if line not in reader.problems]
    return layout


_FULL_SPHERE = 1 << 32  # 0.32 fixed point: 1.0


def _parse_equi(body: bytes, name: str, layout: ContainerLayout, problems: list[str]) -> None:
    """An `equi` body (version/flags, then bounds top, bottom, left, right as 0.32 fixed point) into `crop`."""
    layout.projection = "equirectangular"
    if not _check_full_box(body, 16, name, "crop", problems):
        return
    top, bottom, left, right = struct.unpack_from(">4I", body, 4)
    if top + bottom >= _FULL_SPHERE or left + right >= _FULL_SPHERE:
        fractions = ", ".join(f"{side} {value / _FULL_SPHERE:.4g}" for side, value in
                              (("top", top), ("bottom", bottom), ("left", left), ("right", right)))
        problems.append(f"{name} bounds ({fractions}) crop away the whole picture: crop ignored")
        return
    layout.crop = (left / _FULL_SPHERE, top / _FULL_SPHERE, right / _FULL_SPHERE, bottom / _FULL_SPHERE)


def _parse_cbmp(body: bytes, name: str, layout: ContainerLayout, problems: list[str]) -> None:
    """A `cbmp` body (version/flags, layout, padding)."""
    layout.projection = "cubemap"
    if not _check_full_box(body, 8, name, "cubemap layout and padding", problems):
        return
    layout.cubemap_layout, layout.cubemap_padding = struct.unpack_from(">2I", body, 4)
    if layout.cubemap_layout != 0:
        problems.append(f"{name} layout {layout.cubemap_layout} is not defined (only 0, the 3x2 grid, is)")


def _note_mesh(name: str, layout: ContainerLayout, problems: list[str], content: bytes | None) -> None:
    """A mesh projection, its meshes read when they can be (a damaged one is one problem line)."""
    layout.projection = "mesh"
    if content is None:
        problems.append(f"{name} has no mesh data: the mesh cannot be used")
        return
    try:
        layout.meshes = tuple(read_mshp(content))
    except MeshError as exc:
        problems.append(f"{name}: {exc}: the mesh cannot be used")


def _check_full_box(body: bytes, fields_size: int, name: str, what: str, problems: list[str]) -> bool:
    """True when `body` is a version-0 full box with at least `fields_size` bytes after its version/flags."""
    if len(body) < 4 + fields_size:
        problems.append(f"{name} is {len(body)} bytes, expected {4 + fields_size}: {what} ignored")
        return False
    if body[0] != 0:
        problems.append(f"{name} has version {body[0]}, only 0 is known: {what} ignored")
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# MP4 / QuickTime: Spherical Video V2 boxes in the first video track's sample entry, V1 in a uuid box

_VISUAL_SAMPLE_ENTRY_FIXED = 78  # bytes of a VisualSampleEntry before its child boxes (avcC, st3d, sv3d, pasp…)
_V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
_MAX_V1_XML = 1 << 20  # V1 XML is a few hundred bytes; refuse to pull a huge box into memory
_ST3D_MODES = {0: ("mono", False), 1: ("top-bottom", False), 2: ("side-by-side", False), 4: ("side-by-side", True)}


class _Mp4Reader(BoxReader):
    def layout(self) -> ContainerLayout | None:
        # Everything we need is in moov; the boxes before it (mdat, possibly many GB) are only stepped over.
        for box in self.boxes(0, None, ""):
            if box.fourcc == b"moov":
                return _finish(self, self.read_moov(box))
        return None

    def read_moov(self, moov: Box) -> ContainerLayout | None:
        v2 = v1 = None
        video_seen = False
        for box in self.boxes(moov.body, moov.end, moov.name):
            if box.fourcc == b"trak" and not video_seen:
                track = self.read_trak(box)
                if track is not None:  # the first video track is the one that is played
                    video_seen = True
                    v2, trak_v1 = track
                    v1 = v1 or trak_v1
            elif box.fourcc == b"uuid":  # some writers put V1 at moov level
                v1 = v1 or self.read_v1(box)
        if v2 is not None:
            disagreement = _v1_disagreement(v1, v2) if v1 is not None else None
            if disagreement:
                v2.problems.append(disagreement)
            return v2
        return v1

    def read_trak(self, trak: Box) -> tuple[ContainerLayout | None, ContainerLayout | None] | None:
        """(V2, V1) metadata of a video track; None when the track is not video."""
        handler = stsd = v1 = None
        for box in self.boxes(trak.body, trak.end, trak.name):
            if box.fourcc == b"mdia":
                found = self.handler_type(box)
                if found is not None:
                    handler = found
                stsd = self.child(box, b"minf", b"stbl", b"stsd")
            elif box.fourcc == b"uuid":
                v1 = v1 or self.read_v1(box)
        if handler != b"vide":
            return None
        return (self.read_stsd(stsd) if stsd is not None else None), v1

    def read_stsd(self, stsd: Box) -> ContainerLayout | None:
        entry = self.first_sample_entry(stsd)  # it describes the picture
        if entry is None:
            return None
        children_start = entry.body + _VISUAL_SAMPLE_ENTRY_FIXED
        if children_start > entry.end:
            self.problem(f"{entry.name} is shorter than a visual sample entry: its boxes were not read")
            return None
        return self.read_sample_entry(Box(entry.fourcc, fourcc_text(entry.fourcc), children_start, entry.end))

    def read_sample_entry(self, entry: Box) -> ContainerLayout | None:
        """Spherical Video V2 boxes inside the visual sample entry (children start at entry.body)."""
        layout = ContainerLayout(kind="Spherical Video V2")
        found = False
        for box in self.boxes(entry.body, entry.end, entry.name):
            if box.fourcc == b"st3d":
                found = True
                self.read_st3d(box, layout)
            elif box.fourcc == b"sv3d":
                found = True
                self.read_sv3d(box, layout)
        return layout if found else None

    def read_st3d(self, box: Box, layout: ContainerLayout) -> None:
        body = self.body(box)
        if not _check_full_box(body, 1, box.name, "stereo mode", layout.problems):
            return
        mode = body[4]
        if mode in _ST3D_MODES:
            layout.stereo, layout.eyes_swapped = _ST3D_MODES[mode]
        elif mode == 3:
            layout.stereo = "custom"  # eyes laid out by a mesh: the layout decision says it is not supported
        else:
            layout.problems.append(f"{box.name} stereo_mode {mode} is not defined: stereo mode ignored")

    def read_sv3d(self, sv3d: Box, layout: ContainerLayout) -> None:
        proj = self.child(sv3d, b"proj")
        if proj is None:
            layout.problems.append(f"{sv3d.name} has no proj box: projection unknown")
            return
        projection_boxes, others = [], []
        for box in self.boxes(proj.body, proj.end, proj.name):
            if box.fourcc == b"prhd":
                self.read_prhd(box, layout)
            elif box.fourcc in (b"equi", b"cbmp", b"mshp"):
                projection_boxes.append(box)
            else:
                others.append(fourcc_text(box.fourcc))
        if not projection_boxes:
            found = f" (it holds {', '.join(others)})" if others else ""
            layout.problems.append(f"{proj.name} has no equi, cbmp or mshp box{found}: projection unknown")
            return
        if len(projection_boxes) > 1:
            names = ", ".join(fourcc_text(b.fourcc) for b in projection_boxes)
            layout.problems.append(f"{proj.name} holds {len(projection_boxes)} projection boxes ({names}): "
                                   "used the first")
        box = projection_boxes[0]
        if box.fourcc == b"equi":
            _parse_equi(self.body(box), box.name, layout, layout.problems)
        elif box.fourcc == b"cbmp":
            _parse_cbmp(self.body(box), box.name, layout, layout.problems)
        else:
            _note_mesh(box.name, layout, layout.problems, self.body(box, MAX_MESH_BYTES))

    def read_prhd(self, box: Box, layout: ContainerLayout) -> None:
        body = self.body(box)
        if _check_full_box(body, 12, box.name, "pose", layout.problems):
            yaw, pitch, roll = struct.unpack_from(">3i", body, 4)
            layout.pose = (yaw / 65536, pitch / 65536, roll / 65536)  # 16.16 fixed point

    def read_v1(self, box: Box) -> ContainerLayout | None:
        """Spherical Video V1 from a uuid box; None when the box is some other uuid."""
        if self.read(box.body, 16) != _V1_UUID:
            return None
        xml_size = box.end - box.body - 16
        if xml_size > _MAX_V1_XML:
            layout = ContainerLayout(kind="Spherical Video V1")
            layout.problems.append(
                f"{box.name} (Spherical Video V1) XML is {xml_size} bytes, more than the {_MAX_V1_XML} read: ignored")
            return layout
        return _parse_v1_xml(self.read(box.body + 16, xml_size), f"{box.name} (Spherical Video V1)")


# ---------------------------------------------------------------------------------------------------------------
# Spherical Video V1: RDF/XML with GSpherical:* elements


_V1_CROP_TAGS = (
    "CroppedAreaLeftPixels", "CroppedAreaTopPixels", "CroppedAreaImageWidthPixels", "CroppedAreaImageHeightPixels",
    "FullPanoWidthPixels", "FullPanoHeightPixels",
)
_V1_STEREO = {"mono": ("mono", False), "top-bottom": ("top-bottom", False), "left-right": ("side-by-side", False)}


def _parse_v1_xml(data: bytes, name: str = "Spherical Video V1") -> ContainerLayout:
    """A Spherical Video V1 XML document (the uuid box's body after the UUID) as a layout."""
    layout = ContainerLayout(kind="Spherical Video V1")
    try:
        root = ET.fromstring(data.rstrip(b"\0 \t\r\n"))
    except ET.ParseError as error:
        layout.problems.append(f"{name} XML is malformed ({error}): ignored")
        return layout
    # Namespace URIs and prefixes vary between writers: match on local names, as elements or as attributes.
    # Whitespace inside values is collapsed, so that text quoted from the file keeps problem lines one line.
    tags: dict[str, str] = {}
    for element in root.iter():
        if isinstance(element.tag, str):
            tags.setdefault(element.tag.rsplit("}", 1)[-1], " ".join((element.text or "").split()))
        for key, value in element.attrib.items():
            tags.setdefault(key.rsplit("}", 1)[-1], " ".join(value.split()))

    if "Spherical" in tags and tags["Spherical"].lower() != "true":
        layout.problems.append(f"{name} says Spherical is {tags['Spherical']!r}, not 'true': read the rest anyway")
    projection = tags.get("ProjectionType")
    if projection is not None:
        layout.projection = projection.lower()
        if layout.projection != "equirectangular":
            layout.problems.append(f"{name} ProjectionType {projection!r} is not supported (only equirectangular)")
    stereo = tags.get("StereoMode")
    if stereo is not None:
        if stereo.lower() in _V1_STEREO:
            layout.stereo, layout.eyes_swapped = _V1_STEREO[stereo.lower()]
        else:
            layout.stereo = stereo
            layout.problems.append(f"{name} StereoMode {stereo!r} is not supported (mono, top-bottom, left-right)")
    layout.pose = _v1_pose(tags, name, layout.problems)
    layout.crop = _v1_crop(tags, name, layout.problems)
    return layout


def _v1_number(tags: dict[str, str], tag: str, name: str, problems: list[str]) -> float | None:
    return xmp.number(tags, tag, problems, f"{name} {tag}")


def _v1_pose(tags: dict[str, str], name: str, problems: list[str]) -> tuple[float, float, float] | None:
    angle_tags = [f"InitialView{axis}Degrees" for axis in ("Heading", "Pitch", "Roll")]
    values = [_v1_number(tags, tag, name, problems) for tag in angle_tags]
    # Absent angles default to 0; an unreadable one spoils the whole pose, which only makes sense as a set.
    unreadable = any(tag in tags and v is None for tag, v in zip(angle_tags, values))
    if unreadable or all(tag not in tags for tag in angle_tags):
        return None
    heading, pitch, roll = (0.0 if v is None else v for v in values)
    return (heading, pitch, roll)


def _v1_crop(tags: dict[str, str], name: str, problems: list[str]) -> tuple[float, float, float, float] | None:
    present = [tag for tag in _V1_CROP_TAGS if tag in tags]
    if not present:
        return None
    if len(present) < len(_V1_CROP_TAGS):
        missing = ", ".join(tag for tag in _V1_CROP_TAGS if tag not in tags)
        problems.append(f"{name} cropped-area tags are incomplete (missing {missing}): crop ignored")
        return None
    numbers = [_v1_number(tags, tag, name, problems) for tag in _V1_CROP_TAGS]
    if any(v is None for v in numbers):
        return None
    left, top, width, height, full_width, full_height = numbers
    if not (full_width > 0 and full_height > 0 and width > 0 and height > 0 and left >= 0 and top >= 0
            and left + width <= full_width and top + height <= full_height):
        problems.append(
            f"{name} cropped area {width:g}x{height:g} at ({left:g}, {top:g}) does not fit the full panorama "
            f"{full_width:g}x{full_height:g}: crop ignored"
        )
        return None
    return (
        left / full_width,
        top / full_height,
        (full_width - left - width) / full_width,
        (full_height - top - height) / full_height,
    )


def _v1_disagreement(v1: ContainerLayout, v2: ContainerLayout) -> str | None:
    """A line naming what V1 says differently from V2, which wins. The pose is not compared: V1's initial view
    and V2's projection pose are different things."""
    differences = []
    for label, a, b in (("projection", v1.projection, v2.projection), ("stereo", v1.stereo, v2.stereo)):
        if a is not None and b is not None and a != b:
            differences.append(f"{label} {a} (V2: {b})")
    if v1.crop is not None and v2.crop is not None and any(abs(a - b) > 1e-6 for a, b in zip(v1.crop, v2.crop)):
        differences.append(f"crop {_crop_text(v1.crop)} (V2: {_crop_text(v2.crop)})")
    if not differences:
        return None
    return "Spherical Video V1 metadata disagrees with V2, which was used: V1 says " + ", ".join(differences)


def _crop_text(crop: tuple[float, float, float, float]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in crop) + ")"


# ---------------------------------------------------------------------------------------------------------------
# Matroska / WebM: StereoMode and Projection in the first video track's Video element

_STEREO_MODE = 0x53B8
_PROJECTION = 0x7670
_PROJECTION_TYPE = 0x7671
_PROJECTION_PRIVATE = 0x7672
_POSE = {0x7673: 0, 0x7674: 1, 0x7675: 2}  # ProjectionPoseYaw, Pitch, Roll → index in the pose tuple

_ELEMENT_NAMES = {
    **ELEMENT_NAMES, _STEREO_MODE: "StereoMode", _PROJECTION: "Projection", _PROJECTION_TYPE: "ProjectionType",
    _PROJECTION_PRIVATE: "ProjectionPrivate", 0x7673: "ProjectionPoseYaw", 0x7674: "ProjectionPosePitch",
    0x7675: "ProjectionPoseRoll",
}
_MKV_STEREO = {0: ("mono", False), 1: ("side-by-side", False), 2: ("top-bottom", True), 3: ("top-bottom", False),
               11: ("side-by-side", True)}
_MKV_STEREO_UNSUPPORTED = {
    4: "checkerboard, right first", 5: "checkerboard, left first", 6: "row interleaved, right first",
    7: "row interleaved, left first", 8: "column interleaved, right first", 9: "column interleaved, left first",
    10: "anaglyph, cyan/red", 12: "anaglyph, green/magenta", 13: "both eyes laced in one block, left first",
    14: "both eyes laced in one block, right first",
}
_MKV_PROJECTIONS = {0: "rectangular", 1: "equirectangular", 2: "cubemap", 3: "mesh"}
MAX_MESH_BYTES = 4 << 20  # a camera's 40 × 40 stereo mesh is some 40 KB raw; a damaged size stops here
_MAX_PRIVATE = 4096  # equi and cbmp bodies are 20 and 12 bytes (a mesh's: MAX_MESH_BYTES)


class _MatroskaReader(ElementReader):
    element_names = _ELEMENT_NAMES

    def layout(self) -> ContainerLayout | None:
        segment = self.segment()
        if segment is None:
            return None
        tracks = self.tracks(segment)
        video = self.first_video(tracks) if tracks is not None else None
        return _finish(self, self.read_video(video) if video is not None else None)

    def read_video(self, video: Element) -> ContainerLayout | None:
        stereo_mode = projection = None
        for element in self.children(video):
            if element.id == _STEREO_MODE:
                stereo_mode = self.read_uint(element)
            elif element.id == _PROJECTION:
                projection = element
        if stereo_mode is None and projection is None:
            return None
        layout = ContainerLayout(kind="Matroska Projection" if projection is not None else "Matroska StereoMode")
        if stereo_mode is not None:
            _apply_mkv_stereo_mode(stereo_mode, layout)
            layout.stereo_source = "Matroska StereoMode"
        if projection is not None:
            self.read_projection(projection, layout)
        return layout

    def read_projection(self, projection: Element, layout: ContainerLayout) -> None:
        projection_type = 0  # the spec's default: rectangular
        private = None
        pose: list[float | None] = [None, None, None]
        pose_readable = True
        for element in self.children(projection):
            if element.id == _PROJECTION_TYPE:
                value = self.read_uint(element)
                projection_type = projection_type if value is None else value
            elif element.id == _PROJECTION_PRIVATE:
                private = element
            elif element.id in _POSE:
                pose[_POSE[element.id]] = angle = self.read_float(element)
                pose_readable = pose_readable and angle is not None
        # Absent angles default to 0; an unreadable one spoils the whole pose, which only makes sense as a set.
        if pose_readable and any(v is not None for v in pose):
            layout.pose = tuple(0.0 if v is None else v for v in pose)
        name = "ProjectionPrivate"
        limit = MAX_MESH_BYTES if projection_type == 3 else _MAX_PRIVATE
        body = self.data(private, limit) if private is not None else None
        if projection_type == 1:
            # No ProjectionPrivate means an equi body of 20 zero bytes: the full sphere.
            _parse_equi(body if body is not None else bytes(20), f"{name} (equirectangular)", layout, layout.problems)
        elif projection_type == 2:
            if body is None:
                layout.projection = "cubemap"
                layout.problems.append("ProjectionType 2 (cubemap) has no ProjectionPrivate: layout, padding unknown")
            else:
                _parse_cbmp(body, f"{name} (cubemap)", layout, layout.problems)
        elif projection_type == 3:
            _note_mesh("Projection (ProjectionType 3)", layout, layout.problems, body)
        elif projection_type == 0:
            layout.projection = "rectangular"
        else:
            layout.projection = f"ProjectionType {projection_type}"
            layout.problems.append(f"ProjectionType {projection_type} is not defined: projection unknown")


def _apply_mkv_stereo_mode(mode: int, layout: ContainerLayout) -> None:
    if mode in _MKV_STEREO:
        layout.stereo, layout.eyes_swapped = _MKV_STEREO[mode]
    elif mode in _MKV_STEREO_UNSUPPORTED:
        layout.stereo = _MKV_STEREO_UNSUPPORTED[mode]  # the layout decision says it is not supported
    else:
        layout.problems.append(f"StereoMode {mode} is not defined: stereo mode ignored")
