"""Keys and remote commands become actions on the film being played.

Keys arrive as commands from `controls.apply` (desktop) or the headset's mirror window: ("pause",), ("seek", s),
("step", ±1), ("fullscreen",), ("mute",), ("info",), ("heatmap",), ("eye",), ("swap",), ("level",), ("next",), ("previous",),
("quit",). Remote commands come from
elsewhere (the kiosk's staff API, its presence policy): pause, resume, restart, recenter and fade act on the film;
any other ends it and goes back to the caller ("remote", name, args). They are carried out in the order given, and
none is lost: the ones handed over after a command that ends the film wait for the next film or screen. On a text
screen (no film) the ones that act on a film do nothing; a caller that wants them kept holds them back.
"""

from __future__ import annotations

import time

from vrplayer import log
from vrplayer.layout import EYE_MODES
from vrplayer.player.options import clock_text

_log = log.get("player")

# What the keyboard may still do in front of an audience (kiosk): look around (applied in controls), and these.
AUDIENCE_COMMANDS = {"info", "mute", "eye", "swap", "level"}
# Remote commands the loop carries out itself; the others end the film and go to the caller.
REMOTE_IN_FILM = {"pause", "resume", "restart", "recenter"}

_EYE_WORDS = {"left": "the left eye", "right": "the right eye", "side-by-side": "both eyes side by side", "anaglyph": "a red-cyan anaglyph"}


class Commands:
    def __init__(self, player):
        self._player = player
        self._held: list[tuple[str, dict]] = []  # handed over after one that ended the film: the next loop's first

    def allowed(self, command: tuple, closing: bool) -> bool:
        """In front of an audience only the harmless keys act (and the window's own close)."""
        return not self._player.audience or command[0] in AUDIENCE_COMMANDS or closing

    def apply(self, playback, command: tuple) -> str | None:
        """Carry out a key's command; the outcome when it ends the film: "quit" (the player), "next" or "previous"
        (the playlist moves on; on a photo the seek keys do that too, a photo having no time to seek in)."""
        player = self._player
        name = command[0]
        if name == "seek" and playback.still:
            name = "next" if command[1] > 0 else "previous"
        if name in ("quit", "next", "previous"):
            return name
        if name == "pause":
            if playback.clock.paused:
                # Resume from exactly the frame on screen, so sound and picture restart together after steps.
                self.seek(playback, playback.position, paused=False)
            else:
                playback.clock.pause()
        elif name == "seek":
            target = min(max(0.0, playback.clock.now() + command[1]), max(0.0, (playback.duration or 0.0) - 0.001))
            self.seek(playback, target, paused=playback.clock.paused)
        elif name == "step" and playback.clock.paused:
            self.step(playback, command[1])
        elif name == "fullscreen":
            player.display.set_fullscreen(not player.display.fullscreen)
        elif name == "mute":
            player.muted = not player.muted
            if playback.mixer is not None:
                playback.mixer.muted = player.muted
        elif name == "info":
            player.options.show_info = not player.options.show_info
        elif name == "heatmap":
            player.options.show_heatmap = not player.options.show_heatmap
        elif name == "eye":
            player.options.eye = EYE_MODES[(EYE_MODES.index(player.options.eye) + 1) % len(EYE_MODES)]
            _log.info("showing %s", _EYE_WORDS[player.options.eye])
        elif name == "swap":
            player.renderer.swap_eyes = not player.renderer.swap_eyes
            _log.info("eyes %s", "swapped" if player.renderer.swap_eyes else "as the film has them")
        elif name == "level":
            player.options.level = not player.options.level
            player.level_picture(playback)
            _log.info("horizon %s", "levelled by the camera's orientation" if player.options.level else "as filmed")
        return None

    def remote(self, playback, film, name: str) -> None:
        """A remote command that acts on the film being played."""
        player = self._player
        if name in ("resume", "restart"):
            player.presence.unfade(playback)
        if name == "pause" and not playback.clock.paused:
            playback.clock.pause()
        elif name == "fade":
            player.presence.start_fade()
        elif name == "resume" and playback.clock.paused:
            self.apply(playback, ("pause",))  # resumes from exactly the frame on screen
        elif name == "restart":
            player.recenter()  # the film starts again facing its initial view
            self.seek(playback, film.start, paused=False)
        elif name == "recenter":
            player.recenter()

    def take_remote(self, playback, film) -> tuple[object, bool]:
        """Carry out the remote commands waiting that act on the film, in order; the first other one ends it.
        (outcome or None, whether anything was done: the picture may need drawing again)."""
        acted = False
        commands = self._waiting()
        for position, (name, args) in enumerate(commands):
            if name not in REMOTE_IN_FILM:
                self._held = commands[position + 1:]  # for the next film or screen, in order
                return ("remote", name, args), True
            self.remote(playback, film, name)
            acted = True
        return None, acted

    def take_remote_on_screen(self):
        """On a text screen: the outcome ("remote", name, args) of the first waiting command that ends it, or None
        (the ones before it act on a film, and there is none)."""
        commands = self._waiting()
        for position, (name, args) in enumerate(commands):
            if name not in REMOTE_IN_FILM:
                self._held = commands[position + 1:]
                return ("remote", name, args)
        return None

    def _waiting(self) -> list[tuple[str, dict]]:
        """The remote commands waiting, oldest first: those held back last time, then the caller's new ones."""
        player = self._player
        waiting, self._held = self._held, []
        return waiting + list(player.remote() if player.remote is not None else ())

    def seek(self, playback, target: float, paused: bool) -> None:
        started = time.monotonic()
        first = playback.goto(target)
        self._player.schedule_first(playback, first, paused)
        _log.info("seek to %s: %.0f ms", clock_text(target), (time.monotonic() - started) * 1000)
        self._player.emit(playback, "sought", target=target, paused=paused)

    def set_speed(self, playback, speed: float, paused: bool = False) -> None:
        """Play on at `speed` × from the frame on screen (the shuttle), the sound time-stretched to keep its pitch
        and the picture on its clock; paused: set the speed the next play takes (and pause)."""
        changed = speed != playback.speed
        playback.speed = speed
        if paused:
            if not playback.clock.paused:
                playback.clock.pause()
        elif changed or playback.clock.paused:
            self.seek(playback, playback.position, paused=False)
        if changed:
            _log.info("speed %g×", speed)

    def step(self, playback, direction: int) -> None:
        if direction > 0:
            frame = playback.scheduler.take_next(timeout=2.0)
            if frame is not None:
                self._player.show(frame)
                playback.clock.reset(frame.pts)
        else:
            current = playback.current.pts if playback.current else 0.0
            self.seek(playback, max(0.0, current - playback.video.frame_duration), paused=True)
