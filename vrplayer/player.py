"""The player: wires media → sync → render → display, with audio beside it, and plays a playlist.

One film at a time is a `Playback` (its decoders, mixer, clock and frame scheduler); the `Player` owns what lives
across films (display, renderer, audio device, view) and runs the loop on the thread that owns the GL context.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

from vrplayer import controls, log
from vrplayer.audio.mixer import Mixer
from vrplayer.errors import AudioUnavailable, MediaError, PlayerError
from vrplayer.layout import EYE_MODES, covered
from vrplayer.audio.soundfield import decide_sound, make_renderer
from vrplayer.media.audio import AudioDecoder, audio_track
from vrplayer.media.probe import decide_film_layout
from vrplayer.media.video import EndOfStream, VideoDecoder
from vrplayer.render.overlay import TextOverlay
from vrplayer.render.renderer import SphereRenderer
from vrplayer.sync import AudioClock, FrameScheduler, WallClock
from vrplayer.view import ViewState, start_pose

_log = log.get("player")

FIRST_FRAME_TIMEOUT = 10.0  # seconds to wait for a film's first picture before calling it broken
AUDIO_READY_TIMEOUT = 2.0


@dataclass
class PlayOptions:
    loop: bool = False
    start: float = 0.0
    duration: float | None = None  # stop after this many seconds of playing (wall clock), all films together
    volume: float = 1.0
    show_info: bool = False
    timing_log: str | None = None  # JSON lines: one per picture presented (pts, monotonic time)
    view: ViewState = field(default_factory=ViewState)
    # (yaw, pitch, roll) to face at each film's start and on recenter; None each: the film's initial view.
    start_view: tuple = (None, None, None)
    layout_flags: dict = field(default_factory=dict)  # layout overrides for every film (see layout.decide_layout)
    eye: str = "left"  # one of layout.EYE_MODES
    xr_layer: str = "projection"  # headset: draw each eye ("projection"), or hand the film over as an "equirect" layer
    audio_format: str | None = None  # --audio-format: what the film's sound is, when detection gets it wrong
    hrtf: str | None = None  # --hrtf: a SOFA file for the listener (default: MIT KEMAR)
    head_path: object = None  # --head-path: a scripted head (audio.offline.HeadPath) the view and the sound follow


@dataclass
class Film:
    """What to play and how: a playlist entry, or a kiosk programme item."""

    path: str
    start: float = 0.0
    end: float | None = None  # stop here (a trim); None: at the film's end
    volume: float = 1.0  # times the player's volume
    layout_flags: dict = field(default_factory=dict)  # layout overrides (see layout.decide_layout)
    start_view: tuple = (None, None, None)  # (yaw, pitch, roll) to face; None each: the film's initial view
    attract: bool = False  # shown while nobody watches: loops, and any key or click ends it with "viewer"


class Playback:
    """One film being played: decoders, mixer, clock and scheduler."""

    def __init__(self, path: str, output, volume: float, layout_flags: dict | None = None, sound: dict | None = None):
        """sound: {"audio_format": --audio-format or None, "hrtf": a SOFA file or None}."""
        self.path = path
        self.video = VideoDecoder(path)
        cc = self.video.stream.codec_context
        try:
            self.layout = decide_film_layout(path, cc.width, cc.height, layout_flags)
        except PlayerError:
            self.video.close()
            raise
        self.audio = None
        self.mixer = None
        self.sound = None  # the SoundDecision, when the film has sound and there is a device
        self.spatial = None  # its BinauralRenderer, when the sound follows the head
        if output is not None:
            try:
                self._open_sound(output, sound or {})
            except MediaError:
                self.video.close()
                raise
        self.volume = volume
        if self.audio is not None:
            self.mixer = Mixer(self.audio.ring, volume, self.spatial, output.blocksize)
            self.mixer.head_path = (sound or {}).get("head_path") if self.spatial is not None else None
            self.clock = AudioClock(self.mixer)
        else:
            self.clock = WallClock()
        self.scheduler = FrameScheduler(lambda: self.video.get(0), lambda item: isinstance(item, EndOfStream))
        self.current = None  # the VideoFrame on screen
        self.duration = self.video.duration

    def _open_sound(self, output, sound: dict) -> None:
        track = audio_track(self.path)
        if track is None:
            _log.info("%s has no sound: playing on the wall clock", self.path)
            return
        index, channels, layout_name = track
        self.sound = decide_sound(self.path, index, channels, layout_name, self.layout.audio, sound.get("audio_format"))
        if self.sound.warning:
            _log.warning("%s: %s", self.path, self.sound.warning)
        self.spatial = make_renderer(self.sound, output.rate, sound.get("hrtf"))
        _log.info("%s: sound %s", self.path, self.sound.describe() if self.spatial or not self.sound.rendered else f"{self.sound.format.name}, downmixed")
        self.audio = AudioDecoder(self.path, output.rate, None if self.spatial is not None else output.channels)

    def goto(self, target: float) -> object:
        """Exact seek (or start) to `target`, paused there; returns the first frame to show, having waited for it."""
        self.video.seek(target)
        generation = self.audio.seek(target) if self.audio is not None else None
        self.scheduler.reset()
        item = self.video.get(timeout=FIRST_FRAME_TIMEOUT)
        if item is None:
            raise MediaError(f"{self.path}: no picture decoded within {FIRST_FRAME_TIMEOUT:.0f} s; the file is damaged or unsupported")
        first = None
        if isinstance(item, EndOfStream):
            self.scheduler.ended = True
        else:
            first = item
        if self.audio is not None:
            deadline = time.monotonic() + AUDIO_READY_TIMEOUT
            while not self.audio.ready(generation) and time.monotonic() < deadline:
                time.sleep(0.002)
        self.clock.reset(target)
        if self.mixer is not None:
            self.mixer.restart(generation)
        self.clock.pause()  # the player resumes it once the first picture is ready to go
        return first

    def finished(self) -> bool:
        if not self.scheduler.ended:
            return False
        if self.audio is None:
            end = (self.current.pts + self.current.duration) if self.current else 0.0
            return self.clock.now() >= end
        ring = self.audio.ring
        return ring.finished and ring.available() == 0

    def close(self) -> None:
        # Release the decoded frames before their decoder (whose buffer pools hold them) is freed.
        self.current = None
        self.scheduler.upcoming = None
        self.video.close()
        if self.audio is not None:
            self.audio.close()


class Player:
    """Plays films on a display, with sound on the audio device. Also the engine of the kiosk, which sets:
    `remote` (a callable returning commands from elsewhere: [(name, args)]), `on_tick` (called with the playback
    on every turn of the loop; what it returns, when not None, ends the film as its outcome), `on_presence` (see
    _presence) and `audience` (True: the keyboard only looks around, it cannot seek or quit)."""

    def __init__(self, display, options: PlayOptions, audio: bool = True):
        self.display = display
        self.options = options
        self.view = options.view
        self.renderer = SphereRenderer()
        self.renderer.linear_output = getattr(display, "linear_swapchain", False)
        self.overlay = TextOverlay()
        self.output = None
        self.muted = False
        self.playback: Playback | None = None
        self.remote = None
        self.on_tick = None
        self.audience = False
        self.on_presence = None  # kiosk: on (bool) -> None, "fade" (out, then pause), "pause", "resume" or "restart"
        self.head_pose = (0.0, 0.0, 0.0, time.monotonic())  # yaw, pitch, roll, when: for the sound (see audio)
        self._paused_for_presence = False
        self._equirect_size = None  # headset: the equirect layer's size while the film goes as one
        self._fade = None  # (started, seconds) of a fade-out in progress or done
        self.fade_seconds = 1.0
        self.last_counts: dict = {}  # frames shown and dropped, audio underruns, of the last film played
        self._deadline = None
        self._present_cost = 0.0  # running estimate of seconds from picking a frame to its picture being shown
        self._timing = None
        self.wants_audio = audio  # False with --no-audio: never look for a device
        if options.timing_log:
            try:
                self._timing = open(options.timing_log, "w")
            except OSError as exc:
                raise PlayerError(f"cannot write the timing log {options.timing_log} ({exc.strerror})") from None
        if audio:
            self.open_audio()

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
            for path in files:
                film = Film(path, start=self.options.start, layout_flags=self.options.layout_flags,
                            start_view=self.options.start_view)
                try:
                    outcome = self.play_film(film)
                except PlayerError as exc:
                    failures += 1
                    _log.error("skipping %s", exc)
                    continue
                played += 1
                if outcome == "quit":
                    return 1 if failures else 0
            if not self.options.loop or played == 0:
                break
        if played == 0 and files:
            _log.error("nothing in the playlist could be played")
        return 1 if failures else 0

    def start_deadline(self) -> None:
        """Start counting --duration (all films together)."""
        self._deadline = None if self.options.duration is None else time.monotonic() + self.options.duration

    def play_film(self, film: Film):
        """Play one film to its end (or trim). Outcome: "end", "quit", "viewer" (an attract film was interrupted by
        a viewer), "headset-lost" (the OpenXR runtime went away), whatever `on_tick` returned, or
        ("remote", name, args) for a remote command the caller handles (next, previous, …).
        If the audio device goes away, the film goes on silently from where it was. Raises PlayerError when the
        film cannot be played."""
        while True:
            outcome = self._play_once(film)
            if not (isinstance(outcome, tuple) and outcome[0] == "audio-lost"):
                return outcome
            _log.warning("the audio device went away at %s of %s; going on without sound", _clock_text(outcome[1]), film.path)
            self.drop_audio()
            film = dataclasses.replace(film, start=outcome[1])

    def _play_once(self, film: Film):
        playback = Playback(film.path, self.output, self.options.volume * film.volume, film.layout_flags,
                            {"audio_format": self.options.audio_format, "hrtf": self.options.hrtf,
                             "head_path": self.options.head_path})
        if playback.mixer is not None:
            playback.mixer.muted = self.muted
        try:
            self.playback = playback
            self._unfade(playback)
            self._set_layout(playback, film.start_view)
            first = playback.goto(film.start)
            if first is None:
                raise MediaError(f"{film.path}: no picture at {film.start:.3f} s (the film is shorter, or damaged)")
            self._schedule_first(playback, first, paused=False)
            _log.info("playing %s (%s)", film.path, "audio clock" if playback.mixer else "wall clock")
            if self.display.name == "xr":
                self.display.reset_frame_times()
            outcome = self._loop(playback, film)
            self._report(playback, film, outcome)
            return outcome
        finally:
            self.playback = None
            playback.close()

    def _report(self, playback: Playback, film: Film, outcome) -> None:
        """The film's figures: frames shown and dropped, underruns; the headset's frame costs; head to ear."""
        if self.display.name == "xr":
            t = self.display.frame_times
            _log.info(
                "headset, %s: %d frames; per frame: waiting for the runtime %.1f ms, drawing %.1f ms, submitting %.1f ms; "
                "CPU of the frame loop %.1f ms", "equirect layer" if self._equirect_size else "each eye drawn",
                t.frames, t.wait_ms, t.render_ms, t.end_ms, t.cpu_ms,
            )
        mixer = playback.mixer
        if mixer is not None and mixer.turns and self.output is not None:
            _log.info(
                "head to ear: %d turns of the sound, %.1f ms on average, %.1f ms at most (a block is %.1f ms, the "
                "device's latency %.1f ms)", mixer.turns, 1000 * mixer.turn_latency_sum / mixer.turns,
                1000 * mixer.turn_latency_max, 1000 * self.output.blocksize / self.output.rate, 1000 * self.output.latency,
            )
        self.last_counts = {
            "frames_shown": playback.scheduler.shown, "frames_dropped": playback.scheduler.dropped,
            "audio_underruns": mixer.underruns if mixer else 0,
        }
        _log.info(
            "%s %s: %d frames shown, %d dropped, %d audio underruns", "finished" if outcome == "end" else "stopped",
            film.path, playback.scheduler.shown, playback.scheduler.dropped, self.last_counts["audio_underruns"],
        )

    def show_text(self, text: str, seconds: float | None = None, attract: bool = False):
        """A black screen with `text` in the middle (a title card, a kiosk message) for `seconds` (None: until
        something happens). Outcomes as play_film's: "end" when the time is up."""
        until = None if seconds is None else time.monotonic() + seconds
        headset = self.display.name == "xr"
        while True:
            if attract and headset and self.display.headset_on:
                return "viewer"  # someone has the headset on already
            for event in self.display.poll_events(0.0 if headset else 0.05):
                if attract and event.kind in ("key", "click"):
                    return "viewer"
                if event.kind == "close":
                    return "headset-lost" if event.name == "lost" else "quit"
            for name, args in self.remote() if self.remote is not None else ():
                if name not in REMOTE_IN_FILM:
                    return ("remote", name, args)
            if self.display.name == "xr":
                if self.display.wait_frame() is not None:
                    self.display.render_views(lambda eye, rotation, tan_bounds, viewport: self._text_screen(text, viewport))
                else:
                    time.sleep(0.01)
            else:
                width, height = self.display.framebuffer_size()
                self._text_screen(text, (0, 0, width, height))
                self.display.present()
            if self.on_tick is not None:
                self.on_tick(None)
            now = time.monotonic()
            if self._deadline is not None and now >= self._deadline:
                return "quit"
            if until is not None and now >= until:
                return "end"

    def _text_screen(self, text: str, viewport) -> None:
        self.renderer.clear(viewport)
        self.overlay.draw(text, viewport, centred=True)

    # -- the loop -------------------------------------------------------------------------------------------------

    def _loop(self, playback: Playback, film: Film):
        if self.display.name == "xr":
            return self._loop_headset(playback, film)
        dirty = True
        info_refresh = 0.0
        while True:
            # Sleep (in the display's event wait) until the next picture must start drawing to be on time.
            due = playback.scheduler.next_due()
            if dirty:
                wait = 0.0
            elif due is None or playback.clock.paused:
                wait = 0.02
            else:
                wait = min(0.02, max(0.0, due - (playback.clock.now() + self._present_cost)))
            for event in self.display.poll_events(wait):
                if film.attract and event.kind in ("key", "click"):
                    return "viewer"
                command = controls.apply(event, self.view, self.display.framebuffer_size()[0])
                dirty = True
                if command is not None and (not self.audience or command[0] in AUDIENCE_COMMANDS or event.kind == "close"):
                    if self._command(playback, command) == "quit":
                        return "quit"
            outcome, acted = self._remote_commands(playback, film)
            if outcome is not None:
                return outcome
            dirty = dirty or acted
            # Pick by when the picture will be on screen: drawing and presenting take a few ms.
            frame = playback.scheduler.pick(playback.clock.now() + self._present_cost) if playback.clock.started else None
            if frame is not None:
                self._show(frame)
                dirty = True
            if self._step_fade(playback):
                dirty = True
            if self.options.head_path is not None:  # a scripted head turns the view (the mixer turns the sound)
                self.view.yaw, self.view.pitch, self.view.roll = self.options.head_path(playback.clock.now())
            if self.options.show_info and time.monotonic() >= info_refresh:
                info_refresh = time.monotonic() + 0.25
                dirty = True
            if dirty:
                self._render()
                dirty = False
            outcome = self._end_of_turn(playback, film)
            if outcome is not None:
                return outcome

    def _end_of_turn(self, playback: Playback, film: Film):
        """What ends the film after a turn of either loop (an outcome), or None to go on."""
        if self.on_tick is not None and (outcome := self.on_tick(playback)) is not None:
            return outcome
        if self.output is not None and not self.output.alive:
            # The sound (the master clock) has stopped: hand back where the film was, so it can go on silently.
            return ("audio-lost", playback.current.pts if playback.current else playback.clock.now())
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return "quit"
        ended = playback.finished() or (film.end is not None and playback.clock.now() >= film.end)
        if ended and not playback.clock.paused:
            if not film.attract:
                return "end"
            if (playback.duration or 0.0) > 1.0:  # the attract film loops until a viewer comes (a still just stays)
                self._seek(playback, film.start, paused=False)
        return None

    def _remote_commands(self, playback: Playback, film: Film) -> tuple[object, bool]:
        """Carry out the remote commands that act on the film; the first other one ends it. (outcome or None,
        whether anything was done: the picture may need drawing again)."""
        acted = False
        for name, args in self.remote() if self.remote is not None else ():
            if name not in REMOTE_IN_FILM:
                return ("remote", name, args), True
            self._remote_command(playback, film, name)
            acted = True
        return None, acted

    def _set_layout(self, playback: Playback, start_view: tuple) -> None:
        decision = playback.layout
        layout = decision.layout
        for warning in decision.warnings:
            _log.warning("%s", warning)
        sources = dict.fromkeys((decision.sources["projection"], decision.sources["stereo"]))  # each once, in order
        _log.info(
            "%s: %s %s, %s%s (%s)", playback.path, layout.projection, "x".join(f"{c:g}" for c in covered(layout, decision.width, decision.height)),
            layout.stereo, ", eyes swapped" if layout.eyes_swapped else "", "; ".join(sources),
        )
        self.renderer.layout = layout
        self.view.set_home(*start_pose(layout, start_view))
        if self.display.name == "xr":
            self.display.recenter(self.view.home_yaw)  # each film starts facing its initial view, horizon level

    def _loop_headset(self, playback: Playback, film: Film):
        """The headset's loop: the runtime paces it (one turn per headset frame, never waiting on the decoder);
        each turn shows the newest frame due when this frame reaches the eyes, by the audio clock."""
        headset = self.display
        self._equirect_size = self._equirect_layer_size(playback)
        while True:
            if film.attract and headset.headset_on:
                return "viewer"  # someone has the headset on: the attract film gives way
            for event in headset.poll_events():
                if event.kind == "close":
                    return "headset-lost" if event.name == "lost" else "quit"
                if event.kind == "presence":
                    outcome = self._presence(playback, film, event.name == "on")
                    if outcome is not None:
                        return outcome
            outcome = self._operator_input(playback, film)
            if outcome is not None:
                return outcome
            outcome, _ = self._remote_commands(playback, film)
            if outcome is not None:
                return outcome
            self._step_fade(playback)
            frame = headset.wait_frame()
            if frame is None:
                time.sleep(0.01)  # the session is not running (yet, or any more): its events will say
            else:
                shown_at = headset.monotonic_time(frame.display_time) or time.monotonic() + frame.display_period * 1e-9
                picked = playback.scheduler.pick(playback.clock.now() + max(0.0, shown_at - time.monotonic())) if playback.clock.started else None
                if picked is not None:
                    self._show(picked)
                if self._equirect_size is not None:
                    headset.render_equirect(self.renderer.draw_picture, self._equirect_size)
                else:
                    headset.render_views(self._draw_eye)
                if picked is not None:
                    self._log_timing(shown_at)
                pose = headset.head_pose
                self.head_pose = (pose.yaw, pose.pitch, pose.roll, pose.monotonic or time.monotonic())
                if playback.spatial is not None:
                    playback.spatial.set_head_matrix(pose.rotation)  # recentering included: sound and picture agree
                if headset.mirror is not None and headset.mirror.show(playback.current, self.renderer.layout, pose.rotation):
                    headset.make_current()
            outcome = self._end_of_turn(playback, film)
            if outcome is not None:
                return outcome

    def _equirect_layer_size(self, playback: Playback):
        """The size of the equirect layer to hand the headset this film in, or None to draw each eye: the layer
        takes one whole 360° picture (not a crop, not a stereo pair) and needs the runtime's support."""
        if self.options.xr_layer != "equirect":
            return None
        layout = playback.layout.layout
        usable = (layout.projection == "equirectangular" and layout.stereo == "mono" and self.display.equirect_supported
                  and not (layout.crop_left or layout.crop_top or layout.crop_right or layout.crop_bottom))
        if not usable:
            _log.info("%s: drawn for each eye (an equirect layer takes only a whole mono 360° picture%s)", playback.path,
                      "" if self.display.equirect_supported else ", and this runtime offers none")
            return None
        width, height = playback.layout.width, playback.layout.height
        scale = min(1.0, 4096 / width)  # (runtimes limit swapchain sizes; 4096 is widely accepted)
        return (round(width * scale), round(height * scale))

    def _draw_eye(self, eye: int, rotation, tan_bounds, viewport) -> None:
        self.renderer.draw_rays(rotation, tan_bounds, viewport, "left" if eye == 0 else "right")

    def _operator_input(self, playback: Playback, film: Film):
        """Keys in the headset mirror window: the operator's (pause, seek, recenter, mute, quit)."""
        mirror = self.display.mirror
        if mirror is None:
            return None
        for event in mirror.poll_events():
            if film.attract and event.kind in ("key", "click"):
                return "viewer"
            if event.kind == "key" and event.name == "r":
                self.recenter()
                continue
            command = controls.apply(event, ViewState(), 1)  # the head, not the keys, turns the view
            if command is not None and (not self.audience or command[0] in AUDIENCE_COMMANDS or event.kind == "close"):
                if self._command(playback, command) == "quit":
                    return "quit"
        return None

    def _presence(self, playback: Playback, film: Film, on: bool):
        """The headset went on or came off a head. An attract film gives way to the viewer ("viewer"). The kiosk
        decides what else that means (`on_presence(on)` returns None, "pause", "resume" or "restart"); by default
        the film pauses while nobody wears the headset and goes on when someone puts it back on."""
        _log.info("headset %s", "on" if on else "off")
        if film.attract:
            return "viewer" if on else None
        if self.on_presence is not None:
            if on:
                self.recenter()  # whoever put it on faces the film's initial view
            action = self.on_presence(on)
            if action is not None:
                self._remote_command(playback, film, action)
            return None
        if not on and not playback.clock.paused:
            playback.clock.pause()
            self._paused_for_presence = True
        elif on and self._paused_for_presence:
            self._paused_for_presence = False
            self._command(playback, ("pause",))  # resumes from exactly the frame on screen
        return None

    def _schedule_first(self, playback: Playback, first, paused: bool) -> None:
        """A paused seek shows its frame at once; a playing one shows it when the clock (the sound) gets there,
        so that a film's first picture does not run ahead of its first sound while the audio device starts."""
        if paused:
            if first is not None:
                self._show(first)
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

    def _show(self, frame) -> None:
        self.renderer.upload(frame)
        if self.playback is not None:
            self.playback.current = frame

    def _render(self) -> None:
        started = time.monotonic()
        self.head_pose = (self.view.yaw, self.view.pitch, self.view.roll, started)
        if self.playback is not None and self.playback.spatial is not None and self.options.head_path is None:
            self.playback.spatial.set_view(self.view.yaw, self.view.pitch, self.view.roll)  # the sound turns too
        width, height = self.display.framebuffer_size()
        viewport = (0, 0, width, height)
        self.renderer.draw(self.view, viewport, self.options.eye)
        if self.options.show_info and self.playback is not None:
            self.overlay.draw(self._info_line(self.playback), viewport)
        self.display.present()
        shown = time.monotonic()
        self._present_cost += 0.1 * (min(shown - started, 0.1) - self._present_cost)
        self._log_timing(shown)

    def _log_timing(self, shown: float) -> None:
        if self._timing is not None and self.playback is not None and self.playback.current is not None:
            self._timing.write(json.dumps({"pts": round(self.playback.current.pts, 6), "shown": shown}) + "\n")

    def _info_line(self, playback: Playback) -> str:
        now = playback.clock.now()
        state = "PAUSED" if playback.clock.paused else "PLAYING"
        total = _clock_text(playback.duration) if playback.duration else "?"
        dropped = playback.scheduler.dropped
        sound = "MUTED" if self.muted else ("" if playback.mixer else "NO SOUND")
        eyes = ""
        if playback.layout.layout.stereo != "mono" or self.options.eye != "left":
            eyes = self.options.eye.upper().replace("-", " ") + (" SWAPPED" if self.renderer.swap_eyes else "")
        return f"{_clock_text(now)} / {total}  {state}  DROPPED {dropped}  FOV {self.view.fov:.0f}  {eyes}  {sound}".rstrip()

    def _command(self, playback: Playback, command: tuple) -> str | None:
        name = command[0]
        if name == "quit":
            return "quit"
        if name == "pause":
            if playback.clock.paused:
                # Resume from exactly the frame on screen, so sound and picture restart together after steps.
                position = playback.current.pts if playback.current else playback.clock.now()
                self._seek(playback, position, paused=False)
            else:
                playback.clock.pause()
        elif name == "seek":
            target = min(max(0.0, playback.clock.now() + command[1]), max(0.0, (playback.duration or 0.0) - 0.001))
            self._seek(playback, target, paused=playback.clock.paused)
        elif name == "step" and playback.clock.paused:
            self._step(playback, command[1])
        elif name == "fullscreen":
            self.display.set_fullscreen(not self.display.fullscreen)
        elif name == "mute":
            self.muted = not self.muted
            if playback.mixer is not None:
                playback.mixer.muted = self.muted
        elif name == "info":
            self.options.show_info = not self.options.show_info
        elif name == "eye":
            self.options.eye = EYE_MODES[(EYE_MODES.index(self.options.eye) + 1) % len(EYE_MODES)]
            _log.info("showing %s", _EYE_WORDS[self.options.eye])
        elif name == "swap":
            self.renderer.swap_eyes = not self.renderer.swap_eyes
            _log.info("eyes %s", "swapped" if self.renderer.swap_eyes else "as the film has them")
        return None

    def _remote_command(self, playback: Playback, film: Film, name: str) -> None:
        """Commands from elsewhere (the kiosk's staff API, its presence policy) that act on the film being played."""
        if name in ("resume", "restart"):
            self._unfade(playback)
        if name == "pause" and not playback.clock.paused:
            playback.clock.pause()
        elif name == "fade":
            self._fade = (time.monotonic(), max(0.0, self.fade_seconds))
        elif name == "resume" and playback.clock.paused:
            self._command(playback, ("pause",))  # resumes from exactly the frame on screen
        elif name == "restart":
            self.recenter()  # the film starts again facing its initial view
            self._seek(playback, film.start, paused=False)
        elif name == "recenter":
            self.recenter()

    def recenter(self) -> None:
        """Face the film's initial view: the desktop view turns back, or the headset's world turns (yaw only)."""
        self.view.recenter()
        if self.display.name == "xr":
            self.display.recenter(self.view.home_yaw)

    def _step_fade(self, playback: Playback) -> bool:
        """Carry a fade-out on (sound and picture down together); pause at the end of it. True while fading."""
        if self._fade is None:
            return False
        started, seconds = self._fade
        level = 0.0 if seconds <= 0 else max(0.0, 1.0 - (time.monotonic() - started) / seconds)
        self.renderer.brightness = level
        if playback.mixer is not None:
            playback.mixer.volume = playback.volume * level
        if level == 0.0 and not playback.clock.paused:
            playback.clock.pause()
        return level > 0.0

    def _unfade(self, playback: Playback) -> None:
        self._fade = None
        self.renderer.brightness = 1.0
        if playback.mixer is not None:
            playback.mixer.volume = playback.volume

    def _seek(self, playback: Playback, target: float, paused: bool) -> None:
        started = time.monotonic()
        first = playback.goto(target)
        self._schedule_first(playback, first, paused)
        _log.info("seek to %s: %.0f ms", _clock_text(target), (time.monotonic() - started) * 1000)

    def _step(self, playback: Playback, direction: int) -> None:
        if direction > 0:
            frame = playback.scheduler.take_next(timeout=2.0)
            if frame is not None:
                self._show(frame)
                playback.clock.reset(frame.pts)
        else:
            current = playback.current.pts if playback.current else 0.0
            self._seek(playback, max(0.0, current - playback.video.frame_duration), paused=True)

    def close(self) -> None:
        if self.output is not None:
            self.output.close()
        if self._timing is not None:
            self._timing.close()
        self.overlay.close()
        self.renderer.close()



# What the keyboard may still do in front of an audience (kiosk): look around (applied in controls), and these.
AUDIENCE_COMMANDS = {"info", "mute", "eye", "swap"}
# Remote commands the loop carries out itself; the others end the film and go to the caller.
REMOTE_IN_FILM = {"pause", "resume", "restart", "recenter"}

_EYE_WORDS = {"left": "the left eye", "right": "the right eye", "side-by-side": "both eyes side by side", "anaglyph": "a red-cyan anaglyph"}


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"
