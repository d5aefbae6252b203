"""Apple spatial video (MV-HEVC, facts in vrplayer/cameras/facts.py): recognised by its sample entry's layered
HEVC boxes; FFmpeg's decoder is asked for every view (`view_ids`). vrplayer draws its base layer (the left eye) as
a flat film, and says why in one line: that FFmpeg gives one view of it, or that the second view is not drawn."""

from __future__ import annotations

import av

from vrplayer.cameras import facts
from vrplayer.media.boxes import BoxReader, looks_like_mp4
from vrplayer.media.camera import CameraFile

_VISUAL_SAMPLE_ENTRY_FIXED = 78  # a visual sample entry's fields before its boxes


def spatial_boxes(path: str) -> set[bytes]:
    """Which of Apple's spatial-video boxes the first video track's sample entry holds."""
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        file.seek(0)
        if not looks_like_mp4(file.read(8)):
            return set()
        reader = BoxReader(file, size)
        moov = next((b for b in reader.boxes(0, None, "") if b.fourcc == b"moov"), None)
        if moov is None:
            return set()
        for trak in (b for b in reader.boxes(moov.body, moov.end, moov.name) if b.fourcc == b"trak"):
            mdia = reader.child(trak, b"mdia")
            if mdia is None or reader.handler_type(mdia) != b"vide":
                continue
            stsd = reader.child(mdia, b"minf", b"stbl", b"stsd")
            entry = reader.first_sample_entry(stsd) if stsd is not None else None
            if entry is None or entry.body + _VISUAL_SAMPLE_ENTRY_FIXED > entry.end:
                return set()
            children = reader.boxes(entry.body + _VISUAL_SAMPLE_ENTRY_FIXED, entry.end, entry.name)
            return {b.fourcc for b in children} & set(facts.APPLE_SPATIAL_BOXES)
    return set()


def views_decoded(path: str, packets: int = 12) -> int:
    """How many views FFmpeg's decoder gives of the film's first pictures when asked for all of them."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.options = {"view_ids": "-1"}
        per_time: dict = {}
        for count, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                per_time[frame.pts] = per_time.get(frame.pts, 0) + 1
            if count >= packets:
                break
    return max(per_time.values(), default=1)


def recognise(path: str, container) -> CameraFile | None:
    try:
        found = spatial_boxes(path)
    except OSError:
        return None
    if not found or not container.streams.video or container.streams.video[0].codec_context.name != "hevc":
        return None
    try:
        views = views_decoded(path)
    except av.error.FFmpegError:
        views = 1
    why = ("FFmpeg decodes one view of it (its second view is missing or not one FFmpeg here can decode)" if views < 2
           else "vrplayer draws the base layer of an MV-HEVC film, not its second view")
    name = path.rsplit("/", 1)[-1]
    return CameraFile(
        "Apple spatial video (MV-HEVC)",
        layout={"projection": "flat", "stereo": "mono", "fov": facts.APPLE_SPATIAL_FOV},
        notes=(f"an MV-HEVC film ({', '.join(b.decode() for b in sorted(found))} in its sample entry): {views}"
               " view(s) decoded",),
        warnings=(f"{name}: Apple spatial video: playing its base layer (the left eye) as a flat 2-D film: {why}",),
    )
