"""Heat-maps and attention figures from head traces, pure numpy.

Maps are equirectangular, H rows × 2H columns: row 0 looks at +90° latitude, column 0 at −180° longitude, the film's
frame centre (yaw 0, pitch 0) in the middle; pixel (r, c) stands for its centre. Directions follow vrplayer's
angles: longitude = yaw (right-positive), latitude = pitch (up-positive).

- Head-direction map: a Gaussian of great-circle distance around each sample's direction (σ 3.34° by default, as
  Salient360! uses for head-only maps), cut off at 3.9 σ. Each sample is binned to its pixel and a stamp made for
  its row is added there (a sample's row decides the stamp's shape: wider in pixels towards the poles, across the
  pole where it reaches it, wrapped at the ±180° seam).
- Viewport map: the share of viewers whose field of view contained each direction (each viewer's samples in the
  window averaged, then the viewers).
- Maps are normalised to sum 1 with each row weighted by the cosine of its latitude (`normalise`), the weighting
  CC and KLD use too (the saliency benchmarks' definitions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SIGMA_DEG = 3.34  # Salient360!'s σ for head-only maps
CUTOFF_SIGMAS = 3.9  # where the Gaussian is cut off, as the Salient360! toolbox does
FRONT_HALF_DEG = 45.0  # "within the front 90°": |yaw| ≤ 45°
EPSILON = 2.220446049250313e-16  # KLD's ε (the saliency benchmarks')
_BATCH = 4_000_000  # stamp entries gathered before they are added to a map (≈ 64 MB)


def latitudes(height: int) -> np.ndarray:
    """Latitude (degrees) of each row's centre, top row first."""
    return 90.0 - (np.arange(height) + 0.5) * 180.0 / height


def longitudes(width: int) -> np.ndarray:
    """Longitude (degrees) of each column's centre, from −180°."""
    return -180.0 + (np.arange(width) + 0.5) * 360.0 / width


def row_weights(height: int) -> np.ndarray:
    """Each row's weight: the cosine of its latitude (the solid angle its pixels stand for)."""
    return np.cos(np.radians(latitudes(height)))


def unit_vectors(yaw_deg, pitch_deg) -> np.ndarray:
    """(…, 3) directions: x right, y up, z forward (the frame centre)."""
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    return np.stack([np.cos(pitch) * np.sin(yaw), np.sin(pitch), np.cos(pitch) * np.cos(yaw)], axis=-1)


