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


def lockstep_frames(groups, keep_going, on_corrupt, logger, before_packet=None, views=None):
    """Frames of several video streams in step: for each time the lead stream (the first) shows a picture, a tuple
    of every stream's picture at that time, in the order given. `groups`: (container, streams) for each file the
    streams come from (a take may be two files). `views`: for a multiview stream (its decoder asked for all its
    views), {id(stream): how many}: its views count as streams of their own, in view order. A picture one stream
    has and another lacks (a damaged packet) is passed over; the pairing goes on with the next."""
    views = views or {}
    order = [(container, stream) for container, streams in groups for stream in streams]
    keys = [(id(stream), view) for _, stream in order for view in range(views.get(id(stream), 1))]
    waiting = {key: deque() for key in keys}
    lead = order[0][1]
    last_time: dict[int, tuple[float, int]] = {}  # a multiview stream's last picture: (its time, its view)
    tolerance = 0.5 / float(lead.average_rate or lead.guessed_rate or 30)
    feeds = [(_decoded(container, streams, keep_going, on_corrupt, logger, before_packet, lead),
              [key for key in keys if key[0] in {id(stream) for stream in streams}])  # (the keys its streams feed)
             for container, streams in groups]
    ended: set[int] = set()
    while True:
        while all(waiting[key] for key in keys):
            heads = [waiting[key][0] for key in keys]
            times = [t for t, _ in heads]
            if max(times) - min(times) <= tolerance:
                for key in keys:
                    waiting[key].popleft()
                yield tuple(frame for _, frame in heads)
            else:
                waiting[keys[times.index(min(times))]].popleft()
        # Read on in a file one of whose streams has nothing waiting.
        hungry = [n for n, (_, fed) in enumerate(feeds) if n not in ended and any(not waiting[key] for key in fed)]
        if not hungry:
            return
        feed = feeds[hungry[0]][0]
        for _ in range(8):  # a few packets' worth at a time
            item = next(feed, None)
            if item is None:
                ended.add(hungry[0])
                break
            stream, frame = item
            if frame.pts is not None and frame.time_base is not None:
                time = float(frame.pts * frame.time_base)
                # The views of one moment leave the decoder one after the other, base layer first, at one time.
                view = 0
                if id(stream) in views:
                    before = last_time.get(id(stream))
                    view = before[1] + 1 if before is not None and before[0] == time else 0
                    last_time[id(stream)] = (time, view)
                if (id(stream), view) in waiting:
                    waiting[(id(stream), view)].append((time, frame))


def _decoded(container, streams, keep_going, on_corrupt, logger, before_packet, lead):
    """(stream, frame) for the frames of one file's streams, packet by packet, then what the decoders still hold."""
    by_index = {stream.index: stream for stream in streams}
    try:
        for packet in container.demux(*streams):
            if not keep_going():
                return
            stream = by_index.get(packet.stream.index)
            if stream is None:
                continue
            if before_packet is not None and stream is lead:
                before_packet(packet)
            try:
                for frame in stream.codec_context.decode(packet):
                    yield stream, frame
            except av.error.EOFError:
                raise
            except av.error.FFmpegError as exc:
                on_corrupt(packet, exc)
    except av.error.FFmpegError as exc:
        logger.warning("video streams end early: %s", reason(exc))
    for stream in streams:
        try:
            for frame in stream.codec_context.decode(None):
                yield stream, frame
        except av.error.FFmpegError:
            pass


def assemble(frames: dict[tuple[int, int, int], av.VideoFrame], canvas: Canvas) -> av.VideoFrame:
    """The canvas's picture from one frame of each of its sources (by (file, stream index, view)), in the lead
    frame's format, timestamp and colour tags."""
    lead = frames[canvas.sources[0]]
    name = lead.format.name
    if name not in PLANAR:
        name = "yuv420p"
        frames = {index: frame.reformat(format=name) for index, frame in frames.items()}
        lead = frames[canvas.sources[0]]
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
            source = _samples(frames[(piece.file, piece.track, piece.view)].planes[p], wide)
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
