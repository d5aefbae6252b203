"""Spherical-video metadata read straight from the container bytes: MP4 (Spherical Video V1 and V2) and Matroska.

PyAV exposes only part of it (no meshes, no V1 initial view), so we walk the boxes / EBML elements ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ContainerLayout:
    """What the container says about the picture. Every field is None when the container says nothing about it."""

    kind: str  # which metadata spoke, in words: "Spherical Video V2", "Spherical Video V1", "Matroska Projection"
    projection: str | None = None  # "equirectangular" | "cubemap" | "mesh" | "rectangular" | other text as found
    stereo: str | None = None  # "mono" | "top-bottom" | "side-by-side" (or text naming what is unsupported)
    eyes_swapped: bool | None = None  # right eye first
    crop: tuple[float, float, float, float] | None = None  # equi bounds (left, top, right, bottom) as fractions
    cubemap_layout: int | None = None
    cubemap_padding: int | None = None
    # The stored pose, degrees, exactly as stored (V2 prhd / Matroska ProjectionPose*); V1: initial view heading,
    # pitch, roll as stored.
    pose: tuple[float, float, float] | None = None
    problems: list[str] = field(default_factory=list)  # malformed or unsupported boxes, one line each
