"""The room's conductor: its clock is the room's, and it says what every seat plays, from which instant.

Every command becomes a cue (room/messages.py) that takes effect at an instant ahead (`lead`, 1 s; a change of
film `start_delay`, 2 s, for the seats to open it): the seats prepare, and act at the instant; nobody waits for a
seat that is not ready (it joins late). The cue is the room's retained state, so a seat joining mid-film starts
from it, and a conductor started again takes the room back from it (its clock being the same machine's
CLOCK_MONOTONIC). It answers the seats' clock questions on the network thread, at once, and keeps what each seat
says of itself for the operator's page (room/conductor_page.py) and JSON API (the kiosk's control server).

Commands (all seats, or one with "seat"): load (item), play, pause, seek (position), next, previous, recenter,
restart. For one seat, play brings it back with the room, and restart opens its film again where the room is;
for the room, restart plays the film again from its start.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vrplayer import log
from vrplayer.kiosk.control import CommandQueue, ControlServer
from vrplayer.room import messages
from vrplayer.room.conductor_page import PAGE, PAGE_CSP
from vrplayer.room.link import RoomAddress, RoomError, RoomLink
from vrplayer.room.messages import Cue, MessageError

_log = log.get("room.conductor")

ROOM_COMMANDS = ("load", "play", "pause", "seek", "next", "previous", "recenter", "restart")
TAKE_BACK_WAIT = 1.5  # seconds a starting conductor listens for the room's retained state
SEAT_SILENT = 3.0  # seconds without a status after which a seat shows as lost
END_GUARD = 0.05  # seconds: a seek stays this far before the film's end


@dataclass(frozen=True)
class RoomFilm:
    name: str  # its file name: how each seat finds it in its library
    duration: float
    title: str
    start: float = 0.0
    end: float | None = None  # a trim

    @property
    def stop(self) -> float:
        return min(self.end, self.duration) if self.end is not None else self.duration


@dataclass
class ConductorOptions:
    lead: float = 1.0
    start_delay: float = 2.0
    loop: bool = False
    control: str | None = None
    token: str | None = None


class Conductor:
    def __init__(self, address: RoomAddress, films: list[RoomFilm], options: ConductorOptions, stop_reason=lambda: None):
        self.films = films
        self.options = options
        self._stop_reason = stop_reason
        self._cue: Cue | None = None
        self._number = 0
        self._lock = threading.Lock()
        self._seats: dict[str, tuple[dict, float]] = {}  # name → (its status, monotonic time heard)
        self._queue = CommandQueue()
        self._taken_back = threading.Event()
        self.link = RoomLink(address, f"vrplayer-conductor-{address.room}", ["state", "time/ask", "seats/+"],
                             self._message, on_connect=self._republish)
        self.control = None
        if options.control:
            self.control = ControlServer(options.control, self.status, self._accept, options.token,
                                         items=lambda: len(self.films), page=(PAGE, PAGE_CSP), commands=ROOM_COMMANDS,
                                         validate=validate_room_command, query_fields=("item", "seat", "position"),
                                         name="conductor")

    # -- the network thread ---------------------------------------------------------------------------------------

    def _message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == "time/ask":
            received = time.monotonic()
            seat, ident, t1 = messages.read_time_ask(payload)
            self.link.publish(f"time/answer/{seat}", messages.encode({"id": ident, "t1": t1, "t2": received, "t3": time.monotonic()}))
        elif topic.startswith("seats/") and topic.count("/") == 1:
            status = messages.read_seat_status(payload)
            if status["seat"] != topic.split("/", 1)[1]:
                raise MessageError(f"a status of seat {status['seat']!r} on another seat's topic")
            with self._lock:
                self._seats[status["seat"]] = (status, time.monotonic())
        elif topic == "state" and retained and self._cue is None and not self._taken_back.is_set():
            cue, _, _ = messages.read_state(payload)
            self._take_back(cue)

    def _take_back(self, cue: Cue) -> None:
        """A conductor started again: the room goes on from its retained state when it plays one of our films (one
        that ended meanwhile is followed by the next, as it would have been)."""
        film = self._film(cue)
        self._number = cue.number  # (our cues come after the room's last, whatever we do)
        if film is not None:
            self._cue = cue
            _log.info("took the room back: item %d (%s) at %.1f s, %s", cue.item, cue.film,
                      min(cue.position_at(time.monotonic()), film.stop), "playing" if cue.playing else "paused")
        self._taken_back.set()

    def _republish(self) -> None:
        """On (re)connecting: a broker that was restarted has lost the retained state; say it again."""
        if self._cue is not None:
            self._publish_state()

    # -- cues -----------------------------------------------------------------------------------------------------

    def _film(self, cue: Cue) -> RoomFilm | None:
        if 1 <= cue.item <= len(self.films) and self.films[cue.item - 1].name == cue.film:
            return self.films[cue.item - 1]
        return None

    def _new_cue(self, item: int, position: float, playing: bool, delay: float) -> Cue:
        now = time.monotonic()
        self._number += 1
        film = self.films[item - 1] if item else None
        return Cue(self._number, film.name if film else "", item, round(position, 6), round(now + delay, 6), playing,
                   round(now, 6), film.end if film else None)

    def _publish_state(self) -> None:
        cue = self._cue
        self.link.publish("state", messages.encode({"cue": cue.as_dict(), "programme": [f.name for f in self.films]}),
                          retain=True, qos=1)

    def _set(self, cue: Cue) -> None:
        self._cue = cue
        self._publish_state()
        _log.info("cue %d: %s at %.3f s, %s, at %.3f (in %.2f s)", cue.number, cue.film or "nothing", cue.position,
                  "playing" if cue.playing else "paused", cue.instant, cue.instant - time.monotonic())

    def load(self, item: int, delay: float | None = None) -> None:
        film = self.films[item - 1]
        self._set(self._new_cue(item, film.start, True, self.options.start_delay if delay is None else delay))

    def apply(self, command: str, args: dict) -> None:
        """A staff command, for the room or (with "seat") one seat."""
        cue = self._cue
        seat = args.get("seat")
        lead = self.options.lead
        if command in ("recenter", "restart") and (seat or command == "recenter"):
            now = time.monotonic()
            self._send(seat, {"command": command, "instant": round(now + lead, 6), "issued": round(now, 6)})
            return
        item = cue.item if cue is not None else 0
        target = self.film_change(command, args)
        if target is not None:
            new = self._new_cue(target, self.films[target - 1].start, True, self.options.start_delay)
        else:
            at = time.monotonic() + lead
            here = cue.position_at(at)
            film = self.films[item - 1]
            if command == "play":
                new = self._new_cue(item, here, True, lead)
            elif command == "pause":
                new = self._new_cue(item, min(here, film.stop), False, lead)
            elif command == "seek":
                new = self._new_cue(item, min(max(0.0, args["position"]), film.stop - END_GUARD), cue.playing, lead)
            else:  # restart: the film again from its start
                new = self._new_cue(item, film.start, True, lead)
        if seat:
            self._send(seat, {"command": "cue", "cue": new.as_dict(), "instant": new.instant, "issued": new.issued})
        else:
            self._set(new)

    def film_change(self, command: str, args: dict) -> int | None:
        """The item a command plays from its start (load, next, previous, or play with nothing playing), None for a
        command within the film; ValueError when it cannot be carried out now (checked as the operator asks, so
        that a command answered as accepted is carried out)."""
        cue = self._cue
        item = cue.item if cue is not None else 0
        if item == 0 and command not in ("load", "next", "previous", "play", "recenter", "restart"):
            raise ValueError("the room plays nothing now: load an item first")
        if command in ("recenter", "restart") and (args.get("seat") or command == "recenter"):
            return None
        if command not in ("load", "next", "previous") and item != 0:
            return None
        if command == "load":
            return args["item"]
        if command == "next" and item == len(self.films):
            if not self.options.loop:
                raise ValueError(f"item {item} is the programme's last: nothing comes next (load an item)")
            return 1
        return item + 1 if command == "next" else max(1, item - 1)

    def _accept(self, command: str, args: dict) -> dict:
        """The operator's command sink: refused at once when it cannot be carried out, else queued for the loop."""
        self.film_change(command, args)
        return self._queue(command, args)

    def _send(self, seat: str | None, message: dict) -> None:
        topic = f"seats/{seat}/command" if seat else "command"
        self.link.publish(topic, messages.encode(message), qos=1)
        _log.info("%s for %s at %.3f", message["command"], f"seat {seat}" if seat else "every seat", message["instant"])

    # -- the operator's view --------------------------------------------------------------------------------------

    def status(self) -> dict:
        now = time.monotonic()
        cue = self._cue
        film = self._film(cue) if cue is not None else None
        with self._lock:
            seats = dict(self._seats)
        rows = []
        for name, (status, heard) in sorted(seats.items()):
            row = dict(status)
            row["last_seen_s"] = round(now - heard, 1)
            if now - heard > SEAT_SILENT and row["state"] != "lost":
                row["state"] = "lost"
            rows.append(row)
        return {
            "room": self.link.address.room, "broker": "connected" if self.link.connected else "reconnecting",
            "state": "idle" if film is None else "starting" if now < cue.instant and cue.playing else "playing" if cue.playing else "paused",
            "item": {"number": cue.item, "title": film.title} if film else None,
            "position": round(min(cue.position_at(now), film.stop), 2) if film else None,
            "duration": round(film.stop, 2) if film else None,
            "seats": rows, "programme": [{"number": i + 1, "title": f.title} for i, f in enumerate(self.films)],
        }

    # -- the loop -------------------------------------------------------------------------------------------------

    def run(self) -> int:
        self.link.start()
        if self.control is not None:
            self.control.start()
        try:
            self._taken_back.wait(TAKE_BACK_WAIT)
            self._taken_back.set()
            if self._cue is None:
                self.load(1)
            while self._stop_reason() is None:
                for command, args in self._queue.drain():
                    try:
                        self.apply(command, args)
                    except ValueError as exc:
                        _log.warning("staff command %s not carried out: %s", command, exc)
                if not self._advance():
                    return 0
                time.sleep(0.02)
            _log.info("stopped (%s)", self._stop_reason())
            return 0
        finally:
            if self.control is not None:
                self.control.stop()
            self.link.stop()

    def _advance(self) -> bool:
        """At a film's end, the next film (or, after the last, nothing: False, unless looping)."""
        cue = self._cue
        film = self._film(cue)
        if film is None or not cue.playing or cue.position_at(time.monotonic()) < film.stop:
            return True
        if cue.item < len(self.films):
            self.load(cue.item + 1)
        elif self.options.loop:
            self.load(1)
        else:
            self._set(self._new_cue(0, 0.0, False, 0.0))
            _log.info("the programme is over")
            return False
        return True


