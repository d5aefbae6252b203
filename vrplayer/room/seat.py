"""A seat of a screening room: a player that plays what the room's conductor says, when it says.

Its doors into the player: the film's clock (`clock_for`: the room's clock, room_clock.py), `on_tick` (a new cue
that changes the film ends it; one that seeks or pauses is carried out in the film), `remote` (a recenter at its
instant), and the player's events (each presented frame's error against the room's schedule is measured at the
moment it went on screen). The sound is steered to the room by seat_sound.py.

Joining: the seat keeps asking the conductor's clock (clock_sync.py), reads the room's retained state, and opens
the film there. A seat that is late — joining mid-film, slower to open than the others, back after losing the
broker — seeks to where the room will be once it is ready: it never holds the room, and nobody waits for it.
"""

from __future__ import annotations

import collections
import os
import socket
import threading
import time
from dataclasses import dataclass

from vrplayer import log
from vrplayer.errors import PlayerError, path_text
from vrplayer.player import Film
from vrplayer.room import messages
from vrplayer.room.clock_sync import KEEP, ClockSync
from vrplayer.room.link import RoomAddress, RoomError, RoomLink
from vrplayer.room.messages import Cue
from vrplayer.room.room_clock import RoomClock
from vrplayer.room.seat_sound import SeatSound

_log = log.get("room.seat")

ASK_FAST, ASK_EVERY = 0.1, 0.25  # seconds between clock questions: until KEEP answers, then from then on
STATUS_EVERY = 0.5  # seconds between status messages
PREPARE_LEAD = 0.6  # seconds a seat expects to need to open a film, until it has measured itself
SEEK_LEAD = 0.1  # and to seek in one
CATCH_UP = 0.5  # seconds behind the room beyond which a playing seat seeks instead of dropping frames
ERRORS_KEPT = 300  # presented frames whose errors make the reported figures


@dataclass
class SeatOptions:
    name: str
    library: str
    layout_flags: dict
    films: dict[str, str] | None = None  # a kiosk's programme: the only films it plays, by file name (else the library)


def default_name() -> str:
    name = "".join(c if c.isalnum() or c in "_.-" else "-" for c in socket.gethostname())[:64].strip("-._")
    return name or "seat"


