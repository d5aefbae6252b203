"""Two cuts of a film in lockstep: one comparison time `t`, and at every displayed moment each cut shows its frame
whose time span contains its own moment of `t` — A's moment is t, B's is t + offset_b (`--offset-b S`: B's moment
t + S beside A's moment t). Films of different frame rates or lengths stay locked by timestamp, never by frame
count. Before B's first frame or past its last frame's end, B shows nothing (black) while A goes on; the
comparison runs on A's timeline, A's clock (its sound, as the player's is) keeping the time for both.

The rule itself is pure (`frame_at`, `shows`); `CutPair` applies it to two of the player's Playbacks, each with its
own decoders and frame scheduler.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

from vrplayer import log
from vrplayer.errors import MediaError, path_text
from vrplayer.player.playback import Playback

_log = log.get("compare")

EARLY = 0.002  # a frame starting this little after a moment counts as due (the frame scheduler's own margin)
SETTLE_TIMEOUT = 5.0  # seconds a paused step waits for a cut's next frame to decode


# -- the rule ---------------------------------------------------------------------------------------------------


def frame_at(starts, end: float, moment: float) -> int | None:
    """The index of the frame on screen at `moment` among frames starting at `starts` (ascending, seconds), the
    last of which ends at `end`: the last one starting at or before the moment; None before the first, or from
    `end` on."""
    if moment >= end:
        return None
    index = bisect.bisect_right(starts, moment + EARLY) - 1
    return index if index >= 0 else None


def shows(pts: float, duration: float, moment: float, last: bool) -> bool:
    """Whether a frame (start `pts`, `duration` long) is still the one on screen at `moment`, once it was due: it
    is, until a later frame is due, unless it is the film's last one and its span has ended."""
    return not (last and moment >= pts + duration)


# -- the two cuts -----------------------------------------------------------------------------------------------


@dataclass
class Cut:
    """One side of the comparison: its playback, its offset (its moment of comparison time t is t + offset), and
    the frame it shows (None: black)."""

    name: str
    playback: Playback
    offset: float
    shown: object = None
    waiting: bool = False  # its moment lies before its first frame: its sound starts when the moment reaches 0
    over: bool = False  # its moment lies past its end: black, silent, until the next seek

    def moment(self, t: float) -> float:
        return t + self.offset

    @property
    def end(self) -> float | None:
        return self.playback.duration


