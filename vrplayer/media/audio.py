"""Audio decoding on a worker thread: decode, resample (av.AudioResampler) to the output's rate and channel count as
packed float32, and write into a SampleRing that the audio callback drains.

Seeks are exact to the sample: samples before the target are cut, and a stream that starts after the target is
preceded by silence, so sample 0 of the ring is always at the target's media time.
"""

from __future__ import annotations

import threading

import av
import numpy as np

from vrplayer import log
from vrplayer.media.ring import SampleRing
from vrplayer.media.timestretch import TimeStretch
from vrplayer.errors import path_text
from vrplayer.media import camera
from vrplayer.media.container import (
    CorruptPacketCounter, audio_stream, decoded_frames, open_container, origin_seconds, piece_frames, reason,
    seek_back,
)
from vrplayer.media.worker import DecodeWorker

_log = log.get("media.audio")

_LAYOUTS = {1: "mono", 2: "stereo"}


def audio_track(path: str, source=None) -> tuple[int, int, str | None] | None:
    """(stream index, channel count, codec layout name) of the film's sound, or None when it has none."""
    container = open_container(path, source, "audio")
    try:
        stream = sound_stream(path, container, source)
        if stream is None:
            return None
        cc = stream.codec_context
        return stream.index, cc.channels, (cc.layout.name if cc.layout else None)
    finally:
        container.close()


def sound_stream(path: str, container, source=None):
    """The film's sound stream: the one a camera file says is its sound (its ambisonic track, not its stereo mix:
    media/camera.py), else the first audio stream FFmpeg can decode; None when there is none."""
    found = camera.recognise(path) if source is None else None
    if found is not None and found.sound_track is not None and found.sound_track < len(container.streams):
        stream = container.streams[found.sound_track]
        if stream.type == "audio":
            return stream
    return audio_stream(container)


