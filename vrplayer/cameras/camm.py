"""VR180 cameras' motion track (`camm`, facts in vrplayer/cameras/facts.py): the camera's orientation samples,
for --level. The track is found by its sample entry (FFmpeg hands a `camm` track over as a bare data stream), its
samples read through PyAV and timed by their packets."""

from __future__ import annotations

import math
import struct

import numpy as np

from vrplayer.cameras import facts
from vrplayer.cameras.level import LazyTilt, Tilt
from vrplayer.media.boxes import BoxReader, looks_like_mp4
from vrplayer.media.camera import CameraFile


def camm_track(path: str) -> int | None:
    """The stream index of the file's `camm` track (tracks are numbered as FFmpeg numbers them: trak by trak)."""
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        file.seek(0)
        if not looks_like_mp4(file.read(8)):
            return None
        reader = BoxReader(file, size)
        moov = next((b for b in reader.boxes(0, None, "") if b.fourcc == b"moov"), None)
        if moov is None:
            return None
        for index, trak in enumerate(b for b in reader.boxes(moov.body, moov.end, moov.name) if b.fourcc == b"trak"):
            stsd = reader.child(trak, b"mdia", b"minf", b"stbl", b"stsd")
            entry = reader.first_sample_entry(stsd) if stsd is not None else None
            if entry is not None and entry.fourcc == facts.CAMM_ENTRY:
                return index
    return None


def rotation_from_angle_axis(x: float, y: float, z: float) -> np.ndarray:
    """Rodrigues: the rotation by |(x, y, z)| radians about its direction."""
    angle = math.sqrt(x * x + y * y + z * z)
    if angle < 1e-12:
        return np.eye(3)
    k = np.array([x, y, z]) / angle
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross


def orientations(container, index: int, origin: float = 0.0) -> list[tuple[float, np.ndarray]]:
    """(film seconds, camera → world rotation) of each angle-axis sample of the track; others are passed over."""
    stream = container.streams[index]
    found = []
    for packet in container.demux(stream):
        data = bytes(packet)
        if packet.pts is None or len(data) < 4:
            continue
        at = 0
        t = float(packet.pts * packet.time_base) - origin
        while at + 4 <= len(data):
            _, kind = struct.unpack_from("<HH", data, at)
            size = facts.CAMM_SAMPLE_SIZES.get(kind)
            if size is None or at + 4 + size > len(data):
                break  # (an unknown or cut-short sample: the rest of this packet says nothing we can read)
            if kind == facts.CAMM_ANGLE_AXIS:
                found.append((t, rotation_from_angle_axis(*struct.unpack_from("<3f", data, at + 4))))
            at += 4 + size
    return found


def recognise(path: str, container) -> CameraFile | None:
    """Any MP4 with a camm track: its orientation for --level (the picture's layout is left to its own metadata)."""
    try:
        index = camm_track(path)
    except OSError:
        return None
    if index is None or index >= len(container.streams):
        return None
    return CameraFile("VR180 camera", notes=("its camm motion track can keep the horizon level (--level)",),
                      level=LazyTilt(lambda: _tilt(path, index), f"{path.rsplit('/', 1)[-1]}'s camm track"),
                      level_source="its camm motion track")


def _tilt(path: str, index: int) -> Tilt | None:
    from vrplayer.media.container import open_container, origin_seconds

    container = open_container(path, whole=False)
    try:
        samples = orientations(container, index, origin_seconds(container))
    finally:
        container.close()
    return Tilt.from_rotations(samples, f"{len(samples)} orientation samples (camm)") if samples else None
