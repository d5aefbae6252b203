"""A single-producer, single-consumer ring of float32 sample frames.

The decode thread writes (and may wait for room); the audio callback reads and never waits: it takes what is there
and the caller fills the rest with silence. Counters only grow, so the reader and writer never need a shared lock
for ordinary reads and writes (CPython makes each int assignment atomic); `reset` (a seek, done on the writer's thread) takes the
lock that `read_into` only tries, never waits for.
"""

from __future__ import annotations

import threading

import numpy as np


class SampleRing:
    def __init__(self, capacity_frames: int, channels: int):
        self.capacity = capacity_frames
        self.channels = channels
        self._buf = np.zeros((capacity_frames, channels), dtype=np.float32)
        self._written = 0
        self._read = 0
        self.base_pts = 0.0  # media time of sample frame 0 of this generation
        self.rate = 48000
        self.speed = 1.0  # media seconds per second of sound: 2 when the shuttle plays it at 2×, time-stretched
        self.finished = False  # the writer reached the end of the film
        self.generation = -1  # which seek these samples answer; -1 until the writer starts
        self.lock = threading.Lock()

    # -- writer --------------------------------------------------------------------------------------------------

    def write(self, samples: np.ndarray, stop: threading.Event, generation_ok=lambda: True) -> bool:
        """Append (n, channels) samples, waiting for room. False when stopped or superseded meanwhile."""
        n = len(samples)
        pos = 0
        while pos < n:
            free = self.capacity - (self._written - self._read)
            if stop.is_set() or not generation_ok():
                return False
            if free == 0:
                # The reader never signals (it must not block); a short poll is plenty with a ring of ~1 s.
                stop.wait(0.01)
                continue
            count = min(free, n - pos)
            start = self._written % self.capacity
            first = min(count, self.capacity - start)
            self._buf[start : start + first] = samples[pos : pos + first]
            if count > first:
                self._buf[: count - first] = samples[pos + first : pos + count]
            self._written += count
            pos += count
        return True

    # -- reader (audio callback: no waiting, no allocation beyond numpy views) ------------------------------------

    def available(self) -> int:
        return self._written - self._read

    @property
    def read_position(self) -> int:
        return self._read

    def pts_at(self, frame_index: int) -> float:
        return self.base_pts + self.speed * frame_index / self.rate

    def read_into(self, out: np.ndarray, gain: float) -> int:
        """Copy up to len(out) frames, scaled by gain, into out; returns how many. Never blocks."""
        if not self.lock.acquire(blocking=False):
            return 0
        try:
            count = min(len(out), self._written - self._read)
            if count > 0:
                start = self._read % self.capacity
                first = min(count, self.capacity - start)
                np.multiply(self._buf[start : start + first], gain, out=out[:first])
                if count > first:
                    np.multiply(self._buf[: count - first], gain, out=out[first:count])
                self._read += count
            return count
        finally:
            self.lock.release()

    def skip(self, frames: int) -> int:
        """Discard up to `frames` frames (used to drop sound the clock has already passed)."""
        count = min(frames, self._written - self._read)
        self._read += count
        return count

    def reset(self, base_pts: float, rate: int, generation: int, speed: float = 1.0) -> None:
        """Start a new generation (after a seek). Called by the writer's own thread."""
        with self.lock:
            self._written = 0
            self._read = 0
            self.base_pts = base_pts
            self.rate = rate
            self.speed = speed
            self.finished = False
            self.generation = generation
