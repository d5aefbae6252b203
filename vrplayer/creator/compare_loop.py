"""The comparison's window loop: like the player's desktop loop (wait for the next picture's moment or an input,
carry out keys, pick the frames due by the clock, draw, present), for two cuts in lockstep (creator/cut_pair.py).

Keys: 1 wipe, 2 split, 3 toggle, 4 difference; Tab flips A/B (into toggle); the player's own keys (controls.py)
move both cuts: space, ← / → seek, , / . frame steps while paused, look around, zoom, R, E, X, F, M; I the label;
H each cut's audience heat-map (--heatmap-a, --heatmap-b) over its own part; Q / Esc quit. The wipe's line
follows the mouse. Sound: the cut on show (toggle), the side of the wipe that covers more of the window, A in
split and difference; both are mixed all the time, so a switch is heard at once.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

import numpy as np

from vrplayer import controls, log, memory
from vrplayer.display.desktop import DesktopDisplay
from vrplayer.errors import AudioUnavailable, PlayerError, path_text
from vrplayer.layout import EYE_MODES
from vrplayer.render.compare_pass import MODES, Composition, wipe_line
from vrplayer.view import ViewState, start_pose

_log = log.get("compare")

MODE_KEYS = {str(number): mode for number, mode in enumerate(MODES, start=1)}
_SCRATCH_FRAMES = 8192  # the hidden cut's sound is mixed into this (the device's blocks are far smaller)


@dataclass
class CompareOptions:
    offset_b: float = 0.0
    at: float = 0.0
    composition: Composition = field(default_factory=Composition)
    start_view: tuple = (None, None, None)
    fov: float = 90.0
    eye: str = "left"
    size: tuple[int, int] = (1280, 720)
    labels: bool = True
    display: str = "desktop"
    fullscreen: bool = False
    volume: float = 1.0
    audio: bool = True
    duration: float | None = None
    timing_log: str | None = None
    heatmaps: tuple = (None, None)  # each cut's audience: head traces (files or folders), or None
    mirror: bool = False  # in a headset: the operator's window too
    layout_flags: tuple = (None, None)  # each cut's layout overrides (see layout.decide_layout), or None
    level: bool = True  # each cut levelled by its camera's own orientation, where recorded (--no-level: as filmed)


def sound_cut(composition: Composition, width: int) -> int:
    """Whose sound is heard: the cut on show in toggle, the wipe's larger side, A in split and difference."""
    if composition.mode == "toggle":
        return composition.shown
    if composition.mode == "wipe":
        return 0 if wipe_line(composition.wipe, width) * 2 >= width else 1
    return 0


def run_window(path_a: str, path_b: str, options: CompareOptions) -> int:
    from vrplayer.creator.compare_view import CompareDrawing, level_turns
    from vrplayer.creator.cut_pair import CutPair

    if options.display == "offscreen":
        from vrplayer.display.offscreen import OffscreenDisplay

        display = OffscreenDisplay(options.size)
    elif options.display == "xr":
        from vrplayer.display import open_display

        display = open_display("xr", size=options.size, title="vrplayer compare", mirror=options.mirror)
    else:
        display = DesktopDisplay(options.size, "vrplayer compare", options.fullscreen)
    try:
        sound = _Sound(options.audio)
        try:
            pair = CutPair(path_a, path_b, options.offset_b, sound.output, options.volume,
                           layout_flags=options.layout_flags)
            try:
                sound.pair = pair
                for cut in pair.cuts:
                    decision = cut.playback.layout
                    for warning in decision.warnings:
                        _log.warning("%s", warning)
                    _log.info("%s %s: %s, %s (%s)", cut.name, path_text(cut.playback.path), decision.layout.projection,
                              decision.layout.stereo, cut.playback.clock.name)
                drawing = CompareDrawing([cut.playback.layout.layout for cut in pair.cuts],
                                         tuple(path_text(cut.playback.path) for cut in pair.cuts),
                                         level_turns([cut.playback.path for cut in pair.cuts], options.level))
                try:
                    if options.display == "xr":
                        from vrplayer.creator.compare_headset import HeadsetCompareLoop

                        return HeadsetCompareLoop(pair, display, drawing, sound, options).run()
                    return CompareLoop(pair, display, drawing, sound, options).run()
                finally:
                    drawing.close()
            finally:
                sound.pair = None
                pair.close()
        finally:
            sound.close()
    finally:
        display.close()


