"""The creator's desk in the player's desktop window: the timeline and the shuttle (creator/timeline.py) and the
overview (key O, creator/overview.py). Each part comes in through the player's doors (its inputs, its view drawer,
its overlays), none through the player's own code."""

from __future__ import annotations

from vrplayer.creator.headsets import field_of_view
from vrplayer.creator.overview import OverviewDesk
from vrplayer.creator.timeline import Timeline


def open_desk(player, args) -> None:
    """Set the desk's parts up on `player` from the command line's options (--headset, --headset-fov)."""
    fov = field_of_view(getattr(args, "headset", None), getattr(args, "headset_fov", None))
    Timeline(player)  # first: a click on its bar is the bar's, even over the overview
    OverviewDesk(player, fov)
