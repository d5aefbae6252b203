"""The films a kiosk skips, told without drowning the log: a run of skips (one after the other, no film played
between) has its first FIRST_TOLD each logged as a "film_skipped" event and an error line; the rest are counted and
told in one "films_skipped" event — how many, the first few item numbers, the last error — when the run ends (a film
plays, nothing can play, the kiosk stops) or has gone on for SUMMARY_EVERY seconds. A programme of 100 000 missing
films then writes a few dozen lines a pass, not 100 000."""

from __future__ import annotations

import time

from vrplayer import log
from vrplayer.kiosk.sessionlog import SessionLog

_log = log.get("kiosk")

FIRST_TOLD = 20  # skips of a run logged one by one
FIRST_NAMED = 10  # item numbers a summary names
SUMMARY_EVERY = 60.0  # seconds: a long run is summarised as it goes


class SkipLog:
    def __init__(self, session: SessionLog):
        self.session = session
        self._run = 0  # skips in this run
        self._quiet: list[int] = []  # the first item numbers of those not told one by one
        self._quiet_count = 0
        self._last_error = ""
        self._since = 0.0

    def skipped(self, number: int, file: str, error: str) -> None:
        self._run += 1
        if self._run <= FIRST_TOLD:
            _log.error("skipping item %d: %s", number, error)
            self.session.event("film_skipped", item=number, file=file, error=error)
            return
        if not self._quiet_count:
            self._since = time.monotonic()
        self._quiet_count += 1
        if len(self._quiet) < FIRST_NAMED:
            self._quiet.append(number)
        self._last_error = error
        if time.monotonic() - self._since >= SUMMARY_EVERY:
            self._summarise()

    def run_ended(self) -> None:
        """A film played (or the kiosk stops, or nothing can play): tell what is left of the run and start afresh."""
        self._summarise()
        self._run = 0

    def _summarise(self) -> None:
        if not self._quiet_count:
            return
        _log.error("skipped %d more items (%s%s); last error: %s", self._quiet_count,
                   ", ".join(map(str, self._quiet)), ", …" if self._quiet_count > len(self._quiet) else "", self._last_error)
        self.session.event("films_skipped", count=self._quiet_count, items=self._quiet, last_error=self._last_error)
        self._quiet, self._quiet_count = [], 0
