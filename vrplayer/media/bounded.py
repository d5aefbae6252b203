"""Bounded reads from a container file, and the problem lines gathered while walking its structure.

The base of both structure readers (`vrplayer.media.boxes` for MP4's boxes, `vrplayer.media.ebml` for Matroska's
elements): a read never goes past the end of the file, and what is found broken on the way is kept as one line
each, for the caller to report next to what it was looking for.
"""

from __future__ import annotations

from typing import BinaryIO


class BoundedReader:
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
        # One line is enough: every enclosing box or element overruns the file end too.
        if not self._truncation_noted:
            self._truncation_noted = True
            self.problem(f"the file is truncated at {self.size} bytes: {detail}")

    def within_parent(self, name: str, size: int, item_end: int, end: int | None, parent: str) -> bool:
        """Whether the box or element `name`, `size` bytes that end at `item_end`, fits in its parent, which ends at
        `end` (None at the top level); a problem line when not. One that runs past the end of the file fits (it is
        noted as the file's truncation): what the file holds of it is still read."""
        if end is not None and item_end > end:
            overrun = item_end - end
            self.problem(f"{name} is {size} bytes, overrunning {parent} by {overrun}: stopped reading {parent}")
            return False
        if item_end > self.size:
            self.note_truncated(f"{name} should end at byte {item_end}")
        return True