class Seat:
    def __init__(self, player, address: RoomAddress, options: SeatOptions, stop_reason=lambda: None):
        self.player = player
        self.options = options
        self.name = messages.check_name(options.name, "the seat")
        self._stop_reason = stop_reason
        self.clock = ClockSync()
        self.room_clock = RoomClock(self.clock.conductor_time)
        self.sound = SeatSound(self.clock.conductor_time)
        self._lock = threading.Lock()
        self._room_cue: Cue | None = None  # the newest cue for this seat: the room's, or one of its own
        self._active: Cue | None = None  # the cue the film on screen follows
        self._done = -1  # the number of the last cue whose film ended here (or could not be played)
        self._recenter_at: list[float] = []  # conductor-clock instants of recenters to come
        self._rejoin = False  # "restart": open the film again where the room is
        self._asked: dict[int, float] = {}
        self._asks = 0
        self.state = "joining"
        self.problem: str | None = None
        self._errors: collections.deque[float] = collections.deque(maxlen=ERRORS_KEPT)
        self._opening = Lead(PREPARE_LEAD)  # how long opening a film takes here
        self._seeking = Lead(SEEK_LEAD)  # and an exact seek
        self._opened_at: float | None = None  # monotonic, while a film opens: to measure how long that takes
        self._last_seek = 0.0
        self._showing = False  # a frame of the place sought (or opened) is on screen
        self._stopping = threading.Event()
        self.instance = os.urandom(4).hex()  # tells this seat's statuses from another's of the same name
        self.twin: str | None = None  # set when another seat of our name, there before us, is heard: we leave
        self.joined: float | None = None  # conductor clock, once known: when this seat joined
        self.link = RoomLink(address, f"vrplayer-seat-{self.name}-{self.instance}",
                             ["state", "time/answer/" + self.name, "command", f"seats/{self.name}/command", f"seats/{self.name}"],
                             self._message, will=(f"seats/{self.name}", messages.encode({"seat": self.name, "state": "lost"})))
        self.on_film = None  # called with the film's name when one starts playing here, None when none plays
        self._inner_tick = player.on_tick  # (a kiosk's: its heartbeat, its stop, its status) asked first
        player.clock_for = lambda mixer: self.room_clock
        player.on_tick = self._tick
        player.remote = self._remote
        player.audience = True  # the keyboard looks around; the room decides the rest
        player.events.listen(self._event)

    # -- the room's messages (paho's thread) ----------------------------------------------------------------------

    def _message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == "time/answer/" + self.name:
            heard = time.monotonic()
            ident, t1, t2, t3 = messages.read_time_answer(payload)
            if self._asked.pop(ident, None) == t1:  # (an answer to a question we asked, once)
                self.clock.add(t1, t2, t3, heard)
            return
        if topic == f"seats/{self.name}":
            status = messages.read_seat_status(payload)
            other = status.get("joined")
            if (not retained and status.get("instance") not in (None, self.instance) and status["state"] != "lost"
                    and other is not None and (self.joined is None or other < self.joined)):  # the later of two leaves
                self.twin = (f"another seat named {self.name} is in room {self.link.address.room} already; "
                             "give each seat its own --name")
            return
        if topic == "state":
            cue, _, _ = messages.read_state(payload)
            self._check_fresh(cue.issued, retained)
            self._take(cue, room_state=retained)
        elif topic in ("command", f"seats/{self.name}/command"):
            name, instant, issued, cue = messages.read_seat_command(payload)
            self._check_fresh(issued, retained)
            if name == "cue":
                self._take(cue)
            elif name == "recenter":
                self._recenter_at.append(instant)
            elif name == "restart":
                self._rejoin = True
        # (other topics under ours are not subscribed to)

    def _check_fresh(self, issued: float, retained: bool) -> None:
        if self.clock.synced:
            messages.check_fresh(issued, self.clock.conductor_time(), retained)

    def _take(self, cue: Cue, room_state: bool = False) -> None:
        """A newer cue is followed; the room's retained state always is (a conductor started afresh counts anew)."""
        with self._lock:
            newer = self._room_cue is None or cue.number > self._room_cue.number
            if newer or (room_state and cue != self._room_cue):
                if not newer:
                    self._done = -1
                self._room_cue = cue
                _log.info("cue %d: %s at %.3f s, %s at %.3f", cue.number, cue.film or "nothing", cue.position,
                          "playing" if cue.playing else "paused", cue.instant)

    def _newest(self) -> Cue | None:
        with self._lock:
            return self._room_cue

    # -- questions and status (a helper thread) -------------------------------------------------------------------

    def _keep_in_touch(self) -> None:
        next_status = 0.0
        while not self._stopping.wait(ASK_FAST if self._asks < KEEP else ASK_EVERY):
            if self.link.connected:
                self._asks += 1
                t1 = time.monotonic()
                self._asked = {k: v for k, v in self._asked.items() if t1 - v < 10.0}
                self._asked[self._asks] = t1
                self.link.publish("time/ask", messages.encode({"seat": self.name, "id": self._asks, "t1": t1}))
                if t1 >= next_status:
                    next_status = t1 + STATUS_EVERY
                    self.link.publish(f"seats/{self.name}", messages.encode(self.status()), retain=True)

    def status(self) -> dict:
        playback = self.player.playback
        errors = sorted(self._errors)
        best = self.clock.best
        if self.joined is None and best is not None:
            self.joined = round(self.clock.conductor_time(), 3)
        status = {"seat": self.name, "instance": self.instance, "state": self.state, "film": self._active.film if self._active else None,
                  "cue": self._active.number if self._active else None,
                  "position": round(playback.position, 3) if playback is not None else None,
                  "error_ms": round(1000 * errors[len(errors) // 2], 2) if errors else None,
                  "error_p99_ms": round(1000 * max(errors[int(0.01 * len(errors))], errors[int(0.99 * (len(errors) - 1))],
                                                   key=abs), 2) if errors else None,
                  "dropped": playback.scheduler.dropped if playback is not None else None,
                  "shown": playback.scheduler.shown if playback is not None else None,
                  "headset_on": self.player.display.headset_on if self.player.display.name == "xr" else None,
                  "display": self.player.display.name, "problem": self.problem,
                  "joined": self.joined, "offset_ms": round(1000 * best[1], 3) if best else None, "rtt_ms": round(1000 * best[0], 3) if best else None}
        return {key: value for key, value in status.items() if value is not None}

    # -- the player's doors (its thread) --------------------------------------------------------------------------

    def _event(self, event) -> None:
        if event.name == "frame_shown":
            self._showing = True
        if event.name == "frame_shown" and self.clock.synced:
            shown = self.clock.conductor_time(event.at)
            cue = self.room_clock.cue_at(shown)
            if cue is not None and cue.playing:
                self._errors.append(shown - (cue.instant + event.position - cue.position))
        elif event.name == "film_started":
            self._errors.clear()

    def _remote(self) -> list[tuple[str, dict]]:
        if not self._recenter_at:
            return []
        now = self.clock.conductor_time()
        due = [t for t in self._recenter_at if t <= now]
        self._recenter_at = [t for t in self._recenter_at if t > now]
        return [("recenter", {})] if due else []

    def _tick(self, playback):
        if self._inner_tick is not None and (outcome := self._inner_tick(playback)) is not None:
            return outcome
        if self._stop_reason() is not None or self._stopping.is_set() or self.twin is not None:
            return "quit"
        newest = self._newest()
        if playback is None:  # a text screen: waiting for a cue with a film
            return "cue" if newest is not None and newest.number > self._done and newest.film else None
        if self._opened_at is not None:  # the first turn of a film: it is open, sought, its first frame decoded
            self._opening.measured(time.monotonic() - self._opened_at)
            self._opened_at = None
        now = self.clock.conductor_time()
        active = self._active
        if self._rejoin:
            self._rejoin = False
            return ("remote", "cue", {})
        if newest is not None and active is not None and newest.number > active.number:
            if newest.film != active.film or newest.item != active.item:
                if not newest.film or now >= newest.instant - self._opening.lead:
                    return ("remote", "cue", {})
            elif continuous(active, newest):
                self._active = newest  # a pause or a resume: the clock switches at the instant itself
                self.room_clock.follow(newest, newest.instant)
            elif now >= newest.instant - self._seeking.lead:
                self._active = newest
                self._seek(playback, newest, now)
        cue = self.room_clock.cue_at(now)
        self.state = ("waiting" if cue is None else "ready" if cue.playing and (now < cue.instant or not self._showing)
                      else "playing" if cue.playing else "paused")
        self.clock.steady = self.state == "playing"
        sound_off = self.sound.step(playback, cue, self.room_clock.upcoming(now))  # (started, paused, kept with the room)
        if cue is not None and cue.playing and time.monotonic() - self._last_seek > max(1.0, 2 * self._seeking.lead):
            behind = cue.position_at(now) - playback.position
            if sound_off or behind > CATCH_UP:
                _log.info("%.0f ms off the room (%s): seeking to where it is", 1000 * (self.sound.error if sound_off else behind),
                          "the sound" if sound_off else "the picture")
                self._seek(playback, cue, now)
        return None

    def _seek(self, playback, cue: Cue, now: float) -> None:
        """To the cue's place, or (late) to where the room will be once the seek is done; the frame there waits for
        its moment."""
        late = cue.playing and now + self._seeking.took > cue.instant
        target = cue.position_at(now + self._seeking.lead) if late else cue.position
        self.room_clock.follow(cue, now)
        if playback.mixer is not None:
            playback.mixer.paused = True  # the sound starts again on the room's sample (seat_sound)
        started = time.monotonic()
        self._showing = False
        self.player.commands.seek(playback, min(target, max(0.0, (playback.duration or target) - 0.05)), paused=not cue.playing)
        self._seeking.measured(time.monotonic() - started)
        self._last_seek = time.monotonic()

    # -- the seat's own loop --------------------------------------------------------------------------------------

    def run(self) -> int:
        self.player.start_deadline()  # --duration
        self.link.start()
        helper = threading.Thread(target=self._keep_in_touch, name="room-seat", daemon=True)
        helper.start()
        _log.info("seat %s in room %s, films from %s", self.name, self.link.address, path_text(self.options.library))
        try:
            while self._stop_reason() is None:
                cue = self._newest()
                if cue is None or cue.number <= self._done or not cue.film or not self.clock.synced:
                    self.state = "joining" if cue is None or not self.clock.synced else "waiting"
                    if cue is not None and not cue.film:
                        self._active = None
                    outcome = self.player.show_text("" if self.state == "waiting" else "Joining the screening…", seconds=0.5)
                    if outcome == "quit":
                        return self._left()
                    continue
                if self._play(cue) == "quit":
                    return self._left()
            return self._left()
        finally:
            self._stopping.set()
            self.link.stop(farewell=(f"seats/{self.name}", messages.encode({"seat": self.name, "state": "lost"})))

    def _left(self) -> int:
        if self.twin is not None:
            raise RoomError(self.twin)
        return 0

    def _play(self, cue: Cue):
        films = self.options.films
        path = library_film(self.options.library, cue.film) if films is None else films.get(cue.film)
        if path is None:
            where = f"library ({path_text(self.options.library)})" if films is None else "programme"
            self.problem = f"the room plays {cue.film!r}, which is not in this seat's {where}"
            _log.error("%s; waiting for the next film", self.problem)
            self._done = cue.number
            return None
        self.problem = None
        now = self.clock.conductor_time()
        late = cue.playing and now + self._opening.took > cue.instant
        start = cue.position_at(now + self._opening.lead) if late else cue.position
        if late:
            _log.info("joining %s late, at %.2f s", cue.film, start)
        self._active = cue
        self.room_clock.follow(cue, now)
        self.state = "loading"
        self._showing = False
        self._opened_at = time.monotonic()
        self._last_seek = time.monotonic()
        film = Film(path, start=start, end=cue.end, layout_flags=self.options.layout_flags)
        if self.on_film is not None:
            self.on_film(cue.film)
        try:
            outcome = self.player.play_film(film)
        except PlayerError as exc:
            self.problem = str(exc)
            _log.error("cannot play %s: %s; waiting for the next film", cue.film, exc)
            self._done = cue.number
            return None
        finally:
            if self.on_film is not None:
                self.on_film(None)
        if outcome in ("end", "stalled"):
            self._done = self._active.number  # the film is over here: wait for the room's next
        return "quit" if outcome in ("quit", "headset-lost") else None


class Lead:
    """How long a preparation (opening a film, seeking) takes on this seat, and so how early to begin it: the
    longest of late, weighed, with a margin."""

    def __init__(self, expected: float):
        self.took = expected

    @property
    def lead(self) -> float:
        return min(5.0, 1.5 * self.took + 0.1)

    def measured(self, took: float) -> None:
        self.took = max(took, 0.7 * self.took + 0.3 * took)


def continuous(active: Cue, new: Cue) -> bool:
    """Whether `new` goes on from where `active` is at its instant (a pause or a resume), so no seek is needed."""
    return abs(active.position_at(new.instant) - new.position) < 0.002


def library_film(library: str, name: str) -> str | None:
    """The film `name` in the seat's library folder, or None: never a path outside it."""
    if not name or name in (".", "..") or os.sep in name or "/" in name or "\0" in name:
        return None
    root = os.path.realpath(library)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root and not path.startswith(root + os.sep):
        return None
    return path if os.path.isfile(path) else None
