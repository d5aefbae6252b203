"""Timecode at a film's own frame rate, and where a time falls on the timeline bar: pure arithmetic.

`HH:MM:SS:FF` counts whole frames, non-drop-frame, at the nominal rate (29.97 → 30 frames a second, as editors'
timecode does); a time shows the frame on screen then (the one whose span holds it).
"""

from __future__ import annotations

import math


def nominal_rate(frame_rate: float) -> int:
    """Frames a second that the FF field counts to (29.97 → 30, 23.976 → 24, 25 → 25)."""
    return max(1, round(frame_rate))


def frame_at(seconds: float, frame_rate: float) -> int:
    """The frame whose span holds `seconds` (a hair of rounding under a frame's start still counts as that frame)."""
    return max(0, math.floor(seconds * frame_rate + 1e-6))


def timecode(seconds: float, frame_rate: float) -> str:
    """`HH:MM:SS:FF` of the frame on screen at `seconds`."""
    frames = frame_at(seconds, frame_rate)
    per_second = nominal_rate(frame_rate)
    total_seconds, ff = divmod(frames, per_second)
    minutes, ss = divmod(total_seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def time_at(x: float, left: float, width: float, duration: float, frame_duration: float) -> float:
    """The film time under pixel column `x` of a bar starting at `left`, `width` pixels for the whole film: the start
    of the frame there (a seek lands on it exactly), from 0 to the last frame's start."""
    fraction = min(1.0, max(0.0, (x - left) / max(1.0, width)))
    last = max(0.0, duration - frame_duration)
    frame = math.floor(min(fraction * duration, last) / frame_duration + 1e-6)
    return frame * frame_duration


def x_of(seconds: float, left: float, width: float, duration: float) -> float:
    """The bar's pixel column of film time `seconds`."""
    return left + width * min(1.0, max(0.0, seconds / duration)) if duration > 0 else left
