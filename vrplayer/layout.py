"""What a film's picture is: its projection, how the two eyes are packed, what part of the sphere it covers, and
where the viewer faces first — and how that was decided.

Pure logic (no GL, no PyAV): the decision rules run on facts gathered elsewhere (command-line flags, a sidecar
manifest, container metadata read by `vrplayer.media.spherical`, the file name, the picture size).

Order of trust, decided separately for each fact (projection, stereo, eyes_swapped, coverage, fov, initial_view):

1. command-line flags;
2. the sidecar manifest (`FILM.mp4.json` or `FILM.json` next to the film);
3. container metadata (Spherical Video V1/V2 in MP4, the Projection element in Matroska);
4. tags in the file name (`FILENAME_TAGS`);
5. the picture's aspect ratio (`ASPECT_RULES`);
6. defaults: equirectangular 360x180, mono, the projection's default fov (`DEFAULT_FOV`), facing straight ahead.

A fact that depends on another is taken only from a source that agrees with the winner of that other fact (or says
nothing about it): the fov of `_MKX200` applies only if the film ends up fisheye, the eye order of `_BT` only if
the winning stereo claim is top-bottom.

Sidecar manifest (a small JSON object; every key optional):

| key            | value                                                                                     |
|----------------|-------------------------------------------------------------------------------------------|
| `projection`   | equirectangular, eac, cubemap-3x2, cubemap-6x1, fisheye, dual-fisheye, flat (`PROJECTIONS`) |
| `stereo`       | mono, top-bottom, side-by-side                                                            |
| `eyes_swapped` | true when the right eye comes first (bottom-top / right-left)                             |
| `fov`          | degrees: a fisheye lens's field of view, each lens of a dual fisheye, a flat screen's width |
| `coverage`     | degrees of longitude an equirectangular picture covers, centred ahead (180 for VR180)     |
| `crop`         | `{"left", "top", "right", "bottom"}`: fractions cut off the full 360x180 picture (not with `coverage`) |
| `initial_view` | `{"yaw", "pitch", "roll"}` degrees, our conventions (yaw right, pitch up, roll right side down) |
| `audio`        | the sound's format, a string ("ambix1", "ambix1+stereo", "fuma1", "tbe", "stereo", "5.1") |
| `comment`      | free text, ignored                                                                        |

Unknown keys give a warning; a malformed manifest (bad JSON, wrong types, unknown names) is an error.

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

import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vrplayer.media.spherical import ContainerLayout

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

# How the command line spells each flag, for source texts and messages.
FLAG_OPTIONS = {
    "projection": "--projection",
    "stereo": "--stereo",
    "eyes_swapped": "--eyes-swapped",
    "fov_covered": "--fov-covered",
    "initial_yaw": "--initial-yaw",
}

MANIFEST_KEYS = ("projection", "stereo", "eyes_swapped", "fov", "coverage", "crop", "initial_view", "audio", "comment")

# Two aspect ratios "match" within 3 % (encoders round sizes to multiples of 8 or 16).
ASPECT_TOLERANCE = 0.03
# A packing is impossible when each eye's aspect is off from the projection's by more than this factor (beyond
# what half-packing explains).
IMPOSSIBLE_FACTOR = 1.5

FULL = (0.0, 0.0, 0.0, 0.0)
VR180 = (0.25, 0.0, 0.25, 0.0)
# Fixed-geometry projections: the shape of each eye says whether a packing is possible.
_GEOMETRIC = ("equirectangular", "eac", "cubemap-3x2", "cubemap-6x1")


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
    # The whole picture's size (both eyes) the decision was made for: `covered` needs it for flat films.
    width: int = 0
    height: int = 0
    # The manifest's "audio" entry (e.g. "ambix1+stereo"), passed through untouched for the audio code; None when
    # the manifest gives none.
    audio: str | None = None


# --------------------------------------------------------------------------------------------------------------
# File-name tags
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilenameTag:
    """One file-name convention. A tag is a whole word of the name (words are split at anything that is not a
    letter or digit, case ignored); names with spaces are several words in a row, written with any separator or
    none ("Side-By-Side", "side_by_side", "SideBySide")."""

    names: tuple[str, ...]
    projection: str | None = None
    coverage: float | None = None  # equirectangular: degrees of longitude covered, centred ahead
    stereo: str | None = None
    eyes_swapped: bool | None = None
    fov: float | None = None
    # How generic the word is, for its projection and stereo: 0 a specific tag; 1 a coverage word ("360", "180");
    # 2 "2D". A more generic word gives way quietly to a more specific one in the same name ("EAC_360" is eac,
    # "360_2D" a mono sphere, "2D_SBS" side-by-side); two tags of the same level that disagree give a warning.
    generality: int = 0
    note: str = ""


# The README quotes this table. Sources: Skybox (3dv/3dh, OU/HOU, HSBS, F180/VR180, EAC, "Side By Side"…), DeoVR
# (MKX200/MKX220/VRCA220/RF52/FISHEYE190), Oculus/Meta 360 Video (_TB/_BT/_LR/_RL), Commedia (FisheyeNNN, 180x180).
FILENAME_TAGS: tuple[FilenameTag, ...] = (
    FilenameTag(("360", "vr360", "360x180"), "equirectangular", coverage=360, generality=1,
                note="equirectangular, whole sphere"),
    FilenameTag(("180", "vr180", "180x180", "f180"), "equirectangular", coverage=180, generality=1,
                note="equirectangular VR180: the front half (crop 0.25 left and right)"),
    FilenameTag(("tb", "ou", "3dv", "hou", "top bottom", "top and bottom", "over under", "half ou",
                 "half over under", "half tb"), stereo="top-bottom", eyes_swapped=False,
                note="top-bottom, left eye on top (H…: half height, drawn the same)"),
    FilenameTag(("bt", "bottom top"), stereo="top-bottom", eyes_swapped=True,
                note="top-bottom, right eye on top"),
    FilenameTag(("sbs", "lr", "3dh", "hsbs", "side by side", "left right", "half sbs", "half side by side"),
                stereo="side-by-side", eyes_swapped=False,
                note="side-by-side, left eye on the left (H…: half width, drawn the same)"),
    FilenameTag(("rl", "right left"), stereo="side-by-side", eyes_swapped=True,
                note="side-by-side, right eye on the left"),
    FilenameTag(("mono",), stereo="mono", note="one picture for both eyes"),
    FilenameTag(("eac", "eac360"), "eac", note="equi-angular cubemap, YouTube's 3x2 layout"),
    FilenameTag(("cube", "cubemap", "c3x2"), "cubemap-3x2", note="cubemap, 3x2 faces"),
    FilenameTag(("c6x1",), "cubemap-6x1", note="cubemap, 6x1 faces"),
    FilenameTag(("fisheye",), "fisheye", note="fisheye, 180° lens unless said"),
    FilenameTag(("mkx200",), "fisheye", fov=200, note="iZugar MKX200: 200° fisheye"),
    FilenameTag(("mkx220",), "fisheye", fov=220, note="iZugar MKX220: 220° fisheye"),
    FilenameTag(("vrca220",), "fisheye", fov=220, note="VRCA 220° fisheye"),
    # The Canon RF 5.2 mm dual fisheye puts two forward-looking 190° circles side by side: a stereo fisheye pair,
    # not the front-and-back "dual-fisheye" of 360 cameras.
    FilenameTag(("rf52", "rf5 2"), "fisheye", stereo="side-by-side", fov=190,
                note="Canon RF 5.2 mm dual fisheye: two 190° circles, side-by-side stereo"),
    FilenameTag(("dfisheye", "dual fisheye"), "dual-fisheye",
                note="two fisheye lenses, front and back (raw 360 camera footage)"),
    FilenameTag(("flat",), "flat", note="an ordinary film on a screen"),
    FilenameTag(("2d",), "flat", stereo="mono", generality=2, note="flat and mono (with 360/180: mono sphere)"),
)
# `FISHEYE190`, `FISHEYE200`, …: fisheye with that lens fov (90–270 degrees).
_FISHEYE_FOV = re.compile(r"fisheye(\d{2,3})")

# Each name as its words ("side by side" → side, by, side) and run together ("sidebyside").
_TAG_BY_NAME = {words: tag for tag in FILENAME_TAGS for name in tag.names
                for words in (tuple(name.split()), (name.replace(" ", ""),))}
_LONGEST_TAG = max(len(words) for words in _TAG_BY_NAME)


def _match_word_run(words: list[str]) -> FilenameTag | None:
    tag = _TAG_BY_NAME.get(tuple(words))
    if tag is None and len(words) == 1 and (m := _FISHEYE_FOV.fullmatch(words[0])):
        degrees = int(m.group(1))
        if 90 <= degrees <= 270:
            tag = FilenameTag((words[0],), "fisheye", fov=float(degrees))
    return tag


def filename_tags(filename: str) -> list[tuple[FilenameTag, str]]:
    """The tags in a file name, in order, each with its text as written ("_TB", "_Side-By-Side")."""
    stem = Path(filename).stem.replace("°", "")
    words = [(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"[0-9A-Za-z]+", stem)]
    found = []
    i = 0
    while i < len(words):
        for n in range(min(_LONGEST_TAG, len(words) - i), 0, -1):  # longest run first: "half_sbs" before "sbs"
            tag = _match_word_run([w for w, _, _ in words[i:i + n]])
            if tag is not None:
                start, end = words[i][1], words[i + n - 1][2]
                if start and stem[start - 1] in "_.-":  # written as "_TB", as the players document them
                    start -= 1
                found.append((tag, stem[start:end]))
                i += n
                break
        else:
            i += 1
    return found


# --------------------------------------------------------------------------------------------------------------
# Claims: what each source says
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    value: Any
    text: str  # the source in words, for `sources`
    origin: str  # "flags" | "manifest" | "metadata" | "filename" | "aspect" | "default"


_Claims = dict  # fact -> _Claim, one dict per source


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _crop_for_coverage(degrees: float) -> tuple[float, float, float, float]:
    """A horizontal coverage, centred ahead, as an equirectangular crop (full height)."""
    side = (1.0 - degrees / 360.0) / 2.0
    return (side, 0.0, side, 0.0)


def _valid_names(names) -> str:
    return ", ".join(names)


def validate_flags(flags: dict | None) -> dict:
    """The flags that were given (None values dropped), checked; ValueError names what is wrong."""
    given = {key: value for key, value in (flags or {}).items() if value is not None}
    for key, value in given.items():
        if key not in FLAG_OPTIONS:
            raise ValueError(f"unknown layout flag {key!r} (valid: {_valid_names(FLAG_OPTIONS)})")
        option = FLAG_OPTIONS[key]
        if key == "projection" and value not in PROJECTIONS:
            raise ValueError(f"{option}: unknown projection {value!r} (valid: {_valid_names(PROJECTIONS)})")
        if key == "stereo" and value not in STEREO_MODES:
            raise ValueError(f"{option}: unknown stereo mode {value!r} (valid: {_valid_names(STEREO_MODES)})")
        if key == "eyes_swapped" and not isinstance(value, bool):
            raise ValueError(f"{option}: must be true or false, not {value!r}")
        if key == "fov_covered" and not (_number(value) and 0 < value <= 360):
            raise ValueError(f"{option}: must be degrees between 0 and 360, not {value!r}")
        if key == "initial_yaw" and not _number(value):
            raise ValueError(f"{option}: must be degrees, not {value!r}")
    return given


def _flag_claims(flags: dict) -> _Claims:
    claims: _Claims = {}
    for key in ("projection", "stereo", "eyes_swapped"):
        if key in flags:
            claims[key] = _Claim(flags[key], f"flag {FLAG_OPTIONS[key]}", "flags")
    if "fov_covered" in flags:  # one flag, two meanings: whichever the projection uses
        text = f"flag {FLAG_OPTIONS['fov_covered']}"
        claims["coverage"] = _Claim(_crop_for_coverage(float(flags["fov_covered"])), text, "flags")
        claims["fov"] = _Claim(float(flags["fov_covered"]), text, "flags")
    if "initial_yaw" in flags:
        claims["initial_yaw"] = _Claim(float(flags["initial_yaw"]), f"flag {FLAG_OPTIONS['initial_yaw']}", "flags")
    return claims


def _manifest_claims(manifest: dict, name: str) -> _Claims:
    text = f"manifest {name}"
    claims: _Claims = {}
    for key in ("projection", "stereo", "eyes_swapped"):
        if key in manifest:
            claims[key] = _Claim(manifest[key], text, "manifest")
    if "fov" in manifest:
        claims["fov"] = _Claim(float(manifest["fov"]), text, "manifest")
    if "coverage" in manifest:
        claims["coverage"] = _Claim(_crop_for_coverage(float(manifest["coverage"])), text, "manifest")
    if "crop" in manifest:
        crop = manifest["crop"]
        claims["coverage"] = _Claim(tuple(float(crop.get(k, 0.0)) for k in ("left", "top", "right", "bottom")),
                                    text, "manifest")
    if "initial_view" in manifest:
        view = manifest["initial_view"]
        claims["initial_view"] = _Claim(tuple(float(view.get(k, 0.0)) for k in ("yaw", "pitch", "roll")),
                                        text, "manifest")
    return claims


def initial_view_from_pose(kind: str, pose: tuple[float, float, float]) -> tuple[float, float, float]:
    """The stored pose of a film's metadata as our initial view (yaw right-positive, pitch up-positive, roll
    right-side-down positive), in degrees, yaw wrapped to (-180, 180].

    - "Spherical Video V2" (`prhd`) and "Matroska Projection" (ProjectionPose*): the stored yaw turns
      counter-clockwise about the up axis seen from above, i.e. to the left, so our yaw is its negative; pitch and
      roll keep their sign. (Matroska's spec text calls its yaw "clockwise"; the sign is to be checked against
      tagged files and rendered pictures — change it here, in one place.)
    - "Spherical Video V1": (InitialViewHeadingDegrees, InitialViewPitchDegrees, InitialViewRollDegrees); the
      heading is a compass bearing (clockwise seen from above, i.e. to the right), so all three keep their sign.

    ValueError for any other kind.
    """
    yaw, pitch, roll = (float(v) for v in pose)
    if kind in ("Spherical Video V2", "Matroska Projection"):
        yaw = -yaw
    elif kind != "Spherical Video V1":
        raise ValueError(f"no pose convention known for {kind!r}")
    return (_wrap180(yaw), pitch + 0.0, roll + 0.0)


def _wrap180(degrees: float) -> float:
    wrapped = degrees % 360.0
    return (wrapped - 360.0 if wrapped > 180.0 else wrapped) + 0.0  # + 0.0: no negative zero


def _container_claims(container: ContainerLayout, film: str, warnings: list[str]) -> tuple[_Claims, str | None]:
    """What the metadata says, and the label of a projection it names that cannot be drawn (None if none)."""
    text = f"metadata ({container.kind})"
    claims: _Claims = {}
    undrawable = None
    projection = container.projection
    if projection == "equirectangular":
        claims["projection"] = _Claim("equirectangular", text, "metadata")
        if container.crop is not None:
            if _valid_crop(container.crop):
                claims["coverage"] = _Claim(tuple(float(v) for v in container.crop), text, "metadata")
            else:
                warnings.append(f"{film}: {text} has an impossible crop {tuple(container.crop)}; ignoring it")
    elif projection == "cubemap" and container.cubemap_layout in (0, None):
        # Spherical Video V2 defines one cubemap layout (0, 3x2 faces); the films that use it are YouTube's, whose
        # faces are equi-angular: read it as eac.
        claims["projection"] = _Claim("eac", f"metadata ({container.kind} cubemap layout 0, read as YouTube's EAC)",
                                      "metadata")
    elif projection == "rectangular":
        claims["projection"] = _Claim("flat", text, "metadata")
    elif projection is not None:
        box = " mshp" if (projection == "mesh" and container.kind == "Spherical Video V2") else ""
        layout = f" layout {container.cubemap_layout}" if projection == "cubemap" else ""
        undrawable = f"projection '{projection}'{layout} ({container.kind}{box})"

    if container.stereo in STEREO_MODES:
        claims["stereo"] = _Claim(container.stereo, text, "metadata")
    elif container.stereo is not None:
        warnings.append(f"{film}: stereo mode '{container.stereo}' ({container.kind}) is not supported; deciding the"
                        f" packing from the file name or the picture — use {FLAG_OPTIONS['stereo']} to choose")
    if container.eyes_swapped is not None:
        claims["eyes_swapped"] = _Claim(bool(container.eyes_swapped), text, "metadata")
    if container.pose is not None:
        try:
            claims["initial_view"] = _Claim(initial_view_from_pose(container.kind, container.pose), text, "metadata")
        except ValueError as error:
            warnings.append(f"{film}: initial view ignored: {error}")
    warnings.extend(container.problems)
    return claims, undrawable


def _filename_claims(filename: str, warnings: list[str]) -> _Claims:
    film = Path(filename).name
    claimed: dict[str, tuple[_Claim, int]] = {}  # fact -> (claim, generality of the tag that made it)
    # Specific tags first (the sort is stable): a generic word never beats a specific one.
    for tag, written in sorted(filename_tags(filename), key=lambda found: found[0].generality):
        text = f"filename tag {written}"
        said = {"projection": tag.projection, "stereo": tag.stereo, "eyes_swapped": tag.eyes_swapped,
                "fov": None if tag.fov is None else float(tag.fov),
                "coverage": None if tag.coverage is None else _crop_for_coverage(tag.coverage)}
        for fact, value in said.items():
            if value is None:
                continue
            # The eye order comes from the tag whose packing won: "_BT" says both.
            if fact == "eyes_swapped" and "stereo" in claimed and claimed["stereo"][0].text != text:
                continue
            level = tag.generality if fact in ("projection", "stereo") else 0
            if fact in claimed:
                earlier, earlier_level = claimed[fact]
                if earlier.value != value and earlier_level == level:
                    warnings.append(f"{film}: {earlier.text} and {text} disagree about {fact.replace('_', ' ')};"
                                    f" using {earlier.text}")
                continue
            claimed[fact] = (_Claim(value, text, "filename"), level)
    return {fact: claim for fact, (claim, _) in claimed.items()}


# --------------------------------------------------------------------------------------------------------------
# The picture's shape
# --------------------------------------------------------------------------------------------------------------


def _aspect_text(width: int, height: int) -> str:
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


def _guess_from_aspect(width: int, height: int, projection: str | None, stereo: str | None,
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


def _fitting_packing(projection: str, crop: tuple, stereo: str, aspect: float) -> str | None:
    """None when `stereo` is possible for this picture; otherwise the packing that fits it best, or `stereo`
    itself when none does."""
    limit = math.log(IMPOSSIBLE_FACTOR) + 1e-9
    if projection not in _GEOMETRIC or _packing_misfit(projection, crop, stereo, aspect) <= limit:
        return None
    best = min(STEREO_MODES, key=lambda s: _packing_misfit(projection, crop, s, aspect))
    return best if _packing_misfit(projection, crop, best, aspect) <= limit else stereo


# --------------------------------------------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------------------------------------------


def _first(sources: list[_Claims], fact: str, parent: str | None = None, parent_value: Any = None) -> _Claim | None:
    """The first source's claim on `fact`; with a parent fact, only from a source that claims nothing about the
    parent or the same value as the winner."""
    for claims in sources:
        if fact in claims:
            if parent is not None and parent in claims and claims[parent].value != parent_value:
                continue
            return claims[fact]
    return None


def decide_layout(*, width: int, height: int, filename: str, flags: dict | None = None, manifest: dict | None = None,
                  manifest_source: str | None = None, container: ContainerLayout | None = None) -> LayoutDecision:
    """Decide how to draw a film's picture, fact by fact: flags, then the manifest, the container metadata, the
    file name's tags, the picture's aspect ratio, and defaults (see the module docstring).

    width, height: the whole decoded picture (both eyes); 0 when unknown (the shape then says nothing).
    flags: optional keys (None values are ignored) projection, stereo, eyes_swapped (bool), fov_covered (degrees:
    an equirectangular film's horizontal coverage, centred; a fisheye's or dual fisheye's lens fov; a flat
    screen's width), initial_yaw (degrees, right-positive; pitch and roll then come from the next source).
    manifest: parsed by `load_manifest`; manifest_source: its path, named in the sources.
    container: what `vrplayer.media.spherical` read, or None.

    ValueError for bad flags or a malformed manifest, with a one-line message.
    """
    film = Path(filename).name
    warnings: list[str] = []
    sources: list[_Claims] = [_flag_claims(validate_flags(flags))]
    if manifest is not None:
        name = Path(manifest_source).name if manifest_source else "manifest"
        warnings.extend(validate_manifest(manifest, name))
        sources.append(_manifest_claims(manifest, name))
    undrawable = None
    if container is not None:
        claims, undrawable = _container_claims(container, film, warnings)
        sources.append(claims)
    sources.append(_filename_claims(filename, warnings))
    has_shape = width > 0 and height > 0
    shape = _aspect_text(width, height) if has_shape else None

    projection = _first(sources, "projection")
    stereo = _first(sources, "stereo")
    # A coverage without a projection (only flags and the manifest give one) means an equirectangular crop.
    coverage = _first(sources, "coverage", "projection", projection.value if projection else "equirectangular")

    # The picture's shape fills what no source said.
    if has_shape and (projection is None or stereo is None or (coverage is None and _equirect(projection))):
        known_crop = coverage.value if coverage is not None and _equirect(projection) else None
        p, c, s, matched = _guess_from_aspect(width, height, projection and projection.value,
                                              stereo and stereo.value, known_crop)
        seen = f"aspect {shape}"
        if projection is None:
            projection = _Claim(p, seen, "aspect") if (matched or p == "flat") else _Claim(p, "default", "default")
        if stereo is None and matched:
            stereo = _Claim(s, seen, "aspect")
        if coverage is None and matched and p == "equirectangular":
            coverage = _Claim(c, seen, "aspect")
    projection = projection or _Claim("equirectangular", "default", "default")
    stereo = stereo or _Claim("mono", "default", "default")
    if projection.value == "equirectangular":
        coverage = coverage or _Claim(FULL, "default", "default")
    crop = coverage.value if projection.value == "equirectangular" else FULL

    stereo_claimed = stereo.value
    if has_shape:
        stereo = _check_packing(projection.value, crop, stereo, width, height, shape, warnings)

    eyes = _decide_eyes(sources, stereo, stereo_claimed, warnings)
    fov = _decide_fov(sources, projection.value, warnings)
    initial_view = _decide_initial_view(sources)
    _warn_unused_manifest_keys(sources, projection.value, warnings)
    if undrawable:
        warnings.append(f"{film}: {undrawable} cannot be drawn; showing it as {projection.value} — use"
                        f" {FLAG_OPTIONS['projection']} to choose another")

    layout = Layout(projection=projection.value, stereo=stereo.value, eyes_swapped=eyes.value,
                    crop_left=crop[0], crop_top=crop[1], crop_right=crop[2], crop_bottom=crop[3], fov=fov.value,
                    initial_yaw=initial_view.value[0], initial_pitch=initial_view.value[1],
                    initial_roll=initial_view.value[2])
    return LayoutDecision(
        layout=layout,
        sources={"projection": projection.text, "stereo": stereo.text, "eyes_swapped": eyes.text,
                 "coverage": coverage.text if projection.value == "equirectangular" else _coverage_text(layout),
                 "fov": fov.text, "initial_view": initial_view.text},
        warnings=warnings, width=width, height=height,
        audio=manifest.get("audio") if manifest is not None else None,
    )


def _equirect(projection: _Claim | None) -> bool:
    return projection is None or projection.value == "equirectangular"


def _check_packing(projection: str, crop: tuple, stereo: _Claim, width: int, height: int, shape: str,
                   warnings: list[str]) -> _Claim:
    """Warn about (and, for metadata and file names, correct) a packing the picture cannot have."""
    fitting = _fitting_packing(projection, crop, stereo.value, width / height)
    if fitting is None:
        return stereo
    picture = f"the {width}x{height} picture ({shape})"
    if stereo.origin in ("default", "aspect"):  # nothing said it: the shape decides, quietly
        return stereo if fitting == stereo.value else _Claim(fitting, f"aspect {shape}", "aspect")
    if fitting == stereo.value:
        warnings.append(f"{stereo.text} says {stereo.value} but {picture} fits no {projection} packing;"
                        f" keeping {stereo.value}")
        return stereo
    if stereo.origin in ("flags", "manifest"):
        warnings.append(f"{stereo.text} says {stereo.value} but {picture} looks {fitting}; keeping {stereo.value}"
                        " as asked")
        return stereo
    warnings.append(f"{stereo.text} says {stereo.value} but {picture} looks {fitting}; using {fitting}")
    return _Claim(fitting, f"aspect {shape} (overriding {stereo.text})", "aspect")


def _decide_eyes(sources: list[_Claims], stereo: _Claim, stereo_claimed: str, warnings: list[str]) -> _Claim:
    eyes = _first(sources, "eyes_swapped", "stereo", stereo_claimed)
    if stereo.value == "mono":
        if eyes is not None and eyes.value:
            warnings.append(f"{eyes.text} says the eyes are swapped, but the picture is mono; ignoring it")
        return _Claim(False, "not used (mono)", "default")
    return eyes or _Claim(False, "default", "default")


def _decide_fov(sources: list[_Claims], projection: str, warnings: list[str]) -> _Claim:
    if projection not in DEFAULT_FOV:
        return _Claim(None, f"not used by {projection}", "default")
    for claims in sources:
        claim = claims.get("fov")
        if claim is None or ("projection" in claims and claims["projection"].value != projection):
            continue
        if projection == "flat" and claim.value >= 180:
            warnings.append(f"{claim.text}: a flat screen cannot be {claim.value:g}° wide; using"
                            f" {DEFAULT_FOV['flat']:g}°")
            break
        return claim
    return _Claim(DEFAULT_FOV[projection], "default", "default")


def _decide_initial_view(sources: list[_Claims]) -> _Claim:
    view = _first(sources, "initial_view") or _Claim((0.0, 0.0, 0.0), "default", "default")
    flag = _first(sources, "initial_yaw")
    if flag is None:
        return view
    text = flag.text if view.origin == "default" else f"{flag.text} (pitch and roll: {view.text})"
    return _Claim((_wrap180(flag.value), view.value[1], view.value[2]), text, "flags")


def _warn_unused_manifest_keys(sources: list[_Claims], projection: str, warnings: list[str]) -> None:
    """A manifest's coverage means nothing to a fisheye, nor its fov to an equirectangular film: say so."""
    for claims in sources:
        for fact, claim in claims.items():
            if claim.origin != "manifest":
                continue
            if fact == "coverage" and projection != "equirectangular":
                warnings.append(f"{claim.text}: coverage/crop apply to equirectangular films only; ignored for"
                                f" {projection} (use fov)")
            if fact == "fov" and projection not in DEFAULT_FOV:
                warnings.append(f"{claim.text}: fov applies to fisheye, dual-fisheye and flat films only; ignored"
                                f" for {projection}" + (" (use coverage)" if projection == "equirectangular" else ""))


def _coverage_text(layout: Layout) -> str:
    if layout.projection in ("fisheye", "dual-fisheye"):
        return "from the fov"
    if layout.projection == "flat":
        return "from the fov and the picture's shape"
    return f"whole sphere ({layout.projection})"


def _valid_crop(crop) -> bool:
    return (len(crop) == 4 and all(_number(v) and 0.0 <= v < 1.0 for v in crop)
            and crop[0] + crop[2] < 1.0 and crop[1] + crop[3] < 1.0)


# --------------------------------------------------------------------------------------------------------------
# Sidecar manifest
# --------------------------------------------------------------------------------------------------------------


def manifest_paths(film_path: str | Path) -> list[Path]:
    """Where a film's manifest may be, most specific first: `film.mp4.json` (it cannot belong to `film.mkv` too),
    then `film.json`."""
    film = Path(film_path)
    return [film.with_name(film.name + ".json"), film.with_suffix(".json")]


def load_manifest(film_path: str | Path) -> tuple[dict | None, str | None]:
    """The film's sidecar manifest, parsed and checked, and its path; (None, None) when there is none.

    ValueError with a one-line message naming the file when it is unreadable, not JSON or malformed.
    """
    film = Path(film_path)
    for path in manifest_paths(film):
        if path == film or not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno});"
                             " fix the manifest or remove it") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: cannot be read ({error}); fix the manifest or remove it") from None
        validate_manifest(data, str(path))
        return data, str(path)
    return None, None


