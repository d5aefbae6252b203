"""Where the viewer looks: yaw, pitch, roll and horizontal field of view, with the limits a person expects.

Pure logic, shared by the desktop controls, the command line and snapshots (v360 conventions: yaw right-positive,
pitch up-positive, degrees).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FOV_MIN, FOV_MAX = 30.0, 120.0
DEFAULT_FOV = 90.0


@dataclass
class ViewState:
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    fov: float = DEFAULT_FOV
    # Where recenter returns to (the film's initial view, or the command line's --yaw/--pitch).
    home_yaw: float = 0.0
    home_pitch: float = 0.0
    home_roll: float = 0.0

    def __post_init__(self):
        self.look(0.0, 0.0)
        self.fov = min(FOV_MAX, max(FOV_MIN, self.fov))

    def look(self, dyaw: float, dpitch: float) -> None:
        """Turn by the given degrees: yaw wraps to (−180, 180], pitch stops at straight up and straight down."""
        self.yaw = _wrap(self.yaw + dyaw)
        self.pitch = min(90.0, max(-90.0, self.pitch + dpitch))

    def drag(self, dx_pixels: float, dy_pixels: float, view_width: int) -> None:
        """Grab-and-drag: the picture follows the pointer, so dragging right turns the view left."""
        degrees_per_pixel = self.fov / max(1, view_width)
        self.look(-dx_pixels * degrees_per_pixel, dy_pixels * degrees_per_pixel)

    def zoom(self, steps: float) -> None:
        """Positive steps zoom in (narrower FOV), each by 10 %."""
        self.fov = min(FOV_MAX, max(FOV_MIN, self.fov * math.pow(0.9, steps)))

    def recenter(self) -> None:
        self.yaw, self.pitch, self.roll = self.home_yaw, self.home_pitch, self.home_roll

    def set_home(self, yaw: float, pitch: float, roll: float = 0.0) -> None:
        """Make (yaw, pitch, roll) where recenter returns to, and face it now."""
        self.home_yaw, self.home_pitch, self.home_roll = yaw, pitch, roll
        self.recenter()


def _wrap(angle: float) -> float:
    wrapped = math.fmod(angle + 180.0, 360.0)
    if wrapped <= 0.0:
        wrapped += 360.0
    return wrapped - 180.0


def start_pose(layout, start: tuple) -> tuple[float, float, float]:
    """Where a film opens (and recenter returns): its layout's initial view, with whatever of (yaw, pitch, roll)
    `start` gives instead (None: the film's)."""
    film = (layout.initial_yaw, layout.initial_pitch, layout.initial_roll)
    return tuple(f if given is None else given for f, given in zip(film, start))