def pixel_of(yaw_deg, pitch_deg, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) of the pixel each direction falls in."""
    lon = (np.asarray(yaw_deg, dtype=np.float64) + 180.0) % 360.0
    row = np.clip(((90.0 - np.asarray(pitch_deg, dtype=np.float64)) / 180.0 * height).astype(int), 0, height - 1)
    column = np.clip((lon / 360.0 * width).astype(int), 0, width - 1)
    return row, column


@lru_cache(maxsize=2048)
def _stamp(row: int, width: int, height: int, sigma_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """For a sample at the centre of pixel (row, 0), the pixels its Gaussian reaches: their rows' flat offsets
    (row · width), their columns (counted from the sample's) and their weights. Shifting the columns (modulo the
    width) places it at any column."""
    lat = latitudes(height)
    reach = math.radians(CUTOFF_SIGMAS * sigma_deg)
    centre_lat = math.radians(lat[row])
    if abs(centre_lat) + reach < math.pi / 2:
        rows = np.flatnonzero(np.abs(np.radians(lat) - centre_lat) <= reach + math.pi / height)
    else:  # the cap reaches over a pole: the rows beyond it on the far side are near too
        pole = math.copysign(math.pi / 2, centre_lat)
        rows = np.flatnonzero(np.abs(np.radians(lat) - pole) <= abs(pole - centre_lat) + reach + math.pi / height)
    lon = np.radians(longitudes(width) - longitudes(width)[0])  # offsets from the sample's column
    target_lat = np.radians(lat[rows])[:, None]
    cos_distance = (math.sin(centre_lat) * np.sin(target_lat)
                    + math.cos(centre_lat) * np.cos(target_lat) * np.cos(lon)[None, :])
    distance = np.arccos(np.clip(cos_distance, -1.0, 1.0))
    near = distance <= reach
    sigma = math.radians(sigma_deg)
    weights = np.exp(-0.5 * (distance[near] / sigma) ** 2)
    r, c = np.nonzero(near)
    return rows[r].astype(np.int64) * width, c.astype(np.int64), weights


def head_map(yaw_deg, pitch_deg, width: int = 1024, height: int = 512, sigma_deg: float = SIGMA_DEG,
             weights=None) -> np.ndarray:
    """The (height, width) sum of a Gaussian per sample (not normalised). `weights`: one per sample (default 1)."""
    yaw = np.asarray(yaw_deg, dtype=np.float64).ravel()
    pitch = np.asarray(pitch_deg, dtype=np.float64).ravel()
    weights = np.ones_like(yaw) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    total = np.zeros(width * height)
    if yaw.size == 0:
        return total.reshape(height, width)
    rows, columns = pixel_of(yaw, pitch, width, height)
    order = np.argsort(rows, kind="stable")
    rows, columns, weights = rows[order], columns[order], weights[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], rows.size]
    pending, pending_weights, size = [], [], 0

    def flush() -> None:
        nonlocal total, size
        if pending:
            total += np.bincount(np.concatenate(pending), weights=np.concatenate(pending_weights), minlength=total.size)
            pending.clear(), pending_weights.clear()
            size = 0

    for start, end in zip(starts, ends):
        base, offsets, stamp = _stamp(int(rows[start]), width, height, float(sigma_deg))
        # Samples of one row that share a column add once, weighted by their count.
        cols, inverse = np.unique(columns[start:end], return_inverse=True)
        counts = np.bincount(inverse, weights=weights[start:end])
        pending.append((base[None, :] + (offsets[None, :] + cols[:, None]) % width).ravel())
        pending_weights.append((stamp[None, :] * counts[:, None]).ravel())
        size += pending[-1].size
        if size > _BATCH:  # one bincount over many rows' stamps: each call fills a whole map
            flush()
    flush()
    return total.reshape(height, width)


def viewport_map(viewers, width: int = 360, height: int = 180) -> np.ndarray:
    """The share of viewers (0–1) whose field of view contained each direction. `viewers`: a list of (samples
    (N, 3) yaw, pitch, roll in degrees, (horizontal, vertical) fov in degrees); each viewer's samples are averaged,
    so a viewer who looked at a place half the window counts half."""
    lon, lat = np.radians(longitudes(width)), np.radians(latitudes(height))
    grid = np.stack(np.broadcast_arrays(np.cos(lat)[:, None] * np.sin(lon)[None, :], np.sin(lat)[:, None],
                                        np.cos(lat)[:, None] * np.cos(lon)[None, :]), axis=-1).reshape(-1, 3)
    share = np.zeros(grid.shape[0])
    counted = 0
    for samples, (hfov, vfov) in viewers:
        samples = np.asarray(samples, dtype=np.float64).reshape(-1, 3)
        if not len(samples):
            continue
        seen = np.zeros(grid.shape[0])
        tx, ty = math.tan(math.radians(hfov) / 2), math.tan(math.radians(vfov) / 2)
        for yaw, pitch, roll in samples:
            camera = grid @ _head_axes(yaw, pitch, roll)  # (right, up, forward) components
            forward = camera[:, 2]
            with np.errstate(divide="ignore", invalid="ignore"):
                inside = (forward > 0) & (np.abs(camera[:, 0] / forward) <= tx) & (np.abs(camera[:, 1] / forward) <= ty)
            seen += inside
        share += seen / len(samples)
        counted += 1
    return (share / max(1, counted)).reshape(height, width)


def _head_axes(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """3×3 whose columns are the head's right, up and forward vectors (x right, y up, z forward axes)."""
    y, p, r = math.radians(yaw), math.radians(pitch), math.radians(roll)
    forward = np.array([math.cos(p) * math.sin(y), math.sin(p), math.cos(p) * math.cos(y)])
    right0 = np.array([math.cos(y), 0.0, -math.sin(y)])
    up0 = np.cross(forward, right0)
    # Roll tips the right side down: turn right and up about forward.
    right = math.cos(r) * right0 - math.sin(r) * up0
    up = math.sin(r) * right0 + math.cos(r) * up0
    return np.stack([right, up, forward], axis=1)


def normalise(heat: np.ndarray) -> np.ndarray:
    """The map scaled so that Σ map · cos(latitude) = 1 (a map of zeros stays zeros)."""
    total = float((heat * row_weights(heat.shape[0])[:, None]).sum())
    return heat / total if total > 0 else heat.copy()


