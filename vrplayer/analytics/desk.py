"""The audience's heat-map over the film in the player (`vrplayer play FILM --heatmap TRACE…`, key H): an overlay
of the player's, a picture on the whole sphere that follows the film's time. Windows with fewer viewers than the
privacy floor show a note instead of a map."""

from __future__ import annotations

import numpy as np

from vrplayer import log
from vrplayer.analytics import maps
from vrplayer.analytics.importers import load_all
from vrplayer.analytics.pictures import NO_VIEWERS_TEXT, coloured
from vrplayer.render.overlay import ImageCard, TextCard
from vrplayer.render.placement import InView, SphereRegion

_log = log.get("heatmap")

SIZE = (512, 256)  # the map's pixels: σ 3.34° is 4.7 of them, enough over a film
STEP = 0.25  # seconds of film between two maps
WINDOW = 2.0
MIN_VIEWERS = 5


class HeatmapOverlay:
    def __init__(self, player, paths, window: float = WINDOW, min_viewers: int = MIN_VIEWERS):
        self._player = player
        self.traces = load_all(paths)
        self.window, self.min_viewers = window, min_viewers
        self._made_for: float | None = None
        self._cards: list = []
        self._version = 0
        player.options.show_heatmap = True
        _log.info("heat-map of %d traces (key H shows and hides it)", len(self.traces))

    def __call__(self, playback) -> list:
        if playback is None or not self._player.options.show_heatmap:
            return []
        at = round(playback.position / STEP) * STEP
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
        return [ImageCard("audience heat-map", rgba, SphereRegion(), self._version)]
