"""Video decoding on a worker thread into a bounded queue of frames in their native YUV planes.

The queue holds at most `queue_frames` decoded pictures (default 8: 8 × 11 MB for a 3840×1920 yuv420p film), so
memory stays flat for a film of any length. Seeking is exact: jump to the key frame at or before the target, then
decode forward and hand over the frame that is on screen at the target time.

A damaged packet can carry any timestamp; one that runs far ahead of its neighbours would hold every later picture
back until its time came, so such a frame is retimed to follow the one before (see `_timed`). Where decoding stops
is kept, so that a film that stops well before the duration it claims can be called truncated (`shortfall`).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction

import av

from vrplayer import log
from vrplayer.errors import MediaError, path_text
from vrplayer.media.container import (
    CorruptPacketCounter, decoded_frames, duration_seconds, open_container, origin_seconds, piece_frames, reason,
    seek_back, video_stream,
)
from vrplayer.media import camera
from vrplayer.media.canvas import assemble, lockstep_frames
from vrplayer.media.worker import DecodeWorker
from vrplayer.formats.pixels import NATIVE, PixelLayout, conversion_target

_log = log.get("media.video")

DEFAULT_QUEUE_FRAMES = 8
# A frame counts as "at" the target when its start lies within this of it (pts are rounded to the time base).
_SEEK_EPSILON = 1e-4
# While catching up to a seek target, frames no other frame refers to are not decoded at all, up to this many frame
# durations before the target (a margin for reordering); they would only be thrown away. ~30 % faster exact seeks.
_SKIP_MARGIN_FRAMES = 4
# A frame whose timestamp lies this far past where the frame rate expects it is checked against the frame after it:
# a real jump (a gap in a recording) goes on from there, a damaged timestamp does not.
_PTS_JUMP = 1.0
# Frames this many frame durations beyond where the frame rate expects them tell of a hole in the picture (a
# segment of a stream lost): said in the log, their timestamps kept.
_HOLE_FRAMES = 3
# A film whose last picture ends this much before the duration it claims stops early (truncated or damaged): the
# larger of this many frames and these seconds (audio a little longer than the picture is no shortfall).
_SHORTFALL_FRAMES = 3
_SHORTFALL_SECONDS = 0.5
# Seconds the decoder may stay inside one read or decode before its film is given up as stalled (a drive or share
# that stopped answering mid-film); a frame of any size decodes within a fraction of it.
READ_STALL_TIMEOUT = 10.0


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
    is_still = False
    facts = None  # (a photo's StillDecoder has its PhotoFacts here)

    def __init__(self, path: str, queue_frames: int = DEFAULT_QUEUE_FRAMES, threads: str = "AUTO", source=None):
        """source: the film's download (media/netbuffer.py) to read from, for a film on a web server."""
        self.path = path
        self._container = open_container(path, source)
        try:
            self._stream = video_stream(self._container, path)
        except Exception:
            self._container.close()
            raise
        # A camera's picture in several tracks (media/camera.py) is decoded from all of them, in lockstep.
        self.camera = camera.recognise(path) if source is None else None
        self._canvas = self.camera.canvas if self.camera is not None else None
        self._streams = [self._stream]
        self._groups = []  # (container, streams) of each file the canvas takes pictures from
        if self._canvas is not None:
            self._open_canvas(path)
        for stream in self._streams:
            stream.thread_type = threads
        self._origin = origin_seconds(self._container)
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        self.frame_rate = float(rate)
        self.frame_duration = 1.0 / self.frame_rate
        self._duration = duration_seconds(self._container, self._stream)
        # A streamed film (HLS, DASH: media/segments.py) is read piece by piece; its length is its manifest's.
        self._streamed = source if getattr(source, "segmented", False) else None
        if self._streamed is not None:
            self._duration = self._streamed.duration
        self.jumps: list[tuple[float, float]] = []  # holes in the picture's timestamps (a segment lost)
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        self._lock = threading.Lock()
        self._seek_target: float | None = None
        self.generation = 0
        self.corrupt_packets = CorruptPacketCounter(_log, "video")
        self.retimed = 0  # frames whose damaged timestamps were replaced (see _timed)
        self.ended_at: float | None = None  # where the last picture ends, once decoding has reached the end
        self.converted_from: str | None = None
        self._worker = DecodeWorker("video-decode", self._run, self._release)
        self._stop = self._worker.stop

    def _open_canvas(self, path: str) -> None:
        """The files and streams of a camera's canvas: the film's own, and the take's other files (opened here)."""
        containers = [self._container]
        try:
            for other in self.camera.files:
                containers.append(open_container(other))
        except Exception:
            for container in containers:
                container.close()
            raise
        for file, container in enumerate(containers):
            streams = [container.streams[index] for f, index in self._canvas.tracks if f == file]
            if streams:
                self._groups.append((container, streams))
        self._streams = [stream for _, streams in self._groups for stream in streams]
        self._stream = self._streams[0]
        # A multiview (MV-HEVC) track whose views the canvas takes: {id(stream): how many} (see lockstep_frames).
        self._views = {id(stream): self._canvas.views(*track) for stream, track in zip(self._streams, self._canvas.tracks)
                       if self._canvas.views(*track) > 1}
        for stream in self._streams:
            if id(stream) in self._views:
                # FFmpeg's HEVC decoder gives an MV-HEVC track's base layer alone unless asked for every view.
                stream.codec_context.options = {"view_ids": "-1"}

    # -- consumer side (the player's thread) -------------------------------------------------------------------

    def seek(self, target: float) -> int:
        """Ask for an exact seek (the first call starts decoding); returns the generation whose frames answer it."""
        # The queue is emptied before the seek is announced: emptied after, a decode thread quick off the mark could
        # see its first frames of the new seek thrown away (what it queues meanwhile of the old one, get() skips).
        self._drain()
        with self._lock:
            self.generation += 1
            self._seek_target = max(0.0, target)
            generation = self.generation
        self._worker.start()
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
        """Stop decoding and free the decoder now, FFmpeg's threads with it (callers drop their own frames first:
        their buffers are its pools')."""
        self._drain()
        self._worker.close(f"the video decoder of {path_text(self.path)}")

    def _release(self) -> None:
        self._drain()  # anything the worker queued while stopping
        for container, _ in self._groups[1:]:
            container.close()
        self._groups = []
        self._container.close()
        # The last references to the codec: it (and its threads) goes now, not at the next garbage collection.
        self._stream = self._container = None

    def stalled_for(self) -> float:
        """Seconds the decoder has been inside FFmpeg without coming back: a read from a drive or share that stopped
        answering; 0 while it decodes, waits for room or idles."""
        return self._worker.stalled_for()

    def shortfall(self, at: float | None = None) -> str | None:
        """A line saying the film stops early, when decoding reached the end well before the duration the container
        claims (a truncated download, a damaged end); None otherwise or while unknown. With `at`, only when the
        picture asked for at `at` lies past where it stops."""
        if self.ended_at is None or self._duration is None or (at is not None and at < self.ended_at):
            return None
        if self.ended_at >= self._duration - max(_SHORTFALL_FRAMES * self.frame_duration, _SHORTFALL_SECONDS):
            return None
        what = "truncated" if self.corrupt_packets.count == 0 else "damaged"
        asked = "" if at is None else f" no picture at {at:.3f} s:"
        return (f"{path_text(self.path)}:{asked} {what} at {self.ended_at:.2f} s of {self._duration:.2f} s: the picture "
                "stops before the film's stated end (an unfinished download or copy? fetch the file again)")

    def wait_picture(self, at: float) -> VideoFrame:
        """Seek to `at` and wait for the frame on screen there, as long as the decoder makes progress. MediaError
        when there is none: the film ends first (or stops short of `at`: truncated), or no data came from the file
        for READ_STALL_TIMEOUT (a drive or share that stopped answering)."""
        self.seek(at)
        while True:
            item = self.get(timeout=0.1)
            if isinstance(item, EndOfStream):
                raise MediaError(self.shortfall(at) or self.missing_picture(at))
            if item is not None:
                if (truncated := self.shortfall(at)) is not None:  # the last picture there is, not the one at `at`
                    raise MediaError(truncated)
                return item
            if self.stalled_for() >= READ_STALL_TIMEOUT:
                raise MediaError(f"{path_text(self.path)}: no data came from the file for {READ_STALL_TIMEOUT:.0f} s "
                                 "(a drive or network share that stopped answering?); check the drive, or copy the "
                                 "film to a local disk")

    def missing_picture(self, at: float) -> str:
        """The line for a seek to `at` that found no picture at all (the stream ended first)."""
        name = path_text(self.path)
        if at <= self.frame_duration:
            return (f"{name}: has no picture FFmpeg could decode (its video data is damaged or missing); check that "
                    "it plays elsewhere, or export the film again")
        if self._duration is not None and at >= self._duration:
            return f"{name}: no picture at {at:.3f} s: the film is only {self._duration:.3f} s long"
        return f"{name}: no picture at {at:.3f} s: the film's video data ends before it (truncated or damaged)"

    @property
    def stream(self):
        return self._stream

    @property
    def size(self) -> tuple[int, int]:
        """The decoded picture's width and height (both eyes)."""
        if self._canvas is not None:
            return self._canvas.size
        return self._stream.codec_context.width, self._stream.codec_context.height

    @property
    def duration(self) -> float | None:
        return self._duration

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
            self._worker.beat()
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
                    self._worker.beat()
                    time.sleep(0.005)
                    continue
                self._decode_from(target, generation)
                # Idle at the end (or after a superseded seek) until the next request.
                while not self._stop.is_set() and self._seek_target is None:
                    self._worker.beat()
                    time.sleep(0.01)
        except Exception as exc:  # never let the thread die silently: the player sees end of stream (and says so)
            _log.warning("the video decoder of %s stopped: %s", path_text(self.path), reason(exc))
            self._put(EndOfStream(self.generation))

    def _decode_from(self, target: float, generation: int) -> None:
        stream = self._stream
        if self._streamed is None and (target > 0 or generation > 0):
            try:
                for container, streams in self._groups[1:]:  # (a take's other files: each sought to the same time)
                    seek_back(container, streams[0], target + self._origin)
                seek_back(self._container, stream, target + self._origin)
            except av.error.FFmpegError as exc:
                _log.warning("seek to %.3f s failed (%s); decoding from the start", target, reason(exc))
                try:
                    self._container.seek(0, stream=stream, backward=True)
                except av.error.FFmpegError:
                    pass  # (a damaged index): decode on from where the demuxer is
            for each in self._streams:
                each.codec_context.flush_buffers()
        pending: VideoFrame | None = None  # the last frame at or before the target: it is what shows there
        reached = False
        last_pts = None
        frames = (self._piece_frames(target, generation) if self._streamed is not None
                  else self._frames(generation, self._catch_up_skipper(target)))
        for frame, pts in self._timed(frames):
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
        if generation != self.generation or self._stop.is_set():
            return
        if last_pts is not None:
            self.ended_at = last_pts + self.frame_duration
        if not reached and pending is not None:
            self._put(pending)
        self._put(EndOfStream(generation))

    def _frames(self, generation: int, before_packet=None):
        def keep_going() -> bool:
            self._worker.beat()
            return not self._stop.is_set() and generation == self.generation

        if self._canvas is not None:
            canvas = self._canvas
            return (assemble(dict(zip(canvas.sources, frames)), canvas)
                    for frames in lockstep_frames(self._groups, keep_going, self.corrupt_packets, _log, before_packet,
                                                  self._views))
        return decoded_frames(self._container, self._stream, keep_going, self.corrupt_packets, _log, before_packet)

    def _piece_frames(self, target: float, generation: int):
        def keep_going() -> bool:
            self._worker.beat()
            return not self._stop.is_set() and generation == self.generation

        def opened(container, stream, origin) -> None:
            old, self._container, self._stream, self._origin = self._container, container, stream, origin
            if old is not None and old is not container:
                old.close()  # (the frames decoded from it hold their own buffers)

        return piece_frames(self._streamed, "video", target, keep_going, self.corrupt_packets, _log, opened)

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

    def _timed(self, frames):
        """(frame, pts) for each frame, with timestamps a damaged packet broke replaced by the one the frame rate
        expects after the frame before: no timestamp; one before the frame before (frames leave the decoder in
        presentation order); one past the film's end; one far ahead of where the frame rate expects it (such a frame
        is held until the next one says whether the jump was real: a frame at 17.97 s followed by one at 1.63 s in a
        2 s film would otherwise hold the picture for 16 s, then drop every frame it held back)."""
        last = None
        held = None  # (frame, pts) that jumped ahead
        for frame in frames:
            pts = self._raw_pts(frame)
            if held is not None:
                held_frame, held_pts = held
                held = None
                if pts is None or pts < held_pts:
                    held_pts = self._retime(held_pts, last)
                elif last is not None:  # the jump was real: the stream has a hole there (a segment lost)
                    self._jumped(last, held_pts)
                yield held_frame, held_pts
                last = held_pts
            expected = self._expected(last)
            if pts is None:
                pts = expected
            elif (last is not None and pts < last) or self._past_end(pts):
                pts = self._retime(pts, last)
            elif last is not None and pts > expected + _PTS_JUMP:
                held = (frame, pts)
                continue
            elif last is not None and pts > expected + _HOLE_FRAMES * self.frame_duration:
                self._jumped(last, pts)  # a short hole (a streamed segment lost): told, and kept
            yield frame, pts
            last = pts
        if held is not None:
            yield held

    def _jumped(self, last: float, pts: float) -> None:
        self.jumps.append((last + self.frame_duration, pts))
        _log.warning("%s: a hole in the picture from %.2f s to %.2f s (its data never arrived: a lost segment?); the "
                     "picture holds meanwhile", path_text(self.path), last + self.frame_duration, pts)

    def _raw_pts(self, frame: av.VideoFrame) -> float | None:
        if frame.pts is not None and frame.time_base is not None:
            return float(frame.pts * frame.time_base) - self._origin
        return None

    def _expected(self, last: float | None) -> float:
        return 0.0 if last is None else last + self.frame_duration

    def _past_end(self, pts: float) -> bool:
        return self._duration is not None and pts > self._duration + _PTS_JUMP

    def _retime(self, pts: float, last: float | None) -> float:
        self.retimed += 1
        expected = self._expected(last)
        if self.retimed <= 3:
            _log.warning("a frame of %s has a damaged timestamp (%.3f s); shown at %.3f s, after the frame before",
                         path_text(self.path), pts, expected)
        return expected

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

