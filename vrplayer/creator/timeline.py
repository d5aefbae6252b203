"""The timeline and the shuttle, in the player's desktop window: a seek bar along the bottom (shown while the mouse
moves, pinned with T) with the position and the duration as timecode at the film's own rate; click or drag on it to
seek exactly there, hover to read the time under the pointer. Editors' keys: J / K / L shuttle (J steps a frame back,
K pauses, L plays at 1×, then 2×, then 4×, the sound time-stretched to keep its pitch and the picture on its clock),
Home / End go to the first and the last frame.

Its doors into the player: an overlay (the bar and its text, cards in view) and an input listener. Strips over
the bar (`strips`: the audience's attention, from analytics/desk.py) come from other rooms: each has
`picture(playback, width)` → RGBA rows or None, and `describe(playback, t)` → a few words about time t.
"""

from __future__ import annotations

import time

import numpy as np

from vrplayer import log
from vrplayer.creator.timecode import time_at, timecode, x_of
from vrplayer.render.overlay import ImageCard, TextCard
from vrplayer.render.placement import InView

_log = log.get("creator")

SHUTTLE_SPEEDS = (1.0, 2.0, 4.0)  # L's steps
SHOWN_AFTER_MOVE = 2.0  # seconds the bar stays after the pointer last moved
MARGIN = 8  # pixels between the bar and the window's edges
BAR_HEIGHT = 10
TEXT_GAP = 6  # pixels between the bar and its text above it
GRAB_SLACK = 6  # pixels above and below the bar that still grab it

_TRACK = (60, 60, 60, 190)
_PLAYED = (225, 225, 225, 230)
_PLAYHEAD = (255, 80, 40, 255)
_HOVER = (255, 217, 0, 255)


