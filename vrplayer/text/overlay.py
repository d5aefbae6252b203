"""Subtitles over the film: the player's door is an overlay (a callable handed the playback, giving cards). The cue on
show at the film's position (the frame on screen, so cues keep to the picture through seeks and pauses) becomes a
card in view, `size` degrees of visual angle per line of text, below the view's centre (render/placement.py
InViewAngle): the same angular size at every field of view, in a window and in each eye of a headset. Once the
player's events say where the head is (`heard`), the caption follows it lazily (text/follow.py); at the speaker, a
cue that names its direction sits there (placement.AtSpeaker, with an arrow while out of view). Each cue is
rasterised once (text/engine.py) and kept while it may come back; the card's key and version tell the overlay
renderer when a new picture must go up; over a stereo film in a headset its depth is found once (text/depth.py).
"""

from __future__ import annotations

from collections import OrderedDict

from vrplayer import log
from vrplayer.errors import PlayerError, path_text
from vrplayer.render.overlay import ImageCard
from vrplayer.render.placement import AtSpeaker, InViewAngle
from vrplayer.text.engine import render_lines
from vrplayer.text.depth import depth_behind
from vrplayer.text.follow import LazyFollower
from vrplayer.text.subtitles import Track, available, choose

_log = log.get("subtitles")

PIXELS_PER_EM = 48  # a cue's raster: 2° of a headset's ~20 px/° is 40 px, so drawn no larger than it was made
MAX_WIDTH_DEG = 40.0  # lines are broken to stay inside the central part of the view
DEFAULT_SIZE_DEG = 2.0
PITCH_DEG = -18.0  # the caption's centre, below the view's
_KEPT = 16


class SubtitleOverlay:
    def __init__(self, wanted: str | None, size_deg: float = DEFAULT_SIZE_DEG, patient: bool = False, wanted_for=None,
                 place: str = "view", language: str | None = None, depth: bool = False):
        """wanted: --subtitles (a file, a language found beside or in each film, or None/"off"). patient: wait for
        a film's own subtitle stream to be read up to the moment asked for (a snapshot; the player never waits).
        wanted_for(film) → a choice of its own for that film, or None for `wanted` (a kiosk programme's item).
        place: "view" (below the view's centre) or "speaker" (a cue that names its speaker's direction goes there,
        with an arrow at the view's edge while it is out of view; the others stay in view). language: the viewer's
        (--language), shown where a film has it and nothing else is chosen. depth: over a stereo film, find how near
        the picture behind each cue comes and stand the caption in front of it (text/depth.py: for a headset)."""
        self.wanted = wanted
        self.size_deg = size_deg
        self.place = place
        self.language = language
        self.depth = depth
        self._depths: dict[tuple, float | None] = {}
        self.follower = LazyFollower(PITCH_DEG)  # in view, once the player says where the head is (`heard`)
        self.patient = patient
        self.wanted_for = wanted_for
        self._tracks: dict[tuple, Track | None] = {}
        self._chosen: dict[str, str] = {}  # film → the track key S went to
        self._available: dict[str, list] = {}
        self._pictures: OrderedDict[tuple, object] = OrderedDict()

    def track_for(self, film: str) -> Track | None:
        """The film's track (looked for once per film; one that cannot be had is said once, and the film plays).
        With no choice made, the viewer's `language`, where the film has subtitles in it."""
        wanted = self._wanted(film)
        by_language = wanted is None and self.language is not None
        if by_language:
            wanted = self.language
        key = (film, wanted)
        if key not in self._tracks:
            try:
                track = choose(film, wanted)
            except PlayerError as exc:
                if by_language:  # not asked for: only the viewer's language, which this film has not
                    _log.info("%s has no subtitles in %s (the viewer's language)", path_text(film), self.language)
                else:
                    _log.warning("%s; playing without subtitles", exc)
                track = None
            if track is not None:
                _log.info("%s for %s (%s)", track.source, path_text(film), track.language or "language not named")
            self._tracks[key] = track
        return self._tracks[key]

    def _wanted(self, film: str) -> str | None:
        """Key S's choice for the film, else the kiosk item's, else --subtitles."""
        if film in self._chosen:
            return self._chosen[film]
        return (self.wanted_for(film) if self.wanted_for is not None else None) or self.wanted

    def take(self, event, playback) -> bool:
        """Key S: the film's next subtitle track (off, then each beside it and in it, then off again). A film
        without any leaves S to the view (look down)."""
        if event.kind != "key" or event.name != "s" or playback is None:
            return False
        film = playback.path
        if film not in self._available:
            self._available[film] = [track["choice"] for track in available(film)
                                     if not (track["source"] == "stream" and track["picture"])]
        choices = self._available[film]
        if not choices:
            return False
        current = self.track_for(film)
        order = ["off", *choices]
        now = "off" if current is None else current.choice
        self._chosen[film] = order[(order.index(now) + 1) % len(order)] if now in order else order[1]
        track = self.track_for(film)
        _log.info("subtitles: %s", "off" if track is None else f"{track.language or 'language not named'} ({track.source})")
        return True

    def heard(self, event) -> None:
        """The player's events: each turn's head pose moves the caption in view after the head, lazily."""
        if event.name == "head_pose":
            self.follower.update(event.data["yaw"], event.data["pitch"], event.at)

    def __call__(self, playback) -> list:
        if playback is None:
            return []
        return self.cards_at(playback.path, playback.position, playback)

    def cards_at(self, film: str, t: float, playback=None) -> list:
        """The cards for film time `t`: the cue on show, or none. `playback` (the player's): its picture, for the
        caption's depth over a stereo film."""
        track = self.track_for(film)
        if track is None:
            return []
        if self.patient and hasattr(track, "wait_for"):
            track.wait_for(t)
        k = track.cue_at(t)
        if k is None:
            return []
        key = (track.source, k)
        rgba = self._pictures.get(key)
        if rgba is None:
            width = round(MAX_WIDTH_DEG / self.size_deg * PIXELS_PER_EM)
            rgba = render_lines(track.cues[k].text, PIXELS_PER_EM, width)
            self._pictures[key] = rgba
            while len(self._pictures) > _KEPT:
                self._pictures.popitem(last=False)
        else:
            self._pictures.move_to_end(key)
        height_deg = rgba.shape[0] / PIXELS_PER_EM * self.size_deg
        direction = track.cues[k].direction if self.place == "speaker" else None
        if direction is not None:
            place = AtSpeaker(yaw=direction[0], pitch=direction[1], height=height_deg)
        elif self.follower.placed:
            yaw, pitch = self.follower.place
            place = AtSpeaker(yaw=yaw, pitch=pitch, height=height_deg, arrow=False)
        else:  # (no head heard of: a snapshot) below the view's centre
            place = InViewAngle(height=height_deg, pitch=PITCH_DEG)
        depth = None
        if self.depth and playback is not None and playback.current is not None:
            if key not in self._depths:  # once a cue, over the picture it first shows on
                at = direction or self.follower.place or (0.0, PITCH_DEG)
                if len(self._depths) > 4 * _KEPT * _KEPT:  # (a day of films: forget the earlier ones')
                    self._depths.clear()
                self._depths[key] = depth_behind(playback, *at)
            depth = self._depths[key]
        return [ImageCard(f"subtitle {track.source}", rgba, place, k + 1, depth)]
