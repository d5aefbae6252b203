"""The mixer: turns the decoded sample ring into output blocks (volume, mute, pause) inside the audio callback, and
records, for the clock, which media time each block starts at and when the device will play it.

Everything `fill` does is bounded and lock-free: it never waits and allocates nothing but a small tuple.
"""

from __future__ import annotations

import numpy as np

from vrplayer.media.ring import SampleRing


class Mixer:
    def __init__(self, ring: SampleRing, volume: float = 1.0, spatial=None, block_frames: int = 4096):
        """spatial: a BinauralRenderer when the ring holds a sound field (its channels) to render for the head;
        None when the ring already holds the output's channels."""
        self.ring = ring
        self.spatial = spatial
        self._reset_spatial = False
        self.head_path = None  # a scripted head (audio.offline.HeadPath): each block takes its pose by film time
        # Head to ear: from a pose being handed over to the first block it turns being heard (s): count, sum, max.
        self.turns, self.turn_latency_sum, self.turn_latency_max = 0, 0.0, 0.0
        self._turned_at = 0.0
        self._heard_at = 0.0
        # The track's channels for one block, before rendering: made here, not in the callback.
        self._scratch = np.zeros((block_frames, ring.channels), np.float32) if spatial is not None else None
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
        self._heard_at = now + latency
        if self.spatial is None:
            count = ring.read_into(out, self.gain)
        else:
            count = self._render(out)
        if count < len(out):
            out[count:].fill(0.0)
            if not ring.finished:
                self.underruns += 1
        if count:
            self.blocks += 1
            self.anchor = (self.blocks, ring.pts_at(start), now + latency, count / ring.rate)

    def _render(self, out: np.ndarray) -> int:
        """Read the sound field's block and render it for the head (binaurally) into out."""
        if self._reset_spatial:  # a new generation: forget the old sound's filter tails
            self._reset_spatial = False
            self.spatial.reset()
        if len(out) > len(self._scratch):  # (a device asking for bigger blocks than ever before: once)
            self._scratch = np.zeros((len(out), self.ring.channels), np.float32)
        block = self._scratch[: len(out)]
        if self.head_path is not None:
            self.spatial.set_view(*self.head_path(self.ring.pts_at(self.ring.read_position)))
        count = self.ring.read_into(block, self.gain)
        if count:
            self.spatial.render(block[:count], out[:count])
            turned_at = self.spatial.turned_at
            if turned_at != self._turned_at:  # this block carries a new pose: heard from its first sample on
                self._turned_at = turned_at
                latency = self._heard_at - turned_at
                self.turns += 1
                self.turn_latency_sum += latency
                self.turn_latency_max = max(self.turn_latency_max, latency)
        return count

    def restart(self, generation: int) -> None:
        """Open the gate for a new generation (after a seek or at the start); the clock waits for its first block."""
        self.anchor = None
        self._reset_spatial = self.spatial is not None
        self.generation = generation
