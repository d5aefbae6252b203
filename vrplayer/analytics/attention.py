"""Attention over the film's time, for the creator's desk, pure numpy: per slice of the film, the share of the
viewers' time spent looking at the director's intended direction (within INTENDED_HALF_DEG of it, great-circle) and
the spread of where they looked — the timeline's attention strip; and the share of viewers who saw a box between two
times — the overview's region question. Windows with fewer viewers than the privacy floor say nothing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrplayer.analytics import maps

INTENDED_HALF_DEG = 45.0  # "at the intended direction": within a quarter-turn-wide cone round it (the front 90°)
MIN_SLICE = 1.0  # seconds of film each point of the strip gathers, at least (fewer samples say little)


@dataclass(frozen=True)
class Attention:
    """Per slice of the film: its middle time, viewers, the share at the intended direction and the spread (NaN
    where fewer viewers than the floor watched it)."""

    times: np.ndarray
    viewers: np.ndarray
    share: np.ndarray
    spread_deg: np.ndarray

    def at(self, t: float) -> int:
        """The slice holding film time t (slices are equal: the first's middle is half a slice in)."""
        step = 2 * float(self.times[0])
        return int(np.clip(t // step, 0, len(self.times) - 1))


def attention(traces, duration: float, slices: int, intended: tuple[float, float] = (0.0, 0.0),
              min_viewers: int = 5) -> Attention:
    """Attention in `slices` equal slices of the film (each gathering at least MIN_SLICE seconds round its middle).
    Every viewer weighs the same within a slice, however many samples they have there."""
    slices = max(1, slices)
    step = duration / slices if duration > 0 else 1.0
    half = max(step, MIN_SLICE) / 2
    times = (np.arange(slices) + 0.5) * step
    aim = maps.unit_vectors(np.array([intended[0]]), np.array([intended[1]]))[0]
    cos_limit = np.cos(np.radians(INTENDED_HALF_DEG))
    viewers = np.zeros(slices, dtype=int)
    share = np.full(slices, np.nan)
    spread = np.full(slices, np.nan)
    for k, t in enumerate(times):
        chosen = [samples for trace in traces if len(samples := maps.in_window(trace.samples, t - half, t + half))]
        viewers[k] = len(chosen)
        if len(chosen) < max(1, min_viewers):
            continue
        looks = [samples[:, 1:3] for samples in chosen]
        share[k] = float(np.mean([np.mean(maps.unit_vectors(v[:, 0], v[:, 1]) @ aim >= cos_limit) for v in looks]))
        spread[k] = maps.figures(looks).spread_deg
    return Attention(times, viewers, share, spread)


def region_question(traces, region: tuple[float, float, float, float], start: float, end: float,
                    min_viewers: int = 5) -> tuple[float | None, int]:
    """The share of viewers who looked into the box (lon1, lat1, lon2, lat2: left-top to right-bottom, degrees)
    between film times start and end, and how many viewers watched then; the share is None below the floor."""
    looks = [maps.in_window(trace.samples, start, end)[:, 1:3] for trace in traces]
    looks = [v for v in looks if len(v)]
    if len(looks) < max(1, min_viewers):
        return None, len(looks)
    return maps.region_share(looks, region), len(looks)


def strip_picture(found: Attention, width: int, rows: int = 3) -> np.ndarray:
    """The attention strip's RGBA pixels (2 × rows high, `width` wide): the share at the intended direction as a
    green bar (bright: all of them), and under it the spread (white: all looking at one point; dark blue: 90° and
    more); grey where the privacy floor hides a slice."""
    columns = np.clip(((np.arange(width) + 0.5) / width * len(found.times)).astype(int), 0, len(found.times) - 1)
    share, spread = found.share[columns], found.spread_deg[columns]
    rgba = np.zeros((2 * rows, width, 4), np.uint8)
    hidden = np.isnan(share)
    green = np.where(hidden, 0.0, share)
    rgba[:rows, :, 0] = (40 * (1 - green)).astype(np.uint8)
    rgba[:rows, :, 1] = (60 + 195 * green).astype(np.uint8)
    rgba[:rows, :, 2] = 40
    close = np.where(hidden, 0.0, 1.0 - np.clip(spread / 90.0, 0.0, 1.0))
    rgba[rows:, :, 0] = (30 + 225 * close).astype(np.uint8)
    rgba[rows:, :, 1] = (30 + 225 * close).astype(np.uint8)
    rgba[rows:, :, 2] = (110 + 145 * close).astype(np.uint8)
    rgba[..., 3] = 235
    rgba[:, hidden] = (110, 110, 110, 160)
    return rgba
