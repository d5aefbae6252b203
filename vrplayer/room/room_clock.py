"""The room's clock for a seat's film: the media time the room's schedule says, at the conductor's time.

A Clock (see vrplayer/sync.py) handed to the seat's playback: the frame scheduler asks it the time and shows each
frame when the room reaches it. It follows cues (room/messages.py): each from the moment the seat adopts it — at
its instant for a pause or a resume, which need no preparation, or as soon as it has sought to a new place (the
first frame there then waits for the instant). The player's own pause, resume and reset do nothing: the room owns
the time.
"""

from __future__ import annotations

from typing import Callable

from vrplayer.room.messages import Cue


class RoomClock:
    name = "room clock"

    def __init__(self, conductor_time: Callable[[], float]):
        self._conductor_time = conductor_time
        self._cues: list[tuple[float, Cue]] = []  # (followed from, conductor clock; cue), in order
        self.speed = 1.0

    def follow(self, cue: Cue, start: float) -> None:
        """Follow `cue` from conductor time `start` on (its instant, or now)."""
        self._cues = [entry for entry in self._cues if entry[0] < start] + [(start, cue)]

    def cue_at(self, t: float) -> Cue | None:
        chosen = None
        for start, cue in self._cues:
            if start <= t:
                chosen = cue
        if len(self._cues) > 2:  # the ones superseded long ago
            self._cues = [entry for entry in self._cues if entry[0] > t or entry[1] is chosen]
        return chosen

    def upcoming(self, t: float) -> Cue | None:
        """The cue the clock will follow next after conductor time t (a pause waiting for its instant), or None."""
        later = [cue for start, cue in self._cues if start > t]
        return later[0] if later else None

    @property
    def cue(self) -> Cue | None:
        return self.cue_at(self._conductor_time())

    def now(self) -> float:
        t = self._conductor_time()
        cue = self.cue_at(t)
        return 0.0 if cue is None else cue.position_at(t)  # (before a playing cue's instant: less than its position)

    @property
    def paused(self) -> bool:
        cue = self.cue
        return cue is None or not cue.playing

    @property
    def started(self) -> bool:
        return not self.paused

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def reset(self, pts: float) -> None:
        pass
