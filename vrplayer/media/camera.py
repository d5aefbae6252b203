"""The door for camera files: what a 360 camera's own file is, said by a recogniser the cameras room hands in.

A file straight off a camera's card needs more than its container says: a GoPro MAX keeps its picture in two
video tracks that make one cubemap together, and its sound field in a PCM track beside a stereo mix. The media
floor knows nothing of cameras; `vrplayer.cameras` (a room of its own) adds recognisers here, and the decoders,
the sound's choice and the layout decision ask `recognise(path)`:

- `canvas`: the video tracks to decode in lockstep and where each part of their pictures goes in the one picture
  played (media/canvas.py puts it together);
- `sound_track` and `sound_format`: the stream that is the film's sound and what it is ("ambix1");
- `layout`: facts for the layout decision (its "camera" source: projection, stereo, eyes swapped, fov, EAC padding);
- `notes`: lines `probe` shows (what was recognised, what to expect);
- `level`: the turn that levels the horizon at each moment, from the camera's orientation samples (`--level`).

Chapter finders say which files a long take was split into (GoPro's GS01…, GS02…): `open_container` plays them as
one film, through FFmpeg's concat demuxer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from vrplayer import log

_log = log.get("media.camera")

KNOWN_FILES = 64  # files whose answers are kept


@dataclass(frozen=True)
class Piece:
    """A rectangle of one track's picture (x, y, width, height, in luma pixels) placed at (x, y) of the canvas,
    turned `turn` degrees clockwise (0, 90, 180, 270) on the way."""

    track: int  # the video stream's index in its file
    source: tuple[int, int, int, int]
    at: tuple[int, int]
    turn: int = 0
    file: int = 0  # which file: 0 the film's own, k its CameraFile.files[k - 1] (a take of two files)
    view: int = 0  # which view of a multiview (MV-HEVC) track: 0 its base layer, 1 its second view


@dataclass(frozen=True)
class Canvas:
    size: tuple[int, int]  # (width, height) of the picture played
    pieces: tuple[Piece, ...]

    @property
    def tracks(self) -> tuple[tuple[int, int], ...]:
        """The video streams used, as (file, stream index), the first one leading (its timestamps and seeks)."""
        return tuple(dict.fromkeys((piece.file, piece.track) for piece in self.pieces))

    def views(self, file: int, track: int) -> int:
        """How many views of a track the canvas takes (2 for both views of an MV-HEVC track; else 1)."""
        return 1 + max(piece.view for piece in self.pieces if (piece.file, piece.track) == (file, track))

    @property
    def sources(self) -> tuple[tuple[int, int, int], ...]:
        """(file, stream index, view) of every picture a canvas picture is made from, in the order of `tracks`."""
        return tuple((file, track, view) for file, track in self.tracks for view in range(self.views(file, track)))


@dataclass(frozen=True)
class CameraFile:
    camera: str  # what recognised it, in words ("GoPro MAX")
    canvas: Canvas | None = None
    sound_track: int | None = None
    sound_format: str | None = None
    layout: dict = field(default_factory=dict)  # keys as the layout decision's "camera" source takes them
    notes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # the take's other files whose tracks the canvas takes (file 1, 2, …)
    warnings: tuple[str, ...] = ()  # what is wrong with the take (a sibling file missing), one line each
    # The camera's own orientation over the film, when it recorded one: level(t) is the world → picture rotation
    # that puts the picture's horizon level at film time t (vrplayer.cameras.level); level_source says from what.
    level: Callable[[float], object] | None = None
    level_source: str = ""


Recogniser = Callable[[str, object], "CameraFile | None"]  # (path, an open PyAV container) -> what it is, or None
ChapterFinder = Callable[[str], "list[str] | None"]  # (path) -> the files of its recording from it on, or None
_recognisers: list[Recogniser] = []
_chapter_finders: list[ChapterFinder] = []
_known: dict[tuple, CameraFile | None] = {}


def add_chapter_finder(finder: ChapterFinder) -> None:
    if finder not in _chapter_finders:
        _chapter_finders.append(finder)


def chapters(path: str) -> list[str]:
    """The files that play as one film when `path` is opened: a camera's long take split into chapters (the file
    and those after it, side by side), or just the file. Found by name alone, so it is cheap to ask."""
    if "://" not in path:
        for finder in _chapter_finders:
            found = finder(path)
            if found and len(found) > 1:
                return found
    return [path]


def add_recogniser(recogniser: Recogniser) -> None:
    if recogniser not in _recognisers:
        _recognisers.append(recogniser)
        _known.clear()


def recognise(path: str) -> CameraFile | None:
    """What camera file `path` is (None: an ordinary film, or no recogniser knows it), asked once per file version.
    A recogniser that fails is logged and passed over: a camera's quirks never stop a film from playing."""
    if not _recognisers or "://" in path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _known:
        if len(_known) >= KNOWN_FILES:
            _known.pop(next(iter(_known)))  # (the oldest: a kiosk's day of films keeps this small)
        _known[key] = _ask(path)
    return _known[key]


def _ask(path: str) -> CameraFile | None:
    from vrplayer.media.container import open_container

    try:
        container = open_container(path, whole=False)  # (the file itself, not the chapters after it)
    except Exception:
        return None  # (opening the film to play it says what is wrong with it)
    try:
        for recogniser in _recognisers:
            try:
                found = recogniser(path, container)
            except Exception as exc:  # (a hostile or odd file: whatever a recogniser trips on)
                _log.warning("%s: recognising it as a camera file failed (%s); playing it as an ordinary film", path, exc)
                continue
            if found is not None:
                return found
        return None
    finally:
        container.close()


def level_turn(path: str, quiet: bool = False, wait: bool = False):
    """The film's level-horizon turn (CameraFile.level), or None — with one log line saying it has no orientation,
    unless `quiet` (levelling by default, where there is something to level by). Samples spread through the file
    are read on a thread of their own (the picture as filmed meanwhile), or, with `wait`, before returning (a
    single picture: a snapshot, a comparison)."""
    found = recognise(path)
    if found is not None and found.level is not None:
        _log.info("%s: horizon levelled from %s", path, found.level_source)
        prepare = getattr(found.level, "load" if wait else "start", None)
        if prepare is not None:
            prepare()
        return found.level
    if quiet:
        return None
    _log.warning("%s: the camera recorded no orientation in it (GoPro GPMF, VR180 camm, Insta360 quaternions):"
                 " --level leaves the picture as it is", path)
    return None
