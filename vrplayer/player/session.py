"""The player: what lives across films (display, renderer, overlays, audio device, view, events) and the
playlist. Each film is a Playback, played by the loop of the display it is on (desktop_loop, headset_loop).

Doors for what is built around the player (the kiosk, and rooms to come):
  `events`      what a film's playback tells the world (see events.py): listen to it;
  `overlays`    callables (playback or None) → cards to draw over the film this turn (see render/overlay.py);
  `clock_for`   makes each film's clock from its mixer (default: the film's own, see sync.own_clock);
  `remote`      a callable returning commands from elsewhere: [(name, args)], each carried out in order, none
                lost (see commands.py);
  `on_tick`     called with the playback (None between films) on every turn of a loop; what it returns, when
                not None, ends the film as its outcome;
  `on_presence` the kiosk's policy for a headset going on and off (see presence.py);
  `audience`    True: the keyboard only looks around, it cannot seek or quit.
  `inputs`      callables (event, playback) → True when they took the desktop's input event (a key, a click, the
                pointer's moves): the player's own controls then do not see it (the creator's desk);
  `view_drawer` None, or a callable (viewport, cards) → None to let the sphere view be drawn, or, having drawn the
                window's picture itself (the overview), the cards to draw over it in view.
"""

from __future__ import annotations

import dataclasses
import math
import time

from vrplayer import log, memory
from vrplayer.media.camera import level_turn
from vrplayer.errors import AudioUnavailable, MediaError, PlayerError, path_text
from vrplayer.layout import covered
from vrplayer.player import desktop_loop, headset_loop
from vrplayer.player.buffering import Buffering
from vrplayer.player.commands import Commands
from vrplayer.player.events import Events
from vrplayer.player.info_line import InfoLine
from vrplayer.player.options import Film, PlayOptions, clock_text
from vrplayer.player.playback import Playback
from vrplayer.player.presence import Presence
from vrplayer.player.timing_log import TimingLog
from vrplayer.render.overlay import ImageCard, OverlayRenderer, TextCard
from vrplayer.render.placement import InView
from vrplayer.render.projection import vertical_fov
from vrplayer.render.renderer import PictureTooLarge, SphereRenderer
from vrplayer.sync import own_clock
from vrplayer.view import start_pose

_log = log.get("player")


