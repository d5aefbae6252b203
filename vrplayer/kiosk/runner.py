"""The festival kiosk: plays a programme all day with nobody at the controls.

It greets each viewer from the start of a film, skips whatever is broken (logging why), reloads the programme when
it is edited (keeping the last good one when an edit is broken), carries on without sound when the audio device
goes and takes it back when it returns, keeps retrying when nothing in the programme can play, answers the staff's
HTTP API, and writes a session log (one JSON line per event, and a 10 Hz head trace per viewing).

Viewers, on a desktop kiosk (no headset to say who is there):
  start_trigger "auto": the programme plays on by itself, film after film;
  start_trigger "key":  the attract film (or a "press a key" screen) shows until someone presses a key or clicks;
                        then the next film plays from its start, and the kiosk waits for the next viewer.
In a headset, putting it on is the trigger: the attract film (or a "put on the headset" screen) shows until then.
When it comes off mid-film, `on_viewer_leaves` says what happens: "reset" (pause; after `grace_seconds` back to the
attract state), "pause" (until someone puts it on) or "continue"; when it goes back on within the grace period,
`on_viewer_returns` says "restart" (the film from its start) or "resume". Every film starts recentred.
"""

from __future__ import annotations

import collections
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vrplayer import log
from vrplayer.analytics.recorder import HeadTraceRecorder
from vrplayer.errors import PlayerError
from vrplayer.kiosk.cache import DEFAULT_LIMIT, FilmCache, default_cache
from vrplayer.kiosk.control import CommandQueue, ControlServer
from vrplayer.kiosk.fetcher import Fetcher, wanted_of
from vrplayer.kiosk.films_present import FilmsPresent
from vrplayer.kiosk.lifeline import Lifeline
from vrplayer.kiosk.programme import ProgrammeItem, ProgrammeWatcher, cursor_after_reload
from vrplayer.kiosk.sessionlog import SessionLog, timestamp
from vrplayer.kiosk.skips import SkipLog
from vrplayer.kiosk.supervisor import DISPLAY_GONE, STATE_FILE
from vrplayer.player import Film
from vrplayer.player.commands import REMOTE_IN_FILM

_log = log.get("kiosk")

RETRY_SECONDS = 10.0  # how long the "nothing to play" screen stays before the programme is tried again
AUDIO_RETRY_SECONDS = 10.0  # how often a lost audio device is looked for again, between films
STATUS_EVERY = 0.25  # seconds between status refreshes (the HTTP page polls once a second)
RELOAD_CHECK_EVERY = 1.0  # seconds: between films the programme file is looked at no more often (a run of skips)
TURN_EVERY = 0.05  # seconds of skipping unplayable items after which the player's loop turns once
WARNINGS_TOLD = 10  # of a programme's warnings, logged one by one (the rest are counted)


@dataclass
class KioskOptions:
    log_dir: str
    control: str | None = None  # HOST:PORT for the staff API, or None
    token: str | None = None
    start_trigger: str | None = None  # "auto" or "key", over the programme's (an M3U programme cannot say)
    resume: bool = False  # start after the film recorded in the state file (after a crash)
    heartbeat_fd: int | None = None  # the supervisor's heartbeat pipe (see lifeline.py)
    cache: str | None = None  # the folder films named by URL are fetched into (None: beside the programme)
    cache_limit: int = DEFAULT_LIMIT  # bytes the cache may hold (what the programme names is never evicted)
    room: object = None  # a screening room's RoomAddress: the kiosk is its seat (see room/kiosk_seat.py)
    seat_name: str | None = None


def _steered_by_the_room(command: str, args: dict):
    raise ValueError("this kiosk is a seat of a screening room: its films are steered from the room's conductor")


