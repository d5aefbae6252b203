"""A level horizon from the camera's own orientation: samples of how the camera was turned (a quaternion, or a
gravity vector), interpolated at each picture's time, become the turn that puts the picture's horizon level.

Only the tilt is taken out (pitch and roll); the camera's heading is kept as it turned, so the film still looks
where the camera looked, starting from the first frame's heading. Pure numpy. The renderer applies the turn
(`SphereRenderer.picture_turn`: world → the picture's own axes) before it looks the picture up.
"""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass

import numpy as np

from vrplayer import log
from vrplayer.geometry import view_rotation
from vrplayer.xr_pose import yaw_pitch_roll

_log = log.get("level")


def quaternion_rotation(w: float, x: float, y: float, z: float) -> np.ndarray:
    """The rotation matrix of a unit quaternion (w, x, y, z), in the axes it is given in."""
    n = math.sqrt(w * w + x * x + y * y + z * z) or 1.0
    w, x, y, z = w / n, x / n, y / n, z / n
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def tilt_from_gravity(gx: float, gy: float, gz: float) -> tuple[float, float]:
    """(pitch, roll) degrees of a camera whose gravity sensor reads (gx, gy, gz) in its own axes (vrplayer's: y
    down, so a level camera reads (0, 1, 0))."""
    n = math.sqrt(gx * gx + gy * gy + gz * gz) or 1.0
    gx, gy, gz = gx / n, gy / n, gz / n
    return math.degrees(-math.asin(max(-1.0, min(1.0, gz)))), math.degrees(math.atan2(gx, gy))


@dataclass(frozen=True)
class Tilt:
    """The camera's tilt over the film: (time, pitch, roll) samples, in film seconds and degrees."""

    times: tuple[float, ...]
    pitch: tuple[float, ...]
    roll: tuple[float, ...]
    source: str  # where it came from, in words ("Insta360 trailer quaternions")

    @classmethod
    def from_rotations(cls, samples, source: str) -> "Tilt":
        """From (time, camera → world rotation) samples: each one's pitch and roll."""
        times, pitch, roll = [], [], []
        for t, rotation in sorted(samples, key=lambda s: s[0]):
            _, p, r = yaw_pitch_roll(rotation)
            times.append(float(t))
            pitch.append(p)
            roll.append(r)
        return cls(tuple(times), tuple(pitch), tuple(roll), source)

    def at(self, t: float) -> tuple[float, float]:
        """(pitch, roll) at film time t: linear between samples (roll the short way round), held past the ends."""
        times = self.times
        if t <= times[0]:
            return self.pitch[0], self.roll[0]
        if t >= times[-1]:
            return self.pitch[-1], self.roll[-1]
        i = bisect.bisect_right(times, t)
        a = (t - times[i - 1]) / (times[i] - times[i - 1])
        turn = (self.roll[i] - self.roll[i - 1] + 180.0) % 360.0 - 180.0
        return self.pitch[i - 1] + a * (self.pitch[i] - self.pitch[i - 1]), self.roll[i - 1] + a * turn

    def turn(self, t: float) -> np.ndarray:
        """World → picture rotation at film time t: where a level view's ray lies in the tilted camera's picture."""
        pitch, roll = self.at(t)
        return view_rotation(0.0, pitch, roll).T


class LazyTilt:
    """A film's level turn whose samples are read on first need, away from the picture: a long take's telemetry
    is spread through the whole file, and reading it at the start would hold the first picture back. Until the
    samples are in, the picture is shown as filmed (the identity turn). `load()` reads them now (a snapshot);
    `start()` reads them on a thread of their own (playing)."""

    def __init__(self, read, what: str):
        self._read, self.what = read, what  # read() -> Tilt or None
        self._tilt = None
        self._done = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self.source = what

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, name="level-samples", daemon=True).start()

    def load(self) -> None:
        self.start()
        self._done.wait()

    def _load(self) -> None:
        try:
            self._tilt = self._read()
        except Exception as exc:  # (a damaged track: the picture stays as filmed, and the log says why)
            _log.warning("%s could not be read (%s): the horizon stays as filmed", self.what, exc)
        if self._tilt is not None:
            self.source = self._tilt.source
            _log.info("horizon levelled from %s", self._tilt.source)
        else:
            _log.warning("%s holds no orientation samples: the horizon stays as filmed", self.what)
        self._done.set()

    def __call__(self, t: float) -> np.ndarray:
        if not self._started:
            self.start()
        return self._tilt.turn(t) if self._tilt is not None else np.eye(3)
