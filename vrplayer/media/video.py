"""Video decoding on a worker thread into a bounded queue of frames in their native YUV planes.

The queue holds at most `queue_frames` decoded pictures (default 8: 8 × 11 MB for a 3840×1920 yuv420p film), so
memory stays flat for a film of any length. Seeking is exact: jump to the key frame at or before the target, then
decode forward and hand over the frame that is on screen at the target time.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction

import av

from vrplayer import log
from vrplayer.media.container import (
    CorruptPacketCounter, decoded_frames, duration_seconds, open_container, origin_seconds, video_stream,
)
from vrplayer.formats.pixels import NATIVE, PixelLayout, conversion_target

_log = log.get("media.video")

DEFAULT_QUEUE_FRAMES = 8
# A frame counts as "at" the target when its start lies within this of it (pts are rounded to the time base).
_SEEK_EPSILON = 1e-4
# While catching up to a seek target, frames no other frame refers to are not decoded at all, up to this many frame
# durations before the target (a margin for reordering); they would only be thrown away. ~30 % faster exact seeks.
_SKIP_MARGIN_FRAMES = 4


@dataclass
class VideoFrame:
    """One decoded picture: `frame` keeps the PyAV frame (and so its plane buffers) alive until it is uploaded."""

    pts: float  # media time, seconds from the film's start
    duration: float
    frame: av.VideoFrame
    layout: PixelLayout
    generation: int  # bumps with each seek; frames of an older generation are stale

    @property
    def width(self) -> int:
        return self.frame.width

    @property
    def height(self) -> int:
        return self.frame.height


class EndOfStream:
    """Queued after the last frame of a generation."""

    def __init__(self, generation: int):
        self.generation = generation


class VideoDecoder:
    def __init__(self, path: str, queue_frames: int = DEFAULT_QUEUE_FRAMES, threads: str = "AUTO"):
        self.path = path
        self._container = open_container(path)
        try:
            self._stream = video_stream(self._container, path)
        except Exception:
            self._container.close()
            raise
        self._stream.thread_type = threads
        self._origin = origin_seconds(self._container)
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        self.frame_rate = float(rate)
        self.frame_duration = 1.0 / self.frame_rate
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        self._lock = threading.Lock()
        self._seek_target: float | None = None
        self.generation = 0
        self._stop = threading.Event()
        self.corrupt_packets = CorruptPacketCounter(_log, "video")
        self.converted_from: str | None = None
        self._thread = threading.Thread(target=self._run, name="video-decode", daemon=True)
        self._started = False

    # -- consumer side (the player's thread) -------------------------------------------------------------------

    def seek(self, target: float) -> int:
        """Ask for an exact seek (the first call starts decoding); returns the generation whose frames answer it."""
        with self._lock:
            self.generation += 1
            self._seek_target = max(0.0, target)
            generation = self.generation
        self._drain()
        if not self._started:
            self._started = True
            self._thread.start()
        return generation

    def get(self, timeout: float | None = None):
        """Next VideoFrame or EndOfStream of the current generation; None when nothing arrived in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=remaining) if remaining != 0.0 else self._queue.get_nowait()
            except queue.Empty:
                return None
            if item.generation == self.generation:
                return item

    def close(self) -> None:
        """Stop decoding and free the decoder (callers drop their own frames first: their buffers are its pools')."""
        self._stop.set()
        self._drain()
        if self._started:
            self._thread.join(timeout=5)
        self._drain()  # anything the worker queued while stopping
        self._container.close()

    @property
    def stream(self):
        return self._stream

    @property
    def duration(self) -> float | None:
        return duration_seconds(self._container, self._stream)

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    # -- worker thread ----------------------------------------------------------------------------------------

    def _put(self, item) -> bool:
        """Blocks while the queue is full; gives up (False) when a seek or close arrives meanwhile."""
        while not self._stop.is_set():
            if item.generation != self.generation:
                return False
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                with self._lock:
                    target, self._seek_target = self._seek_target, None
                    generation = self.generation
                if target is None:
                    time.sleep(0.005)
                    continue
                self._decode_from(target, generation)
                # Idle at the end (or after a superseded seek) until the next request.
                while not self._stop.is_set() and self._seek_target is None:
                    time.sleep(0.01)
        except Exception as exc:  # never let the thread die silently: the player sees end of stream
            _log.error("decoder stopped: %s", exc)
            self._put(EndOfStream(self.generation))

    def _decode_from(self, target: float, generation: int) -> None:
        stream = self._stream
        tb = stream.time_base
        if target > 0 or generation > 0:
            ts = int((target + self._origin) / tb)
            try:
                self._container.seek(ts, stream=stream, backward=True, any_frame=False)
            except av.error.FFmpegError as exc:
                _log.warning("seek to %.3f s failed (%s); decoding from the start", target, exc)
                self._container.seek(0, stream=stream, backward=True)
            stream.codec_context.flush_buffers()
        pending: VideoFrame | None = None  # the last frame at or before the target: it is what shows there
        reached = False
        last_pts = None
        for frame in self._frames(generation, self._catch_up_skipper(target)):
            pts = self._pts_of(frame, last_pts)
            last_pts = pts
            item = self._wrap(frame, pts, generation)
            if not reached:
                if pts + self.frame_duration <= target + _SEEK_EPSILON:
                    pending = item  # before the target; kept in case no later frame comes
                    continue
                reached = True
                # This frame covers the target (or is the first after it): hand it over now, without waiting
                # for its successor to be decoded. Only a frame starting after the target needs its predecessor.
                if pts > target + _SEEK_EPSILON and pending is not None and not self._put(pending):
                    return
            if not self._put(item):
                return
        if generation != self.generation:
            return
        if not reached and pending is not None:
            self._put(pending)
        self._put(EndOfStream(generation))

    def _frames(self, generation: int, before_packet=None):
        return decoded_frames(
            self._container, self._stream, lambda: not self._stop.is_set() and generation == self.generation,
            self.corrupt_packets, _log, before_packet,
        )

    def _catch_up_skipper(self, target: float):
        """A per-packet hook that has the decoder skip non-reference frames well before the target, then decode
        everything from there on. Near the end of the film nothing is skipped: the last frame may be the answer."""
        codec = self._stream.codec_context
        skip_until = target - _SKIP_MARGIN_FRAMES * self.frame_duration
        duration = self.duration
        if skip_until <= 0 or (duration is not None and target > duration - 1.0):
            codec.skip_frame = "DEFAULT"
            return None
        tb = self._stream.time_base
        skipping = True
        codec.skip_frame = "NONREF"

        def before_packet(packet) -> None:
            nonlocal skipping
            if skipping and (packet.pts is None or float(packet.pts * tb) - self._origin >= skip_until):
                skipping = False
                codec.skip_frame = "DEFAULT"

        return before_packet

    def _pts_of(self, frame: av.VideoFrame, last_pts: float | None) -> float:
        if frame.pts is not None and frame.time_base is not None:
            return float(frame.pts * frame.time_base) - self._origin
        if last_pts is not None:
            return last_pts + self.frame_duration
        return 0.0

    def _wrap(self, frame: av.VideoFrame, pts: float, generation: int) -> VideoFrame:
        fmt = frame.format
        target = conversion_target(fmt.name, fmt.is_rgb, _bit_depth(fmt))
        if target is not None:
            if self.converted_from != fmt.name:
                self.converted_from = fmt.name
                _log.info("pixel format %s is converted to %s on the decode thread", fmt.name, target)
            frame = frame.reformat(format=target)
        return VideoFrame(pts, self.frame_duration, frame, NATIVE[frame.format.name], generation)


def _bit_depth(fmt) -> int:
    try:
        return max(c.bits for c in fmt.components)
    except Exception:
        return 8

