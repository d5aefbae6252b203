"""Spherical-video metadata read straight from the container bytes: MP4 (Spherical Video V1 and V2) and Matroska.

PyAV exposes only part of it (no meshes, no V1 initial view), so we walk the boxes / EBML elements ourselves.
"""

from __future__ import annotations

import io
import math
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator


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
    with open(path, "rb") as file:
        return read_layout_from(file)


def read_layout_from(file: BinaryIO) -> ContainerLayout | None:
    """`read_container_layout` for an open, seekable binary file (a real file or an io.BytesIO)."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    head = file.read(8)
    if head[:4] == _EBML_MAGIC:
        return _MatroskaReader(file, size).layout()
    if len(head) == 8 and head[4:8] in _MP4_FIRST_BOXES:
        return _Mp4Reader(file, size).layout()
    return None


# ---------------------------------------------------------------------------------------------------------------
# Shared by both containers


class _Reader:
    """Bounded reads from the file, plus the problem lines gathered while walking it."""

    def __init__(self, file: BinaryIO, size: int):
        self.file = file
        self.size = size
        self.problems: list[str] = []
        self._truncation_noted = False

    def read(self, offset: int, count: int) -> bytes:
        """Up to `count` bytes at `offset`; fewer where the file ends first."""
        count = min(count, self.size - offset)
        if count <= 0:
            return b""
        self.file.seek(offset)
        return self.file.read(count)

    def problem(self, line: str) -> None:
        if line not in self.problems:
            self.problems.append(line)

    def note_truncated(self, detail: str) -> None:
        # One line is enough: every enclosing box overruns the file end too.
        if not self._truncation_noted:
            self._truncation_noted = True
            self.problem(f"the file is truncated at {self.size} bytes: {detail}")

    def finish(self, layout: ContainerLayout | None) -> ContainerLayout | None:
        # Structural problems only matter to the caller alongside metadata that was found.
        if layout is not None:
            layout.problems = self.problems + [line for line in layout.problems if line not in self.problems]
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


def _note_mesh(name: str, layout: ContainerLayout, problems: list[str]) -> None:
    # A fact, not a fault: the layout decision says that a mesh cannot be drawn, and which override to use.
    layout.projection = "mesh"


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
# MP4 / QuickTime: boxes (size u32, type fourcc, size 1 → u64 largesize follows, size 0 → to the end of the parent)

_MP4_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp", b"pdin"}
_VISUAL_SAMPLE_ENTRY_FIXED = 78  # bytes of a VisualSampleEntry before its child boxes (avcC, st3d, sv3d, pasp…)
_V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
_MAX_V1_XML = 1 << 20  # V1 XML is a few hundred bytes; refuse to pull a huge box into memory
_ST3D_MODES = {0: ("mono", False), 1: ("top-bottom", False), 2: ("side-by-side", False), 4: ("side-by-side", True)}


@dataclass
class _Box:
    fourcc: bytes
    name: str  # path for messages, e.g. "moov/trak/mdia" or "avc1/sv3d/proj"
    body: int  # file offset of the first byte after size, type and largesize
    end: int  # file offset just past the box as declared (may lie past the end of a truncated file)


def _fourcc_text(fourcc: bytes) -> str:
    text = fourcc.decode("latin-1")
    return text if text.isprintable() else fourcc.hex()


class _Mp4Reader(_Reader):
    def layout(self) -> ContainerLayout | None:
        # Everything we need is in moov; the boxes before it (mdat, possibly many GB) are only stepped over.
        for box in self.boxes(0, None, ""):
            if box.fourcc == b"moov":
                return self.finish(self.read_moov(box))
        return None

    def boxes(self, start: int, end: int | None, parent: str) -> Iterator[_Box]:
        """The boxes in [start, end); end None means the top level, which runs to the end of the file."""
        limit = self.size if end is None else end
        pos = start
        while pos + 8 <= min(limit, self.size):
            size, fourcc = struct.unpack(">I4s", self.read(pos, 8))
            name = f"{parent}/{_fourcc_text(fourcc)}" if parent else _fourcc_text(fourcc)
            header = 8
            if size == 1:
                large = self.read(pos + 8, 8)
                if len(large) < 8:
                    self.note_truncated(f"the header of {name} is cut off")
                    return
                size = struct.unpack(">Q", large)[0]
                header = 16
            elif size == 0:
                size = limit - pos
            if size < header:
                where = parent or "the file"
                self.problem(f"{name} declares {size} bytes, less than its own header: stopped reading {where}")
                return
            box_end = pos + size
            if end is not None and box_end > end:
                overrun = box_end - end
                self.problem(f"{name} is {size} bytes, overrunning {parent} by {overrun}: stopped reading {parent}")
                return
            if box_end > self.size:
                self.note_truncated(f"{name} should end at byte {box_end}")
            yield _Box(fourcc, name, pos + header, box_end)
            pos = box_end

    def child(self, parent: _Box, *path: bytes) -> _Box | None:
        """The first box of each type along `path` below `parent`."""
        box: _Box | None = parent
        for fourcc in path:
            box = next((b for b in self.boxes(box.body, box.end, box.name) if b.fourcc == fourcc), None)
            if box is None:
                return None
        return box

    def body(self, box: _Box, limit: int = 4096) -> bytes:
        return self.read(box.body, min(box.end - box.body, limit))

    def read_moov(self, moov: _Box) -> ContainerLayout | None:
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

    def read_trak(self, trak: _Box) -> tuple[ContainerLayout | None, ContainerLayout | None] | None:
        """(V2, V1) metadata of a video track; None when the track is not video."""
        handler = stsd = v1 = None
        for box in self.boxes(trak.body, trak.end, trak.name):
            if box.fourcc == b"mdia":
                hdlr = self.child(box, b"hdlr")
                if hdlr is not None:
                    handler = self.body(hdlr, 12)[8:12]  # version/flags, pre_defined, handler_type
                stsd = self.child(box, b"minf", b"stbl", b"stsd")
            elif box.fourcc == b"uuid":
                v1 = v1 or self.read_v1(box)
        if handler != b"vide":
            return None
        return (self.read_stsd(stsd) if stsd is not None else None), v1

    def read_stsd(self, stsd: _Box) -> ContainerLayout | None:
        # stsd: version/flags and entry count, then the sample entries; the first one describes the picture.
        if stsd.end - stsd.body < 8:
            self.problem(f"{stsd.name} is {stsd.end - stsd.body} bytes, too short to hold a sample entry")
            return None
        entry = next(self.boxes(stsd.body + 8, stsd.end, stsd.name), None)
        if entry is None:
            return None
        children_start = entry.body + _VISUAL_SAMPLE_ENTRY_FIXED
        if children_start > entry.end:
            self.problem(f"{entry.name} is shorter than a visual sample entry: its boxes were not read")
            return None
        return self.read_sample_entry(_Box(entry.fourcc, _fourcc_text(entry.fourcc), children_start, entry.end))

    def read_sample_entry(self, entry: _Box) -> ContainerLayout | None:
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

    def read_st3d(self, box: _Box, layout: ContainerLayout) -> None:
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

    def read_sv3d(self, sv3d: _Box, layout: ContainerLayout) -> None:
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
                others.append(_fourcc_text(box.fourcc))
        if not projection_boxes:
            found = f" (it holds {', '.join(others)})" if others else ""
            layout.problems.append(f"{proj.name} has no equi, cbmp or mshp box{found}: projection unknown")
            return
        if len(projection_boxes) > 1:
            names = ", ".join(_fourcc_text(b.fourcc) for b in projection_boxes)
            layout.problems.append(f"{proj.name} holds {len(projection_boxes)} projection boxes ({names}): "
                                   "used the first")
        box = projection_boxes[0]
        if box.fourcc == b"equi":
            _parse_equi(self.body(box), box.name, layout, layout.problems)
        elif box.fourcc == b"cbmp":
            _parse_cbmp(self.body(box), box.name, layout, layout.problems)
        else:
            _note_mesh(box.name, layout, layout.problems)

    def read_prhd(self, box: _Box, layout: ContainerLayout) -> None:
        body = self.body(box)
        if _check_full_box(body, 12, box.name, "pose", layout.problems):
            yaw, pitch, roll = struct.unpack_from(">3i", body, 4)
            layout.pose = (yaw / 65536, pitch / 65536, roll / 65536)  # 16.16 fixed point

    def read_v1(self, box: _Box) -> ContainerLayout | None:
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
    text = tags.get(tag)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{name} {tag} {text!r} is not a number: ignored")
        return None
    if not math.isfinite(value):
        problems.append(f"{name} {tag} {text!r} is not finite: ignored")
        return None
    return value


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
# Matroska / WebM: EBML elements (variable-size ID, variable-size length with "unknown" = all ones, data)

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_HEADER = 0x1A45DFA3
_DOC_TYPE = 0x4282
_SEGMENT = 0x18538067
_SEEK_HEAD = 0x114D9B74
_SEEK = 0x4DBB
_SEEK_ID = 0x53AB
_SEEK_POSITION = 0x53AC
_TRACKS = 0x1654AE6B
_CLUSTER = 0x1F43B675
_TRACK_ENTRY = 0xAE
_TRACK_TYPE = 0x83
_VIDEO = 0xE0
_STEREO_MODE = 0x53B8
_PROJECTION = 0x7670
_PROJECTION_TYPE = 0x7671
_PROJECTION_PRIVATE = 0x7672
_POSE = {0x7673: 0, 0x7674: 1, 0x7675: 2}  # ProjectionPoseYaw, Pitch, Roll → index in the pose tuple

_ELEMENT_NAMES = {
    _EBML_HEADER: "EBML", _DOC_TYPE: "DocType", _SEGMENT: "Segment", _SEEK_HEAD: "SeekHead", _SEEK: "Seek",
    _SEEK_ID: "SeekID", _SEEK_POSITION: "SeekPosition", _TRACKS: "Tracks", _CLUSTER: "Cluster",
    _TRACK_ENTRY: "TrackEntry", _TRACK_TYPE: "TrackType", _VIDEO: "Video", _STEREO_MODE: "StereoMode",
    _PROJECTION: "Projection", _PROJECTION_TYPE: "ProjectionType", _PROJECTION_PRIVATE: "ProjectionPrivate",
    0x7673: "ProjectionPoseYaw", 0x7674: "ProjectionPosePitch", 0x7675: "ProjectionPoseRoll",
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
_MAX_PRIVATE = 4096  # equi and cbmp bodies are 20 and 12 bytes; meshes are not read


@dataclass
class _Element:
    id: int
    name: str  # path for messages, e.g. "Segment/Tracks"
    body: int  # file offset of the data
    end: int  # file offset just past the data as declared; for an unknown size, the end of the parent
    sized: bool  # False for an unknown-size (live) Segment or Cluster


class _MatroskaReader(_Reader):
    def layout(self) -> ContainerLayout | None:
        header = next(self.elements(0, None, ""), None)
        if header is None or header.id != _EBML_HEADER:
            return None
        doc_type = next((e for e in self.children(header) if e.id == _DOC_TYPE), None)
        if doc_type is None or self.data(doc_type, 16).rstrip(b"\0") not in (b"matroska", b"webm"):
            return None
        for element in self.elements(header.end, None, ""):
            if element.id == _SEGMENT:
                return self.finish(self.read_segment(element))
        return None

    def vint(self, pos: int, is_id: bool) -> tuple[int | None, int] | str:
        """(value, length) of the variable-size integer at pos, value None for an unknown size; or why not."""
        first = self.read(pos, 1)
        if not first:
            return "truncated"
        if first[0] == 0 or (is_id and first[0] < 0x10):  # over 8 bytes long, or an ID over 4
            return "invalid"
        length = 9 - first[0].bit_length()
        data = self.read(pos, length)
        if len(data) < length:
            return "truncated"
        value = int.from_bytes(data, "big")
        if is_id:
            return value, length  # IDs keep their length marker bits
        value &= (1 << (7 * length)) - 1
        return (None if value == (1 << (7 * length)) - 1 else value), length

    def element_header(self, pos: int) -> tuple[int, int | None, int] | str:
        """(ID, data size or None when unknown, header length) of the element at pos; or why not."""
        element_id = self.vint(pos, True)
        if isinstance(element_id, str):
            return element_id
        size = self.vint(pos + element_id[1], False)
        if isinstance(size, str):
            return size
        return element_id[0], size[0], element_id[1] + size[1]

    def elements(self, start: int, end: int | None, parent: str) -> Iterator[_Element]:
        """The elements in [start, end); end None means the top level, which runs to the end of the file."""
        limit = self.size if end is None else end
        where = parent or "the top level"
        pos = start
        while pos < min(limit, self.size):
            header = self.element_header(pos)
            if header == "truncated":
                self.note_truncated(f"the element header at byte {pos} in {where} is cut off")
                return
            if isinstance(header, str):
                self.problem(f"invalid EBML element header at byte {pos} in {where}: stopped reading there")
                return
            element_id, size, header_length = header
            short_name = _ELEMENT_NAMES.get(element_id, f"0x{element_id:X}")
            name = f"{parent}/{short_name}" if parent else short_name
            body = pos + header_length
            if size is None:
                # Live streams leave Segment and Cluster sizes open: they run to the end of their parent.
                if element_id not in (_SEGMENT, _CLUSTER):
                    self.problem(f"{name} has an unknown size: stopped reading {where}")
                    return
                yield _Element(element_id, name, body, limit, False)
                return
            element_end = body + size
            if end is not None and element_end > end:
                overrun = element_end - end
                self.problem(f"{name} is {size} bytes, overrunning {parent} by {overrun}: stopped reading {parent}")
                return
            if element_end > self.size:
                self.note_truncated(f"{name} should end at byte {element_end}")
            yield _Element(element_id, name, body, element_end, True)
            pos = element_end

    def children(self, parent: _Element) -> Iterator[_Element]:
        return self.elements(parent.body, parent.end, parent.name)

    def data(self, element: _Element, limit: int) -> bytes:
        return self.read(element.body, min(element.end - element.body, limit))

    def read_uint(self, element: _Element) -> int | None:
        size = element.end - element.body
        if size > 8:
            self.problem(f"{element.name} is {size} bytes, too long for an unsigned integer: ignored")
            return None
        return int.from_bytes(self.data(element, 8), "big")

    def read_float(self, element: _Element) -> float | None:
        data = self.data(element, 9)
        if len(data) == 0:
            return 0.0
        if len(data) not in (4, 8):
            self.problem(f"{element.name} is {len(data)} bytes, a float must be 4 or 8: ignored")
            return None
        value = struct.unpack(">f" if len(data) == 4 else ">d", data)[0]
        if not math.isfinite(value):
            self.problem(f"{element.name} is {value}: ignored")
            return None
        return value

    def read_segment(self, segment: _Element) -> ContainerLayout | None:
        tracks_at = None  # where SeekHead says Tracks is, for files that put Tracks after the Clusters
        for element in self.children(segment):
            if element.id == _TRACKS:
                return self.read_tracks(element)
            if element.id == _SEEK_HEAD and tracks_at is None:
                tracks_at = self.tracks_position(element, segment.body)
            elif element.id == _CLUSTER:
                if tracks_at is not None and tracks_at > element.body:
                    tracks = next(self.elements(tracks_at, segment.end if segment.sized else None, segment.name), None)
                    if tracks is not None and tracks.id == _TRACKS:
                        return self.read_tracks(tracks)
                    self.problem(f"SeekHead says Tracks is at byte {tracks_at}, but it is not there")
                    tracks_at = None
                if not element.sized:
                    self.problem(f"{element.name} of unknown size comes before Tracks: stopped reading")
                    return None
                # Otherwise step over the Cluster by its size and keep looking.
        return None

    def tracks_position(self, seek_head: _Element, segment_body: int) -> int | None:
        for seek in self.children(seek_head):
            if seek.id != _SEEK:
                continue
            seek_id = position = None
            for entry in self.children(seek):
                if entry.id == _SEEK_ID:
                    seek_id = self.data(entry, 4)
                elif entry.id == _SEEK_POSITION:
                    position = self.read_uint(entry)
            if seek_id == _TRACKS.to_bytes(4, "big") and position is not None:
                return segment_body + position  # SeekPosition counts from the start of the Segment's data
        return None

    def read_tracks(self, tracks: _Element) -> ContainerLayout | None:
        for entry in self.children(tracks):
            if entry.id != _TRACK_ENTRY:
                continue
            track_type = video = None
            for element in self.children(entry):
                if element.id == _TRACK_TYPE:
                    track_type = self.read_uint(element)
                elif element.id == _VIDEO:
                    video = element
            if track_type == 1:  # the first video track is the one that is played
                return self.read_video(video) if video is not None else None
        return None

    def read_video(self, video: _Element) -> ContainerLayout | None:
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
        if projection is not None:
            self.read_projection(projection, layout)
        return layout

    def read_projection(self, projection: _Element, layout: ContainerLayout) -> None:
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
        body = self.data(private, _MAX_PRIVATE) if private is not None else None
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
            _note_mesh("Projection (ProjectionType 3)", layout, layout.problems)
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
