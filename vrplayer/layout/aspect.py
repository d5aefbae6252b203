"""The picture's shape: what its aspect ratio says when nothing else does, and which stereo packings it cannot have.

Contradictions with the picture's shape: only projections with a fixed geometry (equirectangular, eac, cubemaps)
are checked, and only the stereo packing. Each eye of such a picture should have the projection's own aspect
(equirectangular 360: 2:1, VR180: 1:1, eac / cubemap-3x2: 3:2, cubemap-6x1: 6:1), or that shape squeezed to half
in the packing direction (half-height top-bottom, half-width side-by-side, as many encoders make them). A packing is
*impossible* when each eye would be off from that range by more than a factor of 1.5 (e.g. top-bottom 4:1:
each eye 8:1). Then a warning names both sides; flags and the manifest are kept as asked, metadata and file-name
tags give way to the packing the picture fits. Fisheye, dual-fisheye and flat pictures are not checked: a lens
circle may sit in a frame of any shape, and a flat film may have any shape.
"""

from __future__ import annotations

import math
from fractions import Fraction

from vrplayer.layout.model import FULL, STEREO_MODES, VR180

# Two aspect ratios "match" within 3 % (encoders round sizes to multiples of 8 or 16).
ASPECT_TOLERANCE = 0.03
# A packing is impossible when each eye's aspect is off from the projection's by more than this factor (beyond
# what half-packing explains).
IMPOSSIBLE_FACTOR = 1.5
# Fixed-geometry projections: the shape of each eye says whether a packing is possible.
_GEOMETRIC = ("equirectangular", "eac", "cubemap-3x2", "cubemap-6x1")


def aspect_text(width: int, height: int) -> str:
    ratio = Fraction(width, height)
    if ratio.numerator <= 32 and ratio.denominator <= 32:
        return f"{ratio.numerator}:{ratio.denominator}"
    return f"{width / height:.2f}:1"


def _matches(a: float, b: float) -> bool:
    return abs(a / b - 1.0) <= ASPECT_TOLERANCE


def _per_eye_nominal(projection: str, crop: tuple[float, float, float, float] | None) -> float:
    """Width / height of one eye's picture, as the projection draws it."""
    if projection == "equirectangular":
        left, top, right, bottom = crop or FULL
        return 2.0 * (1.0 - left - right) / (1.0 - top - bottom)
    return {"eac": 1.5, "cubemap-3x2": 1.5, "cubemap-6x1": 6.0, "fisheye": 1.0, "dual-fisheye": 2.0}.get(
        projection, 16 / 9)  # flat: a 16:9 film, only used to spot full-size stereo pairs


def _whole(per_eye: float, stereo: str) -> float:
    return {"mono": per_eye, "top-bottom": per_eye / 2.0, "side-by-side": per_eye * 2.0}[stereo]


# Whole-picture aspect when nothing else says anything (first match wins): (projection, crop, stereo).
ASPECT_RULES = (
    ("equirectangular", FULL, "mono"),  # 2:1 — the 360 film
    ("equirectangular", FULL, "top-bottom"),  # 1:1 — stereo 360 (Meta's 360 Video reads 1:1 the same way)
    ("equirectangular", FULL, "side-by-side"),  # 4:1
    ("eac", None, "mono"),  # 3:2 — YouTube's EAC
    ("cubemap-6x1", None, "mono"),  # 6:1
    ("flat", None, "side-by-side"),  # 32:9 — a full-size side-by-side 3-D film
    ("flat", None, "top-bottom"),  # 8:9 — a full-size top-bottom 3-D film
)
# When the stereo packing is known but the projection is not, each eye's shape is matched against these.
_SHAPES_FOR_KNOWN_STEREO = (
    ("equirectangular", FULL), ("equirectangular", VR180), ("eac", None), ("cubemap-6x1", None), ("flat", None),
)


def guess_from_aspect(width: int, height: int, projection: str | None, stereo: str | None,
                       crop: tuple | None) -> tuple[str | None, tuple | None, str | None, bool]:
    """Fill what is missing of (projection, crop, stereo) from the picture's shape: the first candidate whose
    whole-picture aspect matches. Returns them and whether a candidate matched."""
    aspect = width / height
    if projection is not None:
        shapes = [(projection, c) for c in ([crop] if crop or projection != "equirectangular" else [FULL, VR180])]
    elif crop is not None:  # only a coverage was given (e.g. --fov-covered 180): an equirectangular crop
        shapes = [("equirectangular", crop)]
    elif stereo is not None:
        shapes = list(_SHAPES_FOR_KNOWN_STEREO)
    else:
        shapes = []
    packings = [stereo] if stereo else list(STEREO_MODES)
    candidates = [(p, c, s) for p, c in shapes for s in packings] if shapes else list(ASPECT_RULES)
    for p, c, s in candidates:
        if _matches(aspect, _whole(_per_eye_nominal(p, c), s)):
            return p, c, s, True
    # A packing someone named may be half-size: each eye squeezed to the shape of the whole frame ("_TB" at 2:1).
    if stereo in ("top-bottom", "side-by-side"):
        for p, c in shapes:
            if _matches(aspect, _per_eye_nominal(p, c)):
                return p, c, stereo, True
    return projection or ("equirectangular" if crop is not None else "flat"), crop, stereo, False


def _packing_misfit(projection: str, crop: tuple, stereo: str, aspect: float) -> float:
    """How far (log factor) each eye's shape is from what the projection draws, allowing half-size packing."""
    per_eye = {"mono": aspect, "top-bottom": aspect * 2.0, "side-by-side": aspect / 2.0}[stereo]
    ratio = per_eye / _per_eye_nominal(projection, crop)
    low, high = {"mono": (1.0, 1.0), "top-bottom": (1.0, 2.0), "side-by-side": (0.5, 1.0)}[stereo]
    return max(0.0, math.log(low / ratio), math.log(ratio / high))


def fitting_packing(projection: str, crop: tuple, stereo: str, aspect: float) -> str | None:
    """None when `stereo` is possible for this picture; otherwise the packing that fits it best, or `stereo`
    itself when none does."""
    limit = math.log(IMPOSSIBLE_FACTOR) + 1e-9
    if projection not in _GEOMETRIC or _packing_misfit(projection, crop, stereo, aspect) <= limit:
        return None
    best = min(STEREO_MODES, key=lambda s: _packing_misfit(projection, crop, s, aspect))
    return best if _packing_misfit(projection, crop, best, aspect) <= limit else stereo
