"""Clock and sync: which media time is "now", and which decoded frame belongs on screen at that time.

The audio clock is the master when the film has sound: "now" is the media time of the sample the listener hears,
from the mixer's record of when each block reaches the device. A film without sound (or without an audio device)
runs on the wall clock. The frame scheduler shows each frame when it is due and drops (and counts) frames that a
later frame has overtaken before they could be shown.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol


class Clock(Protocol):
    name: str  # what keeps the time, for the log ("audio clock", "wall clock", …)
    speed: float  # media seconds per second (the shuttle's 2×, 4×); 1 normally

    def now(self) -> float: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def reset(self, pts: float) -> None: ...
    @property
    def paused(self) -> bool: ...
    @property
    def started(self) -> bool: ...


class WallClock:
    name = "wall clock"

    def __init__(self, start: float = 0.0, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._base = start
        self._t0 = monotonic()
        self._paused_at: float | None = start
        self._speed = 1.0

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.reset(self.now())  # the time so far at the old speed, from here on at the new one
        self._speed = value

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    @property
    def started(self) -> bool:
        return self._paused_at is None

    def now(self) -> float:
        if self._paused_at is not None:
            return self._paused_at
        return self._base + self._speed * (self._monotonic() - self._t0)

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.now()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._base, self._t0 = self._paused_at, self._monotonic()
            self._paused_at = None

    def reset(self, pts: float) -> None:
        """Jump to pts; a running clock keeps running from there, a paused one stays paused there."""
        self._base, self._t0 = pts, self._monotonic()
        if self._paused_at is not None:
            self._paused_at = pts


class AudioClock:
    """Media time of the sample being heard, from the mixer's anchors; frozen while paused or before sound flows."""

    name = "audio clock"

    def __init__(self, mixer, start: float = 0.0, monotonic: Callable[[], float] = time.monotonic):
        self._mixer = mixer
        self._monotonic = monotonic
        self._hold = start  # value while no anchor of the running generation exists yet
        self._min_seq = 0  # anchors up to this block are from before the last pause/seek

    @property
    def paused(self) -> bool:
        return self._mixer.paused

    @property
    def speed(self) -> float:
        """The sound's own: the decoder time-stretches it (a seek sets it), and the clock follows what is heard."""
        return self._mixer.ring.speed

    @property
    def started(self) -> bool:
        """The first sound of this run has reached the listener: until then no picture is due."""
        anchor = self._mixer.anchor
        if self._mixer.paused or anchor is None or anchor[0] <= self._min_seq:
            return False
        _, pts, heard_at, _, rate = anchor
        return pts + rate * (self._monotonic() - heard_at) >= self._hold

    def now(self) -> float:
        anchor = self._mixer.anchor
        if self._mixer.paused or anchor is None or anchor[0] <= self._min_seq:
            return self._hold
        _, pts, heard_at, sound, rate = anchor
        t = pts + rate * (self._monotonic() - heard_at)
        if not self._mixer.ring.finished:
            # Never ahead of the sound handed to the device: on an underrun the picture waits for the sound.
            t = min(t, pts + rate * sound)
        return max(t, self._hold)

    def pause(self) -> None:
        if not self._mixer.paused:
            self._hold = self.now()
            self._mixer.paused = True
            self._min_seq = self._mixer.blocks

    def resume(self) -> None:
        self._min_seq = self._mixer.blocks
        self._mixer.paused = False

    def reset(self, pts: float) -> None:
        self._hold = pts
        self._min_seq = self._mixer.blocks


ClockFactory = Callable[[object], Clock]
"""What a film's playback is handed to make its clock: called with the film's mixer (None when it plays silently)."""


def own_clock(mixer) -> Clock:
    """A film's own clock: the sound it plays when it has sound on a device (the master), else the wall clock."""
    return AudioClock(mixer) if mixer is not None else WallClock()


class FrameScheduler:
    """Picks the frame on screen at time `now` from a stream of frames in presentation order.

    `fetch()` returns the next frame without waiting (None when none is decoded yet); a frame is an object with a
    `pts` attribute, or an end-of-stream marker for which `is_end(item)` is true.
    """

    # Show a frame up to this early: the picture is presented a moment after it is picked.
    EARLY = 0.002

    def __init__(self, fetch: Callable[[], object], is_end: Callable[[object], bool]):
        self._fetch = fetch
        self._is_end = is_end
        self.upcoming = None  # the next frame not yet due
        self.ended = False
        self.dropped = 0
        self.shown = 0

    def reset(self) -> None:
        self.upcoming = None
        self.ended = False

    def pick(self, now: float):
        """The newest frame due at `now` that was not returned before, or None when the picture stays."""
        chosen = None
        while not self.ended:
            if self.upcoming is None:
                item = self._fetch()
                if item is None:
                    break
                if self._is_end(item):
                    self.ended = True
                    break
                self.upcoming = item
            if self.upcoming.pts > now + self.EARLY:
                break
            if chosen is not None:
                self.dropped += 1  # overtaken before it was shown: late
            chosen, self.upcoming = self.upcoming, None
        if chosen is not None:
            self.shown += 1
        return chosen

    def take_next(self, timeout: float = 0.0):
        """The next frame whether due or not (stepping while paused); waits up to `timeout` for it to decode."""
        deadline = time.monotonic() + timeout
        while self.upcoming is None and not self.ended:
            item = self._fetch()
            if item is None:
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.002)
            elif self._is_end(item):
                self.ended = True
            else:
                self.upcoming = item
        chosen, self.upcoming = self.upcoming, None
        if chosen is not None:
            self.shown += 1
        return chosen

    def next_due(self) -> float | None:
        return None if self.upcoming is None else self.upcoming.pts
