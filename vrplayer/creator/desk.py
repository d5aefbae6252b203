"""The creator's desk in the player's desktop window: the timeline and the shuttle (creator/timeline.py), the
overview (key O, creator/overview.py) and the opening view saved from where one looks (key V); with an audience
(`--heatmap`), its attention strip on the timeline and its heat-map and region question on the overview. Each part comes in
through the player's doors (its inputs, its view drawer, its overlays), none through the player's own code."""

from __future__ import annotations

import time

from vrplayer import log
from vrplayer.analytics.desk import AttentionStrip, HeatmapOverlay
from vrplayer.creator.headsets import field_of_view
from vrplayer.creator.opening_view import save_opening_view
from vrplayer.creator.overview import OverviewDesk
from vrplayer.creator.timeline import Timeline
from vrplayer.errors import PlayerError, path_text
from vrplayer.render.overlay import TextCard
from vrplayer.render.placement import InView

_log = log.get("creator")

NOTE_SECONDS = 2.5  # how long the line saying the view was saved stays


def open_desk(player, args) -> None:
    """Set the desk's parts up on `player` from the command line's options (--headset, --headset-fov)."""
    fov = field_of_view(getattr(args, "headset", None), getattr(args, "headset_fov", None))
    audience = next((overlay for overlay in player.overlays if isinstance(overlay, HeatmapOverlay)), None)
    timeline = Timeline(player)  # first: a click on its bar is the bar's, even over the overview
    if audience is not None:
        timeline.strips.append(AttentionStrip(audience))
    OverviewDesk(player, fov, audience)
    OpeningViewKey(player)


class OpeningViewKey:
    """Key V: the view on screen becomes the film's opening view, saved into its sidecar manifest (as `vrplayer
    set-view` does); recenter returns there from now on, and the film opens there next time."""

    def __init__(self, player):
        self._player = player
        self._note: tuple[str, float] | None = None
        player.inputs.append(self.take)
        player.overlays.append(self)

    def take(self, event, playback) -> bool:
        if event.kind != "key" or event.name != "v" or playback is None:
            return False
        view = self._player.view
        try:
            manifest = save_opening_view(playback.path, view.yaw, view.pitch, view.roll)
        except PlayerError as exc:
            _log.error("%s", exc)
            self._note = ("THE OPENING VIEW WAS NOT SAVED (SEE THE LOG)", time.monotonic())
            return True
        view.set_home(view.yaw, view.pitch, view.roll)
        _log.info("opening view of %s saved in %s: yaw %.1f, pitch %.1f, roll %.1f", path_text(playback.path),
                  path_text(manifest), view.yaw, view.pitch, view.roll)
        self._note = (f"OPENING VIEW SAVED: YAW {view.yaw:.1f}  PITCH {view.pitch:.1f}  ROLL {view.roll:.1f}", time.monotonic())
        return True

    def __call__(self, playback) -> list:
        if self._note is None or time.monotonic() - self._note[1] > NOTE_SECONDS:
            self._note = None
            return []
        return [TextCard(self._note[0], InView("centre"))]
