"""What a film's container structure says will go wrong, read from box and element headers alone (the media data
is stepped over, so the cost does not grow with the film): a file that ends before its data does (truncated: it
will stop early), boxes that do not fit where they are, an MP4 with more than one `moov` (FFmpeg reads one of them).
For `probe`'s warnings; our readers of the 360° metadata walk the same structure (`boxes`, `ebml`)."""

from __future__ import annotations

import io

from vrplayer.media.boxes import BoxReader, looks_like_mp4
from vrplayer.media.ebml import ElementReader, looks_like_ebml
from vrplayer.media.network import open_binary


def structure_warnings(path: str) -> list[str]:
    """`structure_problems`, with what they mean for playing the film."""
    return [_with_consequence(line) for line in structure_problems(path)]


def structure_problems(path: str) -> list[str]:
    """One line per thing found wrong in the film's top-level structure (MP4 or Matroska; other containers: none)."""
    with open_binary(path) as file:
        size = file.seek(0, io.SEEK_END)
        file.seek(0)
        head = file.read(8)
        if looks_like_ebml(head):
            reader = ElementReader(file, size)
            reader.segment()  # a Segment that declares more than the file holds is noted as its truncation
            return list(reader.problems)
        if looks_like_mp4(head):
            reader = BoxReader(file, size)
            headers = sum(1 for box in reader.boxes(0, None, "") if box.fourcc == b"moov")
            warnings = list(reader.problems)
            if headers > 1:
                warnings.append(f"the file holds {headers} moov boxes (the film's headers) where there is one: "
                                "FFmpeg reads one of them, so the film may play wrong or not at all; export it again")
            return warnings
    return []


def _with_consequence(line: str) -> str:
    if line.startswith("the file is truncated"):
        return f"{line}: the film stops before its stated end (an unfinished download or copy? fetch it again)"
    return line
