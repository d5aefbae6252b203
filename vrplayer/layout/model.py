"""What a film's picture is: its projection, how the two eyes are packed, what part of the sphere it covers, and
where the viewer faces first: the names, the `Layout` and `LayoutDecision` types, the checks the flags and the
manifest share, what a layout covers, and the decision's reports for `probe`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from vrplayer.layout.mesh import sphere_share, span

# Projection names, as the command line, the manifest and `probe` spell them.
PROJECTIONS = {
    "equirectangular": "equirectangular (360x180, or a crop of it such as VR180)",
    "eac": "equi-angular cubemap (YouTube's 3x2 layout)",
    "cubemap-3x2": "cubemap, 3x2 faces",
    "cubemap-6x1": "cubemap, 6x1 faces",
    "fisheye": "one circular fisheye lens",
    "dual-fisheye": "two fisheye lenses side by side, front and back (raw camera footage)",
    "flat": "an ordinary 2-D film on a virtual screen in front of the viewer",
    "mesh": "the film's own mesh (Spherical Video V2 mshp, as VR180 cameras write it)",
}
STEREO_MODES = ("mono", "top-bottom", "side-by-side")
# How a screen shows a film's eyes: one of them, both side by side, or a red-cyan anaglyph of both.
EYE_MODES = ("left", "right", "side-by-side", "anaglyph")

# The facts a decision names in `LayoutDecision.sources`.
FACTS = ("projection", "stereo", "eyes_swapped", "coverage", "fov", "initial_view")

# Field of view when nothing says: most fisheye films are shot with a 180° lens; the lenses of consumer 360
# cameras (Insta360, GoPro Max, Ricoh Theta) see a little more than half the sphere each, about 190°, so the two
# halves overlap; a flat film is a screen 60° wide — a good cinema seat (THX's 40° is the back of the room, the
# front rows see 70°+; Meta's advice is below 70° so the whole screen is seen without turning the head), and it
# fits inside the player's default 90° view with a margin.
DEFAULT_FOV = {"fisheye": 180.0, "dual-fisheye": 190.0, "flat": 60.0}

FULL = (0.0, 0.0, 0.0, 0.0)
VR180 = (0.25, 0.0, 0.25, 0.0)


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
    # The mesh projection's meshes (vrplayer.layout.mesh): one for both eyes, or the left eye's and the right's,
    # their texture coordinates in each eye's picture (in the whole picture when each eye has its own and the
    # packing is mono: Spherical Video V2's stereo-custom). Only used by "mesh", which needs them.
    meshes: tuple | None = None
    # EAC: pixels of padding round the outside of each row of faces; None: v360's 2 (YouTube's files).
    eac_padding: float | None = None
    # Fisheye lenses' circles where they are not centred in their pictures (a camera's calibration): in picture order
    # (a stereo fisheye's first eye picture's, then the second's; a dual fisheye's left half lens's, then the right
    # half's), each (centre x, centre y, radius, turn): the centre as fractions of the eye picture's width and
    # height, the radius of its height, the degrees the lens's picture is turned clockwise. None: centred circles.
    lens_circles: tuple | None = None


@dataclass
class LayoutDecision:
    layout: Layout
    # For each decided fact ("projection", "stereo", "eyes_swapped", "coverage", "fov", "initial_view"), where it
    # came from, in words: "flag --stereo", "manifest film.json", "metadata (Spherical Video V2 st3d)",
    # "filename tag _TB", "aspect 2:1", "default".
    sources: dict[str, str] = field(default_factory=dict)
    # Contradictions and problems, one line each, naming both sides and the choice made.
    warnings: list[str] = field(default_factory=list)
    # The whole picture's size (both eyes) the decision was made for: `covered` needs it for flat films.
    width: int = 0
    height: int = 0
    # The manifest's "audio" entry (e.g. "ambix1+stereo"), passed through untouched for the audio code; None when
    # the manifest gives none.
    audio: str | None = None


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): what the manifest and the flags take as degrees or fractions."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def name_list(names) -> str:
    return ", ".join(names)


def valid_crop(crop) -> bool:
    return (len(crop) == 4 and all(is_number(v) and 0.0 <= v < 1.0 for v in crop)
            and crop[0] + crop[2] < 1.0 and crop[1] + crop[3] < 1.0)


def flat_screen_aspect(layout: Layout, width: int, height: int) -> float:
    """Width / height of a flat film's screen. Each eye's own shape when it is a film's shape (4:3 to 2.8:1);
    otherwise the pair was packed at half size (half side-by-side 16:9 gives 8:9 eyes) and the whole frame's
    shape is the film's."""
    aspect = width / height
    per_eye = {"mono": aspect, "top-bottom": aspect * 2.0, "side-by-side": aspect / 2.0}[layout.stereo]
    return per_eye if 1.2 <= per_eye <= 2.8 else aspect