class AudioDecoder:
    def __init__(self, path: str, rate: int, channels: int | None, ring_seconds: float = 1.0, source=None):
        """channels: what the ring holds, resampled to it (1 or 2), or None to keep every channel of the track as
        it is (a sound field to be rendered for the head: ambisonics, 5.1 …)."""
        self.path = path
        self._container = open_container(path, source, "audio")
        self._stream = sound_stream(path, self._container, source)
        if self._stream is None:
            self._container.close()
            raise LookupError("no audio stream")
        self._stream.thread_type = "AUTO"
        self._origin = origin_seconds(self._container)
        self.rate = rate
        cc = self._stream.codec_context
        # Keeping the track's channels: resample to its own layout object (a layout built from a count, like
        # "16 channels", is refused by the resampler).
        self._layout = cc.layout if channels is None else _LAYOUTS.get(channels, "stereo")
        self.channels = cc.channels if channels is None else channels
        self.ring = SampleRing(int(rate * ring_seconds), self.channels)
        self._streamed = source if getattr(source, "segmented", False) else None  # HLS, DASH: read piece by piece
        self._lock = threading.Lock()
        self._seek_target: float | None = None
        self._speed = 1.0
        self._stretch: TimeStretch | None = None
        self.generation = 0
        self.corrupt_packets = CorruptPacketCounter(_log, "audio")
        self._worker = DecodeWorker("audio-decode", self._run, self._release)
        self._stop = self._worker.stop

    @property
    def stream(self):
        return self._stream

    def seek(self, target: float, speed: float = 1.0) -> int:
        """Ask for an exact seek (the first call starts decoding); returns the generation that answers it. `speed`:
        the sound from there plays that many times faster at its own pitch (time-stretched, media/timestretch.py)."""
        with self._lock:
            self.generation += 1
            self._seek_target = max(0.0, target)
            self._speed = speed
            generation = self.generation
        self._worker.start()
        return generation

    def ready(self, generation: int) -> bool:
        """The ring holds samples of this generation (or its end)."""
        return self.ring.generation == generation and (self.ring.available() > 0 or self.ring.finished)

    def close(self) -> None:
        """Stop decoding and free the decoder now, FFmpeg's threads with it."""
        self._worker.close(f"the audio decoder of {path_text(self.path)}")

    def _release(self) -> None:
        self._container.close()
        self._stream = self._container = None  # the last references to the codec: it goes now

    # -- worker thread ----------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                target, self._seek_target = self._seek_target, None
                generation, speed = self.generation, self._speed
            if target is None:
                self._worker.beat()
                self._stop.wait(0.005)
                continue
            try:
                self._decode_from(target, generation, speed)
            except Exception as exc:  # the film goes on without sound rather than stopping
                _log.warning("the audio decoder of %s stopped: %s; going on without sound", path_text(self.path), reason(exc))
                self.ring.finished = True

    def _current(self, generation: int) -> bool:
        self._worker.beat()  # asked between packets and while waiting for room in the ring
        return generation == self.generation and not self._stop.is_set()

    def _decode_from(self, target: float, generation: int, speed: float = 1.0) -> None:
        stream = self._stream
        if self._streamed is None and (target > 0 or generation > 0):
            try:
                seek_back(self._container, stream, target + self._origin)
            except av.error.FFmpegError as exc:
                _log.warning("audio seek to %.3f s failed (%s)", target, reason(exc))
            stream.codec_context.flush_buffers()
        self.ring.reset(target, self.rate, generation, speed)
        self._stretch = TimeStretch(speed, self.rate, self._layout) if speed != 1.0 else None
        resampler = av.AudioResampler(format="flt", layout=self._layout, rate=self.rate)
        next_index = 0  # ring frame index the next sample goes to (ring frame 0 = target)
        for frame in self._frames(generation, target):
            for out in resampler.resample(frame):
                next_index = self._write(out, next_index, target, generation)
                if next_index < 0:
                    return
        for out in resampler.resample(None):
            next_index = self._write(out, next_index, target, generation)
            if next_index < 0:
                return
        if self._stretch is not None and not self._put(self._stretch.flush(), generation):
            return
        if self._current(generation):
            self.ring.finished = True

    def _put(self, blocks, generation: int) -> bool:
        """Write blocks of sound into the ring (waiting for room); False when stopped or superseded meanwhile."""
        return all(self.ring.write(block, self._stop, lambda: self._current(generation)) for block in blocks)

    def _emit(self, samples: np.ndarray, generation: int) -> bool:
        """The film's samples, in order from the target on, into the ring: as they are, or time-stretched."""
        return self._put(self._stretch.push(samples) if self._stretch is not None else [samples], generation)

    def _write(self, out: av.AudioFrame, next_index: int, target: float, generation: int) -> int:
        samples = out.to_ndarray().reshape(-1, self.channels)
        if out.pts is not None:
            # Place the block where its timestamp says (resampler pts are in 1/rate units).
            first_index = round((float(out.pts * out.time_base) - self._origin - target) * self.rate)
        else:
            first_index = next_index
        if first_index > next_index:
            gap = first_index - next_index
            if gap > self.rate * 0.02 or next_index == 0:  # a real gap (or late start): keep sync with silence
                if not self._emit(np.zeros((gap, self.channels), np.float32), generation):
                    return -1
                next_index = first_index
            else:
                first_index = next_index  # rounding jitter: stay contiguous
        elif first_index < next_index:
            cut = next_index - first_index
            if cut >= len(samples):
                return next_index
            samples = samples[cut:]
            first_index = next_index
        if not self._emit(samples, generation):
            return -1
        return first_index + len(samples)

    def _frames(self, generation: int, target: float):
        if self._streamed is not None:
            def opened(container, stream, origin) -> None:
                old, self._container, self._stream, self._origin = self._container, container, stream, origin
                if old is not None and old is not container:
                    old.close()

            return piece_frames(self._streamed, "audio", target, lambda: self._current(generation), self.corrupt_packets,
                                _log, opened)
        return decoded_frames(self._container, self._stream, lambda: self._current(generation), self.corrupt_packets, _log)
