"""Buffering, honestly: a film on a web server pauses, picture and sound together, before what has arrived runs
out, says so on screen with the seconds buffered and the rate they arrive at, and plays on from the exact frame it
stopped at once `resume_seconds` are buffered ahead (or the rest of the film is all there).

"Ahead" is media time: where the download's front is (in the film's average bytes per second) less the position
on screen, so the pictures and the sound already decoded count. A film starts only once START_SECONDS are there
(its first picture shows meanwhile); an underrun after that is counted, logged and told to the world as events
("buffering", then "buffered" with how long it waited).
"""

from __future__ import annotations

import time

from vrplayer import log
from vrplayer.player.options import clock_text
from vrplayer.render.overlay import TextCard
from vrplayer.render.placement import InView

_log = log.get("player")

RESUME_SECONDS = 2.0  # buffered ahead before a film that ran dry plays on (mpv waits for 1 s of its cache)
START_SECONDS = 1.0  # buffered ahead before a film starts at all
LOW_SECONDS = 0.4  # a film pauses when less than this is left ahead: before its sound runs dry


class Buffering:
    def __init__(self, player, resume_seconds: float = RESUME_SECONDS):
        self._player = player
        self.resume_seconds = resume_seconds
        self._since: float | None = None  # when the film paused to buffer (None: it is not buffering)
        self._needed = resume_seconds
        self._playback = None

    def ahead(self, playback) -> float:
        """Seconds of the film buffered ahead of the picture on screen (inf: the rest is all there)."""
        return playback.network.seconds_ahead_of(playback.position)

    def step(self, playback) -> None:
        """Once a turn of the loop: pause before the film runs dry, play on once it has enough."""
        network = playback.network
        if network is None or playback.still:
            return
        if playback is not self._playback:  # a new film: it starts only once it has START_SECONDS
            self._playback = playback
            self._since = None
            if self.ahead(playback) < START_SECONDS and not network.complete:
                self._pause(playback, START_SECONDS, starting=True)
            return
        ahead = self.ahead(playback)
        if self._since is None:
            if not playback.clock.paused and ahead < LOW_SECONDS and not network.complete and not playback.finished():
                playback.underruns += 1
                self._pause(playback, self.resume_seconds, starting=False)
            return
        if not playback.clock.paused and self._since is not None:  # the viewer played on (space) meanwhile
            self._since = None
            return
        if ahead >= self._needed or network.complete:
            waited = time.monotonic() - self._since
            playback.buffering_seconds += waited
            self._since = None
            _log.info("buffered %.1f s ahead in %.1f s (%.1f MB/s arriving); playing on from %s", min(ahead, 99.0),
                      waited, network.throughput() / 1e6, clock_text(playback.position))
            self._player.emit(playback, "buffered", waited=round(waited, 3), ahead=round(min(ahead, 1e6), 3))
            self._player.commands.seek(playback, playback.position, paused=False)  # sound and picture together

    def _pause(self, playback, needed: float, starting: bool) -> None:
        self._since = time.monotonic()
        self._needed = needed
        network = playback.network
        if playback.current is None:
            self._player.commands.seek(playback, playback.position, paused=True)  # its first picture shows
        else:
            playback.clock.pause()
        rate, needs = network.throughput(), network.byte_rate or 0.0
        if starting:
            _log.info("buffering before the film starts (%.1f MB/s arriving, the film needs %.1f MB/s)", rate / 1e6, needs / 1e6)
        else:
            _log.warning("buffering at %s: the download fell behind (%.1f MB/s arriving, the film needs %.1f MB/s); "
                         "playing on once %.0f s are buffered", clock_text(playback.position), rate / 1e6, needs / 1e6, needed)
        self._player.emit(playback, "buffering", starting=starting, throughput=round(rate), needs=round(needs))

    @property
    def active(self) -> bool:
        return self._since is not None

    def cards(self, playback) -> list:
        """An overlay: while the film waits, what it waits for, in the middle of the view."""
        if self._since is None or playback is None or playback.network is None:
            return []
        ahead = max(0.0, min(self.ahead(playback), self._needed))
        rate = playback.network.throughput()
        return [TextCard(f"buffering {ahead:.1f} / {self._needed:.0f} s, {rate / 1e6:.1f} MB/s", InView("centre", scale=None))]
