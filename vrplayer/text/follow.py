"""A caption in view that follows the head lazily (pure numpy): it stays where it is in the scene while the viewer
looks about a little, and when they turn further it glides after them, settling below the centre of the view
again. Viewers of 360 film find a rigidly head-locked caption tiring (it swims with every small movement of the
head) and one fixed in the scene easy to lose; this is the middle way the BBC and ImAc studies point to.

Directions are unit vectors in the film's axes (x right, y down, z forward, as the renderer's), so yaw's wrap at
±180° and the poles need no special cases.
"""

from __future__ import annotations

import math

import numpy as np

SLACK_DEG = 8.0  # how far the head may move from the caption's place before it follows
SETTLED_DEG = 0.5  # once following, it glides until it is this close to where it belongs
GLIDE_S = 0.25  # time constant of the glide: most of the way there in half a second
GAP_S = 1.0  # no pose for this long (a pause of the loop, a seek, a new film): it jumps to where it belongs


def direction(yaw: float, pitch: float) -> np.ndarray:
    lon, lat = math.radians(yaw), math.radians(pitch)
    return np.array([math.cos(lat) * math.sin(lon), -math.sin(lat), math.cos(lat) * math.cos(lon)])


def angles(vector: np.ndarray) -> tuple[float, float]:
    x, y, z = vector
    return math.degrees(math.atan2(x, z)), math.degrees(math.asin(max(-1.0, min(1.0, -y))))


class LazyFollower:
    """Where a caption `below` degrees under the view's centre sits in the scene, following the head lazily.
    `place`: that (yaw, pitch) in the film, None until the first pose."""

    def __init__(self, below: float):
        self.below = below
        self.place: tuple[float, float] | None = None
        self._where: np.ndarray | None = None
        self._following = False
        self._at = 0.0

    @property
    def placed(self) -> bool:
        return self.place is not None

    def update(self, yaw: float, pitch: float, at: float) -> tuple[float, float]:
        """The head looks at (yaw, pitch) at time `at` (s): where the caption is now, (yaw, pitch) in the film."""
        target = direction(yaw, pitch + self.below)
        if self._where is None or at - self._at > GAP_S or at < self._at:
            self._where, self._following = target, False
        else:
            apart = math.degrees(math.acos(max(-1.0, min(1.0, float(self._where @ target)))))
            if apart > SLACK_DEG:
                self._following = True
            if self._following and apart <= SETTLED_DEG:
                self._following = False
            elif self._following:
                # Along the great circle toward the target: a share 1 − e^(−dt/GLIDE_S) of the way.
                self._where = _slerp(self._where, target, 1.0 - math.exp(-(at - self._at) / GLIDE_S))
        self._at = at
        self.place = angles(self._where)
        return self.place


def _slerp(a: np.ndarray, b: np.ndarray, share: float) -> np.ndarray:
    cos = max(-1.0, min(1.0, float(a @ b)))
    angle = math.acos(cos)
    if angle < 1e-6:
        return b.copy()
    if math.pi - angle < 1e-6:  # opposite: first a quarter turn, toward one at right angles (up, unless that is a)
        axis = np.cross(a, [0.0, -1.0, 0.0] if abs(a[1]) < 0.9 else [1.0, 0.0, 0.0])
        b = np.cross(axis / np.linalg.norm(axis), a)
        angle = math.pi / 2
    s = math.sin(angle)
    out = (math.sin((1 - share) * angle) * a + math.sin(share * angle) * b) / s
    return out / np.linalg.norm(out)