class _Sound:
    """The audio device, both cuts' mixers filled on every block; the one heard goes out, the other is dropped."""

    def __init__(self, wanted: bool):
        self.output = None
        self.pair = None
        self.heard = 0
        self.muted = False
        self._scratch = np.zeros((_SCRATCH_FRAMES, 2), np.float32)
        if not wanted:
            return
        from vrplayer.audio.output import open_output

        try:
            self.output = open_output()
        except AudioUnavailable as exc:
            _log.warning("%s; comparing without sound", exc)
            return
        self._scratch = np.zeros((_SCRATCH_FRAMES, self.output.channels), np.float32)
        self.output.start(self._fill)

    def _fill(self, out, latency: float, now: float) -> None:
        pair = self.pair
        if pair is None:
            out.fill(0.0)
            return
        if len(out) > len(self._scratch):  # (a device asking for bigger blocks than ever before: once)
            self._scratch = np.zeros((len(out), out.shape[1]), np.float32)
        heard = self.heard
        silent = True
        for index, cut in enumerate(pair.cuts):
            mixer = cut.playback.mixer
            if mixer is None:
                continue
            if index == heard:
                mixer.fill(out, latency, now)
                silent = False
            else:
                mixer.fill(self._scratch[: len(out)], latency, now)
        if silent:
            out.fill(0.0)

    def mute(self, muted: bool) -> None:
        self.muted = muted
        if self.pair is not None:
            for cut in self.pair.cuts:
                if cut.playback.mixer is not None:
                    cut.playback.mixer.muted = muted

    @property
    def lost(self) -> bool:
        return self.output is not None and not self.output.alive

    def close(self) -> None:
        if self.output is not None:
            self.output.close()
            self.output = None


