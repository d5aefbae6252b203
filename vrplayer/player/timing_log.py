"""--timing-log: one JSON line per picture presented, {"pts": media time, "shown": time.monotonic()}, for checking
sync and frame pacing from outside; "cards" names the pictures over it by key and version (a caption's version is
its cue's number in its track, so the log says when each cue appeared and went). When a film (or photo) leaves the
screen, a line {"ended": its position, "at": time.monotonic(), "outcome": why}: how long a photo stayed. A listener
of the player's events."""

from __future__ import annotations

import json

from vrplayer.errors import PlayerError
from vrplayer.player.events import PlaybackEvent


class TimingLog:
    def __init__(self, path: str):
        try:
            self._file = open(path, "w", buffering=1)  # a line at a time: read from outside while it plays
        except OSError as exc:
            raise PlayerError(f"cannot write the timing log {path} ({exc.strerror})") from None

    def __call__(self, event: PlaybackEvent) -> None:
        if event.name == "frame_shown":
            line = {"pts": round(event.position, 6), "shown": event.at}
            if event.data.get("cards"):
                line["cards"] = event.data["cards"]
            self._file.write(json.dumps(line) + "\n")
        elif event.name == "film_ended":
            outcome = event.data.get("outcome")
            self._file.write(json.dumps({"ended": round(event.position, 6), "at": event.at,
                                         "outcome": outcome if isinstance(outcome, str) else str(outcome)}) + "\n")

    def close(self) -> None:
        self._file.close()