def weighted_cc(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation of the two maps, each row weighted by the cosine of its latitude (1: the same map)."""
    w = np.broadcast_to(row_weights(a.shape[0])[:, None], a.shape)
    w = w / w.sum()
    da, db = a - (w * a).sum(), b - (w * b).sum()
    denominator = math.sqrt(float((w * da * da).sum()) * float((w * db * db).sum()))
    return float((w * da * db).sum()) / denominator if denominator > 0 else float("nan")


def weighted_kld(p: np.ndarray, q: np.ndarray) -> float:
    """Kullback–Leibler divergence of q from the reference p, both weighted by the cosine of latitude and scaled
    to sum 1 (0: the same map; not symmetric)."""
    w = row_weights(p.shape[0])[:, None]
    p, q = p * w, q * w
    p, q = p / max(p.sum(), EPSILON), q / max(q.sum(), EPSILON)
    mask = p > 0
    return float((p[mask] * np.log((p[mask] + EPSILON) / (q[mask] + EPSILON))).sum())


# -- attention figures ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    viewers: int
    front_share: float | None  # share of the viewers' time looking within the front 90° (|yaw| ≤ 45°)
    spread_deg: float | None  # mean great-circle distance of the samples from their centroid
    centroid: tuple[float, float] | None  # (yaw, pitch) degrees of the mean direction

    def as_dict(self) -> dict:
        def r(value):
            return None if value is None else round(value, 4)
        return {"viewers": self.viewers, "front_share": r(self.front_share), "spread_deg": r(self.spread_deg),
                "centroid": None if self.centroid is None else [round(self.centroid[0], 2), round(self.centroid[1], 2)]}


def figures(viewers: list[np.ndarray]) -> Figures:
    """Figures of one window: `viewers` are each viewer's samples (N, ≥ 2: yaw, pitch) in it; every viewer weighs
    the same however many samples they have."""
    viewers = [np.asarray(v, dtype=np.float64).reshape(len(v), -1) for v in viewers if len(v)]
    if not viewers:
        return Figures(0, None, None, None)
    front = float(np.mean([np.mean(np.abs(_wrap(v[:, 0])) <= FRONT_HALF_DEG) for v in viewers]))
    vectors = [unit_vectors(v[:, 0], v[:, 1]) for v in viewers]
    mean = np.mean([u.mean(axis=0) for u in vectors], axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:
        return Figures(len(viewers), front, 90.0, None)  # no mean direction: looking everywhere alike
    centre = mean / norm
    spread = float(np.mean([np.degrees(np.arccos(np.clip(u @ centre, -1, 1))).mean() for u in vectors]))
    centroid = (math.degrees(math.atan2(centre[0], centre[2])), math.degrees(math.asin(np.clip(centre[1], -1, 1))))
    return Figures(len(viewers), front, spread, centroid)


def region_share(viewers: list[np.ndarray], region: tuple[float, float, float, float]) -> float | None:
    """The share of viewers whose head pointed into the region (lon1, lat1, lon2, lat2 degrees: a box from its
    left-top to its right-bottom, crossing the ±180° seam when lon2 < lon1) at least once; None without viewers."""
    viewers = [np.asarray(v, dtype=np.float64).reshape(len(v), -1) for v in viewers if len(v)]
    if not viewers:
        return None
    lon1, lat1, lon2, lat2 = region
    low, high = min(lat1, lat2), max(lat1, lat2)

    def inside(v: np.ndarray) -> bool:
        lon, lat = _wrap(v[:, 0]), v[:, 1]
        across = (lon >= lon1) & (lon <= lon2) if lon1 <= lon2 else (lon >= lon1) | (lon <= lon2)
        return bool(np.any(across & (lat >= low) & (lat <= high)))

    return sum(inside(v) for v in viewers) / len(viewers)


def _wrap(degrees: np.ndarray) -> np.ndarray:
    return (np.asarray(degrees) + 180.0) % 360.0 - 180.0


def in_window(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    """The rows of a trace's samples (film time first) with start ≤ t < end."""
    t = samples[:, 0]
    return samples[np.searchsorted(t, start, "left"):np.searchsorted(t, end, "left")]


# -- traces -----------------------------------------------------------------------------------------------------

def sample_weight(trace) -> float:
    """Seconds of viewing one sample of this trace stands for: a viewer weighs by the time they spent, whatever
    rate their trace was recorded at (ours 20 Hz, Salient360!'s 120 Hz)."""
    times = trace.samples[:, 0]
    if len(times) < 2:
        return 0.1
    return float(np.clip(np.median(np.diff(times)), 1e-3, 1.0))


def viewer_count(traces, start: float, end: float) -> int:
    """How many traces have a sample with start ≤ t < end: the viewers of that window."""
    return sum(len(in_window(t.samples, start, end)) > 0 for t in traces)


def window_map(traces, start: float, end: float, width: int, height: int, sigma: float) -> np.ndarray:
    """The head-direction map (not normalised) of the traces' samples with start ≤ t < end, each sample weighted by
    the viewing time it stands for. Maps of adjacent windows add up to the map of both (a sliding window adds and
    takes away)."""
    chosen = [(in_window(t.samples, start, end), sample_weight(t)) for t in traces]
    chosen = [(s, w) for s, w in chosen if len(s)]
    if not chosen:
        return np.zeros((height, width))
    yaw = np.concatenate([s[:, 1] for s, _ in chosen])
    pitch = np.concatenate([s[:, 2] for s, _ in chosen])
    weights = np.concatenate([np.full(len(s), w) for s, w in chosen])
    return head_map(yaw, pitch, width, height, sigma, weights)
