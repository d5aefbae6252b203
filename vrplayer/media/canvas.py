"""One picture from several video tracks of one file (a camera's, media/camera.py): the tracks decoded in lockstep,
their frames paired by timestamp, and the parts of their pictures put together plane by plane, without converting
a pixel (numpy copies; a quarter turn is a transpose of the plane's rows).
"""

from __future__ import annotations

from collections import deque

import av
import numpy as np

from vrplayer.media.camera import Canvas
from vrplayer.media.container import reason

PLANAR = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv420p10le", "yuv444p10le", "gray"}


def lockstep_frames(container, streams, keep_going, on_corrupt, logger, before_packet=None):
    """Frames of several video streams in step: for each time the lead stream (the first) shows a picture, a tuple
    of every stream's picture at that time. A picture one stream has and another lacks (a damaged packet) is
    passed over; the pairing goes on with the next."""
    waiting = {stream.index: deque() for stream in streams}
    order = [stream.index for stream in streams]
    lead_rate = streams[0].average_rate or streams[0].guessed_rate or 30
    tolerance = 0.5 / float(lead_rate)

    def paired():
        while all(waiting[index] for index in order):
            heads = [waiting[index][0] for index in order]
            times = [t for t, _ in heads]
            if max(times) - min(times) <= tolerance:
                for index in order:
                    waiting[index].popleft()
                yield tuple(frame for _, frame in heads)
            else:
                waiting[order[times.index(min(times))]].popleft()

    by_index = {stream.index: stream for stream in streams}
    try:
        for packet in container.demux(*streams):
            if not keep_going():
                return
            stream = by_index.get(packet.stream.index)
            if stream is None:
                continue
            if before_packet is not None and stream is streams[0]:
                before_packet(packet)
            try:
                for frame in stream.codec_context.decode(packet):
                    _queue(waiting[stream.index], frame)
            except av.error.EOFError:
                raise
            except av.error.FFmpegError as exc:
                on_corrupt(packet, exc)
            yield from paired()
    except av.error.FFmpegError as exc:
        logger.warning("video streams end early: %s", reason(exc))
    for stream in streams:
        try:
            for frame in stream.codec_context.decode(None):
                _queue(waiting[stream.index], frame)
        except av.error.FFmpegError:
            pass
    yield from paired()


def _queue(queue: deque, frame) -> None:
    if frame.pts is not None and frame.time_base is not None:
        queue.append((float(frame.pts * frame.time_base), frame))


def assemble(frames: dict[int, av.VideoFrame], canvas: Canvas) -> av.VideoFrame:
    """The canvas's picture from one frame of each of its tracks (by stream index), in the lead frame's format,
    timestamp and colour tags."""
    lead = frames[canvas.tracks[0]]
    name = lead.format.name
    if name not in PLANAR:
        name = "yuv420p"
        frames = {index: frame.reformat(format=name) for index, frame in frames.items()}
        lead = frames[canvas.tracks[0]]
    width, height = canvas.size
    out = av.VideoFrame(width, height, name)
    out.pts, out.time_base = lead.pts, lead.time_base
    for attribute in ("color_range", "colorspace"):
        try:
            setattr(out, attribute, getattr(lead, attribute))
        except (AttributeError, ValueError):
            pass
    wide = name.endswith("le")  # 10-bit samples, two bytes each
    for p, plane in enumerate(out.planes):
        target = _samples(plane, wide)
        sx, sy = width // plane.width, height // plane.height  # chroma subsampling
        for piece in canvas.pieces:
            source = _samples(frames[piece.track].planes[p], wide)
            x, y, w, h = piece.source
            part = source[y // sy:(y + h) // sy, x // sx:(x + w) // sx]
            part = np.rot90(part, k=-(piece.turn // 90) % 4)
            ax, ay = piece.at[0] // sx, piece.at[1] // sy
            target[ay:ay + part.shape[0], ax:ax + part.shape[1]] = part
    return out


def _samples(plane, wide: bool) -> np.ndarray:
    """A plane's samples as a writable (height, width) array over its own buffer."""
    data = np.frombuffer(plane, dtype=np.uint16 if wide else np.uint8)
    return data.reshape(plane.height, plane.line_size // (2 if wide else 1))[:, :plane.width]