class Player:
    """Plays films on a display, with sound on the audio device. Also the engine of the kiosk."""

    def __init__(self, display, options: PlayOptions, audio: bool = True):
        self.display = display
        self.options = options
        self.view = options.view
        self.renderer = SphereRenderer()
        self.renderer.linear_output = getattr(display, "linear_swapchain", False)
        self.overlay = OverlayRenderer()
        self.events = Events()
        self.commands = Commands(self)
        self.buffering = Buffering(self)
        self.overlays = [InfoLine(self), self.buffering.cards]
        self.presence = Presence(self)
        self.clock_for = own_clock
        self.output = None
        self.muted = False
        self.playback: Playback | None = None
        self.remote = None
        self.on_tick = None
        self.audience = False
        self.on_presence = None
        self.inputs = []
        self.view_drawer = None
        self.head_pose = (0.0, 0.0, 0.0, time.monotonic())  # yaw, pitch, roll, when: for the sound (see audio)
        self.equirect_size = None  # headset: the equirect layer's size while the film goes as one
        self.last_counts: dict = {}  # frames shown and dropped, audio underruns, of the last film played
        self.last_problem: str | None = None  # what kept the last film from playing whole (see play_film)
        self.present_cost = 0.0  # running estimate of seconds from picking a frame to its picture being shown
        self._deadline = None
        self._announced = False  # film_started emitted for the film playing
        self._was_paused = True
        self._timing = None
        self.wants_audio = audio  # False with --no-audio: never look for a device
        if options.timing_log:
            self._timing = TimingLog(options.timing_log)
            self.events.listen(self._timing)
        if audio:
            self.open_audio()

    # -- the audio device -----------------------------------------------------------------------------------------

    def open_audio(self) -> bool:
        """Open the audio device (again, after it was lost); False, with one warning, when there is none."""
        from vrplayer.audio.output import open_output

        try:
            self.output = open_output()
            self.output.start(self._fill)
            return True
        except AudioUnavailable as exc:
            _log.warning("%s; playing without sound", exc)
            self.output = None
            return False

    def drop_audio(self) -> None:
        """Let go of an audio device that has gone; films play silently until open_audio() succeeds again."""
        if self.output is not None:
            self.output.close()
            self.output = None

    def _fill(self, out, latency: float, now: float) -> None:
        playback = self.playback
        if playback is None or playback.mixer is None:
            out.fill(0.0)
        else:
            playback.mixer.fill(out, latency, now)

    # -- playlist -------------------------------------------------------------------------------------------------

    def play(self, files: list[str]) -> int:
        """Play files in order (again and again with loop); a broken file is logged and skipped. Exit status."""
        self.start_deadline()
        failures = 0
        while True:
            played = 0
            index = 0
            while index < len(files):
                film = Film(files[index], start=self.options.start, layout_flags=self.options.layout_flags,
                            start_view=self.options.start_view)
                index += 1
                try:
                    outcome = self.play_film(film)
                except PlayerError as exc:
                    failures += 1
                    _log.error("skipping %s", exc)
                    continue
                played += 1
                if self.last_problem is not None:  # it played, but not whole: the command did not do its job
                    failures += 1
                    _log.error("%s", self.last_problem)
                if outcome == "quit":
                    return 1 if failures else 0
                if outcome == "previous":  # (N and P, or a photo's ← and →; "next" is the loop's own way)
                    index = max(0, index - 2)
            if not self.options.loop or played == 0:
                break
        if played == 0 and len(files) > 1:  # (one film's own line says why it did not play: one line is enough)
            _log.error("nothing in the playlist could be played")
        return 1 if failures else 0

    def start_deadline(self) -> None:
        """Start counting --duration (all films together)."""
        self._deadline = None if self.options.duration is None else time.monotonic() + self.options.duration

    def play_film(self, film: Film):
        """Play one film to its end (or trim). Outcome: "end", "quit", "viewer" (an attract film was interrupted by
        a viewer), "headset-lost" (the OpenXR runtime went away), whatever `on_tick` returned, or
        ("remote", name, args) for a remote command the caller handles (next, previous, …).
        If the audio device goes away, the film goes on silently from where it was (its counts are the whole film's).
        "stalled": the file stopped delivering data. `last_problem` says afterwards what kept a film that played
        from playing whole (it stalled, or it is truncated). Raises PlayerError when the film cannot be played."""
        earlier = {}  # the counts of the parts before an audio loss
        while True:
            outcome, playback = self._play_once(film, earlier)
            if not (isinstance(outcome, tuple) and outcome[0] == "audio-lost"):
                self.events.emit("film_ended", film.path, playback.position, time.monotonic(), outcome=outcome,
                                 problem=self.last_problem, **self.last_counts)
                return outcome
            _log.warning("the audio device went away at %s of %s; going on without sound", clock_text(outcome[1]), path_text(film.path))
            self.drop_audio()
            earlier = dict(self.last_counts)
            film = dataclasses.replace(film, start=outcome[1])

    def _play_once(self, film: Film, earlier: dict):
        playback = Playback(film.path, self.output, self.options.volume * film.volume, film.layout_flags,
                            {"audio_format": self.options.audio_format, "hrtf": self.options.hrtf,
                             "head_path": self.options.head_path}, self.clock_for,
                            film.seconds if film.seconds is not None else self.options.photo_seconds)
        if playback.mixer is not None:
            playback.mixer.muted = self.muted
        try:
            self.playback = playback
            self._announced = False
            self.presence.unfade(playback)
            self._set_layout(playback, film.start_view)
            memory.settle()  # before its sound starts: no collector's pass through everything while it plays
            first = playback.goto(film.start)
            if first is None:
                raise MediaError(playback.video.missing_picture(film.start))
            self.schedule_first(playback, first, paused=False)
            self._was_paused = playback.clock.paused
            _log.info("playing %s (%s)", path_text(film.path), playback.clock.name)
            if self.display.name == "xr":
                self.display.reset_frame_times()
                outcome = headset_loop.run(self, playback, film)
            else:
                outcome = desktop_loop.run(self, playback, film)
            self._report(playback, film, outcome, earlier)
            return outcome, playback
        except PictureTooLarge as exc:
            raise exc.for_film(path_text(film.path)) from None
        finally:
            self.playback = None
            playback.close()
            memory.thaw()
            memory.give_back()

    def _report(self, playback: Playback, film: Film, outcome, earlier: dict) -> None:
        """The film's figures (added to those of its `earlier` parts): frames shown and dropped, underruns; the
        headset's frame costs; head to ear; and what kept it from playing whole."""
        if self.display.name == "xr":
            t = self.display.frame_times
            _log.info(
                "headset, %s: %d frames; per frame: waiting for the runtime %.1f ms, drawing %.1f ms, submitting %.1f ms; "
                "CPU of the frame loop %.1f ms", "equirect layer" if self.equirect_size else "each eye drawn",
                t.frames, t.wait_ms, t.render_ms, t.end_ms, t.cpu_ms,
            )
        mixer = playback.mixer
        if mixer is not None and mixer.turns and self.output is not None:
            _log.info(
                "head to ear: %d turns of the sound, %.1f ms on average, %.1f ms at most (a block is %.1f ms, the "
                "device's latency %.1f ms)", mixer.turns, 1000 * mixer.turn_latency_sum / mixer.turns,
                1000 * mixer.turn_latency_max, 1000 * self.output.blocksize / self.output.rate, 1000 * self.output.latency,
            )
        self.last_counts = {key: value + earlier.get(key, 0) for key, value in playback.counts().items()}
        self.last_problem = playback.problem(outcome)
        counts = self.last_counts
        buffered = (f"; {counts['buffer_underruns']} buffer underruns, {counts['buffering_seconds']:.1f} s buffering"
                    if playback.network is not None else "")
        _log.info(
            "%s %s: %d frames shown, %d dropped, %d audio underruns, %d late audio blocks%s", "finished" if outcome == "end" else "stopped",
            path_text(film.path), counts["frames_shown"], counts["frames_dropped"], counts["audio_underruns"],
            counts["audio_late_blocks"], buffered,
        )

    def show_text(self, text: str, seconds: float | None = None, attract: bool = False):
        """A black screen with `text` in the middle (a title card, a kiosk message) for `seconds` (None: until
        something happens); "" is a plain black screen. Outcomes as play_film's: "end" when the time is up."""
        until = None if seconds is None else time.monotonic() + seconds
        headset = self.display.name == "xr"
        self.overlay.fade = 1.0  # (a film's fade-out may have left its cards down)
        cards = [TextCard(text, InView("centre", scale=None))] if text else []
        while True:
            if attract and headset and self.display.headset_on:
                return "viewer"  # someone has the headset on already
            for event in self.display.poll_events(0.0 if headset else 0.05):
                if attract and event.kind in ("key", "click"):
                    return "viewer"
                if event.kind == "close":
                    return "headset-lost" if event.name == "lost" else "quit"
            if (outcome := self.commands.take_remote_on_screen()) is not None:
                return outcome
            if headset:
                if self.display.wait_frame() is not None:
                    headset_loop.render_eyes(self, cards, lambda rotation, tan_bounds, viewport, eye: self.renderer.clear(viewport))
                else:
                    time.sleep(0.01)
            else:
                width, height = self.display.framebuffer_size()
                self.renderer.clear((0, 0, width, height))
                desktop_loop.draw_overlays(self, cards, (0, 0, width, height))
                self.display.present()
            if self.on_tick is not None and (outcome := self.on_tick(None)) is not None:
                return outcome  # as in a film: what on_tick returns ends the screen (a kiosk asked to stop)
            now = time.monotonic()
            if self._deadline is not None and now >= self._deadline:
                return "quit"
            if until is not None and now >= until:
                return "end"

    # -- what both loops share ------------------------------------------------------------------------------------

    def _set_layout(self, playback: Playback, start_view: tuple) -> None:
        decision = playback.layout
        layout = decision.layout
        for warning in decision.warnings:
            _log.warning("%s", warning)
        sources = dict.fromkeys((decision.sources["projection"], decision.sources["stereo"]))  # each once, in order
        _log.info(
            "%s: %s %s, %s%s (%s)", path_text(playback.path), layout.projection, "x".join(f"{c:g}" for c in covered(layout, decision.width, decision.height)),
            layout.stereo, ", eyes swapped" if layout.eyes_swapped else "", "; ".join(sources),
        )
        self.renderer.layout = layout
        self.level_picture(playback)
        self.view.set_home(*start_pose(layout, start_view))
        if self.display.name == "xr":
            self.display.recenter(self.view.home_yaw)  # each film starts facing its initial view, horizon level

    def level_picture(self, playback: Playback) -> None:
        """With --level (or key G), the picture turned by the camera's own orientation so its horizon stays level."""
        self.renderer.picture_turn = (level_turn(playback.path, quiet=not self.options.level_asked)
                                      if self.options.level else None)

    def schedule_first(self, playback: Playback, first, paused: bool) -> None:
        """A paused seek shows its frame at once; a playing one shows it when the clock (the sound) gets there,
        so that a film's first picture does not run ahead of its first sound while the audio device starts."""
        if paused:
            if first is not None:
                self.show(first)
            return
        if first is not None:
            # Draw it once without presenting while the sound starts: the first draw of a film pays for texture
            # allocation and shader warm-up, which would otherwise make its first picture late. (Not timed: those
            # one-off costs say nothing about the next pictures.)
            self.renderer.upload(first)
            if self.display.name != "xr":  # (a headset draws only inside its frames)
                width, height = self.display.framebuffer_size()
                self.renderer.draw(self.view, (0, 0, width, height), self.options.eye)
            self.renderer.finish()
            playback.scheduler.upcoming = first
        playback.clock.resume()

    def show(self, frame) -> None:
        """`frame` is the picture from now on."""
        self.renderer.upload(frame)
        if self.playback is not None:
            self.playback.current = frame

    def overlay_cards(self) -> list:
        """This turn's cards over the film, from every overlay in turn."""
        cards = []
        for overlay in self.overlays:
            cards.extend(overlay(self.playback))
        return cards

    def emit(self, playback: Playback, name: str, **data) -> None:
        self.events.emit(name, playback.path, playback.position, time.monotonic(), **data)

    def picture_shown(self, shown: float, cards=()) -> None:
        """A picture of the film went on screen at `shown` (time.monotonic()), with `cards` over it."""
        playback = self.playback
        if playback is None or playback.current is None:
            return
        if not self._announced:
            self._announced = True
            playback.on_screen_from = playback.clock.now()  # (a photo's time on screen counts from here)
            self.emit(playback, "film_started", projection=playback.layout.layout.projection, clock=playback.clock.name,
                      width=playback.layout.width, height=playback.layout.height, duration=playback.duration)
        # The pictures over it by name and version (a caption's: its cue), so a log says when each appeared.
        over = [f"{card.key}#{card.version}" for card in cards if isinstance(card, ImageCard)]
        self.events.emit("frame_shown", playback.path, playback.current.pts, shown, **({"cards": over} if over else {}))

    def display_fov(self) -> tuple[float, float]:
        """The field of view the viewer sees, (horizontal, vertical) degrees: a headset eye's, or the window's view."""
        if self.display.name == "xr":
            fovs = self.display.view_fovs
            if fovs:
                left, right, up, down = fovs[0]
                return math.degrees(right - left), math.degrees(up - down)
        width, height = self.display.framebuffer_size()
        return self.view.fov, vertical_fov(self.view.fov, max(1, width), max(1, height))

    def head_moved(self, yaw: float, pitch: float, roll: float, when: float) -> None:
        """Where the viewer looks now (the headset's pose, or the desktop view), once a turn of the loop."""
        self.head_pose = (yaw, pitch, roll, when)
        if self.playback is not None:
            self.events.emit("head_pose", self.playback.path, self.playback.position, when, yaw=yaw, pitch=pitch, roll=roll)

    def end_of_turn(self, playback: Playback, film: Film):
        """What ends the film after a turn of either loop (an outcome), or None to go on."""
        paused = playback.clock.paused
        if paused != self._was_paused:
            self._was_paused = paused
            self.emit(playback, "paused" if paused else "resumed")
        if self.on_tick is not None and (outcome := self.on_tick(playback)) is not None:
            return outcome
        if self.output is not None and not self.output.alive:
            # The sound (the master clock) has stopped: hand back where the film was, so it can go on silently.
            return ("audio-lost", playback.position)
        if playback.stall() is not None:  # the file stopped delivering data: the loop goes on, the film cannot
            return "stalled"
        self.buffering.step(playback)  # a film on a web server pauses before it runs dry, and plays on
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return "quit"
        ended = playback.finished() or (film.end is not None and playback.clock.now() >= film.end)
        if ended and not playback.clock.paused:
            if not film.attract:
                return "end"
            if (playback.duration or 0.0) > 1.0:  # the attract film loops until a viewer comes (a still just stays)
                self.commands.seek(playback, film.start, paused=False)
        return None

    def recenter(self) -> None:
        """Face the film's initial view: the desktop view turns back, or the headset's world turns (yaw only)."""
        self.view.recenter()
        if self.display.name == "xr":
            self.display.recenter(self.view.home_yaw)

    def close(self) -> None:
        if self.output is not None:
            self.output.close()
        if self._timing is not None:
            self._timing.close()
        self.overlay.close()
        self.renderer.close()
