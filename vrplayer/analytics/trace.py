"""The head-trace format: one viewing of one film, as JSON lines.

The first line is the header:
    {"format": "vrplayer-head-trace", "version": 1,
     "convention": {"angles": "degrees", "yaw": "right-positive", "pitch": "up-positive",
                    "roll": "right side down positive", "yaw_origin": "the film's frame centre",
                    "recenter": "applied", "time": "film seconds"},
     "film": {"name": …, "width": …, "height": …, "duration": …, "sha256_first_mib": …},
     "display": {"kind": "desktop" | "offscreen" | "xr" | …, "fov": [horizontal, vertical] degrees},
     "rate_hz": 10, "vrplayer": VERSION, "source": …}
then one line per sample, taken when its picture was shown:
    {"t": film time, "yaw": …, "pitch": …, "roll": …}
and markers where the film did not simply run on:
    {"event": "pause" | "resume" | "seek" | "end", "t": film time[, "to": target][, "outcome": …]}
Samples are taken only while the film runs (a paused film's time stands still). Traces carry no names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrplayer.errors import PlayerError

FORMAT = "vrplayer-head-trace"
VERSION = 1
CONVENTION = {
    "angles": "degrees", "yaw": "right-positive", "pitch": "up-positive", "roll": "right side down positive",
    "yaw_origin": "the film's frame centre", "recenter": "applied", "time": "film seconds",
}
DEFAULT_FOV = (90.0, 90.0)  # a viewport when a trace does not say (a typical headset's, per eye)


class TraceError(PlayerError):
    """A trace that cannot be read: one line saying which and why."""


@dataclass
class HeadTrace:
    """One viewer's head over one film: samples (N, 4) of film time, yaw, pitch, roll (degrees), in time order."""

    samples: np.ndarray
    header: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)
    source: str = ""  # where it came from (a file name), for messages

    @property
    def fov(self) -> tuple[float, float]:
        fov = (self.header.get("display") or {}).get("fov")
        try:
            h, v = float(fov[0]), float(fov[1])
            if 0 < h <= 360 and 0 < v <= 180:
                return h, v
        except (TypeError, ValueError, IndexError):
            pass
        return DEFAULT_FOV

    @property
    def film(self) -> dict:
        return self.header.get("film") or {}


def film_identity(path: str, width: int | None, height: int | None, duration: float | None) -> dict:
    """What says which film a trace belongs to: its name, size, duration and a hash of its first MiB."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            digest.update(handle.read(1 << 20))
        first_mib = digest.hexdigest()
    except OSError:
        first_mib = None
    return {"name": Path(path).name, "width": width, "height": height,
            "duration": None if duration is None else round(float(duration), 3), "sha256_first_mib": first_mib}


def header(film: dict, display: dict, rate_hz: float, source: str, version: str) -> dict:
    return {"format": FORMAT, "version": VERSION, "convention": CONVENTION, "film": film, "display": display,
            "rate_hz": rate_hz, "vrplayer": version, "source": source}


def read_trace(path: str | Path) -> HeadTrace:
    """A trace file in our format; TraceError when it is not one or is broken (a cut-off last line is dropped:
    a viewing interrupted by a crash still counts)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: cannot read the head trace ({getattr(exc, 'strerror', None) or exc})") from None
    if not lines:
        raise TraceError(f"{path}: empty; a head trace starts with its header line")
    try:
        head = json.loads(lines[0])
    except json.JSONDecodeError:
        raise TraceError(f"{path}: not a vrplayer head trace (its first line is not JSON)") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise TraceError(f"{path}: not a vrplayer head trace (no \"format\": \"{FORMAT}\" header)")
    if head.get("version") != VERSION:
        raise TraceError(f"{path}: head trace version {head.get('version')!r}; this vrplayer reads version {VERSION}")
    samples, markers = [], []
    for number, line in enumerate(lines[1:], start=2):
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # cut off mid-line: the viewing ended with the process
            raise TraceError(f"{path}: line {number} is not JSON") from None
        if not isinstance(item, dict):
            raise TraceError(f"{path}: line {number} is not a sample or a marker")
        if "event" in item:
            markers.append(item)
            continue
        try:
            sample = (float(item["t"]), float(item["yaw"]), float(item["pitch"]), float(item.get("roll", 0.0)))
        except (KeyError, TypeError, ValueError):
            raise TraceError(f"{path}: line {number} is not a sample (t, yaw, pitch, roll)") from None
        if all(np.isfinite(sample)):
            samples.append(sample)
    array = np.array(samples, dtype=np.float64).reshape(-1, 4)
    return HeadTrace(array[np.argsort(array[:, 0], kind="stable")], head, markers, str(path))


class TraceWriter:
    """Writes one trace file, line by line (each flushed: a crash loses at most the line being written)."""

    def __init__(self, path: Path, head: dict):
        self.path = path
        self._file = open(path, "w", encoding="utf-8")
        self._line(head)
        self.samples = 0

    def _line(self, item: dict) -> None:
        self._file.write(json.dumps(item, separators=(",", ":")) + "\n")
        self._file.flush()

    def sample(self, t: float, yaw: float, pitch: float, roll: float) -> None:
        self._line({"t": round(t, 4), "yaw": round(yaw, 3), "pitch": round(pitch, 3), "roll": round(roll, 3)})
        self.samples += 1

    def marker(self, event: str, t: float, **data) -> None:
        self._line({"event": event, "t": round(t, 4), **data})

    def close(self) -> None:
        self._file.close()