class Kiosk:
    def __init__(self, programme_path: str, player, options: KioskOptions):
        self.player = player
        self.options = options
        self.watcher = ProgrammeWatcher(programme_path)  # ProgrammeError: no good programme to start with
        self.programme = self.watcher.programme
        self.cursor = self.programme.cursor()
        self.session = SessionLog(options.log_dir)
        self.commands = CommandQueue()
        self.control = ControlServer(options.control, self._status_now,
                                     self.commands if options.room is None else _steered_by_the_room, options.token,
                                     items=lambda: len(self.programme.items)) if options.control else None
        self.errors: collections.deque[str] = collections.deque(maxlen=10)
        self.started = time.monotonic()
        self.state = "starting"
        self.item: ProgrammeItem | None = None
        self.viewer = False
        self.films_played = 0
        self._pending: int | None = None  # an item index staff asked for, played next
        self._status: dict = {}
        self._status_at = 0.0
        self._audio_retry_at = 0.0
        self._attract_broken = False  # the attract film failed: the start screen stands in until the next reload
        self._left_at: float | None = None  # when the viewer took the headset off mid-film
        self.lifeline = Lifeline(options.heartbeat_fd)  # stop signals, and the supervisor's heartbeat
        self.films = FilmsPresent(_local_files(self.programme))
        self.cache = FilmCache(options.cache or default_cache(self.programme.path), options.cache_limit)
        try:
            self.cache.open()
        except OSError as exc:
            raise PlayerError(f"cannot make the film cache folder {self.cache.folder} ({exc.strerror}); give --cache "
                              "a folder the kiosk may write") from None
        self.fetcher = Fetcher(self.cache, on_event=self.session.event)
        self._skips = SkipLog(self.session)
        self._reload_checked_at = 0.0
        self._turned_at = 0.0  # the player's loop last turned (on_tick)
        self._deadline: float | None = None  # --duration's end
        self._why: str | None = None  # why the kiosk stopped, for kiosk_stopped
        self._story = threading.Lock()  # the log's last lines are written once, by the loop or by the lifeline
        self._story_closed = False
        self.headset = player.display.name == "xr"
        player.audience = True
        player.remote = self._take_commands
        player.on_tick = self._tick
        player.on_presence = self._presence
        player.events.listen(self._heard)
        # Each programme viewing's head trace, in the format `vrplayer heatmap` reads (an attract film is no viewing).
        self.heads = HeadTraceRecorder(Path(options.log_dir) / "heads", player.display_fov, player.display.name,
                                       source="kiosk", accept=lambda film: self.state == "playing")
        player.events.listen(self.heads)

    # -- the programme ------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Play until the window is closed or --duration is up (or a non-looping programme ends, or a signal or the
        supervisor's end asks it to stop). However it ends, the log's story closes: the film that was playing ends
        (film_ended), then kiosk_stopped says why."""
        if self.control is not None:
            self.control.start()  # a port in use is a start error (the caller logs it): nothing has begun yet
        self.session.event("kiosk_started", programme=str(self.programme.path), pid=os.getpid())
        self._log_programme("programme_loaded")
        if self.control is not None:
            _log.info("staff page: %s", self.control.url)
            self.session.event("control_started", url=self.control.url)
        self.lifeline.on_give_up = self._give_up
        self.lifeline.start()
        self.films.start()
        self.fetcher.want(wanted_of(self.programme.urls()))
        self.fetcher.start()
        if self.options.resume:
            self._resume()
        self.player.start_deadline()
        duration = self.player.options.duration
        self._deadline = None if duration is None else time.monotonic() + duration
        try:
            if self.options.room is not None:
                from vrplayer.room.kiosk_seat import run_as_seat

                return run_as_seat(self, self.options.room, self.options.seat_name)
            return self._run()
        finally:
            # The signal handlers stay until the story is closed: a second SIGTERM (the parent-death signal comes
            # once for each of the supervisor's threads that had us as a child) must not end us before that.
            self.films.stop()
            self.fetcher.stop()
            if self.control is not None:
                self.control.stop()
            self._close_story(self._why or "error")
            self.session.close()
            self.lifeline.close()

    def _close_story(self, why: str, film_reason: str | None = None) -> None:
        """The log's last lines, once: what is left of a run of skips, the film cut short (when the loop could not
        end it itself), kiosk_stopped."""
        with self._story:
            if self._story_closed:
                return
            self._story_closed = True
        self._skips.run_ended()
        if film_reason is not None and self.state == "playing" and self.item is not None:
            self.session.event("film_ended", item=self.item.number, title=self.item.display_title, reason=film_reason)
        self.session.event("kiosk_stopped", films_played=self.films_played, why=why)

    def _give_up(self, reason: str) -> None:
        """The lifeline's last resort: asked to stop, the loop did not (stuck in a read); the process ends now."""
        self._close_story(reason, film_reason=reason)

    def why_stopped(self, why: str) -> None:
        self._why = why

    def _stopping(self) -> bool:
        """A stop was asked for (a signal, the supervisor gone): remember why."""
        if self.lifeline.stop_reason is None:
            return False
        self._why = self.lifeline.stop_reason
        return True

    def _run(self) -> int:
        while True:
            self.lifeline.beat()
            if self._stopping():
                return 0
            self._between_films(every=RELOAD_CHECK_EVERY)
            if self.cursor.no_playable:
                outcome = self._nothing_to_play()
            elif not self.viewer and (self.headset or self.start_trigger == "key"):
                outcome = self._attract()
            else:
                index = self._pending if self._pending is not None else self.cursor.next()
                self._pending = None
                if index is None:
                    if self.cursor.no_playable:
                        continue
                    self.session.event("programme_ended")
                    self._why = "programme ended"
                    return 0
                outcome = self._play_item(index)
                if outcome == "skipped":
                    outcome = self._turn_while_skipping()
            if self._stopping():
                return 0
            if outcome == "quit":
                self._why = "duration" if self._deadline is not None and time.monotonic() >= self._deadline else "window closed"
                return 0
            if outcome == "headset-lost":
                self._why = "headset lost"
                self.session.event("headset_lost")
                _log.error("the headset (its OpenXR runtime) is gone; the kiosk starts again and waits for it")
                return DISPLAY_GONE
            if isinstance(outcome, tuple) and outcome[0] == "remote":
                self._remote(outcome[1], outcome[2])

    def _turn_while_skipping(self):
        """A long run of unplayable items must not starve the loop: after TURN_EVERY seconds of it the player's loop
        turns once, on a blank screen (the display's events, the staff's commands, --duration, the status and the
        heartbeat); its outcome, or None."""
        if time.monotonic() - self._turned_at < TURN_EVERY:
            return None
        outcome = self.player.show_text("", 0.0)
        return None if outcome == "end" else outcome

    def _play_item(self, index: int):
        item = self.programme.items[index]
        if self.films.missing(index):  # known from a look on another thread: no time spent trying it here
            self._skip(index, f"{item.file}: no such file; check the path")
            return "skipped"
        path = item.file
        if item.url is not None and item.stream:
            path = item.url  # played as it arrives, buffering as it must (a live stream)
        elif item.url is not None:  # played from the cache, only once complete and verified
            ready = self.fetcher.ready(item.url, item.sha256)
            if ready is None:
                self._skip(index, self.fetcher.why_not(item.url))
                return "skipped"
            path = ready
            self.cache.played(item.url)
        self.item = item
        self._save_state(index)
        if item.title_card is not None:
            self.state = "title card"
            self.session.event("title_card", item=item.number, text=item.title_card.text)
            outcome = self.player.show_text(item.title_card.text.upper(), item.title_card.seconds)
            if outcome != "end":
                return outcome
        film = Film(
            str(path), start=item.start, end=item.end, volume=item.volume, layout_flags=_layout_flags(item),
            start_view=(item.initial_yaw, None, None), seconds=item.seconds,
        )
        self.state = "playing"  # film_started is logged once the film is on screen (see _heard)
        traced_before = self.heads.last_written
        try:
            outcome = self.player.play_film(film)
        except PlayerError as exc:
            self._skip(index, str(exc))
            return "skipped"
        finally:
            self.state = "between films"
        self.films_played += 1
        if self.heads.last_written != traced_before:  # this viewing's head trace: named in the log, not copied
            trace = self.heads.last_written
            self.session.event("head_trace", item=item.number, title=item.display_title,
                               file=str(trace.relative_to(self.options.log_dir)), samples=self.heads.last_samples)
        if outcome == "viewer-left":
            self.session.event("reset", item=item.number, why=f"no viewer for {self.programme.options.grace_seconds:g} s")
        elif outcome == "end" and self.start_trigger == "key" and not self.headset:
            self._viewer_left("film over")
        return outcome

    def _skip(self, index: int, error: str) -> None:
        self.cursor.mark_bad(index)
        item = self.programme.items[index]
        self.errors.append(error)
        self._skips.skipped(item.number, str(item.file), error)

    def _attract(self):
        self.state = "attract"
        attract = self.programme.options.attract
        outcome = None
        if attract is not None and not self._attract_broken:
            try:
                outcome = self.player.play_film(Film(str(attract), attract=True))
            except PlayerError as exc:
                self._attract_broken = True
                self.errors.append(str(exc))
                _log.error("attract film: %s; showing the start screen instead", exc)
                self.session.event("error", what="attract", error=str(exc))
        if outcome is None:
            invitation = "PUT ON THE HEADSET TO START" if self.headset else "PRESS ANY KEY TO START"
            outcome = self.player.show_text(invitation, RETRY_SECONDS, attract=True)
        if outcome == "viewer":
            self.viewer = True
            self.session.event("viewer_on", how="headset on" if self.headset else "key")
        return outcome

    def _presence(self, on: bool) -> str | None:
        """The headset came off or went on during a film: what the film should do (see the module notes)."""
        options = self.programme.options
        if not on:
            self._viewer_left("headset off")
            if options.on_viewer_leaves == "continue":
                return None
            self._left_at = time.monotonic()
            self.player.presence.fade_seconds = options.fade_seconds
            return "fade"  # sound and picture down, then paused
        if self.viewer:
            return None  # already greeted (the attract state saw the headset go on)
        self.viewer = True
        self.session.event("viewer_on", how="headset on")
        left_at, self._left_at = self._left_at, None
        if left_at is None:
            return None
        return "resume" if options.on_viewer_returns == "resume" else "restart"

    def _viewer_left(self, why: str) -> None:
        if self.viewer:
            self.viewer = False
            self.session.event("viewer_off", why=why)

    def _nothing_to_play(self):
        """Nothing in the programme could play on the last pass: say so on screen, then try everything again."""
        self.state = "no playable item"
        last = self.errors[-1] if self.errors else "every item failed"
        message = "NOTHING IN THE PROGRAMME CAN PLAY - RETRYING"
        _log.error("nothing in the programme can play (last error: %s); retrying in %.0f s", last, RETRY_SECONDS)
        self._skips.run_ended()
        self.session.event("no_playable_item", last_error=last)
        outcome = self.player.show_text(message, RETRY_SECONDS)
        self.cursor.rewind()
        return outcome

    def _between_films(self, every: float = 0.0) -> None:
        """A changed programme is reloaded (looked at no more than every `every` seconds), a lost audio device
        looked for."""
        if time.monotonic() - self._reload_checked_at >= every:
            self._reload_checked_at = time.monotonic()
            self._reload_if_changed()
        if self.player.wants_audio and self.player.output is None and time.monotonic() >= self._audio_retry_at:
            self._audio_retry_at = time.monotonic() + AUDIO_RETRY_SECONDS
            if self.player.open_audio():
                self.session.event("audio_back")

    def subtitles_for(self, film: str) -> str | None:
        """The programme item's own subtitles for the film it is playing ("off", a language, a file), or None."""
        item = self.item
        return item.subtitles if item is not None and str(item.file) == film else None

    @property
    def start_trigger(self) -> str:
        """"auto" or "key" (see the module notes): the command line's, else the programme's."""
        return self.options.start_trigger or self.programme.options.start_trigger

    def _take_commands(self) -> list[tuple[str, dict]]:
        """Staff commands for the player's loop, oldest first, up to the first that ends the film or screen on show:
        the ones behind it stay queued, in order, for what comes next. A reload is done here and now, without
        stopping the film. Each is logged as it is carried out (the player acts on a film's commands at once; one
        that ends the film is logged by _remote), or logged as dropped, saying why."""
        handed = []
        while (command := self.commands.take(self._takes_now)) is not None:
            name, args = command
            if name == "reload":
                self.session.event("command", command=name)
                self._between_films()
            elif name not in REMOTE_IN_FILM:
                handed.append(command)
                break
            elif self.state == "playing":
                self.session.event("command", command=name, **args)
                handed.append(command)
            else:
                self.session.event("command_dropped", command=name, **args, why=f"no film is playing ({self.state})")
        return handed

    def _takes_now(self, name: str, args: dict) -> bool:
        # During a title card a command for the film waits for its film: "next" then "pause" pauses the next film.
        return not (self.state == "title card" and name in REMOTE_IN_FILM)

    def _remote(self, name: str, args: dict) -> None:
        """A staff command that ended the film (or screen) on show, then those of its kind queued behind it, so that
        next, next moves two films and next, play 5 plays item 5 (with nothing shown between). They choose what
        plays next; on the attract screen that film starts at once: staff started it for someone."""
        while True:
            self._choose(name, args)
            command = self.commands.take(lambda name, args: name not in REMOTE_IN_FILM)
            if command is None:
                return
            name, args = command

    def _choose(self, name: str, args: dict) -> None:
        if name == "reload":
            self.session.event("command", command=name)
            self._between_films()
            return
        try:
            if name == "next":
                self._pending = self.cursor.next()
            elif name == "previous":
                self._pending = self.cursor.previous()
            elif name == "play":
                self._pending = self.cursor.goto(int(args["item"]) - 1)
        except (IndexError, KeyError, ValueError) as exc:  # the programme was reloaded shorter since the request
            self.errors.append(str(exc))
            self.session.event("command_dropped", command=name, **args, why=str(exc))
            return
        self.session.event("command", command=name, **args)
        if self._pending is not None and not self.viewer and (self.headset or self.start_trigger == "key"):
            self.viewer = True
            self.session.event("viewer_on", how="staff")

    def _resume(self) -> None:
        try:
            state = json.loads((Path(self.options.log_dir) / STATE_FILE).read_text())
            index = int(state["item"]) - 1
            if state.get("programme") == str(self.programme.path) and 0 <= index < len(self.programme.items):
                self.cursor.goto(index)  # the film that was playing; next() plays what follows it
                self.session.event("resumed", after_item=index + 1)
        except (OSError, ValueError, KeyError, IndexError):
            pass

    def _save_state(self, index: int) -> None:
        path = Path(self.options.log_dir) / STATE_FILE
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"programme": str(self.programme.path), "item": index + 1}))
            os.replace(tmp, path)
        except OSError as exc:
            _log.debug("cannot write %s: %s", path, exc)

    def _reload_if_changed(self) -> None:
        programme, changed, error = self.watcher.reload_if_changed()
        if error:
            _log.error("%s", error)
            self.errors.append(error)
            self.session.event("programme_reload_failed", error=error)
        if changed:
            self.cursor = cursor_after_reload(self.programme, self.cursor, programme)
            self.programme = programme
            self.films.stop()
            self.films = FilmsPresent(_local_files(programme)).start()
            self.fetcher.want(wanted_of(programme.urls()))
            self._attract_broken = False
            self._log_programme("programme_reloaded")

    def _log_programme(self, event: str) -> None:
        """The programme's warnings: the first few one by one, the rest counted (100 000 missing films are one line)."""
        warnings = self.programme.warnings
        for warning in warnings[:WARNINGS_TOLD]:
            _log.warning("%s", warning)
        if len(warnings) > WARNINGS_TOLD:
            _log.warning("... and %d more warnings like these", len(warnings) - WARNINGS_TOLD)
        self.session.event(event, items=len(self.programme.items), warnings=warnings[:WARNINGS_TOLD],
                           warnings_total=len(warnings))

    # -- what the player tells, and the status (on the player's thread, every turn of its loop) -----------------

    def _heard(self, event) -> None:
        """The player's events: a programme film on screen and over goes into the session log."""
        if self.state != "playing" or self.item is None:
            return  # the attract film, title cards
        item = self.item
        if event.name == "film_started":
            self._skips.run_ended()  # the skips before this film, told before it
            self.session.event("film_started", item=item.number, title=item.display_title, file=item.url or str(item.file),
                               layout=event.data["projection"])
        elif event.name == "film_ended":
            outcome = event.data["outcome"]
            counts = {key: event.data[key] for key in ("frames_shown", "frames_dropped", "audio_underruns", "audio_late_blocks")}
            reason = "stopped" if outcome == "quit" else outcome if isinstance(outcome, str) else outcome[1]
            problem = {"problem": event.data["problem"]} if event.data.get("problem") else {}  # (played, not whole)
            self.session.event("film_ended", item=item.number, title=item.display_title, reason=reason, **counts,
                               **problem)

    def _tick(self, playback) -> str | None:
        """The heartbeat, a stop asked for (its reason ends the film), the grace period of a viewer who left
        ("viewer-left" ends the film), and the status."""
        now = self._turned_at = time.monotonic()
        self.lifeline.beat()
        if self.lifeline.stop_reason is not None:
            return self.lifeline.stop_reason
        options = self.programme.options
        if (self._left_at is not None and options.on_viewer_leaves == "reset"
                and now - self._left_at >= options.grace_seconds):
            self._left_at = None
            return "viewer-left"
        if now - self._status_at < STATUS_EVERY:
            return None
        self._status_at = now
        status = {
            "state": ("paused" if playback is not None and playback.clock.paused and self.state == "playing" else self.state),
            "item": {"number": self.item.number, "title": self.item.display_title} if self.item else None,
            "position": round(playback.clock.now(), 1) if playback is not None else None,
            "duration": round(playback.duration, 1) if playback is not None and playback.duration else None,
            "viewer": self.viewer,
            "headset": (("on" if self.player.display.headset_on else "off") if self.headset else None),
            "dropped_frames": playback.scheduler.dropped if playback is not None else 0,
            "films_played": self.films_played,
            "sound": "on" if self.player.output is not None else "none",
            "uptime_s": round(now - self.started),
            "programme": str(self.programme.path),
            "programme_error": self.watcher.error,
            "last_errors": list(self.errors)[-5:],
            "updated_at": timestamp(),
        }
        if playback is not None and playback.network is not None:  # a film streamed from its server
            ahead = playback.network.seconds_ahead_of(playback.position)
            status["buffer_s"] = None if ahead == float("inf") else round(ahead, 1)
            status["throughput_bps"] = round(playback.network.throughput())
            status["buffering"] = self.player.buffering.active
        if self.programme.urls():  # what is fetched ahead, and the cache it goes into
            status["downloads"] = self.fetcher.status()
            status["cache"] = {"folder": str(self.cache.folder), "limit_bytes": self.cache.limit}
        self._status = status  # one assignment: the HTTP threads read whole dicts
        return None

    def _status_now(self) -> dict:
        """The status as last updated by the loop, and its age: a frozen loop shows as an age that keeps growing."""
        status, at = self._status, self._status_at
        return {**status, "age_s": round(time.monotonic() - at, 1)} if status else status


def _local_files(programme) -> list:
    return [item.file if item.url is None else None for item in programme.items]


def _layout_flags(item: ProgrammeItem) -> dict:
    flags = {"projection": item.projection, "stereo": item.stereo, "eyes_swapped": item.eyes_swapped, "fov_covered": item.fov}
    return {k: v for k, v in flags.items() if v is not None}
