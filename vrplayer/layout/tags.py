"""Layout tags in file names ("film_360_TB.mp4", "clip_MKX200.mp4"): the conventions players document, and finding
them in a name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


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
