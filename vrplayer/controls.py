"""Desktop controls: input events → view changes (applied here) and player commands (returned).

| input                      | effect                              |
|----------------------------|-------------------------------------|
| drag (left button)         | look around                         |
| ↑ / ↓, W / S               | look up / down (5°)                 |
| Shift+← / Shift+→, A / D   | turn left / right (5°)              |
| wheel, + / −               | zoom (FOV 30–120°)                  |
| space                      | pause / play                        |
| ← / →                      | seek −5 s / +5 s (a photo: the      |
|                            | previous / next in the playlist)    |
| N / P                      | next / previous in the playlist     |
| , / .                      | one frame back / forward (paused)   |
| R                          | recenter                            |
| F                          | fullscreen                          |
| M                          | mute                                |
| I                          | on-screen info line                 |
| H                          | the audience heat-map (--heatmap)   |
| S                          | the next subtitle track, or off (a  |
|                            | film without any: look down)        |
| E                          | eyes: left, right, both, anaglyph   |
| X                          | swap the eyes                       |
| Q / Esc                    | quit                                |
"""

from __future__ import annotations

from vrplayer.display.base import InputEvent
from vrplayer.view import ViewState

LOOK_STEP = 5.0
SEEK_STEP = 5.0

_COMMANDS = {
    "space": ("pause",), "left": ("seek", -SEEK_STEP), "right": ("seek", SEEK_STEP),
    "comma": ("step", -1), "period": ("step", 1), "f": ("fullscreen",), "m": ("mute",), "i": ("info",), "h": ("heatmap",),
    "e": ("eye",), "x": ("swap",), "g": ("level",), "n": ("next",), "p": ("previous",),
    "q": ("quit",), "escape": ("quit",),
}
_LOOKS = {"up": (0, 1), "w": (0, 1), "down": (0, -1), "s": (0, -1), "a": (-1, 0), "d": (1, 0)}


def apply(event: InputEvent, view: ViewState, view_width: int) -> tuple | None:
    """Apply `event`; returns a command tuple for the player ("pause",), ("seek", seconds), … or None."""
    if event.kind == "drag":
        view.drag(event.dx, event.dy, view_width)
    elif event.kind == "scroll":
        view.zoom(event.dy)
    elif event.kind == "close":
        return ("quit",)
    elif event.kind == "key":
        name = event.name
        if event.shift and name in ("left", "right"):
            view.look(LOOK_STEP if name == "right" else -LOOK_STEP, 0.0)
        elif name in _LOOKS:
            dyaw, dpitch = _LOOKS[name]
            view.look(dyaw * LOOK_STEP, dpitch * LOOK_STEP)
        elif name in ("plus", "minus"):
            view.zoom(1 if name == "plus" else -1)
        elif name == "r":
            view.recenter()
        elif name in _COMMANDS:
            return _COMMANDS[name]
    return None
