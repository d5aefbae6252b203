"""How far before the eyes a caption stands over a stereo film (pure numpy): never inside the picture's 3D.

A caption in a headset is drawn at one depth for both eyes (render/placement.IN_VIEW_DEPTH, 2 m). Over a mono film
that is in front of everything (the picture is at infinity); a stereo film's nearer things have a disparity of
their own — the same thing further right in the left eye's picture than in the right one's — and a caption
behind one of them, yet drawn over it, is a quarrel the eyes cannot settle. So when a cue first shows over a stereo
film, the band of the picture behind it is matched between the eyes, block by block; the nearest thing found there
(a high percentile of the blocks' disparities, so one mismatched block does not decide) sets the caption nearer
than it, by a margin, when it is nearer than 2 m.
"""

from __future__ import annotations

import math

import numpy as np

from vrplayer import log

_log = log.get("subtitles")

VIEWER_EYES = 0.063  # metres between a viewer's eyes (the film's own disparities are made for eyes like these)
MARGIN = 1.5  # the caption's disparity over the nearest thing behind it
NEAREST = 0.6  # metres: never nearer than this (closer text cannot be read in comfort)
BLOCK = (16, 32)  # rows, columns of a block matched between the eyes
TEXTURED = 4.0  # a block flatter than this (grey-level spread) cannot be matched: left out
SHARE = 0.95  # percentile of the blocks' disparities taken for the nearest thing
MAX_SHIFT_DEG = 6.0  # the largest disparity looked for (a thing 0.6 m away: about 6°)


def nearest_disparity(left: np.ndarray, right: np.ndarray, max_shift: int, share: float = SHARE) -> float | None:
    """The disparity (pixels, positive: nearer than infinity) of the nearest thing in two eyes' pictures of one
    band (H × W grey, the same shape): per textured block, the shift s in −max_shift…max_shift with
    left(x) ≈ right(x − s) (beyond infinity, negative, counts as 0); `share`: the percentile of the blocks' shifts
    taken. None when no block has texture to match."""
    left = np.asarray(left, dtype=np.float32)
    right = np.asarray(right, dtype=np.float32)
    bh, bw = BLOCK
    rows, cols = left.shape[0] // bh, (left.shape[1] - 2 * max_shift) // bw
    if rows < 1 or cols < 1:
        return None
    height, width = rows * bh, cols * bw
    target = left[:height, max_shift:max_shift + width]
    textured = target.reshape(rows, bh, cols, bw).std(axis=(1, 3)) > TEXTURED
    if not textured.any():
        return None
    shifts = np.arange(-max_shift, max_shift + 1)
    costs = np.empty((len(shifts), rows, cols), np.float32)
    for n, shift in enumerate(shifts):
        moved = right[:height, max_shift - shift:max_shift - shift + width]
        costs[n] = np.abs(target - moved).reshape(rows, bh, cols, bw).sum(axis=(1, 3))
    best = np.maximum(0, shifts[costs.argmin(axis=0)][textured])
    return float(np.percentile(best, 100 * share))


def eye_bands(gray: np.ndarray, stereo: str, eyes_swapped: bool, covered: tuple[float, float, float, float],
              yaw: float, pitch: float, half_width: float = 35.0, above: float = 10.0, below: float = 20.0):
    """The two eyes' bands of an equirectangular stereo picture (grey, both eyes packed) behind a caption at
    (yaw, pitch) degrees: (left, right, degrees per pixel), or None for a layout this does not read.
    covered: the eye picture's (left, right, top, bottom) longitude and latitude in degrees."""
    if stereo == "top-bottom":
        half = gray.shape[0] // 2
        first, second = gray[:half], gray[half:2 * half]
    elif stereo == "side-by-side":
        half = gray.shape[1] // 2
        first, second = gray[:, :half], gray[:, half:2 * half]
    else:
        return None
    left, right = (second, first) if eyes_swapped else (first, second)
    lon0, lon1, lat0, lat1 = covered
    h, w = left.shape
    per_pixel = (lon1 - lon0) / w
    rows = np.arange(h)
    lat = lat0 - (rows + 0.5) * (lat0 - lat1) / h
    band_rows = rows[(lat <= min(90.0, pitch + above)) & (lat >= max(-90.0, pitch - below))]
    columns = np.arange(round((yaw - half_width - lon0) / per_pixel), round((yaw + half_width - lon0) / per_pixel))
    full_circle = abs((lon1 - lon0) - 360.0) < 1e-6
    if full_circle:
        columns %= w
    else:
        columns = columns[(columns >= 0) & (columns < w)]
    if len(band_rows) < BLOCK[0] or len(columns) < 2 * BLOCK[1]:
        return None
    return left[np.ix_(band_rows, columns)], right[np.ix_(band_rows, columns)], per_pixel


def caption_depth(disparity_px: float | None, degrees_per_pixel: float, farthest: float) -> float:
    """Metres before the eyes for a caption in front of a thing of that disparity, by MARGIN; `farthest` (the
    usual depth) when it is further than that, never nearer than NEAREST."""
    if not disparity_px:
        return farthest
    angle = math.radians(disparity_px * degrees_per_pixel)
    return max(NEAREST, min(farthest, VIEWER_EYES / (MARGIN * angle)))


def depth_behind(playback, yaw: float, pitch: float) -> float | None:
    """Metres before the eyes for a caption at (yaw, pitch) over the playback's picture on screen: None (the usual
    depth) over a mono film or one this does not read (only equirectangular stereo is)."""
    from vrplayer.render.placement import IN_VIEW_DEPTH

    layout = playback.layout.layout
    frame = playback.current
    if layout.stereo == "mono" or layout.projection != "equirectangular" or frame is None or frame.frame is None:
        return None
    try:
        gray = frame.frame.to_ndarray(format="gray")[::2, ::2]  # half size is plenty to match blocks
    except Exception as exc:  # a picture format swscale cannot turn grey: the usual depth
        _log.debug("no depth for the caption (%s)", exc)
        return None
    covered = (-180.0 + 360.0 * layout.crop_left, 180.0 - 360.0 * layout.crop_right,
               90.0 - 180.0 * layout.crop_top, -90.0 + 180.0 * layout.crop_bottom)
    bands = eye_bands(gray, layout.stereo, layout.eyes_swapped, covered, yaw, pitch)
    if bands is None:
        return None
    left, right, per_pixel = bands
    disparity = nearest_disparity(left, right, math.ceil(MAX_SHIFT_DEG / per_pixel))
    depth = caption_depth(disparity, per_pixel, IN_VIEW_DEPTH)
    if depth < IN_VIEW_DEPTH:
        _log.info("caption stands %.2f m before the eyes: the picture behind it comes to %.1f° of disparity",
                  depth, disparity * per_pixel)
    return depth
