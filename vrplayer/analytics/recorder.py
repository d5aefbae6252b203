"""Records a head trace per viewing: a listener of the player's events (film_started opens a trace, head_pose
samples it on a fixed-rate grid while the film runs, pauses and seeks are marked, film_ended closes it).

    recorder = HeadTraceRecorder("traces/", player.display_fov, player.display.name)
    player.events.listen(recorder)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from vrplayer import __version__, log
from vrplayer.analytics import trace
from vrplayer.errors import PlayerError

_log = log.get("analytics")

RATE_HZ = 20.0  # samples per second of film shown (the format asks ≥ 10)


class HeadTraceRecorder:
    def __init__(self, directory: str | Path, display_fov: Callable[[], tuple[float, float]], display_kind: str,
                 rate_hz: float = RATE_HZ, source: str = "play", accept: Callable[[str], bool] | None = None):
        """display_fov() → the display's (horizontal, vertical) field of view in degrees, asked when a film starts.
        accept(film path) → whether to record this film (a kiosk records its programme, not its attract film)."""
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PlayerError(f"cannot make the head-trace folder {self.directory} ({exc.strerror})") from None
        if not os.access(self.directory, os.W_OK):
            raise PlayerError(f"cannot write head traces into {self.directory}: no permission")
        self._fov, self._kind, self._source = display_fov, display_kind, source
        self._interval = 1.0 / max(1.0, rate_hz)
        self._rate = rate_hz
        self._accept = accept
        self._writer: trace.TraceWriter | None = None
        self._running = False
        self._next_due = 0.0
        self._count = 0
        self.last_written: Path | None = None  # (only the last: a kiosk records all day)
        self.last_samples = 0  # in the last trace, once it is closed

    def __call__(self, event) -> None:
        name = event.name
        if name == "film_started":
            self._start(event)
            return
        writer = self._writer
        if writer is None:
            return
        if name == "head_pose":
            if self._running and event.at >= self._next_due:
                # A fixed grid: the rate holds on average however unevenly the display's turns come.
                self._next_due = max(self._next_due + self._interval, event.at - self._interval)
                writer.sample(event.position, event.data["yaw"], event.data["pitch"], event.data["roll"])
        elif name == "paused":
            self._running = False
            writer.marker("pause", event.position)
        elif name == "resumed":
            self._running = True
            writer.marker("resume", event.position)
        elif name == "sought":
            writer.marker("seek", event.position, to=round(event.data["target"], 4))
            self._running = not event.data["paused"]
        elif name == "film_ended":
            outcome = event.data.get("outcome")
            writer.marker("end", event.position, outcome=outcome if isinstance(outcome, str) else str(outcome[0]))
            self._finish()

    def _start(self, event) -> None:
        self._finish()
        if self._accept is not None and not self._accept(event.film):
            return
        data = event.data
        film = trace.film_identity(event.film, data.get("width"), data.get("height"), data.get("duration"))
        try:
            h, v = self._fov()
            fov = [round(float(h), 2), round(float(v), 2)]
        except Exception:  # a display that cannot say: the reader assumes a typical headset's
            fov = None
        head = trace.header(film, {"kind": self._kind, "fov": fov}, self._rate, self._source, __version__)
        self._count += 1
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.directory / f"{Path(event.film).stem}-{stamp}-{os.getpid()}-{self._count}.jsonl"
        try:
            self._writer = trace.TraceWriter(path, head)
        except OSError as exc:
            _log.error("cannot write the head trace %s (%s); this viewing is not recorded", path, exc.strerror)
            self._writer = None
            return
        self._running, self._next_due = True, 0.0
        self.last_written = path

    def _finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            _log.info("head trace: %s (%d samples)", self._writer.path, self._writer.samples)
            self.last_samples = self._writer.samples
            self._writer = None

    def close(self) -> None:
        self._finish()