class CompareLoop:
    def __init__(self, pair, display, drawing, sound: _Sound, options: CompareOptions):
        self.pair, self.display, self.drawing, self.sound, self.options = pair, display, drawing, sound, options
        self.composition = options.composition
        self.eye = options.eye
        self.labels = options.labels
        self.view = ViewState(fov=options.fov)
        self.view.set_home(*start_pose(pair.a.playback.layout.layout, options.start_view))
        self.present_cost = 0.0
        self._timing = _open_timing_log(options.timing_log)
        from vrplayer.creator.compare_view import audiences_of

        self.audiences = audiences_of(options.heatmaps)
        self.show_heat = any(self.audiences)  # key H

    def run(self) -> int:
        pair, display = self.pair, self.display
        deadline = None if self.options.duration is None else time.monotonic() + self.options.duration
        memory.settle()  # no collector's pass through everything while the cuts sound (see vrplayer.memory)
        pair.goto(min(self.options.at, max(0.0, pair.duration - 0.001)), paused=False)
        dirty, drawn = True, None
        try:
            while True:
                due = pair.next_due()
                if dirty:
                    wait = 0.0
                elif due is None or pair.paused:
                    wait = 0.02
                else:
                    wait = min(0.02, max(0.0, due - (pair.now() + self.present_cost)))
                for event in display.poll_events(wait):
                    if event.kind in ("move", "drag") and self.composition.mode == "wipe":
                        # The wipe's line follows the pointer (as a fraction of the window's width).
                        width = max(1, display.framebuffer_size()[0])
                        self.composition = dataclasses.replace(self.composition, wipe=min(1.0, max(0.0, event.x / width)))
                    if self._apply(event) == "quit":
                        return 0
                    dirty = True
                if not pair.paused and pair.started and pair.pick(pair.now() + self.present_cost):
                    dirty = True
                showing = (self.view.yaw, self.view.pitch, self.view.roll, self.view.fov, self.composition, self.eye,
                           self.labels, display.framebuffer_size(), tuple(id(cut.shown) for cut in pair.cuts))
                if dirty or showing != drawn:
                    self._render()
                    dirty, drawn = False, showing
                if self._end_of_turn(deadline):
                    return 0
        finally:
            memory.thaw()
            if self._timing is not None:
                self._timing.close()

    def _end_of_turn(self, deadline: float | None) -> bool:
        """After each turn of a loop: raises when the comparison cannot go on (the sound gone, a cut stalled); True
        when it is over (the duration is up); at A's end, pauses there."""
        pair = self.pair
        if self.sound.lost:
            raise PlayerError("the audio device went away; compare again, or with --no-audio")
        for cut in pair.cuts:
            if (stalled := cut.playback.stall()) is not None:
                raise PlayerError(stalled)
        if deadline is not None and time.monotonic() >= deadline:
            return True
        if pair.finished():
            pair.pause()  # A's last frame stays on show: the editor looks, seeks back or quits
            _log.info("end of A: paused on its last frame")
        return False

    # -- input --------------------------------------------------------------------------------------------------

    def _apply(self, event) -> str | None:
        pair = self.pair
        if event.kind == "key" and event.name in MODE_KEYS:
            self._set(mode=MODE_KEYS[event.name])
            return None
        if event.kind == "key" and event.name == "tab":
            shown = 1 - self.composition.shown if self.composition.mode == "toggle" else 1 - self._sound_cut()
            self._set(mode="toggle", shown=shown)
            return None
        command = controls.apply(event, self.view, self.display.framebuffer_size()[0])
        if command is None:
            return None
        name = command[0]
        if name == "quit":
            return "quit"
        if name == "pause":
            if pair.paused:
                pair.resume()
            else:
                pair.pause()
        elif name == "seek":
            target = min(max(0.0, pair.now() + command[1]), max(0.0, pair.duration - 0.001))
            started = time.monotonic()
            pair.goto(target, paused=pair.paused)
            _log.info("seek both to %.3f s: %.0f ms", target, (time.monotonic() - started) * 1000)
        elif name == "step":
            pair.step(command[1], pair.cuts[self._sound_cut()])
        elif name == "fullscreen":
            self.display.set_fullscreen(not self.display.fullscreen)
        elif name == "mute":
            self.sound.mute(not self.sound.muted)
        elif name == "info":
            self.labels = not self.labels
        elif name == "heatmap" and any(self.audiences):
            self.show_heat = not self.show_heat
            _log.info("audience heat-maps %s", "shown" if self.show_heat else "hidden")
        elif name == "eye":
            self.eye = EYE_MODES[(EYE_MODES.index(self.eye) + 1) % len(EYE_MODES)]
        elif name == "swap":
            for renderer in self.drawing.renderers:
                renderer.swap_eyes = not renderer.swap_eyes
        return None

    def _set(self, **changes) -> None:
        self.composition = dataclasses.replace(self.composition, **changes)
        _log.info("showing %s", "A and B" if self.composition.mode != "toggle" else "AB"[self.composition.shown])
        self.sound.heard = self._sound_cut()

    def _sound_cut(self) -> int:
        return sound_cut(self.composition, self.display.framebuffer_size()[0])

    # -- output -------------------------------------------------------------------------------------------------

    def _render(self) -> None:
        from vrplayer.creator.compare_view import cut_label, label_texts

        started = time.monotonic()
        pair, view = self.pair, self.view
        self.sound.heard = self._sound_cut()
        for cut in pair.cuts:
            if cut.playback.spatial is not None:
                cut.playback.spatial.set_view(view.yaw, view.pitch, view.roll)  # the sound turns with the view
        t = pair.now() if pair.paused else pair.picked_at
        size = tuple(self.display.framebuffer_size())
        labels = None
        if self.labels:
            texts = tuple(cut_label(cut.name, cut.moment(t), cut.shown is not None, cut.over) for cut in pair.cuts)
            labels = label_texts(self.composition, texts)
        cards = self._audience_cards()
        self.drawing.draw([cut.shown for cut in pair.cuts], view, self.composition, size, self.eye, labels, cards)
        self.display.present()
        shown = time.monotonic()
        self.present_cost += 0.1 * (min(shown - started, 0.1) - self.present_cost)
        self._log_picture(t, shown)

    def _audience_cards(self) -> tuple:
        """Each cut's heat-map cards at the frame it shows (none while key H hides them)."""
        return tuple(audience.cards(cut.shown.pts) if audience is not None and self.show_heat and cut.shown is not None
                     else () for audience, cut in zip(self.audiences, self.pair.cuts))

    def _log_picture(self, t: float, shown: float) -> None:
        """The timing log's line for a picture of comparison time `t` presented at monotonic `shown`."""
        if self._timing is not None:
            pair = self.pair
            self._timing.write(json.dumps({
                "t": round(t, 6), "a": _pts(pair.a.shown), "b": _pts(pair.b.shown), "mode": self.composition.mode,
                "shown": "AB"[self.composition.shown], "heard": "AB"[self.sound.heard], "paused": pair.paused,
                "at": shown}) + "\n")


def _pts(frame) -> float | None:
    return None if frame is None else round(frame.pts, 6)


def _open_timing_log(path: str | None):
    if path is None:
        return None
    try:
        return open(path, "w", buffering=1)  # a line at a time: read while the window is open
    except OSError as exc:
        raise PlayerError(f"cannot write the timing log {path_text(path)} ({exc.strerror})") from None