class Timeline:
    def __init__(self, player):
        self._player = player
        self.pinned = False
        self._moved_at = -1e9
        self._hover_x: float | None = None
        self._scrubbing = False
        self._version = 0
        self._drawn = None  # what the bar's picture shows: (width, played x, hover x)
        self._bar: ImageCard | None = None
        self.strips: list = []
        player.overlays.append(self)
        player.inputs.append(self.take)

    # -- where the bar is -----------------------------------------------------------------------------------------

    def _geometry(self) -> tuple[int, int, int]:
        """The bar's left pixel, its width and its top row (from the window's top)."""
        width, height = self._player.display.framebuffer_size()
        return MARGIN, max(1, width - 2 * MARGIN), height - MARGIN - BAR_HEIGHT

    def _on_bar(self, x: float, y: float) -> bool:
        left, width, top = self._geometry()
        return left - GRAB_SLACK <= x <= left + width + GRAB_SLACK and top - GRAB_SLACK <= y <= top + BAR_HEIGHT + GRAB_SLACK

    def _time_at(self, playback, x: float) -> float:
        left, width, _ = self._geometry()
        return time_at(x, left, width, playback.duration or 0.0, playback.video.frame_duration)

    # -- input ------------------------------------------------------------------------------------------------------

    def take(self, event, playback) -> bool:
        if playback is None:
            return False
        kind = event.kind
        if kind == "key":
            return self._key(event.name, playback)
        if kind in ("move", "drag", "click", "release"):
            self._moved_at = time.monotonic()
            self._hover_x = event.x if self._on_bar(event.x, event.y) or self._scrubbing else None
        if kind == "click" and self._on_bar(event.x, event.y) and playback.duration:
            self._scrubbing = True
            self._seek(playback, self._time_at(playback, event.x))
            return True
        if kind == "drag" and self._scrubbing:
            self._seek(playback, self._time_at(playback, event.x))
            return True
        if kind == "release" and self._scrubbing:
            self._scrubbing = False
            target = self._time_at(playback, event.x)
            if playback.current is None or abs(playback.current.pts - target) > 1e-6:
                self._seek(playback, target)  # where the button was let go (its last move may not have come)
            return True
        return kind == "move"  # the bar shows (and the hover time follows) while the pointer moves

    def _key(self, name: str, playback) -> bool:
        commands = self._player.commands
        if name == "t":
            self.pinned = not self.pinned
        elif name == "j":  # back a frame at a time (reverse play would need the decoder to run backwards)
            commands.set_speed(playback, 1.0, paused=True)
            commands.step(playback, -1)
        elif name == "k":
            commands.set_speed(playback, 1.0, paused=True)
        elif name == "l":
            if playback.clock.paused:
                commands.set_speed(playback, playback.speed if playback.speed in SHUTTLE_SPEEDS else 1.0)
            else:
                index = SHUTTLE_SPEEDS.index(playback.speed) if playback.speed in SHUTTLE_SPEEDS else -1
                commands.set_speed(playback, SHUTTLE_SPEEDS[min(index + 1, len(SHUTTLE_SPEEDS) - 1)])
        elif name == "home":
            self._seek(playback, 0.0)
        elif name == "end" and playback.duration:
            last = max(0.0, playback.duration - playback.video.frame_duration)
            commands.set_speed(playback, playback.speed, paused=True)
            self._seek(playback, last)
        else:
            return False
        self._moved_at = time.monotonic()  # a timeline key shows the bar
        return True

    def _seek(self, playback, target: float) -> None:
        self._player.commands.seek(playback, target, paused=playback.clock.paused)

    # -- the overlay ------------------------------------------------------------------------------------------------

    def __call__(self, playback) -> list:
        if playback is None:
            return []
        if not (self.pinned or self._scrubbing or time.monotonic() - self._moved_at < SHOWN_AFTER_MOVE):
            self._hover_x = None
            return []
        duration = playback.duration or 0.0
        rate = playback.video.frame_rate
        position = playback.position
        text = f"{timecode(position, rate)} / {timecode(duration, rate)}"
        if playback.speed != 1.0 and not playback.clock.paused:
            text += f"  {playback.speed:g}X"
        if playback.clock.paused:
            text += "  PAUSED"
        left, width, _ = self._geometry()
        if self._hover_x is not None and duration:
            hovered = self._time_at(playback, self._hover_x)
            text += f"  AT {timecode(hovered, rate)}"
            text += "".join(f"  {words}" for strip in self.strips if (words := strip.describe(playback, hovered)))
        strips = [rows for strip in self.strips if (rows := strip.picture(playback, width)) is not None]
        above = sum(len(rows) for rows in strips)
        return [self._bar_card(width, x_of(position, 0, width, duration), self._hover_x and self._hover_x - left, strips),
                TextCard(text, InView("bottom", margin=MARGIN + above + BAR_HEIGHT + TEXT_GAP))]

    def _bar_card(self, width: int, played: float, hover: float | None, strips: list) -> ImageCard:
        shown = (width, round(played), None if hover is None else round(hover), tuple(id(rows) for rows in strips))
        if shown != self._drawn:
            self._drawn = shown
            self._version += 1
            picture = np.concatenate(strips + [bar_picture(width, played, hover)], axis=0)
            self._bar = ImageCard("timeline", picture, InView("bottom", scale=1, margin=MARGIN), self._version)
        return self._bar


def bar_picture(width: int, played: float, hover: float | None) -> np.ndarray:
    """The bar's RGBA pixels (BAR_HEIGHT × width): the track, the part played, the playhead, the hover mark."""
    rgba = np.empty((BAR_HEIGHT, width, 4), np.uint8)
    rgba[:] = _TRACK
    end = int(round(min(width, max(0.0, played))))
    rgba[2:-2, :end] = _PLAYED
    head = min(width - 2, max(0, end - 1))
    rgba[:, head:head + 2] = _PLAYHEAD
    if hover is not None:
        column = min(width - 1, max(0, int(hover)))
        rgba[:, column] = _HOVER
    return rgba
