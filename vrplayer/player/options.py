"""What to play and how: the player's options (from the command line) and one film's request (a playlist entry,
a kiosk programme item)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vrplayer.view import ViewState


@dataclass
class PlayOptions:
    loop: bool = False
    start: float = 0.0
    duration: float | None = None  # stop after this many seconds of playing (wall clock), all films together
    volume: float = 1.0
    show_info: bool = False
    show_heatmap: bool = False  # key H: the audience heat-map, where one was given (play --heatmap)
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
    photo_seconds: float | None = None  # --photo-seconds: how long a photo stays on screen (None: until moved on)
    level: bool = False  # --level (key G): the horizon levelled by the camera's own orientation, where recorded
    level_asked: bool = False  # --level given (a film with nothing to level by is then said in the log)


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
    seconds: float | None = None  # a photo's time on screen (a kiosk item's "seconds"); None: the player's option


def clock_text(seconds: float) -> str:
    """M:SS.s, as the log and the info line write a position."""
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"