def validate_manifest(manifest: Any, name: str = "manifest") -> list[str]:
    """Check a parsed manifest: ValueError (one line, naming `name`) for what cannot be used; warnings for
    unknown keys."""

    def fail(problem: str) -> None:
        raise ValueError(f"{name}: {problem}; fix the manifest or remove it")

    if not isinstance(manifest, dict):
        fail(f"must be a JSON object, not {type(manifest).__name__}")
    if "projection" in manifest and manifest["projection"] not in PROJECTIONS:
        fail(f"unknown projection {manifest['projection']!r} (valid: {_valid_names(PROJECTIONS)})")
    if "stereo" in manifest and manifest["stereo"] not in STEREO_MODES:
        fail(f"unknown stereo {manifest['stereo']!r} (valid: {_valid_names(STEREO_MODES)})")
    if "eyes_swapped" in manifest and not isinstance(manifest["eyes_swapped"], bool):
        fail(f"eyes_swapped must be true or false, not {manifest['eyes_swapped']!r}")
    for key in ("fov", "coverage"):
        if key in manifest and not (_number(manifest[key]) and 0 < manifest[key] <= 360):
            fail(f"{key} must be degrees between 0 and 360, not {manifest[key]!r}")
    if "coverage" in manifest and "crop" in manifest:
        fail("give coverage or crop, not both")
    if "crop" in manifest:
        crop = manifest["crop"]
        if not isinstance(crop, dict) or set(crop) - {"left", "top", "right", "bottom"}:
            fail(f"crop must be an object with left, top, right, bottom fractions, not {crop!r}")
        if not _valid_crop([crop.get(k, 0.0) for k in ("left", "top", "right", "bottom")]):
            fail(f"crop fractions must be from 0 to below 1 and leave some picture, not {crop!r}")
    if "initial_view" in manifest:
        view = manifest["initial_view"]
        if (not isinstance(view, dict) or set(view) - {"yaw", "pitch", "roll"}
                or not all(_number(v) for v in view.values())):
            fail(f"initial_view must be an object with yaw, pitch, roll in degrees, not {view!r}")
    for key in ("audio", "comment"):
        if key in manifest and not isinstance(manifest[key], str):
            fail(f"{key} must be a string, not {manifest[key]!r}")
    return [f"{name}: unknown key {key!r} ignored (known: {_valid_names(MANIFEST_KEYS)})"
            for key in manifest if key not in MANIFEST_KEYS]


# --------------------------------------------------------------------------------------------------------------
# What is covered, and reports
# --------------------------------------------------------------------------------------------------------------


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
    return (360.0, 180.0)  # cubemaps


def _degrees(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") + "°"


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
        "initial_view": {"yaw": layout.initial_yaw, "pitch": layout.initial_pitch, "roll": layout.initial_roll},
        "audio": decision.audio,
        "sources": dict(decision.sources),
        "warnings": list(decision.warnings),
    }