def validate_room_command(data, items: int | None = None) -> tuple[str, dict]:
    """A request body → (command, args); ValueError with a message for the operator when it is wrong."""
    if not isinstance(data, dict):
        raise ValueError('send a JSON object like {"command": "pause"}')
    unknown = sorted(set(data) - {"command", "item", "seat", "position"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; only command, item, seat and position are understood")
    command = data.get("command")
    if command not in ROOM_COMMANDS:
        raise ValueError(f"unknown command {str(command)[:40]!r}; use one of: {', '.join(ROOM_COMMANDS)}")
    args = {}
    if data.get("seat") not in (None, "", "all"):
        try:
            args["seat"] = messages.check_name(data["seat"], "seat")
        except MessageError as exc:
            raise ValueError(str(exc)) from None
    if command == "load":
        item = data.get("item")
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item)
        if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= (items or 1 << 30):
            raise ValueError(f'"load" needs "item": a number from 1 to {items}')
        args["item"] = item
    elif "item" in data:
        raise ValueError('"item" goes only with "load"')
    if command == "seek":
        try:
            position = float(data.get("position"))
        except (TypeError, ValueError):
            raise ValueError('"seek" needs "position": seconds into the film') from None
        if not 0 <= position < 1e7:
            raise ValueError('"position" must be 0 or more seconds')
        args["position"] = position
    elif "position" in data:
        raise ValueError('"position" goes only with "seek"')
    return command, args


def room_films(paths: list[str]) -> list[RoomFilm]:
    """The conductor's programme: films given by name, or one kiosk programme file (JSON, TOML, M3U)."""
    from vrplayer.kiosk.programme import load_programme
    from vrplayer.media.container import duration_seconds, open_container, video_stream

    entries = []
    if len(paths) == 1 and Path(paths[0]).suffix.lower() in (".json", ".toml", ".m3u", ".m3u8"):
        programme = load_programme(paths[0])
        for warning in programme.warnings:
            _log.warning("%s", warning)
        entries = [(str(i.file), i.display_title, i.start, i.end) for i in programme.items if i.url is None]
    else:
        entries = [(p, Path(p).stem, 0.0, None) for p in paths]
    films = []
    for path, title, start, end in entries:
        container = open_container(path)
        try:
            duration = duration_seconds(container, video_stream(container, path))
        finally:
            container.close()
        if not duration:
            raise RoomError(f"{path}: its length is not known, so the room could not move on after it")
        films.append(RoomFilm(Path(path).name, duration, title, start, end))
    return films
