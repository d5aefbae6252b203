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
import time
from dataclasses import dataclass
from pathlib import Path

from vrplayer import log
from vrplayer.errors import PlayerError
from vrplayer.kiosk.control import CommandQueue, ControlServer
from vrplayer.kiosk.programme import ProgrammeItem, ProgrammeWatcher, cursor_after_reload
from vrplayer.kiosk.sessionlog import SessionLog, ViewingTrace
from vrplayer.kiosk.supervisor import DISPLAY_GONE
from vrplayer.player import Film

_log = log.get("kiosk")

RETRY_SECONDS = 10.0  # how long the "nothing to play" screen stays before the programme is tried again
AUDIO_RETRY_SECONDS = 10.0  # how often a lost audio device is looked for again, between films
STATUS_EVERY = 0.25  # seconds between status refreshes (the HTTP page polls once a second)
STATE_FILE = "state.json"  # in the log folder: the programme position, so a restarted kiosk resumes there


@dataclass
class KioskOptions:
    log_dir: str
    control: str | None = None  # HOST:PORT for the staff API, or None
    token: str | None = None
    resume: bool = False  # start after the film recorded in the state file (after a crash)


class Kiosk:
    def __init__(self, programme_path: str, player, options: KioskOptions):
        self.player = player
        self.options = options
        self.watcher = ProgrammeWatcher(programme_path)  # ProgrammeError: no good programme to start with
        self.programme = self.watcher.programme
        self.cursor = self.programme.cursor()
        self.session = SessionLog(options.log_dir)
        self.commands = CommandQueue()
        self.control = ControlServer(options.control, self._status_now, self.commands, options.token) if options.control else None
        self.errors: collections.deque[str] = collections.deque(maxlen=10)
        self.started = time.monotonic()
        self.state = "starting"
        self.item: ProgrammeItem | None = None
        self.viewer = False
        self.films_played = 0
        self._pending: int | None = None  # an item index staff asked for, played next
        self._status: dict = {}
        self._status_at = 0.0
        self._trace: ViewingTrace | None = None
        self._audio_retry_at = 0.0
        self._attract_broken = False  # the attract film failed: the start screen stands in until the next reload
        self._left_at: float | None = None  # when the viewer took the headset off mid-film
        self.headset = player.display.name == "xr"
        player.audience = True
        player.remote = self._take_commands
        player.on_tick = self._tick
        player.on_presence = self._presence
        player.events.listen(self._heard)

    # -- the programme ------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Play until the window is closed or --duration is up (or a non-looping programme ends)."""
        self.session.event("kiosk_started", programme=str(self.programme.path), pid=os.getpid())
        self._log_programme("programme_loaded")
        if self.control is not None:
            self.control.start()
            _log.info("staff page: %s", self.control.url)
            self.session.event("control_started", url=self.control.url)
        if self.options.resume:
            self._resume()
        self.player.start_deadline()
        try:
            return self._run()
        finally:
            if self.control is not None:
                self.control.stop()
            self.session.event("kiosk_stopped", films_played=self.films_played)
            self.session.close()

    def _run(self) -> int:
        while True:
            self._between_films()
            if self.cursor.no_playable:
                outcome = self._nothing_to_play()
            elif not self.viewer and (self.headset or self.programme.options.start_trigger == "key"):
                outcome = self._attract()
            else:
                index = self._pending if self._pending is not None else self.cursor.next()
                self._pending = None
                if index is None:
                    if self.cursor.no_playable:
                        continue
                    self.session.event("programme_ended")
                    return 0
                outcome = self._play_item(index)
            if outcome == "quit":
                return 0
            if outcome == "headset-lost":
                self.session.event("headset_lost")
                _log.error("the headset (its OpenXR runtime) is gone; the kiosk starts again and waits for it")
                return DISPLAY_GONE
            if isinstance(outcome, tuple) and outcome[0] == "remote":
                self._remote(outcome[1], outcome[2])

    def _play_item(self, index: int):
        item = self.programme.items[index]
        self.item = item
        self._save_state(index)
        if item.title_card is not None:
            self.state = "title card"
            self.session.event("title_card", item=item.number, text=item.title_card.text)
            outcome = self.player.show_text(item.title_card.text.upper(), item.title_card.seconds)
            if outcome != "end":
                return outcome
        film = Film(
            str(item.file), start=item.start, end=item.end, volume=item.volume, layout_flags=_layout_flags(item),
            start_view=(item.initial_yaw, None, None),
        )
        self.state = "playing"  # film_started is logged once the film is on screen (see _heard)
        self._trace = ViewingTrace(f"{item.number}: {item.display_title}")
        try:
            outcome = self.player.play_film(film)
        except PlayerError as exc:
            self._skip(index, str(exc))
            return "skipped"
        finally:
            self.state = "between films"
        self.films_played += 1
        if self._trace is not None and len(self._trace):
            self._trace.write(self.session, title=item.display_title)
        self._trace = None
        if outcome == "viewer-left":
            self.session.event("reset", item=item.number, why=f"no viewer for {self.programme.options.grace_seconds:g} s")
        elif outcome == "end" and self.programme.options.start_trigger == "key" and not self.headset:
            self._viewer_left("film over")
        return outcome

    def _skip(self, index: int, error: str) -> None:
        self.cursor.mark_bad(index)
        item = self.programme.items[index]
        _log.error("skipping item %d: %s", item.number, error)
        self.errors.append(error)
        self.session.event("film_skipped", item=item.number, file=str(item.file), error=error)

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
        self.session.event("no_playable_item", last_error=last)
        outcome = self.player.show_text(message, RETRY_SECONDS)
        self.cursor.rewind()
        return outcome

    def _between_films(self) -> None:
        programme, changed, error = self.watcher.reload_if_changed()
        if error:
            _log.error("%s", error)
            self.errors.append(error)
            self.session.event("programme_reload_failed", error=error)
        if changed:
            self.cursor = cursor_after_reload(self.programme, self.cursor, programme)
            self.programme = programme
            self._attract_broken = False
            self._log_programme("programme_reloaded")
        if self.player.wants_audio and self.player.output is None and time.monotonic() >= self._audio_retry_at:
            self._audio_retry_at = time.monotonic() + AUDIO_RETRY_SECONDS
            if self.player.open_audio():
                self.session.event("audio_back")

    def _take_commands(self) -> list[tuple[str, dict]]:
        """Staff commands for the player's loop; a reload is done here and now, without stopping the film."""
        commands = []
        for name, args in self.commands.drain():
            self.session.event("command", command=name, **args)
            if name == "reload":
                self._between_films()
            else:
                commands.append((name, args))
        return commands

    def _remote(self, name: str, args: dict) -> None:
        """A staff command that ended the film (or screen) on show: next is simply what the loop does next."""
        if name == "previous":
            self._pending = self.cursor.previous()
        elif name == "play":
            try:
                self._pending = self.cursor.goto(int(args["item"]) - 1)
            except (IndexError, KeyError, ValueError) as exc:
                self.errors.append(str(exc))
                self.session.event("error", what="command", error=str(exc))
        if self._pending is not None and self.programme.options.start_trigger == "key":
            self.viewer = True  # staff started a film for someone

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

    def _log_programme(self, event: str) -> None:
        for warning in self.programme.warnings:
            _log.warning("%s", warning)
        self.session.event(event, items=len(self.programme.items), warnings=list(self.programme.warnings))

    # -- what the player tells, and the status (on the player's thread, every turn of its loop) -----------------

    def _heard(self, event) -> None:
        """The player's events: a programme film on screen and over goes into the session log, the viewer's head
        into the viewing's trace."""
        if event.name == "head_pose":
            if self._trace is not None:
                self._trace.add(event.at, event.data["yaw"], event.data["pitch"])
            return
        if self.state != "playing" or self.item is None:
            return  # the attract film, title cards
        item = self.item
        if event.name == "film_started":
            self.session.event("film_started", item=item.number, title=item.display_title, file=str(item.file),
                               layout=event.data["projection"])
        elif event.name == "film_ended":
            outcome = event.data["outcome"]
            counts = {key: event.data[key] for key in ("frames_shown", "frames_dropped", "audio_underruns")}
            self.session.event("film_ended", item=item.number, title=item.display_title,
                               reason=outcome if isinstance(outcome, str) else outcome[1], **counts)

    def _tick(self, playback) -> str | None:
        """Status, and the grace period of a viewer who left: "viewer-left" ends the film."""
        now = time.monotonic()
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
        }
        self._status = status  # one assignment: the HTTP threads read whole dicts
        return None

    def _status_now(self) -> dict:
        return self._status


def _layout_flags(item: ProgrammeItem) -> dict:
    flags = {"projection": item.projection, "stereo": item.stereo, "eyes_swapped": item.eyes_swapped, "fov_covered": item.fov}
    return {k: v for k, v in flags.items() if v is not None}
