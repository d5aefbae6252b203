"""The elements of an EBML file (Matroska / WebM), read straight from the bytes.

An element is a variable-size ID (its length marker bits kept), a variable-size data length (all ones: unknown,
as live streams leave Segment and Cluster), then the data. Walking is bounded by the file and by each parent: an
invalid header, an unknown size where none is allowed, or an element longer than its parent stops the walk of
that parent with a problem line; one that runs past the end of the file is named once, as the file's truncation.
Clusters (the media data) are stepped over by their size, never read; Tracks after the Clusters is found through
the SeekHead.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Iterator

from vrplayer.media.bounded import BoundedReader

EBML_HEADER = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
SEEK_HEAD = 0x114D9B74
SEEK = 0x4DBB
SEEK_ID = 0x53AB
SEEK_POSITION = 0x53AC
TRACKS = 0x1654AE6B
CLUSTER = 0x1F43B675
TRACK_ENTRY = 0xAE
TRACK_TYPE = 0x83
VIDEO = 0xE0

# Names for messages; a reader that looks for more elements adds theirs (`ElementReader.element_names`).
ELEMENT_NAMES = {
    EBML_HEADER: "EBML", DOC_TYPE: "DocType", SEGMENT: "Segment", SEEK_HEAD: "SeekHead", SEEK: "Seek",
    SEEK_ID: "SeekID", SEEK_POSITION: "SeekPosition", TRACKS: "Tracks", CLUSTER: "Cluster",
    TRACK_ENTRY: "TrackEntry", TRACK_TYPE: "TrackType", VIDEO: "Video",
}


def looks_like_ebml(head: bytes) -> bool:
    """True when `head`, the first bytes of a file, starts with the ID of an EBML header."""
    return head[:4] == EBML_HEADER.to_bytes(4, "big")


@dataclass
class Element:
    id: int
    name: str  # path for messages, e.g. "Segment/Tracks"
    body: int  # file offset of the data
    end: int  # file offset just past the data as declared; for an unknown size, the end of the parent
    sized: bool  # False for an unknown-size (live) Segment or Cluster


class ElementReader(BoundedReader):
    element_names: dict[int, str] = ELEMENT_NAMES

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

    def elements(self, start: int, end: int | None, parent: str) -> Iterator[Element]:
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
            short_name = self.element_names.get(element_id, f"0x{element_id:X}")
            name = f"{parent}/{short_name}" if parent else short_name
            body = pos + header_length
            if size is None:
                # Live streams leave Segment and Cluster sizes open: they run to the end of their parent.
                if element_id not in (SEGMENT, CLUSTER):
                    self.problem(f"{name} has an unknown size: stopped reading {where}")
                    return
                yield Element(element_id, name, body, limit, False)
                return
            element_end = body + size
            if not self.within_parent(name, size, element_end, end, parent):
                return
            yield Element(element_id, name, body, element_end, True)
            pos = element_end

    def children(self, parent: Element) -> Iterator[Element]:
        return self.elements(parent.body, parent.end, parent.name)

    def data(self, element: Element, limit: int) -> bytes:
        return self.read(element.body, min(element.end - element.body, limit))

    def read_uint(self, element: Element) -> int | None:
        size = element.end - element.body
        if size > 8:
            self.problem(f"{element.name} is {size} bytes, too long for an unsigned integer: ignored")
            return None
        return int.from_bytes(self.data(element, 8), "big")

    def read_float(self, element: Element) -> float | None:
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

    # Matroska's structure: EBML header, Segment/{SeekHead, Tracks/TrackEntry/Video, Cluster…}

    def segment(self) -> Element | None:
        """The Segment of a Matroska / WebM file; None when the file is no such file (no EBML header with DocType
        matroska or webm) or holds no Segment."""
        header = next(self.elements(0, None, ""), None)
        if header is None or header.id != EBML_HEADER:
            return None
        doc_type = next((e for e in self.children(header) if e.id == DOC_TYPE), None)
        if doc_type is None or self.data(doc_type, 16).rstrip(b"\0") not in (b"matroska", b"webm"):
            return None
        return next((e for e in self.elements(header.end, None, "") if e.id == SEGMENT), None)

    def tracks(self, segment: Element) -> Element | None:
        """The Segment's Tracks: before the first Cluster, or where the SeekHead says when it comes after them."""
        tracks_at = None  # where SeekHead says Tracks is, for files that put Tracks after the Clusters
        for element in self.children(segment):
            if element.id == TRACKS:
                return element
            if element.id == SEEK_HEAD and tracks_at is None:
                tracks_at = self.tracks_position(element, segment.body)
            elif element.id == CLUSTER:
                if tracks_at is not None and tracks_at > element.body:
                    tracks = next(self.elements(tracks_at, segment.end if segment.sized else None, segment.name), None)
                    if tracks is not None and tracks.id == TRACKS:
                        return tracks
                    self.problem(f"SeekHead says Tracks is at byte {tracks_at}, but it is not there")
                    tracks_at = None
                if not element.sized:
                    self.problem(f"{element.name} of unknown size comes before Tracks: stopped reading")
                    return None
                # Otherwise step over the Cluster by its size and keep looking.
        return None

    def tracks_position(self, seek_head: Element, segment_body: int) -> int | None:
        for seek in self.children(seek_head):
            if seek.id != SEEK:
                continue
            seek_id = position = None
            for entry in self.children(seek):
                if entry.id == SEEK_ID:
                    seek_id = self.data(entry, 4)
                elif entry.id == SEEK_POSITION:
                    position = self.read_uint(entry)
            if seek_id == TRACKS.to_bytes(4, "big") and position is not None:
                return segment_body + position  # SeekPosition counts from the start of the Segment's data
        return None

    def first_video(self, tracks: Element) -> Element | None:
        """The Video element of the first video track (the one that is played); None when there is no video
        track, or the first one has no Video element."""
        for entry in self.children(tracks):
            if entry.id != TRACK_ENTRY:
                continue
            track_type = video = None
            for element in self.children(entry):
                if element.id == TRACK_TYPE:
                    track_type = self.read_uint(element)
                elif element.id == VIDEO:
                    video = element
            if track_type == 1:
                return video
        return None
