"""Projection maths, pure numpy, in the conventions of FFmpeg's v360 filter.

Camera frame: x right, y down, z forward. A view pixel (i, j) of a W×H view looks along
    ray = (tan(hfov/2)·((2i+1)/W − 1), tan(vfov/2)·((2j+1)/H − 1), 1)
and the world direction is Ry(yaw)·Rx(pitch)·Rz(roll)·ray: positive yaw turns right, positive pitch looks up,
positive roll tips the camera's right side down. An equirectangular picture maps longitude atan2(x, z) across its
width (0 at the centre column) and latitude asin(y) down its height (the top row looks straight up).

The fragment shader `shaders/sphere.frag` does the same per fragment; these functions are its reference.
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


def vertical_fov(hfov_deg: float, width: int, height: int) -> float:
    """The vertical FOV that keeps pixels square in a W×H view with horizontal FOV hfov."""
    return math.degrees(2.0 * math.atan(math.tan(math.radians(hfov_deg) / 2.0) * height / width))


def tan_half_fov(hfov_deg: float, width: int, height: int) -> tuple[float, float]:
    tx = math.tan(math.radians(hfov_deg) / 2.0)
    return tx, tx * height / width


def view_rays(width: int, height: int, yaw: float, pitch: float, roll: float, hfov: float) -> np.ndarray:
    """Unit world directions (H, W, 3) of every pixel centre of a view."""
    tx, ty = tan_half_fov(hfov, width, height)
    i = (2.0 * np.arange(width) + 1.0) / width - 1.0
    j = (2.0 * np.arange(height) + 1.0) / height - 1.0
    rays = np.stack(np.broadcast_arrays(tx * i[None, :], ty * j[:, None], np.ones((height, 1))), axis=-1)
    world = rays @ view_rotation(yaw, pitch, roll).T
    return world / np.linalg.norm(world, axis=-1, keepdims=True)


def direction(lon_deg: float, lat_deg: float) -> np.ndarray:
    """World direction of a longitude (right-positive) and latitude (up-positive)."""
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    return np.array([math.cos(lat) * math.sin(lon), -math.sin(lat), math.cos(lat) * math.cos(lon)])


def lon_lat(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude in degrees of world directions (..., 3)."""
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    return np.degrees(np.arctan2(x, z)), -np.degrees(np.arcsin(np.clip(y, -1.0, 1.0)))


def equirect_uv(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Texture coordinates in [0, 1] (u right, v down from the top row) of world directions."""
    lon, lat = lon_lat(directions)
    return lon / 360.0 + 0.5, 0.5 - lat / 180.0


def pixel_of(lon_deg: float, lat_deg: float, width: int, height: int, yaw: float, pitch: float, roll: float, hfov: float):
    """Where a world direction appears in a view, as (x, y) pixel coordinates, or None when it is behind or outside."""
    cam = view_rotation(yaw, pitch, roll).T @ direction(lon_deg, lat_deg)
    if cam[2] <= 1e-9:
        return None
    tx, ty = tan_half_fov(hfov, width, height)
    x = (cam[0] / cam[2] / tx + 1.0) * width / 2.0 - 0.5
    y = (cam[1] / cam[2] / ty + 1.0) * height / 2.0 - 0.5
    if -0.5 <= x < width - 0.5 and -0.5 <= y < height - 0.5:
        return x, y
    return None
