"""A film's layout and sound written into an MP4 / MOV's `moov`: Spherical Video V2 (`st3d`, `sv3d` → `svhd`,
`proj` → `prhd` + `equi` | `cbmp`) in the first video track's sample entry, SA3D in the sound track's; old V2, V1
(`uuid`) and SA3D boxes are replaced, not added to. Only `moov` is rewritten: where it lies before media data its
change of size moves that data, so every track's chunk offsets (`stco`, `co64`) move with it (an `stco` whose offsets
would pass 4 GiB becomes a `co64`). The boxes are walked with `vrplayer.media.boxes`; what is built here is bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from vrplayer import log
from vrplayer.creator.rewrite import Edit
from vrplayer.creator.tag_target import TagRefused, TagTarget
from vrplayer.errors import path_text
from vrplayer.formats.sound import channels_for_order
from vrplayer.media.boxes import Box, BoxReader
from vrplayer.media.mesh import write_mshp

_log = log.get("tag")

_V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")  # Spherical Video V1 (see media.spherical)
_VISUAL_ENTRY_FIXED = 78  # VisualSampleEntry fields before its child boxes
_SOUND_ENTRY_FIXED = 28  # SampleEntry + AudioSampleEntry fields before its child boxes
_QUICKTIME_SOUND_EXTRA = {1: 16, 2: 36}  # QuickTime sound sample description versions 1 and 2 add these
_ST3D = {("mono", False): 0, ("top-bottom", False): 1, ("side-by-side", False): 2, ("side-by-side", True): 4}
_FULL = 1 << 32  # 0.32 fixed point


# ---------------------------------------------------------------------------------------------------------------
# Boxes as bytes


def box(fourcc: bytes, payload: bytes, large: bool = False) -> bytes:
    """A box: size, type, payload; a 64-bit largesize when asked or needed."""
    if large or len(payload) + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, fourcc, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, fourcc) + payload


def full_box(fourcc: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(fourcc, struct.pack(">I", (version << 24) | flags) + payload)


def st3d_box(stereo: str, eyes_swapped: bool) -> bytes:
    return full_box(b"st3d", bytes([_ST3D[(stereo, eyes_swapped and stereo != "mono")]]))


def fixed_0_32(fraction: float) -> int:
    return min(_FULL - 1, max(0, round(fraction * _FULL)))


def equi_body(crop: tuple[float, float, float, float]) -> bytes:
    """An equi box's body (version/flags, bounds top, bottom, left, right): `crop` is (left, top, right, bottom)."""
    left, top, right, bottom = crop
    return struct.pack(">I4I", 0, *(fixed_0_32(v) for v in (top, bottom, left, right)))


def cbmp_body(layout: int, padding: int) -> bytes:
    return struct.pack(">3I", 0, layout, padding)


def pose_fixed_16_16(degrees: float) -> int:
    return max(-(1 << 31), min((1 << 31) - 1, round(degrees * 65536)))


def sv3d_box(projection: bytes, pose: tuple[float, float, float]) -> bytes:
    """sv3d: svhd (who wrote it), proj: prhd (the pose, stored as it is) and one projection box."""
    prhd = full_box(b"prhd", struct.pack(">3i", *(pose_fixed_16_16(v) for v in pose)))
    return box(b"sv3d", full_box(b"svhd", b"vrplayer\0") + box(b"proj", prhd + projection))


def sa3d_box(order: int, head_locked: bool, channel_map: tuple[int, ...]) -> bytes:
    """SA3D (version 0, periphonic, ACN, SN3D): `channel_map` covers every channel, head-locked ones included."""
    fields = struct.pack(">BBIBBI", 0, 0x80 if head_locked else 0, order, 0, 0, len(channel_map))
    return box(b"SA3D", fields + struct.pack(f">{len(channel_map)}I", *channel_map))


# ---------------------------------------------------------------------------------------------------------------
# What a layout and a sound are in MP4


def stored_pose(layout) -> tuple[float, float, float]:
    """Our initial view as V2's prhd stores it: its yaw turns to the left (`layout.initial_view_from_pose`)."""
    return (-layout.initial_yaw + 0.0, layout.initial_pitch, layout.initial_roll)


@dataclass(frozen=True)
class Mp4Metadata:
    st3d: bytes
    sv3d: bytes | None  # None: a flat film, which V2 describes by having no sv3d
    sa3d: bytes | None
    audio_index: int | None  # the trak whose SA3D is replaced by `sa3d` (None: sound left as it is)


