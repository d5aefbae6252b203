"""A headset going on or off a head, and the fade-out that goes with a viewer leaving: what the film does then.

An attract film gives way to whoever puts the headset on. The kiosk decides what presence means (`on_presence(on)`
returns None, "fade", "pause", "resume" or "restart"); without it, the film pauses while nobody wears the headset
and goes on, from the frame on screen, when someone puts it back on.
"""

from __future__ import annotations

import time

from vrplayer import log

_log = log.get("player")


class Presence:
    def __init__(self, player):
        self._player = player
        self.fade_seconds = 1.0
        self._fade = None  # (started, seconds) of a fade-out in progress or done
        self._paused_for_presence = False

    def changed(self, playback, film, on: bool):
        """The headset went on or came off a head: "viewer" when an attract film gives way, else None."""
        player = self._player
        _log.info("headset %s", "on" if on else "off")
        if film.attract:
            return "viewer" if on else None
        if player.on_presence is not None:
            if on:
                player.recenter()  # whoever put it on faces the film's initial view
            action = player.on_presence(on)
            if action is not None:
                player.commands.remote(playback, film, action)
            return None
        if not on and not playback.clock.paused:
            playback.clock.pause()
            self._paused_for_presence = True
        elif on and self._paused_for_presence:
            self._paused_for_presence = False
            player.commands.apply(playback, ("pause",))  # resumes from exactly the frame on screen
        return None

    def start_fade(self) -> None:
        self._fade = (time.monotonic(), max(0.0, self.fade_seconds))

    def step_fade(self, playback) -> bool:
        """Carry a fade-out on (sound and picture down together); pause at the end of it. True while fading."""
        if self._fade is None:
            return False
        started, seconds = self._fade
        level = 0.0 if seconds <= 0 else max(0.0, 1.0 - (time.monotonic() - started) / seconds)
        self._player.renderer.brightness = level
        self._player.overlay.fade = level  # the captions go down with the picture
        if playback.mixer is not None:
            playback.mixer.volume = playback.volume * level
        if level == 0.0 and not playback.clock.paused:
            playback.clock.pause()
        return level > 0.0

    def unfade(self, playback) -> None:
        self._fade = None
        self._player.renderer.brightness = 1.0
        self._player.overlay.fade = 1.0
        if playback.mixer is not None:
            playback.mixer.volume = playback.volume
