"""A photo as the player's picture source: the same doors as `VideoDecoder` (seek, get, the film's facts), one
picture that is on screen at every time, decoded once when the photo opens.

`open_pictures(path)` is what opens either: a photo (told by its first bytes) becomes a `StillDecoder`, anything
else a `VideoDecoder`.
"""

from __future__ import annotations

import queue

import av

from vrplayer.errors import path_text
from vrplayer.formats.pixels import NATIVE
from vrplayer.media import photo
from vrplayer.media.video import EndOfStream, VideoDecoder, VideoFrame

# A photo has no frame rate; the player steps and seeks by this much (one screen refresh's worth of media time).
FRAME_RATE = 30.0


class _Corruption:
    count = 0  # a photo that decoded has no damaged packets: it either reads whole or not at all


class StillDecoder:
    """One photo: every seek answers with its picture (pts = the time asked, lasting until `duration`), then the end."""

    is_still = True
    retimed = 0
    ended_at = None
    converted_from = None

    def __init__(self, path: str, duration: float | None = None):
        """duration: how long the photo is shown (None: until the viewer moves on)."""
        self.path = path
        pixels, self.facts = photo.read_pixels(path)
        self.width, self.height = pixels.shape[1], pixels.shape[0]
        # Planar RGB travels to the GPU as it is: no chroma subsampling, no colour matrix.
        self._frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="gbrp")
        self.frame_rate = FRAME_RATE
        self.frame_duration = 1.0 / FRAME_RATE
        self.duration = duration
        self.corrupt_packets = _Corruption()
        self.generation = 0
        self._queue: queue.Queue = queue.Queue()

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def seek(self, target: float) -> int:
        self.generation += 1
        self._queue = queue.Queue()
        lasts = float("inf") if self.duration is None else max(self.frame_duration, self.duration - target)
        self._queue.put(VideoFrame(max(0.0, target), lasts, self._frame, NATIVE["gbrp"], self.generation))
        self._queue.put(EndOfStream(self.generation))
        return self.generation

    def get(self, timeout: float | None = None):
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def wait_picture(self, at: float) -> VideoFrame:
        self.seek(at)
        return self.get()

    def stalled_for(self) -> float:
        return 0.0  # read whole when it opened

    def shortfall(self, at: float | None = None) -> str | None:
        return None

    def missing_picture(self, at: float) -> str:
        return f"{path_text(self.path)}: the photo has no picture"  # (never: it opened with one)

    def close(self) -> None:
        self._queue = queue.Queue()
        self._frame = None


def open_pictures(path: str, still_seconds: float | None = None, source=None):
    """The picture source for `path`: a StillDecoder for a photo (shown for `still_seconds`, None: until the viewer
    moves on), else a VideoDecoder (reading `source`, a film's download, when given). MediaError, one line, when it
    cannot be opened."""
    if source is None and photo.looks_like_photo(path):
        return StillDecoder(path, still_seconds)
    return VideoDecoder(path, source=source)