def mp4_metadata(target: TagTarget) -> Mp4Metadata:
    """The boxes for `target`; TagRefused for what V2 / SA3D cannot say."""
    layout = target.layout
    if layout.stereo == "top-bottom" and layout.eyes_swapped:
        raise TagRefused("cannot tag: Spherical Video V2 (st3d) has no top-bottom packing with the right eye on top;"
                         " Matroska has (StereoMode 2): tag a .mkv copy, or keep it in a sidecar manifest")
    if layout.projection == "equirectangular":
        crop = (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)
        projection = box(b"equi", equi_body(crop))
    elif layout.projection == "eac":
        # V2 defines one cubemap layout (0, 3x2 faces), which YouTube's EAC films use and vrplayer reads as EAC.
        padding = target.found.cubemap_padding if target.found is not None and target.found.cubemap_padding else 0
        projection = box(b"cbmp", cbmp_body(0, padding))
    elif layout.projection == "flat":
        projection = None
    elif layout.projection == "mesh":
        projection = box(b"mshp", write_mshp(list(layout.meshes), compress=True))
    else:
        raise TagRefused(f"cannot tag: Spherical Video V2 has no {layout.projection} projection (it has equi, cbmp —"
                         " read as YouTube's EAC — and mshp meshes, a film's own); keep the layout in a sidecar"
                         " manifest (vrplayer set-view writes one)")
    sv3d = None if projection is None else sv3d_box(projection, stored_pose(layout))
    sa3d, audio_index = _sound(target)
    if layout.projection == "mesh" and len(layout.meshes) == 2 and layout.stereo == "mono":
        st3d = full_box(b"st3d", bytes([3]))  # stereo-custom: each eye's mesh places it in the whole picture
    else:
        st3d = st3d_box(layout.stereo, layout.eyes_swapped)
    return Mp4Metadata(st3d, sv3d, sa3d, audio_index)


def _sound(target: TagTarget) -> tuple[bytes | None, int | None]:
    sound = target.sound
    if sound is None:
        return None, None
    if sound.kind == "ambix":
        channel_map = sound.channel_map or tuple(range(channels_for_order(sound.order) + sound.head_locked))
        return sa3d_box(sound.order, sound.head_locked > 0, channel_map), target.audio_index
    if sound.kind in ("plain", "speakers") and target.audio_asked:
        return None, target.audio_index  # asked to say it is not a sound field: no SA3D
    if target.audio_asked:
        raise TagRefused(f"cannot tag: SA3D describes AmbiX sound fields (ACN, SN3D) only, not {sound.name};"
                         " convert the sound to AmbiX first")
    if sound.kind in ("fuma", "tbe"):
        _log.warning("the sound (%s, from %s) has no SA3D form (AmbiX only): the copy's sound is left as it is",
                     sound.name, target.sound_source)
    return None, None


# ---------------------------------------------------------------------------------------------------------------
# The new moov


def mp4_edits(path: str, metadata: Mp4Metadata) -> list[Edit]:
    """The edit that replaces the film's moov with one carrying `metadata`. TagRefused for files whose structure
    cannot be rewritten this way (truncated, broken boxes, two moovs, fragmented)."""
    with open(path, "rb") as film:
        size = film.seek(0, 2)
        reader = BoxReader(film, size)
        top = list(_spans(reader, 0, None, ""))
        name = path_text(path)
        if reader.problems:
            raise TagRefused(f"{name}: {reader.problems[0]}; tag copies whole, intact films only")
        moovs = [(start, b) for start, b in top if b.fourcc == b"moov"]
        if len(moovs) != 1:
            raise TagRefused(f"{name}: holds {len(moovs)} moov boxes where a film has one; export it again")
        if any(b.fourcc == b"moof" for _, b in top):
            raise TagRefused(f"{name}: is a fragmented MP4 (moof boxes), which tag does not rewrite; make it a plain"
                             " one first (ffmpeg -i FILM -c copy OUT.mp4)")
        start, moov = moovs[0]
        builder = _MoovBuilder(reader, metadata, start, name)
        data = builder.build(moov, start)
        if reader.problems:
            raise TagRefused(f"{name}: {reader.problems[0]}; the film's headers cannot be rewritten")
    return [Edit(start, moov.end, data)]


def _spans(reader: BoxReader, start: int, end: int | None, parent: str):
    """(start, box) for each box in [start, end): the boxes follow one another."""
    position = start
    for child in reader.boxes(start, end, parent):
        yield position, child
        position = child.end


