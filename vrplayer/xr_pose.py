"""Head poses and fields of view between OpenXR's axes and ours. Pure numpy: no runtime needed.

OpenXR is right-handed with +X right, +Y up, −Z forward; a pose is an orientation quaternion (x, y, z, w) and a
position, an eye's field of view four angles in radians (left and down negative). We use FFmpeg v360's axes:
x right, y DOWN, z FORWARD (see `vrplayer.render.projection`). The two differ by S = diag(1, −1, −1), a half turn
about x, so a rotation R in OpenXR's axes is S·R·S in ours (S is its own inverse, and det S = +1 keeps handedness).

Angles in our conventions (those of `geometry.view_rotation`, all in degrees): world = Ry(yaw)·Rx(pitch)·Rz(roll);
yaw turns right, pitch looks up, roll tips the right side down.
"""

from __future__ import annotations

import math

import numpy as np

from vrplayer.geometry import rotation_y

# OpenXR axes ↔ ours.
S = np.diag([1.0, -1.0, -1.0])


def rotation_from_quaternion(x: float, y: float, z: float, w: float) -> np.ndarray:
    """3×3 rotation of a unit quaternion (normalised here; a zero quaternion is the identity)."""
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if n < 1e-12:
        return np.eye(3)
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def quaternion_from_rotation(r: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a 3×3 rotation, w ≥ 0."""
    r = np.asarray(r, dtype=np.float64)
    t = r[0, 0] + r[1, 1] + r[2, 2]
    if t > 0:
        s = math.sqrt(t + 1.0) * 2.0
        q = ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, 0.25 * s)
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2.0
        q = (0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s)
    elif r[1, 1] > r[2, 2]:
        s = math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2.0
        q = ((r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s)
    else:
        s = math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2.0
        q = ((r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s, (r[1, 0] - r[0, 1]) / s)
    q = np.array(q) / np.linalg.norm(q)
    if q[3] < 0:
        q = -q
    return float(q[0]), float(q[1]), float(q[2]), float(q[3])


def to_our_axes(rotation_xr: np.ndarray) -> np.ndarray:
    """A rotation in OpenXR's axes (e.g. a view pose: eye → reference space) as the same rotation in ours (camera →
    world, what `SphereRenderer.draw_rays` takes)."""
    return S @ np.asarray(rotation_xr, dtype=np.float64) @ S


def from_our_axes(rotation: np.ndarray) -> np.ndarray:
    """Inverse of `to_our_axes`."""
    return S @ np.asarray(rotation, dtype=np.float64) @ S


def tan_bounds_from_fov(angle_left: float, angle_right: float, angle_up: float, angle_down: float) -> tuple[float, float, float, float]:
    """An XrFovf (arguments in its field order, radians) as the renderer's tan_bounds: the tangents of the left,
    right, down and up edges, left and down negative for a frustum round the view axis."""
    return math.tan(angle_left), math.tan(angle_right), math.tan(angle_down), math.tan(angle_up)


def yaw_pitch_roll(rotation: np.ndarray) -> tuple[float, float, float]:
    """Degrees (yaw, pitch, roll) of a camera → world rotation in our axes, inverse of `geometry.view_rotation`.
    Yaw in (−180, 180], pitch in [−90, 90]; looking straight up or down, the roll is folded into the yaw."""
    r = np.asarray(rotation, dtype=np.float64)
    pitch = math.asin(max(-1.0, min(1.0, -r[1, 2])))
    if math.cos(pitch) > 1e-9:
        yaw = math.atan2(r[0, 2], r[2, 2])
        roll = math.atan2(r[1, 0], r[1, 1])
    else:  # gimbal lock: only yaw ± roll is defined
        yaw = math.atan2(-r[2, 0], r[0, 0])
        roll = 0.0
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def head_rotation(x: float, y: float, z: float, w: float) -> np.ndarray:
    """An OpenXR orientation quaternion as a camera → world rotation in our axes."""
    return to_our_axes(rotation_from_quaternion(x, y, z, w))


def head_angles(x: float, y: float, z: float, w: float) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees, our conventions, of an OpenXR orientation quaternion."""
    return yaw_pitch_roll(head_rotation(x, y, z, w))


def recenter_rotation(head: np.ndarray, target_yaw_deg: float = 0.0) -> np.ndarray:
    """The world rotation (yaw only, so the horizon stays level) to apply in front of every head rotation from now
    on so that the head, as it is now (`head`: camera → world in our axes), faces the film's yaw `target_yaw_deg`.

    Rendering then uses `world @ head_now` for each eye. Pitch and roll stay the viewer's own."""
    head_yaw, _, _ = yaw_pitch_roll(head)
    return rotation_y(math.radians(target_yaw_deg - head_yaw))


def eye_offsets(positions, world: np.ndarray) -> list[np.ndarray]:
    """Each eye's position from the middle between the eyes (metres), in our axes turned by `world` (the recenter
    rotation), from the eyes' positions in OpenXR's reference space: what gives a card in view its depth."""
    points = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    middle = points.mean(axis=0)
    return [np.asarray(world) @ (S @ (point - middle)) for point in points]