def covered(layout: Layout, width: int, height: int) -> tuple[float, float]:
    """(horizontal, vertical) degrees of the sphere the picture covers."""
    if layout.projection == "equirectangular":
        return (360.0 * (1.0 - layout.crop_left - layout.crop_right),
                180.0 * (1.0 - layout.crop_top - layout.crop_bottom))
    fov = layout.fov if layout.fov is not None else DEFAULT_FOV.get(layout.projection)
    if layout.projection == "fisheye":
        return (fov, fov)
    if layout.projection == "dual-fisheye":
        return (min(360.0, 2.0 * fov), min(180.0, fov))
    if layout.projection == "flat":
        aspect = flat_screen_aspect(layout, width, height) if width > 0 and height > 0 else 16 / 9
        return (fov, math.degrees(2.0 * math.atan(math.tan(math.radians(fov) / 2.0) / aspect)))
    if layout.projection == "mesh" and layout.meshes:
        return span(layout.meshes[0])
    return (360.0, 180.0)  # cubemaps


def _degrees(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") + "°"


def describe_meshes(layout: Layout) -> str:
    """A mesh projection in words: how many meshes, their vertices and triangles, what they cover."""
    meshes = layout.meshes
    which = "one for both eyes" if len(meshes) == 1 else "the left eye's and the right eye's"
    parts = []
    for mesh in meshes:
        horizontal, vertical = span(mesh)
        parts.append(f"{mesh.vertex_count} vertices, {len(mesh.triangles)} triangles, {_degrees(horizontal)}×"
                     f"{_degrees(vertical)}, {100.0 * min(1.0, sphere_share(mesh)):.1f}% of the sphere")
    same = len(parts) == 2 and parts[0] == parts[1]
    return f"{which}: " + (f"{parts[0]} each" if same else "; ".join(parts))


def mesh_json(layout: Layout) -> list[dict] | None:
    """The meshes for `probe --json` (None unless the projection is a mesh)."""
    if layout.projection != "mesh" or not layout.meshes:
        return None
    return [{"vertices": mesh.vertex_count, "triangles": len(mesh.triangles),
             "covered": dict(zip(("horizontal", "vertical"), (round(v, 3) for v in span(mesh)))),
             "sphere_share": round(min(1.0, sphere_share(mesh)), 4)} for mesh in layout.meshes]


def describe_decision(decision: LayoutDecision) -> list[str]:
    """Lines for `vrplayer probe`: each fact with where it came from. (Warnings are in `decision.warnings`.)"""
    layout, sources = decision.layout, decision.sources
    horizontal, vertical = covered(layout, decision.width, decision.height)
    area = f"{_degrees(horizontal)}×{_degrees(vertical)}"
    coverage_source = ("" if layout.projection != "equirectangular" or sources["coverage"] == sources["projection"]
                       else f"; coverage: {sources['coverage']}")
    lines = [f"projection:  {layout.projection}, {area} — {sources['projection']}{coverage_source}"]
    stereo = layout.stereo + (", eyes swapped (right eye first)" if layout.eyes_swapped else "")
    eyes_source = ("" if layout.stereo == "mono" or sources["eyes_swapped"] == sources["stereo"]
                   else f"; eye order: {sources['eyes_swapped']}")
    lines.append(f"stereo:      {stereo} — {sources['stereo']}{eyes_source}")
    if layout.fov is not None:
        what = {"fisheye": "lens", "dual-fisheye": "each lens", "flat": "screen width"}[layout.projection]
        lines.append(f"fov:         {_degrees(layout.fov)} {what} — {sources['fov']}")
    if layout.projection == "mesh" and layout.meshes:
        lines.append(f"mesh:        {describe_meshes(layout)}")
    if layout.lens_circles:
        circles = "; ".join(f"centre {x:.3f}, {y:.3f}, radius {r:.3f}" + (f", turned {_degrees(t)}" if t else "")
                            for x, y, r, t in layout.lens_circles)
        lines.append(f"lenses:      {circles} (of each eye's picture) — {sources.get('lenses', 'default')}")
    lines.append(f"start view:  yaw {_degrees(layout.initial_yaw)}, pitch {_degrees(layout.initial_pitch)},"
                 f" roll {_degrees(layout.initial_roll)} — {sources['initial_view']}")
    return lines


def decision_json(decision: LayoutDecision) -> dict:
    """The decision for `probe --json`."""
    layout = decision.layout
    horizontal, vertical = covered(layout, decision.width, decision.height)
    return {
        "projection": layout.projection,
        "stereo": layout.stereo,
        "eyes_swapped": layout.eyes_swapped,
        "covered": {"horizontal": round(horizontal, 3), "vertical": round(vertical, 3)},
        "crop": {"left": layout.crop_left, "top": layout.crop_top, "right": layout.crop_right,
                 "bottom": layout.crop_bottom},
        "fov": layout.fov,
        "meshes": mesh_json(layout),
        "lens_circles": [dict(zip(("centre_x", "centre_y", "radius", "turn"), c)) for c in layout.lens_circles]
        if layout.lens_circles else None,
        "initial_view": {"yaw": layout.initial_yaw, "pitch": layout.initial_pitch, "roll": layout.initial_roll},
        "audio": decision.audio,
        "sources": dict(decision.sources),
        "warnings": list(decision.warnings),
    }

