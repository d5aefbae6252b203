"""Head traces from files: our own format, the Salient360! raw head/gaze CSV, and a generic CSV of time plus yaw and
pitch (and roll) or a quaternion, with its columns and convention given as options.

Every importer returns HeadTrace objects in vrplayer's convention (see trace.py): degrees, yaw right-positive from
the film's frame centre, pitch up-positive.

The Salient360! convention (checked against its toolbox, see the team's heat-map notes): Unity's left-handed axes,
+y up, +z forward; the head's forward vector u = q·(0, 0, 1)·q⁻¹; longitude = −(atan2(u_x, u_z) + 90°) wrapped to
±180°, latitude = asin(u_y). Rows whose right eye is invalid (valR False) are dropped, as the toolbox drops them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vrplayer.analytics.trace import FORMAT, HeadTrace, TraceError, read_trace

_TICKS_PER_SECOND = 1e7  # .NET ticks (Unity's timestamps)


@dataclass(frozen=True)
class CsvColumns:
    """How to read a generic CSV: the time column, and either yaw/pitch(/roll) columns or the four quaternion
    components; the units of the angles, a yaw sign and offset, the time's unit and the quaternion's axes."""

    time: str = "t"
    yaw: str | None = "yaw"
    pitch: str | None = "pitch"
    roll: str | None = None
    quaternion: tuple[str, str, str, str] | None = None  # x, y, z, w column names
    radians: bool = False
    yaw_sign: float = 1.0  # -1 when the file's yaw is left-positive
    yaw_offset: float = 0.0  # degrees added (after the sign) so that 0 is the film's frame centre
    time_scale: float = 1.0  # the time column's unit in seconds (0.001 for milliseconds)
    axes: str = "openxr"  # the quaternion's axes: "openxr" (right-handed, +y up, −z forward) or "unity" (left-handed, +z forward)


def load(path: str | Path, columns: CsvColumns | None = None) -> list[HeadTrace]:
    """The traces in a file, whatever its kind: ours (.jsonl), Salient360! raw CSV, or a generic CSV (`columns`)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}: cannot read the head trace ({getattr(exc, 'strerror', None) or exc})") from None
    if FORMAT in first:
        return [read_trace(path)]
    header = [name.strip() for name in first.strip().split(",")]
    if {"cameraRotation.x", "cameraRotation.w"} <= set(header):
        return [read_salient360(path)]
    if len(header) > 1:
        return [read_csv(path, columns or CsvColumns())]
    raise TraceError(f"{path}: neither a vrplayer head trace nor a CSV with a header line")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            return header, [row for row in reader if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TraceError(f"{path}: cannot read the CSV ({exc})") from None


def _column(path: Path, header: list[str], rows: list[list[str]], name: str) -> np.ndarray:
    if name not in header:
        raise TraceError(f"{path}: no column {name!r} (the columns are: {', '.join(header[:12])}{', …' if len(header) > 12 else ''})")
    index = header.index(name)
    try:
        return np.array([float(row[index]) for row in rows], dtype=np.float64)
    except (ValueError, IndexError):
        raise TraceError(f"{path}: column {name!r} holds something that is not a number") from None


def forward_from_quaternion(x, y, z, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u = q·(0, 0, 1)·q⁻¹, componentwise."""
    x, y, z, w = (np.asarray(v, dtype=np.float64) for v in (x, y, z, w))
    return 2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)


def read_salient360(path: str | Path) -> HeadTrace:
    path = Path(path)
    header, rows = _rows(path)
    if "valR" in header:
        valid = header.index("valR")
        rows = [row for row in rows if len(row) > valid and row[valid].strip().lower() != "false"]
    if not rows:
        raise TraceError(f"{path}: no valid rows")
    quaternion = [_column(path, header, rows, f"cameraRotation.{axis}") for axis in "xyzw"]
    ux, uy, uz = forward_from_quaternion(*quaternion)
    yaw = np.degrees(np.arctan2(ux, uz))
    lon = -(yaw + 90.0)
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = np.degrees(np.arcsin(np.clip(uy / np.sqrt(ux * ux + uy * uy + uz * uz), -1, 1)))
    if "UnityTimeStamp" in header:
        ticks = _column(path, header, rows, "UnityTimeStamp")
        t = (ticks - ticks[0]) / _TICKS_PER_SECOND
    else:
        t = np.arange(len(rows)) / 120.0  # the dataset's recording rate
    samples = np.stack([t, lon, lat, np.zeros_like(t)], axis=1)
    head = {"source": "salient360", "film": {"name": path.name}, "display": {"kind": "HTC Vive (Salient360!)", "fov": [100.0, 110.0]}}
    return HeadTrace(samples[np.argsort(t, kind="stable")], head, [], str(path))


def read_csv(path: str | Path, columns: CsvColumns) -> HeadTrace:
    path = Path(path)
    header, rows = _rows(path)
    if not rows:
        raise TraceError(f"{path}: no rows under the header")
    t = _column(path, header, rows, columns.time) * columns.time_scale
    if columns.quaternion is not None:
        x, y, z, w = (_column(path, header, rows, name) for name in columns.quaternion)
        if columns.axes == "unity":  # left-handed, +y up, +z forward: forward u as for Salient360!
            ux, uy, uz = forward_from_quaternion(x, y, z, w)
        elif columns.axes == "openxr":  # right-handed, +x right, +y up, −z forward: forward = −(q·(0, 0, 1)·q⁻¹)
            a, b, c = forward_from_quaternion(x, y, z, w)
            ux, uy, uz = -a, -b, c  # its right, up and forward (along −z) components
        else:
            raise TraceError(f"unknown quaternion axes {columns.axes!r}: say openxr or unity")
        norm = np.sqrt(ux * ux + uy * uy + uz * uz)
        yaw = np.degrees(np.arctan2(ux, uz))
        pitch = np.degrees(np.arcsin(np.clip(uy / np.where(norm > 0, norm, 1), -1, 1)))
        roll = np.zeros_like(t)
    else:
        if columns.yaw is None or columns.pitch is None:
            raise TraceError("a generic CSV needs either yaw and pitch columns or the quaternion's four")
        scale = 180.0 / math.pi if columns.radians else 1.0
        yaw = _column(path, header, rows, columns.yaw) * scale
        pitch = _column(path, header, rows, columns.pitch) * scale
        roll = _column(path, header, rows, columns.roll) * scale if columns.roll else np.zeros_like(t)
    yaw = (columns.yaw_sign * yaw + columns.yaw_offset + 180.0) % 360.0 - 180.0
    samples = np.stack([t, yaw, pitch, roll], axis=1)
    samples = samples[np.all(np.isfinite(samples), axis=1)]
    head = {"source": "csv", "film": {"name": path.name}, "display": {}}
    return HeadTrace(samples[np.argsort(samples[:, 0], kind="stable")], head, [], str(path))


def load_all(paths, columns: CsvColumns | None = None) -> list[HeadTrace]:
    """Every trace in the given files and folders (a folder: its *.jsonl and *.csv files, sorted)."""
    traces = []
    for given in paths:
        given = Path(given)
        if given.is_dir():
            files = sorted(p for p in given.iterdir() if p.suffix.lower() in (".jsonl", ".csv"))
            if not files:
                raise TraceError(f"{given}: no head traces (*.jsonl, *.csv) in this folder")
        elif given.exists():
            files = [given]
        else:
            raise TraceError(f"{given}: no such file or folder")
        for file in files:
            traces.extend(load(file, columns))
    return traces
