"""What a film's picture is: its projection, how the two eyes are packed, what part of the sphere it covers, and
where the viewer faces first — and how that was decided.

Pure logic (no GL, no PyAV): the decision rules run on facts gathered elsewhere (command-line flags, a sidecar
manifest, container metadata read by `vrplayer.media.spherical`, the file name, the picture size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Projection names, as the command line, the manifest and `probe` spell them.
PROJECTIONS = {
    "equirectangular": "equirectangular (360x180, or a crop of it such as VR180)",
    "eac": "equi-angular cubemap (YouTube's 3x2 layout)",
    "cubemap-3x2": "cubemap, 3x2 faces",
    "cubemap-6x1": "cubemap, 6x1 faces",
    "fisheye": "one circular fisheye lens",
    "dual-fisheye": "two fisheye lenses side by side, front and back (raw camera footage)",
    "flat": "an ordinary 2-D film on a virtual screen in front of the viewer",
}
STEREO_MODES = ("mono", "top-bottom", "side-by-side")


@dataclass(frozen=True)
class Layout:
    projection: str = "equirectangular"
    stereo: str = "mono"
    # True when the right eye comes first (bottom-top / right-left packing).
    eyes_swapped: bool = False
    # Equirectangular crop, as fractions of the full 360x180 picture cut off each side (Spherical Video V2 `equi`
    # bounds): VR180 is (0.25, 0, 0.25, 0). Only used by "equirectangular".
    crop_left: float = 0.0
    crop_top: float = 0.0
    crop_right: float = 0.0
    crop_bottom: float = 0.0
    # Field of view of the picture in degrees, where the projection needs one: a fisheye lens's FOV (180–220),
    # each lens of a dual fisheye, the width of a flat film's virtual screen. None: the projection's default.
    fov: float | None = None
    # Where the viewer faces at the start and after recenter, in our view conventions (degrees: yaw right-positive,
    # pitch up-positive, roll right-side-down positive).
    initial_yaw: float = 0.0
    initial_pitch: float = 0.0
    initial_roll: float = 0.0


@dataclass
class LayoutDecision:
    layout: Layout
    # For each decided fact ("projection", "stereo", "eyes_swapped", "coverage", "fov", "initial_view"), where it
    # came from, in words: "flag --stereo", "manifest film.json", "metadata (Spherical Video V2 st3d)",
    # "filename tag _TB", "aspect 2:1", "default".
    sources: dict[str, str] = field(default_factory=dict)
    # Contradictions and problems, one line each, naming both sides and the choice made.
    warnings: list[str] = field(default_factory=list)
