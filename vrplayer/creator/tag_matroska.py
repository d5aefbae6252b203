"""A film's layout written into a Matroska / WebM file: `StereoMode` and `Projection` (ProjectionType,
ProjectionPrivate — the `equi` / `cbmp` body —, ProjectionPoseYaw/Pitch/Roll) in the first video track's `Video`,
the old ones replaced. Only `Tracks` is rebuilt. When it fits where it was (with the `Void` after it, as mkvmerge
leaves), nothing else moves; otherwise what follows moves by the change of size, and every position that points
past it — the SeekHead's, the Cues', a Cluster's own Position — moves with it, written in its own width (CRC-32
elements of the rewritten elements recomputed). Clusters, the media data, are copied as they are. Elements are
walked with `vrplayer.media.ebml`; what is built here is bytes."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from vrplayer import log
from vrplayer.creator.rewrite import Edit
from vrplayer.creator.tag_mp4 import cbmp_body, equi_body, stored_pose
from vrplayer.creator.tag_target import TagRefused, TagTarget
from vrplayer.errors import path_text
from vrplayer.media.ebml import (
    CLUSTER, SEEK, SEEK_HEAD, SEEK_POSITION, SEGMENT, TRACK_ENTRY, TRACK_TYPE, TRACKS, VIDEO, Element, ElementReader,
)
from vrplayer.media.mesh import write_mshp

_log = log.get("tag")

VOID = 0xEC
CRC32 = 0xBF
STEREO_MODE = 0x53B8
OLD_STEREO_MODE = 0x53B9
PROJECTION = 0x7670
PROJECTION_TYPE = 0x7671
PROJECTION_PRIVATE = 0x7672
PROJECTION_POSE = (0x7673, 0x7674, 0x7675)  # yaw, pitch, roll
CUES = 0x1C53BB6B
CUE_POINT, CUE_TRACK_POSITIONS, CUE_CLUSTER_POSITION, CUE_CODEC_STATE = 0xBB, 0xB7, 0xF1, 0xEA
CUE_REFERENCE, CUE_REF_CLUSTER = 0xDB, 0x97
CLUSTER_POSITION = 0xA7
BLOCKS = (0xA3, 0xA0)  # SimpleBlock, BlockGroup: a Cluster's Position comes before them
_STEREO_MODES = {("mono", False): 0, ("side-by-side", False): 1, ("top-bottom", True): 2, ("top-bottom", False): 3,
                 ("side-by-side", True): 11}
_PROJECTION_TYPES = {"flat": 0, "equirectangular": 1, "eac": 2, "mesh": 3}
# The segment-relative positions inside each level-1 element (masters to walk down, position elements).
_POSITIONS = {SEEK_HEAD: ({SEEK}, {SEEK_POSITION}),
              CUES: ({CUE_POINT, CUE_TRACK_POSITIONS, CUE_REFERENCE},
                     {CUE_CLUSTER_POSITION, CUE_CODEC_STATE, CUE_REF_CLUSTER})}


# ---------------------------------------------------------------------------------------------------------------
# Elements as bytes


def vint(value: int, width: int | None = None) -> bytes:
    """An element data size as a variable-size integer, `width` bytes (default: the fewest)."""
    if width is None:
        width = next(w for w in range(1, 9) if value < (1 << (7 * w)) - 1)
    if value >= (1 << (7 * width)) - 1:
        raise ValueError(f"{value} does not fit a {width}-byte size")
    return ((1 << (7 * width)) | value).to_bytes(width, "big")


def element(element_id: int, data: bytes, size_width: int | None = None) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + vint(len(data), size_width) + data


def uint_element(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def float_element(element_id: int, value: float) -> bytes:
    return element(element_id, struct.pack(">d", value))


def void(size: int) -> bytes:
    """A Void element of exactly `size` bytes (2 or more)."""
    for width in range(1, 9):
        data = size - 1 - width
        if 0 <= data < (1 << (7 * width)) - 1:
            return element(VOID, bytes(data), width)
    raise ValueError(f"no Void element is {size} bytes")


def master(element_id: int, children: bytes, crc: bool, size_width: int | None = None) -> bytes:
    """A master element; with `crc`, a CRC-32 element of its children first (as the spec lays it out)."""
    head = element(CRC32, struct.pack("<I", zlib.crc32(children))) if crc else b""
    return element(element_id, head + children, size_width)


# ---------------------------------------------------------------------------------------------------------------
# What a layout is in Matroska


@dataclass(frozen=True)
class MatroskaMetadata:
    video_elements: bytes  # StereoMode, then Projection


def matroska_metadata(target: TagTarget) -> MatroskaMetadata:
    """The Video elements for `target`; TagRefused for what Matroska cannot say."""
    layout = target.layout
    if layout.projection not in _PROJECTION_TYPES:
        raise TagRefused(f"cannot tag: Matroska has no {layout.projection} projection (ProjectionType is"
                         " rectangular, equirectangular, cubemap — read as YouTube's EAC — or a film's own mesh);"
                         " keep the layout in a sidecar manifest (vrplayer set-view writes one)")
    stereo = _STEREO_MODES[(layout.stereo, layout.eyes_swapped and layout.stereo != "mono")]
    projection_type = _PROJECTION_TYPES[layout.projection]
    body = uint_element(PROJECTION_TYPE, projection_type)
    if layout.projection == "equirectangular":
        crop = (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)
        body += element(PROJECTION_PRIVATE, equi_body(crop))
    elif layout.projection == "eac":
        padding = target.found.cubemap_padding if target.found is not None and target.found.cubemap_padding else 0
        body += element(PROJECTION_PRIVATE, cbmp_body(0, padding))
    elif layout.projection == "mesh":
        body += element(PROJECTION_PRIVATE, write_mshp(list(layout.meshes), compress=True))
    body += b"".join(float_element(i, v) for i, v in zip(PROJECTION_POSE, stored_pose(layout)))
    _check_sound(target)
    return MatroskaMetadata(uint_element(STEREO_MODE, stereo) + element(PROJECTION, body))


def _check_sound(target: TagTarget) -> None:
    """Matroska has no spatial-audio element: a sound field is said by the codec itself (Opus channel mapping
    family 2, PCM's ambisonic layout), which a copy without re-encoding keeps."""
    sound = target.sound
    if sound is None or (target.audio_layout or "").startswith("ambisonic") and sound.kind == "ambix":
        return
    if sound.kind in ("plain", "speakers") and not (target.audio_layout or "").startswith("ambisonic"):
        return
    line = (f"Matroska has no spatial-audio metadata (SA3D is MP4's); its sound says what it is through its codec"
            f" (here {target.audio_layout or 'unknown'}), which tag does not re-encode")
    if target.audio_asked:
        raise TagRefused(f"cannot tag --audio-format {sound.name}: {line}; tag an MP4 copy, or keep it in a sidecar"
                         " manifest (\"audio\")")
    _log.warning("the sound (%s, from %s) is not written: %s", sound.name, target.sound_source, line)


# ---------------------------------------------------------------------------------------------------------------
# The new Tracks, and what moves


def matroska_edits(path: str, metadata: MatroskaMetadata) -> list[Edit]:
    with open(path, "rb") as film:
        reader = ElementReader(film, film.seek(0, 2))
        return _Rewrite(reader, path_text(path)).edits(metadata)


def _spans(reader: ElementReader, start: int, end: int | None, parent: str):
    """(start, element) for each element in [start, end): the elements follow one another."""
    position = start
    for child in reader.elements(start, end, parent):
        yield position, child
        position = child.end


class _Rewrite:
    def __init__(self, reader: ElementReader, name: str):
        self.reader, self.name = reader, name

    def refuse(self, why: str) -> TagRefused:
        return TagRefused(f"{self.name}: {why}")

    def edits(self, metadata: MatroskaMetadata) -> list[Edit]:
        reader = self.reader
        segment = reader.segment()
        if segment is None:
            raise self.refuse("holds no Matroska Segment; export the film again")
        segment_start = next(s for s, e in _spans(reader, 0, None, "") if e.id == SEGMENT)
        level1 = list(_spans(reader, segment.body, segment.end, segment.name))
        if reader.problems:
            raise self.refuse(f"{reader.problems[0]}; tag copies whole, intact films only")
        tracks_at = next((i for i, (_, e) in enumerate(level1) if e.id == TRACKS), None)
        if tracks_at is None:
            raise self.refuse("has no Tracks element before its media data; remux it (mkvmerge -o OUT.mkv FILM)")
        tracks_start, tracks = level1[tracks_at]
        new_tracks = self._tracks(tracks, metadata)
        old_size = tracks.end - tracks_start
        room = old_size
        if tracks_at + 1 < len(level1) and level1[tracks_at + 1][1].id == VOID:
            room = level1[tracks_at + 1][1].end - tracks_start  # the Void after Tracks is spare room
        if len(new_tracks) <= room:
            spare = room - len(new_tracks)
            if spare == 1:  # no Void is one byte: the size takes it
                new_tracks = self._tracks(tracks, metadata, size_width=len(vint(len(new_tracks))) + 1)
                spare = 0
            return [Edit(tracks_start, tracks_start + room, new_tracks + (void(spare) if spare else b""))]
        return self._moved(segment, segment_start, level1, tracks_start, tracks, new_tracks)

    def _tracks(self, tracks: Element, metadata: MatroskaMetadata, size_width: int | None = None) -> bytes:
        reader = self.reader
        entries, crc, done = b"", False, False
        for start, entry in _spans(reader, tracks.body, tracks.end, tracks.name):
            if entry.id == CRC32 and start == tracks.body:
                crc = True
            elif entry.id == TRACK_ENTRY and not done and self._is_video(entry):
                entries += self._rebuilt(entry, metadata)
                done = True
            else:
                entries += reader.read(start, entry.end - start)
        if not done:
            raise self.refuse("has no video track with a Video element to tag")
        return master(TRACKS, entries, crc, size_width)

    def _is_video(self, entry: Element) -> bool:
        kinds = [self.reader.read_uint(e) for e in self.reader.children(entry) if e.id == TRACK_TYPE]
        return kinds[:1] == [1] and any(e.id == VIDEO for e in self.reader.children(entry))

    def _rebuilt(self, parent: Element, metadata: MatroskaMetadata) -> bytes:
        """The TrackEntry (and in it the Video element) with the new StereoMode and Projection."""
        children, crc = b"", False
        for start, child in _spans(self.reader, parent.body, parent.end, parent.name):
            if child.id == CRC32 and start == parent.body:
                crc = True
            elif child.id == VIDEO:
                children += self._rebuilt(child, metadata)
            elif parent.id == VIDEO and child.id in (STEREO_MODE, OLD_STEREO_MODE, PROJECTION):
                continue  # replaced
            else:
                children += self.reader.read(start, child.end - start)
        if parent.id == VIDEO:
            children += metadata.video_elements
        return master(parent.id, children, crc)

    # Tracks grew past its room: what follows moves

    def _moved(self, segment: Element, segment_start: int, level1: list, tracks_start: int, tracks: Element,
               new_tracks: bytes) -> list[Edit]:
        shift = len(new_tracks) - (tracks.end - tracks_start)
        after = tracks_start - segment.body  # positions past Tracks' start move
        edits = [Edit(tracks_start, tracks.end, new_tracks)]
        if segment.sized:
            width = segment.body - segment_start - 4
            size = segment.end - segment.body + shift
            try:
                size_bytes = vint(size, width)
            except ValueError:
                size_bytes = vint(size)  # a wider header moves the whole Segment: its positions stay
            edits.append(Edit(segment_start, segment.body, SEGMENT.to_bytes(4, "big") + size_bytes))
        walked = {start - segment.body for start, _ in level1}
        for start, e in level1:
            if e.id in _POSITIONS:
                if e.id == SEEK_HEAD:
                    self._check_seek_targets(e, walked, after)
                edit = self._repositioned(start, e, shift, after)
                if edit is not None:
                    edits.append(edit)
            elif e.id == CLUSTER and start > tracks_start:
                edits.extend(self._cluster_position(start, e, shift, after))
        return edits

    def _check_seek_targets(self, seek_head: Element, walked: set[int], after: int) -> None:
        for seek in self.reader.children(seek_head):
            for position in (p for p in self.reader.children(seek) if p.id == SEEK_POSITION):
                value = self.reader.read_uint(position)
                if value is not None and value > after and value not in walked:
                    raise self.refuse(f"its SeekHead points to byte {value} of the Segment, past what can be walked"
                                      " (a Cluster of unknown size?); remux it (mkvmerge -o OUT.mkv FILM)")

    def _repositioned(self, start: int, top: Element, shift: int, after: int) -> Edit | None:
        """The level-1 element with each position past `after` moved by `shift`; None when none moves."""
        masters, leaves = _POSITIONS[top.id]
        data = bytearray(self.reader.read(start, top.end - start))
        changed = False

        def walk(parent: Element) -> None:
            nonlocal changed
            for child in self.reader.children(parent):
                if child.id in masters:
                    walk(child)
                elif child.id in leaves:
                    changed |= self._move_uint(data, start, child, shift, after)

        walk(top)
        if not changed:
            return None
        _refresh_crc(data, top.body - start)
        return Edit(start, top.end, bytes(data))

    def _move_uint(self, data: bytearray, base: int, leaf: Element, shift: int, after: int) -> bool:
        value = self.reader.read_uint(leaf)
        if value is None or value <= after or (leaf.id == CUE_CODEC_STATE and value == 0):
            return False
        width = leaf.end - leaf.body
        if value + shift >= 1 << (8 * width):
            raise self.refuse(f"{leaf.name} {value} moved by {shift} bytes no longer fits its {width} bytes;"
                              " remux it (mkvmerge -o OUT.mkv FILM) and tag that")
        data[leaf.body - base:leaf.end - base] = (value + shift).to_bytes(width, "big")
        return True

    def _cluster_position(self, start: int, cluster: Element, shift: int, after: int) -> list[Edit]:
        """A Cluster's own Position element (rare: mkvmerge and FFmpeg write none), moved in place."""
        first = crc = None
        for child_start, child in _spans(self.reader, cluster.body, cluster.end, cluster.name):
            if child.id in BLOCKS:
                break
            if child.id == CRC32 and child_start == cluster.body:
                crc = child
            if child.id == CLUSTER_POSITION:
                first = child
                break
        if first is None:
            return []
        if crc is None:
            data = bytearray(self.reader.read(first.body, first.end - first.body))
            self._move_uint(data, first.body, first, shift, after)
            return [Edit(first.body, first.end, bytes(data))]
        data = bytearray(self.reader.read(start, cluster.end - start))
        self._move_uint(data, start, first, shift, after)
        _refresh_crc(data, cluster.body - start)
        return [Edit(start, cluster.end, bytes(data))]


def _refresh_crc(data: bytearray, body: int) -> None:
    """A master element's CRC-32 (its first child, when it has one) recomputed over the children after it."""
    if data[body:body + 2] == bytes([CRC32, 0x84]) and len(data) >= body + 6:
        data[body + 2:body + 6] = struct.pack("<I", zlib.crc32(bytes(data[body + 6:])))