class _MoovBuilder:
    def __init__(self, reader: BoxReader, metadata: Mp4Metadata, moov_start: int, name: str):
        self.reader, self.metadata, self.moov_start, self.name = reader, metadata, moov_start, name
        self.shift = 0  # how far media data after moov moves
        self.as_co64: set[int] = set()  # stco boxes (by offset) to write as co64
        self.overflow: set[int] = set()
        self.track, self.video_track, self.handler, self.entry_done = -1, None, None, False  # the walk's place

    def build(self, moov: Box, start: int) -> bytes:
        """moov rebuilt; offsets shifted by the change of its own size, until that settles."""
        if self.reader.child(moov, b"mvex") is not None:
            raise TagRefused(f"{self.name}: is a fragmented MP4 (mvex), which tag does not rewrite; make it a plain"
                             " one first (ffmpeg -i FILM -c copy OUT.mp4)")
        old_size = moov.end - start
        for _ in range(8):
            self.overflow, self.track, self.video_track = set(), -1, None
            data = self._container(moov, start, self._moov_child)
            if self.overflow:
                self.as_co64 |= self.overflow
                continue
            if len(data) - old_size == self.shift:
                return data
            self.shift = len(data) - old_size
        raise TagRefused(f"{self.name}: its chunk offsets did not settle while moov was rewritten")

    # Walking down moov/trak/mdia/minf/stbl, the rest copied as it is

    def _raw(self, start: int, b: Box) -> bytes:
        return self.reader.read(start, b.end - start)

    def _container(self, b: Box, start: int, child, prefix: int = 0) -> bytes:
        header = b.body - start
        body = self.reader.read(b.body, prefix)
        for child_start, c in _spans(self.reader, b.body + prefix, b.end, b.name):
            body += child(child_start, c)
        return box(b.fourcc, body, large=header == 16)

    def _moov_child(self, start: int, b: Box) -> bytes:
        if b.fourcc == b"uuid" and self.reader.read(b.body, 16) == _V1_UUID:
            return b""  # Spherical Video V1: replaced by V2
        if b.fourcc != b"trak":
            return self._raw(start, b)
        mdia = self.reader.child(b, b"mdia")
        self.handler = self.reader.handler_type(mdia) if mdia is not None else None
        self.track += 1  # the trak's position among the file's tracks (PyAV's stream index for MP4)
        if self.handler == b"vide" and self.video_track is None:
            self.video_track = self.track  # the first video track is the one that is played
        self.entry_done = False
        return self._container(b, start, self._trak_child)

    def _trak_child(self, start: int, b: Box) -> bytes:
        if b.fourcc == b"uuid" and self.reader.read(b.body, 16) == _V1_UUID:
            return b""
        if b.fourcc in (b"mdia", b"minf", b"stbl"):
            return self._container(b, start, self._trak_child)
        if b.fourcc == b"stsd":
            return self._container(b, start, self._sample_entries, prefix=8)
        if b.fourcc in (b"stco", b"co64"):
            return self._chunk_offsets(start, b)
        return self._raw(start, b)

    def _sample_entries(self, start: int, b: Box) -> bytes:
        first, self.entry_done = not self.entry_done, True  # the first sample entry describes the track
        if first and self.track == self.video_track:
            return self._entry(start, b, [_VISUAL_ENTRY_FIXED], {b"st3d", b"sv3d"},
                               self.metadata.st3d + (self.metadata.sv3d or b""))
        if first and self.handler == b"soun" and self.track == self.metadata.audio_index:
            version = struct.unpack(">H", self.reader.read(b.body + 8, 2).ljust(2, b"\0"))[0]
            offsets = [_SOUND_ENTRY_FIXED + _QUICKTIME_SOUND_EXTRA.get(version, 0), _SOUND_ENTRY_FIXED]
            return self._entry(start, b, offsets, {b"SA3D"}, self.metadata.sa3d or b"")
        return self._raw(start, b)

    def _entry(self, start: int, entry: Box, offsets: list[int], replaced: set[bytes], added: bytes) -> bytes:
        """A sample entry with the `replaced` child boxes dropped and `added` after the others (before any
        trailing terminator bytes). `offsets`: where its child boxes may start (the first that reads cleanly)."""
        for offset in dict.fromkeys(offsets):
            children = entry.body + offset
            if children <= entry.end and self.reader.is_clean_run(children, entry.end):
                break
        else:
            raise TagRefused(f"{self.name}: the boxes of {entry.name} cannot be read cleanly; export the film again")
        body = self.reader.read(entry.body, offset)
        last = children
        for child_start, c in _spans(self.reader, children, entry.end, entry.name):
            if c.fourcc not in replaced:
                body += self._raw(child_start, c)
            last = c.end
        body += added + self.reader.read(last, entry.end - last)
        return box(entry.fourcc, body, large=entry.body - start == 16)

    def _chunk_offsets(self, start: int, b: Box) -> bytes:
        wide = b.fourcc == b"co64"
        fields = self.reader.read(b.body, b.end - b.body)
        if len(fields) < 8:
            raise TagRefused(f"{self.name}: {b.name} is too short to hold its chunk offsets")
        count = struct.unpack_from(">I", fields, 4)[0]
        width = 8 if wide else 4
        if 8 + count * width > len(fields):
            raise TagRefused(f"{self.name}: {b.name} declares {count} chunks but holds fewer")
        offsets = struct.unpack_from(f">{count}{'Q' if wide else 'I'}", fields, 8)
        moved = [o + self.shift if o >= self.moov_start else o for o in offsets]
        if not wide and start in self.as_co64:
            wide = True
        elif not wide and any(o > 0xFFFFFFFF for o in moved):
            self.overflow.add(start)
        version_flags = fields[:4]
        if not wide and start not in self.overflow:
            return box(b"stco", version_flags + struct.pack(f">I{count}I", count, *moved))
        return box(b"co64", version_flags + struct.pack(f">I{count}Q", count, *moved))
