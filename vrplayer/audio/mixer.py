"""The mixer: turns the decoded sample ring into output blocks (volume, mute, pause) inside the audio callback, and
records, for the clock, which media time each block starts at and when the device will play it.

Everything `fill` does is bounded and lock-free: it never waits and allocates nothing but a small tuple.
"""

from __future__ import annotations

import numpy as np

from vrplayer.audio.ring import SampleRing


class Mixer:
    def __init__(self, ring: SampleRing, volume: float = 1.0):
        self.ring = ring
        self.volume = volume
        self.muted = False
        self.paused = True
        # Samples flow only for this generation: the player opens the gate once the picture for it is ready.
        self.generation = -1
        # (block_seq, media time of the block's first sample, monotonic time it is heard, seconds of real sound)
        self.anchor: tuple[int, float, float, float] | None = None
        self.blocks = 0
        self.underruns = 0

    @property
    def gain(self) -> float:
        return 0.0 if self.muted else self.volume

    def fill(self, out: np.ndarray, latency: float, now: float) -> None:
        """Fill one output block (frames × channels, float32). Called from the audio callback."""
        ring = self.ring
        if self.paused or ring.generation != self.generation:
            out.fill(0.0)
            return
        start = ring.read_position
        count = ring.read_into(out, self.gain)
        if count < len(out):
            out[count:].fill(0.0)
            if not ring.finished:
                self.underruns += 1
        if count:
            self.blocks += 1
            self.anchor = (self.blocks, ring.pts_at(start), now + latency, count / ring.rate)

    def restart(self, generation: int) -> None:
        """Open the gate for a new generation (after a seek or at the start); the clock waits for its first block."""
        self.anchor = None
        self.generation = generation
