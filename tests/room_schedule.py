"""Each presented frame against the room's schedule, from a seat's timing log and the cues the room carried: the
measure the room's tests and its benchmark share. Pure Python."""

from __future__ import annotations

import json
from pathlib import Path


def pictures(timing: Path, clock_offset: float = 0.0) -> list[tuple[float, float]]:
    """(pts, shown) of every picture a --timing-log names, `shown` moved back onto one clock (the seat's clock
    minus `clock_offset`: a seat in a time namespace of its own)."""
    lines = timing.read_text().splitlines() if timing.exists() else []
    entries = [json.loads(line) for line in lines if line.strip()]
    return [(entry["pts"], entry["shown"] - clock_offset) for entry in entries if "pts" in entry]


def cue_at(cues: list[dict], t: float) -> dict | None:
    """The cue in effect at conductor time t: the latest whose instant has come."""
    chosen = None
    for cue in cues:
        if cue["instant"] <= t and (chosen is None or cue["instant"] >= chosen["instant"]):
            chosen = cue
    return chosen


AHEAD = 0.02  # seconds: a frame is picked this much before its moment at most (it is presented a moment later)


def frame_errors(cues: list[dict], frames: list[tuple[float, float]]) -> list[tuple[float, float, float | None, int | None]]:
    """(shown, pts, error, cue number) per frame: error = shown − when the schedule has that frame's pts (seconds);
    None for a frame shown while the room was paused (or before any cue). A frame shown a hair before a cue's
    instant is that cue's first (a seat freezes its picture while it prepares for a cue, so no frame of the cue
    before it is shown so close to the instant)."""
    out = []
    for pts, shown in frames:
        cue = cue_at(cues, shown + AHEAD)
        if cue is None or not cue["playing"]:
            out.append((shown, pts, None, cue["number"] if cue else None))
        else:
            out.append((shown, pts, shown - (cue["instant"] + pts - cue["position"]), cue["number"]))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
