"""Apple spatial video (MV-HEVC, facts in vrplayer/cameras/facts.py): recognised by its sample entry's layered
HEVC boxes; FFmpeg's decoder is asked for every view (`view_ids`). Where it gives both, the two views are put side
by side (a canvas of one track's two views: media/canvas.py), each eye its own — the base layer the left eye, unless
the sample entry's `vexu`/`eyes`/`stri` says the views are reversed — and the film plays as a stereo screen ahead.
Where it gives one, the base layer plays as a flat 2-D film, with one line saying why."""

from __future__ import annotations

import av

from vrplayer.cameras import facts
from vrplayer.media.boxes import BoxReader, looks_like_mp4
from vrplayer.media.camera import CameraFile, Canvas, Piece

_VISUAL_SAMPLE_ENTRY_FIXED = 78  # a visual sample entry's fields before its boxes


def spatial_boxes(path: str) -> tuple[set[bytes], int]:
    """Which of Apple's spatial-video boxes the first video track's sample entry holds, and the flags of its
    `vexu`/`eyes`/`stri` box (0 without one)."""
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        file.seek(0)
        if not looks_like_mp4(file.read(8)):
            return set(), 0
        reader = BoxReader(file, size)
        moov = next((b for b in reader.boxes(0, None, "") if b.fourcc == b"moov"), None)
        if moov is None:
            return set(), 0
        for trak in (b for b in reader.boxes(moov.body, moov.end, moov.name) if b.fourcc == b"trak"):
            mdia = reader.child(trak, b"mdia")
            if mdia is None or reader.handler_type(mdia) != b"vide":
                continue
            stsd = reader.child(mdia, b"minf", b"stbl", b"stsd")
            entry = reader.first_sample_entry(stsd) if stsd is not None else None
            if entry is None or entry.body + _VISUAL_SAMPLE_ENTRY_FIXED > entry.end:
                return set(), 0
            children = list(reader.boxes(entry.body + _VISUAL_SAMPLE_ENTRY_FIXED, entry.end, entry.name))
            vexu = next((b for b in children if b.fourcc == b"vexu"), None)
            stri = reader.child(vexu, b"eyes", b"stri") if vexu is not None else None
            flags = reader.body(stri, 5)[4:5] if stri is not None else b""  # (version and flags, then its own)
            return {b.fourcc for b in children} & set(facts.APPLE_SPATIAL_BOXES), flags[0] if flags else 0
    return set(), 0


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
        found, stri = spatial_boxes(path)
    except OSError:
        return None
    if not found or not container.streams.video or container.streams.video[0].codec_context.name != "hevc":
        return None
    try:
        views = views_decoded(path)
    except av.error.FFmpegError:
        views = 1
    boxes = ", ".join(b.decode() for b in sorted(found))
    camera = "Apple spatial video (MV-HEVC)"
    if views < 2:
        name = path.rsplit("/", 1)[-1]
        return CameraFile(
            camera, layout={"projection": "flat", "stereo": "mono", "fov": facts.APPLE_SPATIAL_FOV},
            notes=(f"an MV-HEVC film ({boxes} in its sample entry): 1 view decoded",),
            warnings=(f"{name}: Apple spatial video: playing its base layer (the left eye) as a flat 2-D film: FFmpeg "
                      "decodes one view of it (its second view is missing or not one FFmpeg here can decode)",))
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    reversed_views = bool(stri & facts.APPLE_STRI_EYE_VIEWS_REVERSED)
    left, right = (1, 0) if reversed_views else (0, 1)
    pieces = (Piece(stream.index, (0, 0, width, height), (0, 0), view=left),
              Piece(stream.index, (0, 0, width, height), (width, 0), view=right))
    eyes = "the second view the left eye (its stri says the views are reversed)" if reversed_views else \
        "the base layer the left eye, the second view the right"
    return CameraFile(
        camera, canvas=Canvas((2 * width, height), pieces),
        layout={"projection": "flat", "stereo": "side-by-side", "fov": facts.APPLE_SPATIAL_FOV},
        notes=(f"an MV-HEVC film ({boxes} in its sample entry): both views decoded, each to its eye: {eyes}",))
