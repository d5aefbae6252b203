"""What a film's playback tells the world: one event per thing that happened, handed to every listener in turn.

The player emits; the timing log, the kiosk's session log and head trace (and later a room's seat, a head-trace
recorder) listen, instead of being called from inside the loops. Listeners run on the player's thread, between
two pictures: they must be quick, and one that fails is logged and dropped, never the show.

| name          | when                                           | data                                   |
|---------------|------------------------------------------------|----------------------------------------|
| film_started  | the film's first picture is on screen          | projection, clock (its name), width,   |
|               |                                                | height, duration                       |
| frame_shown   | a picture was presented (`at`: when)           | cards (the pictures over it, if any)   |
| paused        | the film's clock stopped                       |                                        |
| resumed       | it runs again                                  |                                        |
| sought        | an exact seek reached its frame                | target, paused                         |
| head_pose     | once a turn of the loop: where the viewer looks| yaw, pitch, roll (degrees)             |
| film_ended    | the film is over for the player                | outcome, frames_shown, frames_dropped, |
|               |                                                | audio_underruns, audio_late_blocks     |

`position` is the film's media time (for frame_shown, the pts of the picture shown); `at` is time.monotonic().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from vrplayer import log

_log = log.get("player")

@dataclass(frozen=True)
class PlaybackEvent:
    name: str  # one of the table's above
    film: str  # the film's path
    position: float  # media time, seconds
    at: float  # time.monotonic()
    data: dict = field(default_factory=dict)


Listener = Callable[[PlaybackEvent], None]


class Events:
    def __init__(self):
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` for every event from now on; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(self, name: str, film: str, position: float, at: float, **data) -> None:
        if not self._listeners:
            return
        event = PlaybackEvent(name, film, position, at, data)
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # a listener's bug must not stop the film
                _log.error("a %s listener failed (%s: %s); it hears no more events", name, type(exc).__name__, exc)
                self._listeners.remove(listener)
