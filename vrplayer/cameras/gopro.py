"""The GoPro MAX `.360`: its two HEVC tracks are one equi-angular cubemap (facts: vrplayer/cameras/facts.py).

Recognised from the file itself (two video tracks with GoPro's handler name, sizes that follow the MAX's rule),
whatever its name. The picture played is the two tracks one above the other, the band both lenses saw cut out of
every side face at its seam, as a 3x2 EAC with no padding; the sound is its ambisonic PCM track.
"""

from __future__ import annotations

import os

from vrplayer.cameras import facts
from vrplayer.cameras.gpmf import read_telemetry, telemetry_track
from vrplayer.cameras.level import LazyTilt, Tilt, quaternion_rotation, tilt_from_gravity
from vrplayer.media.camera import CameraFile, Canvas, Piece


def _handler(stream) -> str:
    return (stream.metadata or {}).get("handler_name", "").strip()


def recognise(path: str, container) -> CameraFile | None:
    tracks = [s for s in container.streams.video
              if s.codec_context.name == "hevc" and _handler(s) == facts.GOPRO_VIDEO_HANDLER]
    if len(tracks) < 2:
        return None
    first, second = tracks[:2]
    size = (first.codec_context.width, first.codec_context.height)
    if (second.codec_context.width, second.codec_context.height) != size:
        return None
    strip = facts.gopro_strip(*size)
    if strip is None:
        return None
    face = size[1]
    pieces = []
    for row, stream in enumerate((first, second)):
        pieces += _row_pieces(stream.index, face, strip, row)
    sound = next((s for s in container.streams.audio
                  if _handler(s) == facts.GOPRO_SOUND_HANDLER and s.codec_context.channels == 4), None)
    kind = facts.GOPRO_TRACK_SIZES.get(size, f"{size[0]}x{size[1]}")
    faces = " and ".join(" | ".join(f.upper() for f in row) for row in facts.GOPRO_TRACK_FACES)
    notes = [f"{kind} tracks ({faces}) make one 3x2 equi-angular cubemap, the {strip}-pixel band both lenses saw cut"
             " out at each seam, no padding"]
    if sound is not None:
        notes.append(f"its sound is track {sound.index}, four channels of first-order ambisonics (AmbiX), turned with"
                     " the head, not the stereo mix")
    level = level_source = None
    if telemetry_track(container) is not None:
        level = LazyTilt(lambda: _tilt(path), f"{os.path.basename(path)}'s telemetry (GPMF)")
        level_source = "its GPMF telemetry (the gravity vector GRAV, else the orientation CORI)"
        notes.append("its telemetry track can keep the horizon level (--level)")
    return CameraFile(
        camera="GoPro MAX",
        canvas=Canvas((3 * face, 2 * face), tuple(pieces)),
        sound_track=sound.index if sound is not None else None,
        sound_format=facts.GOPRO_SOUND_FORMAT if sound is not None else None,
        layout={"projection": "eac", "stereo": "mono", "eac_padding": facts.GOPRO_EAC_PADDING},
        notes=tuple(notes), level=level, level_source=level_source or "",
    )


def _tilt(path: str) -> Tilt | None:
    """The camera's tilt over the film from its telemetry: the gravity vector where recorded (it knows where down
    is from the first sample on), else the orientation quaternions (from the start of the take)."""
    from vrplayer.media.container import open_container, origin_seconds

    container = open_container(path, whole=False)
    try:
        telemetry = read_telemetry(container, origin_seconds(container))
    finally:
        container.close()
    if telemetry.get("GRAV"):
        samples = telemetry["GRAV"]
        return Tilt(tuple(t for t, *_ in samples), *zip(*[tilt_from_gravity(*g) for _, *g in samples]),
                    source=f"{len(samples)} gravity samples (GPMF GRAV)")
    if telemetry.get("CORI"):
        samples = telemetry["CORI"]
        return Tilt.from_rotations([(t, quaternion_rotation(*q)) for t, *q in samples],
                                   f"{len(samples)} orientation samples (GPMF CORI)")
    return None


def _row_pieces(track: int, face: int, strip: int, row: int) -> list[Piece]:
    """One track's three faces, side faces with the band at their middle cut out, as one row of the canvas."""
    half = face // 2
    y = row * face
    middle = face + strip  # where the middle face starts in the track
    right = middle + face
    return [
        Piece(track, (0, 0, half, face), (0, y)),
        Piece(track, (half + strip, 0, half, face), (half, y)),
        Piece(track, (middle, 0, face, face), (face, y)),
        Piece(track, (right, 0, half, face), (2 * face, y)),
        Piece(track, (right + half + strip, 0, half, face), (2 * face + half, y)),
    ]


def chapters(path: str) -> list[str] | None:
    """A take's chapters from this one on (GS01xxxx.360, GS02xxxx.360, … beside it, up to the first missing), or
    None when the name is not a GoPro chapter's."""
    folder, name = os.path.split(path)
    found = facts.GOPRO_CHAPTER_NAME.match(name)
    if found is None:
        return None
    chapter, take = int(found.group(1)), found.group(2)
    prefix, suffix = name[:2], name[-4:]
    parts = [path]
    while chapter < 99:
        chapter += 1
        following = os.path.join(folder, f"{prefix}{chapter:02d}{take}{suffix}")
        if not os.path.isfile(following):
            break
        parts.append(following)
    return parts
