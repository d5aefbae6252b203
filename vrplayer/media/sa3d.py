"""Google's spatial audio box (SA3D) read from an MP4/MOV audio track's sample entry.

Box layout (Spatial Audio RFC, google/spatial-media docs/spatial-audio-rfc.md), inside the sound sample entry
(moov/trak/mdia/minf/stbl/stsd/{mp4a, Opus, ipcm, lpcm, sowt, fLaC, …}/SA3D), big-endian:

    u8  version               0
    u8  ambisonic_type        low 7 bits: 0 = periphonic; bit 7: head-locked stereo follows the sound field
    u32 ambisonic_order       (order + 1)² ambisonic channels
    u8  channel_ordering      0 = ACN
    u8  normalization         0 = SN3D
    u32 num_channels          all the track's channels, head-locked ones included
    u32 channel_map[num_channels]   ACN component k (then head-locked L, R) is track channel channel_map[k]

The box walker is `vrplayer.media.boxes` (bounded reads, seeking over mdat, problems as lines). PyAV reports
an ambisonic channel layout only for PCM/FLAC/Opus-family-2 tracks; AAC and Opus-family-255 tracks come back as
"quad", "5.1", "9 channels"…, so the box is read here.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from vrplayer.formats.sound import AudioFormat, channels_for_order
from vrplayer.media.boxes import Box, BoxReader, fourcc_text, looks_like_mp4
from vrplayer.media.network import open_binary

_SAMPLE_ENTRY_FIXED = 28  # SampleEntry (8) + AudioSampleEntry fields (20) before the child boxes
_QUICKTIME_EXTRA = {1: 16, 2: 36}  # QuickTime sound sample description versions 1 and 2 add these bytes
_SA3D_FIXED = 12
_MAX_CHANNELS = 1024


@dataclass
class Sa3d:
    """An SA3D box as found, with what is wrong with it. Fields the box was too short to hold are None."""

    stream_index: int  # the track's position among the file's tracks (PyAV's stream.index for MP4)
    version: int | None = None
    ambisonic_type: int | None = None  # low 7 bits
    head_locked_stereo: bool = False
    order: int | None = None
    channel_ordering: int | None = None
    normalization: int | None = None
    num_channels: int | None = None
    channel_map: tuple[int, ...] = ()
    # One line each; any of them makes the box unusable (`audio_format` is then None).
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        fmt = self.audio_format()
        return fmt.name if fmt is not None else None

    def audio_format(self) -> AudioFormat | None:
        """The AmbiX format the box describes, None when it is unusable (see `problems`)."""
        if self.problems or self.order is None:
            return None
        head_locked = 2 if self.head_locked_stereo else 0
        identity = self.channel_map == tuple(range(len(self.channel_map)))
        name = f"ambix{self.order}" + ("+stereo" if head_locked else "")
        return AudioFormat(name, self.num_channels, "ambix", self.order, head_locked,
                           channel_map=None if identity else self.channel_map)


def read_sa3d(path: str, stream_index: int | None = None) -> Sa3d | None:
    """The SA3D box of the audio track at `stream_index` (the first audio track when None), or None when that
    track has none, there is no such audio track, or the file is not MP4/MOV. Never raises for a malformed box
    or file structure (see `Sa3d.problems`); raises OSError only when the file cannot be read."""
    with open_binary(path) as file:
        return read_sa3d_from(file, stream_index)


def read_sa3d_from(file: BinaryIO, stream_index: int | None = None) -> Sa3d | None:
    """`read_sa3d` for an open, seekable binary file."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    head = file.read(8)
    if not looks_like_mp4(head):
        return None
    return _Sa3dReader(file, size).find(stream_index)


class _Sa3dReader(BoxReader):
    def find(self, stream_index: int | None) -> Sa3d | None:
        for box in self.boxes(0, None, ""):
            if box.fourcc == b"moov":
                return self._moov(box, stream_index)
        return None

    def _moov(self, moov: Box, stream_index: int | None) -> Sa3d | None:
        index = -1
        for trak in self.boxes(moov.body, moov.end, moov.name):
            if trak.fourcc != b"trak":
                continue
            index += 1
            if stream_index is not None and index != stream_index:
                continue
            mdia = self.child(trak, b"mdia")
            if mdia is None or self.handler_type(mdia) != b"soun":
                if stream_index is not None:
                    return None
                continue
            stsd = self.child(mdia, b"minf", b"stbl", b"stsd")
            return self._stsd(stsd, index) if stsd is not None else None
        return None

    def _stsd(self, stsd: Box, index: int) -> Sa3d | None:
        entry = self.first_sample_entry(stsd)
        if entry is None:
            return None
        version = struct.unpack(">H", self.read(entry.body + 8, 2).ljust(2, b"\0"))[0]
        offsets = [_SAMPLE_ENTRY_FIXED + _QUICKTIME_EXTRA.get(version, 0), _SAMPLE_ENTRY_FIXED]
        for offset in dict.fromkeys(offsets):  # the QuickTime reading first, then the ISO one
            start = entry.body + offset
            if start <= entry.end and self.is_clean_run(start, entry.end):
                name = fourcc_text(entry.fourcc)
                for box in self.boxes(start, entry.end, name):
                    if box.fourcc == b"SA3D":
                        return self._sa3d(box, index)
                return None
        return None

    def _sa3d(self, box: Box, index: int) -> Sa3d:
        result = Sa3d(stream_index=index)
        problems = result.problems
        body = self.read(box.body, min(box.end - box.body, _SA3D_FIXED + 4 * _MAX_CHANNELS + 64))
        if len(body) < _SA3D_FIXED:
            problems.append(f"SA3D box is {len(body)} bytes, too short for its {_SA3D_FIXED} bytes of fields")
            return result
        (result.version, kind, result.order, result.channel_ordering, result.normalization,
         result.num_channels) = struct.unpack_from(">BBIBBI", body)
        result.ambisonic_type = kind & 0x7F
        result.head_locked_stereo = bool(kind & 0x80)
        if result.version != 0:
            problems.append(f"SA3D version {result.version} is not known (only 0)")
        if result.ambisonic_type != 0:
            problems.append(f"SA3D ambisonic_type {result.ambisonic_type} is not periphonic (0)")
        if result.channel_ordering != 0:
            problems.append(f"SA3D channel_ordering {result.channel_ordering} is not ACN (0)")
        if result.normalization != 0:
            problems.append(f"SA3D normalization {result.normalization} is not SN3D (0)")
        if not 1 <= result.order <= 7:
            problems.append(f"SA3D ambisonic_order {result.order} is not supported (1 to 7)")
            return result
        expected = channels_for_order(result.order) + (2 if result.head_locked_stereo else 0)
        if result.num_channels != expected:
            stereo = " + 2 head-locked" if result.head_locked_stereo else ""
            problems.append(f"SA3D num_channels {result.num_channels} does not fit order {result.order}{stereo} "
                            f"({expected} channels)")
            return result
        if len(body) < _SA3D_FIXED + 4 * expected:
            problems.append(f"SA3D box is cut short: {len(body) - _SA3D_FIXED} bytes of channel_map for "
                            f"{expected} channels")
            return result
        result.channel_map = struct.unpack_from(f">{expected}I", body, _SA3D_FIXED)
        if sorted(result.channel_map) != list(range(expected)):
            problems.append(f"SA3D channel_map {list(result.channel_map)} is not a permutation of the track's "
                            f"{expected} channels")
        return result
