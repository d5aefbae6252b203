"""The boxes of an ISO-BMFF file (MP4 / QuickTime), read straight from the bytes.

A box is size u32, type fourcc, then its body; size 1 means a u64 largesize follows the type, size 0 that the box
runs to the end of its parent. Walking is bounded by the file and by each parent: a box that declares less than
its own header, or more than its parent holds, stops the walk of that parent with a problem line; a box that runs
past the end of the file is named once, as the file's truncation. Media data (mdat, possibly many GB) is stepped
over by its size, never read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

from vrplayer.media.bounded import BoundedReader

# The box types an MP4 / QuickTime file starts with.
_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp", b"pdin"}


def looks_like_mp4(head: bytes) -> bool:
    """True when `head`, the first 8 bytes of a file, is the header of a box an MP4 / QuickTime file starts with."""
    return len(head) == 8 and head[4:8] in _FIRST_BOXES


@dataclass
class Box:
    fourcc: bytes
    name: str  # path for messages, e.g. "moov/trak/mdia" or "avc1/sv3d/proj"
    body: int  # file offset of the first byte after size, type and largesize
    end: int  # file offset just past the box as declared (may lie past the end of a truncated file)


def fourcc_text(fourcc: bytes) -> str:
    """A box type for messages: as text when printable, else in hex."""
    text = fourcc.decode("latin-1")
    return text if text.isprintable() else fourcc.hex()


class BoxReader(BoundedReader):
    def boxes(self, start: int, end: int | None, parent: str) -> Iterator[Box]:
        """The boxes in [start, end); end None means the top level, which runs to the end of the file."""
        limit = self.size if end is None else end
        pos = start
        while pos + 8 <= min(limit, self.size):
            size, fourcc = struct.unpack(">I4s", self.read(pos, 8))
            if end is None and not all(32 <= c < 127 for c in fourcc):
                return  # not a box: data a camera appends after the film's boxes (an Insta360's trailer)
            name = f"{parent}/{fourcc_text(fourcc)}" if parent else fourcc_text(fourcc)
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
            if not self.within_parent(name, size, box_end, end, parent):
                return
            yield Box(fourcc, name, pos + header, box_end)
            pos = box_end

    def child(self, parent: Box, *path: bytes) -> Box | None:
        """The first box of each type along `path` below `parent`."""
        box: Box | None = parent
        for fourcc in path:
            box = next((b for b in self.boxes(box.body, box.end, box.name) if b.fourcc == fourcc), None)
            if box is None:
                return None
        return box

    def body(self, box: Box, limit: int = 4096) -> bytes:
        return self.read(box.body, min(box.end - box.body, limit))

    def is_clean_run(self, start: int, end: int) -> bool:
        """The bytes in [start, end) are a clean run of boxes, each with a printable type, ending exactly at end
        (or with fewer than 8 zero bytes of padding). Checked without noting problems."""
        pos = start
        while pos + 8 <= end:
            size, fourcc = struct.unpack(">I4s", self.read(pos, 8).ljust(8, b"\0"))
            if size < 8 or pos + size > end or not all(32 <= c < 127 for c in fourcc):
                return False
            pos += size
        return pos == end or end - pos < 8 and not any(self.read(pos, end - pos))

    # A track's structure: trak/mdia/{hdlr, minf/stbl/stsd}

    def handler_type(self, mdia: Box) -> bytes | None:
        """The handler type of a track's mdia box (b"vide", b"soun", …; shorter when hdlr is cut short), None
        without an hdlr box."""
        hdlr = self.child(mdia, b"hdlr")
        if hdlr is None:
            return None
        return self.body(hdlr, 12)[8:12]  # version/flags, pre_defined, handler_type

    def first_sample_entry(self, stsd: Box) -> Box | None:
        """The first sample entry of an stsd box (version/flags and entry count, then the entries); it describes
        the track's pictures or sound. Its body starts with the entry's fixed fields, its child boxes after them."""
        if stsd.end - stsd.body < 8:
            self.problem(f"{stsd.name} is {stsd.end - stsd.body} bytes, too short to hold a sample entry")
            return None
        return next(self.boxes(stsd.body + 8, stsd.end, stsd.name), None)