class CutPair:
    def __init__(self, path_a: str, path_b: str, offset_b: float = 0.0, output=None, volume: float = 1.0,
                 sound: dict | None = None, layout_flags=(None, None)):
        """output: the audio device (None: both silent). sound: as Playback's. layout_flags: each cut's overrides."""
        first = Playback(path_a, output, volume, layout_flags[0] or None, sound)
        try:
            second = Playback(path_b, output, volume, layout_flags[1] or None, sound)
        except Exception:
            first.close()
            raise
        self.cuts = (Cut("A", first, 0.0), Cut("B", second, offset_b))
        self._held = 0.0  # the comparison time while paused
        self.picked_at = 0.0  # the comparison time the pictures on show were picked for

    @property
    def a(self) -> Cut:
        return self.cuts[0]

    @property
    def b(self) -> Cut:
        return self.cuts[1]

    @property
    def clock(self):
        """A's clock keeps the comparison's time (A's sound, else the wall clock)."""
        return self.a.playback.clock

    @property
    def paused(self) -> bool:
        return self.clock.paused

    @property
    def started(self) -> bool:
        return self.clock.started

    @property
    def duration(self) -> float:
        return self.a.playback.duration or 0.0

    def now(self) -> float:
        """The comparison time: the clock's while playing, the moment shown while paused."""
        return self._held if self.paused else self.clock.now()

    # -- seeking ------------------------------------------------------------------------------------------------

    def goto(self, t: float, paused: bool) -> None:
        """Exact seek of both cuts to comparison time `t`; paused, their frames there are on show at once."""
        t = max(0.0, t)
        for cut in self.cuts:
            self._seek_cut(cut, t)
        self._held = self.picked_at = t
        if paused:
            self.pick(t)
            return
        for cut in self.cuts:
            if not cut.waiting and not cut.over:
                cut.playback.clock.resume()

    def _seek_cut(self, cut: Cut, t: float) -> None:
        playback = cut.playback
        moment = cut.moment(t)
        end = cut.end
        cut.shown = playback.current = None
        cut.over = end is not None and moment >= end
        cut.waiting = moment < 0.0
        if cut.over:
            playback.clock.pause()  # silent past its end (its decoders keep what they had, unused until a seek)
            return
        first = playback.goto(max(0.0, moment))
        if first is None:
            if cut is self.a:
                raise MediaError(playback.video.missing_picture(moment))
            cut.over = True
            return
        playback.scheduler.upcoming = first  # shown by pick when it is due

    def step(self, direction: int, by: Cut | None = None) -> None:
        """Paused: one frame of `by` (the cut on show; A when it shows nothing) forward or back; the other cut
        follows to its frame at the new moment."""
        if not self.paused:
            return
        by = by if by is not None and by.shown is not None else self.a
        if direction < 0:
            current = by.shown.pts if by.shown is not None else by.moment(self._held)
            self.goto(max(0.0, current - by.playback.video.frame_duration - by.offset), paused=True)
            return
        frame = by.playback.scheduler.take_next(timeout=SETTLE_TIMEOUT)
        if frame is None:
            return  # its last frame is on show
        t = frame.pts - by.offset
        if t >= self.duration:
            by.playback.scheduler.upcoming = frame  # past A's end: the comparison stays where it is
            return
        self._show(by, frame)
        self._held = self.picked_at = t
        for cut in self.cuts:
            if cut is not by:
                self._settle(cut, t)

    def _settle(self, cut: Cut, t: float) -> None:
        """Paused: bring `cut` to its frame at comparison time `t`, waiting for its decoder as long as needed to
        know that the next frame is later (or that there is none)."""
        if cut.over:
            return
        scheduler = cut.playback.scheduler
        deadline = time.monotonic() + SETTLE_TIMEOUT
        moment = cut.moment(t)
        while True:
            frame = scheduler.pick(moment)
            if frame is not None:
                self._show(cut, frame)
            if scheduler.ended or scheduler.upcoming is not None:
                break
            if time.monotonic() >= deadline or cut.playback.stall() is not None:
                _log.warning("%s: its frame at %.3f s did not decode in time", path_text(cut.playback.path), moment)
                break
            time.sleep(0.002)
        self._end_check(cut, moment)

    # -- playing ------------------------------------------------------------------------------------------------

    def pick(self, t: float) -> bool:
        """Each cut's frame due at comparison time `t` goes on show; True when either picture changed."""
        changed = False
        self.picked_at = t
        for cut in self.cuts:
            if cut.over:
                continue
            moment = cut.moment(t)
            if cut.waiting and moment >= 0.0:
                cut.waiting = False
                if not self.paused:
                    cut.playback.clock.resume()  # its sound from its first sample, as its picture starts
            if self.paused:
                changed |= self._settle_changed(cut, t)
                continue
            frame = cut.playback.scheduler.pick(moment)
            if frame is not None:
                self._show(cut, frame)
                changed = True
            changed |= self._end_check(cut, moment)
        return changed

    def _settle_changed(self, cut: Cut, t: float) -> bool:
        before = cut.shown
        self._settle(cut, t)
        return cut.shown is not before

    def _show(self, cut: Cut, frame) -> None:
        cut.shown = cut.playback.current = frame

    def _end_check(self, cut: Cut, moment: float) -> bool:
        """Past its last frame's end the cut goes black (and stays so until a seek); True when it just did."""
        frame = cut.shown
        scheduler = cut.playback.scheduler
        last = scheduler.ended and scheduler.upcoming is None
        if frame is None or shows(frame.pts, frame.duration, moment, last) or cut is self.a:
            return False  # (A's last frame stays: the comparison pauses there)
        cut.shown = cut.playback.current = None
        cut.over = True
        cut.playback.clock.pause()
        return True

    def next_due(self) -> float | None:
        """The comparison time at which the next frame of either cut is due (None: none is waiting)."""
        due = [cut.playback.scheduler.next_due() - cut.offset for cut in self.cuts
               if not cut.over and cut.playback.scheduler.next_due() is not None]
        return min(due) if due else None

    def pause(self) -> None:
        """Stop both where the pictures on show were picked."""
        if self.paused:
            return
        self._held = min(self.picked_at, self.clock.now())
        for cut in self.cuts:
            cut.playback.clock.pause()

    def resume(self) -> None:
        """Play on from exactly the moment on show (after steps, sound and pictures start together)."""
        self.goto(self._held, paused=False)

    def finished(self) -> bool:
        """A has shown its last frame and its time is over."""
        playback = self.a.playback
        return playback.finished() and not self.paused

    def counts(self) -> dict:
        return {cut.name: cut.playback.counts() for cut in self.cuts}

    def close(self) -> None:
        for cut in self.cuts:
            cut.shown = None
            cut.playback.close()
