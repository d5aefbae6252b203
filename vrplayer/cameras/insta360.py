"""Insta360 `.insv`: unstitched dual fisheye, one file (both lenses side by side, or one square stream each) or two
(one lens each, `…_00_…` and `…_10_…`), with a trailer of what the camera knew (facts: vrplayer/cameras/facts.py).

Drawn as a dual fisheye with the documented default lens model (the manifest's "lenses" gives a unit's own); the
trailer is read for its camera type, which file of a take it is, the camera's posture and its orientation
samples (for --level). Without the unit's calibration the seams show where the lenses meet: said in one line.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from vrplayer.cameras import facts, protobuf
from vrplayer.cameras.level import Tilt, quaternion_rotation
from vrplayer.media.camera import CameraFile, Canvas, Piece


@dataclass
class Trailer:
    camera_type: str | None = None
    offset: str | None = None  # the lens calibration string (its numbers are not publicly documented)
    size: tuple[int, int] | None = None
    frame_rate: int | None = None
    file_index: int | None = None  # which file of a two-file take
    posture: int | None = None  # degrees the camera was turned (0, 90, 180, 270)
    orientations: list = field(default_factory=list)  # (seconds, w, x, y, z)
    problems: list = field(default_factory=list)


def read_trailer(path: str) -> Trailer | None:
    """The trailer at the end of an .insv, None when the file has none (its magic missing). Damaged records are
    noted in `problems`, never raised."""
    try:
        with open(path, "rb") as file:
            end = file.seek(0, os.SEEK_END)
            if end < facts.INSV_TRAILER_TAIL:
                return None
            file.seek(end - facts.INSV_TRAILER_TAIL)
            tail = file.read(facts.INSV_TRAILER_TAIL)
            if tail[-32:] != facts.INSV_MAGIC:
                return None
            total, _version = struct.unpack("<II", tail[32:40])
            trailer = Trailer()
            if not facts.INSV_TRAILER_TAIL <= total <= min(end, facts.MAX_INSV_TRAILER):
                trailer.problems.append(f"its trailer claims {total} bytes, more than it can hold")
                return trailer
            file.seek(end - total)
            body = file.read(total - facts.INSV_TRAILER_TAIL)
    except OSError:
        return None
    _records(body, trailer)
    return trailer


def _records(body: bytes, trailer: Trailer) -> None:
    at = len(body)
    while at >= 6:
        record_format, record_id, size = struct.unpack("<BBI", body[at - 6:at])
        if size > at - 6:
            trailer.problems.append(f"a trailer record (id {record_id}) is larger than the trailer")
            return
        payload = body[at - 6 - size:at - 6]
        at -= 6 + size
        try:
            if record_id == facts.INSV_RECORD_METADATA:
                _metadata(payload, trailer)
            elif record_id == facts.INSV_RECORD_QUATERNIONS:
                sample = struct.calcsize(facts.INSV_QUATERNION_SAMPLE)
                for start in range(0, len(payload) - sample + 1, sample):
                    ms, w, x, y, z = struct.unpack_from(facts.INSV_QUATERNION_SAMPLE, payload, start)
                    trailer.orientations.append((ms / 1000.0, w, x, y, z))
        except (ValueError, struct.error) as exc:
            trailer.problems.append(f"its trailer's record {record_id} cannot be read ({exc})")


def _metadata(payload: bytes, trailer: Trailer) -> None:
    found = protobuf.fields(payload)
    trailer.camera_type = protobuf.first_text(found, facts.INSV_FIELD_CAMERA_TYPE)
    trailer.offset = protobuf.first_text(found, facts.INSV_FIELD_OFFSET)
    trailer.frame_rate = protobuf.first_int(found, facts.INSV_FIELD_FRAME_RATE)
    posture = protobuf.first_int(found, facts.INSV_FIELD_POSTURE)
    trailer.posture = None if posture is None else 90 * (posture % 4)
    if found.get(facts.INSV_FIELD_DIMENSION):
        size = protobuf.fields(found[facts.INSV_FIELD_DIMENSION][0])
        trailer.size = (protobuf.first_int(size, 1) or 0, protobuf.first_int(size, 2) or 0)
    if found.get(facts.INSV_FIELD_FILE_GROUP):
        group = protobuf.fields(found[facts.INSV_FIELD_FILE_GROUP][0])
        trailer.file_index = protobuf.first_int(group, 2)


def sibling(path: str) -> tuple[str | None, str | None, bool]:
    """(the other lens's file of a two-file take, this file's lens code, whether this one is the front lens)."""
    folder, name = os.path.split(path)
    found = facts.INSV_PAIR_NAME.match(name)
    if found is None:
        return None, None, True
    lens = found.group("lens")
    other = facts.INSV_BACK_LENS if lens == facts.INSV_FRONT_LENS else facts.INSV_FRONT_LENS
    return os.path.join(folder, f"{found.group('head')}{other}{found.group('tail')}"), lens, lens == facts.INSV_FRONT_LENS


def recognise(path: str, container) -> CameraFile | None:
    trailer = read_trailer(path)
    if not path.lower().endswith(facts.INSV_SUFFIX) and trailer is None:
        return None
    videos = list(container.streams.video)
    if not videos:
        return None
    camera = "Insta360" + (f" {trailer.camera_type}" if trailer and trailer.camera_type else "")
    notes = [f"unstitched dual fisheye, drawn with the default lens model ({facts.INSV_LENS_FOV:g}° lenses, circles"
             " centred, tops together in the middle): seams show where the lenses meet, since this unit's calibration"
             " is not known (give it in the manifest's \"lenses\")"]
    if trailer is not None:
        known = [f"camera {trailer.camera_type}" if trailer.camera_type else None,
                 f"file {trailer.file_index + 1} of its take" if trailer.file_index is not None else None,
                 f"posture {trailer.posture}°" if trailer.posture is not None else None,
                 f"{len(trailer.orientations)} orientation samples" if trailer.orientations else None]
        if any(known):
            notes.append("its trailer says: " + ", ".join(k for k in known if k))
        notes += [f"its trailer: {problem}" for problem in trailer.problems]
    layout = {"projection": "dual-fisheye", "stereo": "mono", "fov": facts.INSV_LENS_FOV}
    level = {}
    if trailer is not None and trailer.orientations:
        tilt = Tilt.from_rotations([(t, quaternion_rotation(w, x, y, z)) for t, w, x, y, z in trailer.orientations],
                                   "Insta360 trailer quaternions")
        level = {"level": tilt.turn, "level_source": f"{len(trailer.orientations)} {tilt.source}"}
    first = videos[0].codec_context
    width, height = first.width, first.height
    other, lens, front = sibling(path)
    if lens is not None:  # one lens per file: this one and its sibling side by side (back left, front right)
        if other is None or not os.path.isfile(other):
            return CameraFile(camera, layout={"projection": "fisheye", "stereo": "mono", "fov": facts.INSV_LENS_FOV,
                                              "lens_circles": (_circle(0.5, 0.5, facts.INSV_LENS_TURNS[1 if front else 0]),)},
                              notes=tuple(notes), **level, warnings=(f"{os.path.basename(path)}: the other lens's file of its take"
                                                            f" ({os.path.basename(other or '?')}) is missing: showing one"
                                                            " lens; copy it beside this one",))
        other_track = _first_video(other, (width, height))
        if other_track is None:
            return CameraFile(camera, layout=layout, notes=tuple(notes), **level, warnings=(
                f"{os.path.basename(other)}: the other lens's file of the take has no picture of this one's size;"
                " showing both lenses of this file only",))
        pieces = (Piece(videos[0].index, (0, 0, width, height), (width if front else 0, 0), file=0),
                  Piece(other_track, (0, 0, width, height), (0 if front else width, 0), file=1))
        layout["lens_circles"] = _two_circles()
        return CameraFile(camera, canvas=Canvas((2 * width, height), pieces), layout=layout, notes=tuple(notes),
                          files=(other,), **level)
    if len(videos) >= 2:  # one square stream per lens in one file: the first the front lens
        pieces = (Piece(videos[0].index, (0, 0, width, height), (width, 0)),
                  Piece(videos[1].index, (0, 0, width, height), (0, 0)))
        layout["lens_circles"] = _two_circles()
        return CameraFile(camera, canvas=Canvas((2 * width, height), pieces), layout=layout, notes=tuple(notes),
                          **level)
    layout["lens_circles"] = _two_circles()
    return CameraFile(camera, layout=layout, notes=tuple(notes), **level)


def _circle(centre_x: float, centre_y: float, turn: float) -> tuple[float, float, float, float]:
    return (centre_x, centre_y, 0.5, turn)


def _two_circles() -> tuple:
    """The default lens model's two circles, as fractions of the side-by-side picture (radius: of its height)."""
    left, right = facts.INSV_LENS_TURNS
    return ((0.25, 0.5, 0.5, left), (0.75, 0.5, 0.5, right))


def _first_video(path: str, size: tuple[int, int]) -> int | None:
    """The index of the first video stream of `path` when its picture is `size`, else None."""
    from vrplayer.media.container import open_container

    container = open_container(path, whole=False)
    try:
        for stream in container.streams.video:
            if (stream.codec_context.width, stream.codec_context.height) == size:
                return stream.index
        return None
    finally:
        container.close()
