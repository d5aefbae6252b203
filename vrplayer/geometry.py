"""Rotations in vrplayer's axes (those of FFmpeg's v360 filter: x right, y down, z forward), pure numpy.

The floor every stage stands on: the renderer's projections, the headset's poses and the sound's head rotation all
turn the same way, so they share these.
"""

from __future__ import annotations

import math

import numpy as np


def rotation_y(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def view_rotation(yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0) -> np.ndarray:
    """Camera → world rotation (3×3)."""
    return rotation_y(math.radians(yaw_deg)) @ rotation_x(math.radians(pitch_deg)) @ rotation_z(math.radians(roll_deg))
