"""The audience on the creator's desk (`vrplayer play FILM --heatmap TRACE…`): the heat-map over the film (key H),
an overlay of the player's, a picture on the whole sphere that follows the film's time (the overview lays it flat
over the unwrapped picture); the timeline's attention strip; the overview's region question. Windows with fewer
viewers than the privacy floor show a note instead of a map, and the strip and the question say nothing of them."""

from __future__ import annotations

import numpy as np

from vrplayer import log
from vrplayer.analytics import maps
from vrplayer.analytics.attention import INTENDED_HALF_DEG, attention, region_question, strip_picture
from vrplayer.analytics.importers import load_all
from vrplayer.analytics.pictures import NO_VIEWERS_TEXT, coloured
from vrplayer.render.overlay import ImageCard, TextCard
from vrplayer.render.placement import InView, SphereRegion

_log = log.get("heatmap")

SIZE = (512, 256)  # the map's pixels: σ 3.34° is 4.7 of them, enough over a film
STEP = 0.25  # seconds of film between two maps
WINDOW = 2.0
MIN_VIEWERS = 5


class AudienceMaps:
    """One audience's heat-map cards over a film, by film time (a map every STEP seconds, over `window` seconds round
    it), and its answer to the region question. `key` names its picture (two audiences on one screen need two)."""

    def __init__(self, paths, window: float = WINDOW, min_viewers: int = MIN_VIEWERS, key: str = "audience heat-map"):
        self.traces = load_all(paths)
        self.key = key
        self.window, self.min_viewers = window, min_viewers
        self._made_for: float | None = None
        self._cards: list = []
        self._version = 0

    def cards(self, position: float) -> list:
        """The cards for film time `position`: the map on the whole sphere, or a note below the privacy floor."""
        at = round(position / STEP) * STEP
        if at != self._made_for:
            self._made_for = at
            self._cards = self._cards_at(at)
        return self._cards

    def _cards_at(self, at: float) -> list:
        start, end = at - self.window / 2, at + self.window / 2
        viewers = maps.viewer_count(self.traces, start, end)
        if viewers < self.min_viewers:
            return [TextCard(f"{NO_VIEWERS_TEXT} ({viewers})", InView("bottom"))]
        heat = maps.normalise(maps.window_map(self.traces, start, end, *SIZE, maps.SIGMA_DEG))
        colours, alpha = coloured(heat)
        rgba = np.concatenate([colours, (alpha[..., None] * 255).astype(np.uint8)], axis=2)
        self._version += 1
        return [ImageCard(self.key, rgba, SphereRegion(), self._version)]

    def region(self, box: tuple[float, float, float, float], at: float) -> str:
        """The answer to "what share of viewers saw this box" over the heat-map's window round film time `at`."""
        start, end = at - self.window / 2, at + self.window / 2
        share, viewers = region_question(self.traces, box, start, end, self.min_viewers)
        if share is None:
            return f"{NO_VIEWERS_TEXT} ({viewers})"
        return f"{100 * share:.0f}% OF {viewers} VIEWERS SAW THIS BOX FROM {start:.1f} TO {end:.1f} S"


class HeatmapOverlay(AudienceMaps):
    """The player's door: an overlay showing the audience's map at the film's position while key H says so."""

    def __init__(self, player, paths, window: float = WINDOW, min_viewers: int = MIN_VIEWERS):
        super().__init__(paths, window, min_viewers)
        self._player = player
        player.options.show_heatmap = True
        _log.info("heat-map of %d traces (key H shows and hides it)", len(self.traces))

    def __call__(self, playback) -> list:
        if playback is None or not self._player.options.show_heatmap:
            return []
        return self.cards(playback.position)


class AttentionStrip:
    """The timeline's strip for the audience: per slice of the film, the share of viewers at the director's intended
    direction (the film's initial view) and their spread (analytics/attention.py). Made once per film and width."""

    def __init__(self, heat: HeatmapOverlay):
        self._heat = heat
        self._made: tuple | None = None
        self._found = None
        self._rows = None

    def _attention(self, playback, width: int):
        key = (playback.path, width)
        if key != self._made and playback.duration:
            layout = playback.layout.layout
            self._found = attention(self._heat.traces, playback.duration, width, (layout.initial_yaw, layout.initial_pitch),
                                    self._heat.min_viewers)
            self._rows = strip_picture(self._found, width)
            self._made = key
        return self._found if key == self._made else None

    def picture(self, playback, width: int):
        return self._rows if self._attention(playback, width) is not None else None

    def describe(self, playback, t: float) -> str:
        if self._made is None or self._made[0] != playback.path:
            return ""  # (its picture, drawn first, works it out)
        found = self._found
        k = found.at(t)
        if np.isnan(found.share[k]):
            return f"{NO_VIEWERS_TEXT} ({found.viewers[k]})"
        return f"{100 * found.share[k]:.0f}% WITHIN {INTENDED_HALF_DEG:.0f}° OF THE OPENING VIEW, SPREAD {found.spread_deg[k]:.0f}°"
