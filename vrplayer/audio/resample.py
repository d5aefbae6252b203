"""Sound run a little fast or slow: the sample ring read at `ratio` × its own rate, by linear interpolation.

A room's seat follows the room's clock with its sound by reading it up to 0.5 % faster or slower (a pitch change
of at most 9 cents, below what listeners notice on programme material) instead of skipping or repeating samples,
which would click. The interpolation carries its phase and last sample from one block to the next, so a change of
ratio between blocks is seamless. Runs in the audio callback: every array is made beforehand.
"""

from __future__ import annotations

import math

import numpy as np

MAX_RATIO_STEP = 0.02  # the ratio is kept within 1 ± this (the room asks at most ± 0.005)


class RateResampler:
    def __init__(self, channels: int, max_frames: int = 16384):
        self.channels = channels
        self._phase = 0.0  # where the next output sample lies, in input frames after the carried one
        self._primed = False  # the carried frame is real sound
        self._grow(max_frames)

    def _grow(self, frames: int) -> None:
        self._capacity = frames
        inputs = int(frames * (1 + MAX_RATIO_STEP)) + 4
        self._buffer = np.zeros((inputs, self.channels), np.float32)  # [carried frame, new frames…]
        self._steps = np.arange(frames, dtype=np.float64)
        self._positions = np.zeros(frames, np.float64)
        self._index = np.zeros(frames, np.intp)
        self._weight = np.zeros((frames, 1), np.float32)

    def reset(self) -> None:
        """A new generation of sound (a seek): nothing carried over."""
        self._primed = False
        self._phase = 0.0

    def offset(self) -> float:
        """Input frames from the ring's read position back to where the next output sample lies (≤ 0)."""
        return (self._phase - 1.0) if self._primed else 0.0

    def read(self, ring, out: np.ndarray, gain: float, ratio: float) -> int:
        """Fill up to len(out) frames from `ring`, consuming about ratio × as many; how many were filled."""
        n = len(out)
        if n > self._capacity:
            self._grow(n)  # (a device asking for bigger blocks than ever before: once)
        ratio = min(max(ratio, 1 - MAX_RATIO_STEP), 1 + MAX_RATIO_STEP)
        buffer = self._buffer
        if not self._primed:
            if ring.read_into(buffer[:1], gain) == 0:
                return 0
            self._primed, self._phase = True, 0.0
        need = int(math.floor(self._phase + ratio * (n - 1))) + 1  # input frames after the carried one
        got = ring.read_into(buffer[1 : need + 1], gain)
        if got < need:  # the ring ran short: only the outputs whose both neighbours are there
            n = max(0, min(n, int(math.floor((got - self._phase) / ratio)) + 1)) if got else 0
            if n == 0:
                return 0
        positions = np.multiply(self._steps[:n], ratio, out=self._positions[:n])
        positions += self._phase
        index = self._index[:n]
        index[:] = positions  # truncation: the positions are ≥ 0
        weight = self._weight[:n, 0]
        np.subtract(positions, index, out=weight, casting="unsafe")
        low = buffer[index]
        np.add(index, 1, out=index)
        high = buffer[np.minimum(index, got, out=index)]
        out[:n] = low + (high - low) * self._weight[:n]
        self._phase = self._phase + ratio * n - got
        buffer[0] = buffer[got]  # the last frame read is carried into the next block
        if self._phase < 0.0:  # (a rounding hair below the carried frame)
            self._phase = 0.0
        return n
