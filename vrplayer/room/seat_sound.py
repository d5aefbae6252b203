"""A seat's sound kept on the room's clock: started on the due sample, paused at the instant, and kept together by
running it up to 0.5 % fast or slow (the mixer's `due` and `ratio`); an error beyond RESEEK is left to an exact
seek of the film. The picture follows the room's clock itself (room_clock.py); the sound follows the picture's
clock here, so that what a viewer hears stays with what they see and with the room.
"""

from __future__ import annotations

import time
from typing import Callable

MAX_RATE_CHANGE = 0.005  # ±0.5 %: inaudible
CORRECTION_TIME = 2.0  # seconds over which an error is taken out (an error of 10 ms runs the sound 0.5 % fast)
RESEEK = 0.100  # seconds: beyond this the film is sought exactly


def correction_ratio(error: float) -> float:
    """How much faster (> 1) or slower the sound runs to take out `error` (room − sound, seconds)."""
    return 1.0 + max(-MAX_RATE_CHANGE, min(MAX_RATE_CHANGE, error / CORRECTION_TIME))


class SeatSound:
    def __init__(self, conductor_time: Callable[[], float], monotonic: Callable[[], float] = time.monotonic):
        self._conductor_time = conductor_time
        self._monotonic = monotonic
        self.error = None  # room − sound at the last step (seconds), None while it does not play

    def step(self, playback, cue, upcoming=None) -> bool:
        """Once a turn of the loop, with the cue followed now and the one to come (a pause at its instant). True when
        the sound is too far from the room (the caller seeks)."""
        mixer = playback.mixer
        if mixer is None:
            return False
        local = self._monotonic()
        now = self._conductor_time()
        if cue is None or not cue.playing:
            mixer.paused = True
            mixer.due = None
            self.error = None
            return False
        ring = mixer.ring
        # A pause to come stops the sound on its instant's sample, not on the turn of the loop after it.
        mixer.stop_at = local + (upcoming.instant - now) if upcoming is not None and not upcoming.playing else None
        if mixer.paused:  # start (or resume) on the sample the room reaches first
            if ring.generation != mixer.generation:
                return False  # (the decoder has not begun this generation yet)
            pts = ring.pts_at(ring.read_position)
            mixer.due = local + (cue.instant + (pts - cue.position) - now)  # (in the past: the mixer skips to now)
            mixer.ratio = 1.0
            mixer.paused = False
            return False
        anchor = mixer.anchor
        if anchor is None or mixer.due is not None:
            return False
        _, pts, heard_at, _, rate = anchor
        heard = pts + rate * (local - heard_at)
        self.error = cue.position_at(now) - heard
        if abs(self.error) > RESEEK:
            return True
        mixer.ratio = correction_ratio(self.error)
        return False
