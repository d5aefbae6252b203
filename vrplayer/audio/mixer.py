"""The mixer: turns the decoded sample ring into output blocks (volume, mute, pause) inside the audio callback, and
records, for the clock, which media time each block starts at and when the device will play it.

A room's seat steers it to the room's clock with three doors: `due` (the monotonic time the next sample must be
heard: the sound starts on that sample, silence before it or the samples already late skipped), `stop_at` (the
moment the sound pauses, to the sample, however far ahead of the device the blocks are filled) and `ratio` (the
sound read that much faster or slower, see resample.py).

Everything `fill` does is bounded and lock-free: it never waits and allocates nothing but a small tuple.
"""

from __future__ import annotations

import numpy as np

from vrplayer.audio.resample import RateResampler
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
        # (block_seq, media time of the block's first sample, monotonic time it is heard, seconds of real sound,
        # media seconds per second of it)
        self.anchor: tuple[int, float, float, float, float] | None = None
        self.due: float | None = None  # a room's seat: when (time.monotonic()) the next sample must be heard
        self.stop_at: float | None = None  # a room's seat: when (time.monotonic()) the sound pauses
        self.ratio = 1.0  # a room's seat: read the sound this much faster (>1) or slower, within ±2 %
        self._resampler: RateResampler | None = None  # once the ratio has left 1 (it keeps the phase from then on)
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
        heard_at = now + latency
        if self.due is not None:  # start exactly on time: silence before the due sample, or skip what is late
            lead = int(round((self.due - heard_at) * ring.rate))
            if lead >= len(out):
                out.fill(0.0)
                return
            self.due = None
            if lead > 0:
                out[:lead].fill(0.0)
                out = out[lead:]
                heard_at += lead / ring.rate
            elif lead < 0:
                ring.skip(-lead)
        if self.ratio != 1.0 and self._resampler is None:
            self._resampler = RateResampler(ring.channels, len(out))
        start = ring.read_position + (self._resampler.offset() if self._resampler is not None else 0.0)
        self._heard_at = heard_at
        whole = out
        if self.stop_at is not None and heard_at + len(out) / ring.rate > self.stop_at:  # the pause falls in this block
            out = out[: max(0, int(round((self.stop_at - heard_at) * ring.rate)))]
            self.stop_at, self.paused = None, True
            whole[len(out):].fill(0.0)
        if self.spatial is None:
            count = self._read(out, self.gain) if len(out) else 0
        else:
            count = self._render(out) if len(out) else 0
        if count < len(out):
            out[count:].fill(0.0)
            if not ring.finished:
                self.underruns += 1
        if count:
            self.blocks += 1
            self.anchor = (self.blocks, ring.pts_at(start), heard_at, count / ring.rate, ring.speed * self.ratio)

    def _read(self, block: np.ndarray, gain: float) -> int:
        if self._resampler is None:
            return self.ring.read_into(block, gain)
        return self._resampler.read(self.ring, block, gain, self.ratio)

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
        count = self._read(block, self.gain)
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
        if self._resampler is not None:
            self._resampler.reset()
        self.generation = generation
