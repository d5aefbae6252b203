"""The sidecar manifest: where it is, reading it, checking it.

A small JSON object next to the film (`FILM.mp4.json` or `FILM.json`); every key optional:

| key            | value                                                                                     |
|----------------|-------------------------------------------------------------------------------------------|
| `projection`   | equirectangular, eac, cubemap-3x2, cubemap-6x1, fisheye, dual-fisheye, flat, mesh (`PROJECTIONS`) |
| `stereo`       | mono, top-bottom, side-by-side                                                            |
| `eyes_swapped` | true when the right eye comes first (bottom-top / right-left)                             |
| `fov`          | degrees: a fisheye lens's field of view, each lens of a dual fisheye, a flat screen's width |
| `coverage`     | degrees of longitude an equirectangular picture covers, centred ahead (180 for VR180)     |
| `crop`         | `{"left", "top", "right", "bottom"}`: fractions cut off the full 360x180 picture (not with `coverage`) |
| `initial_view` | `{"yaw", "pitch", "roll"}` degrees, our conventions (yaw right, pitch up, roll right side down) |
| `lenses`       | fisheye lens circles, in the picture's order (left to right, top to bottom): `[{"centre": [X, Y], "radius": R, "turn": D}, …]`, pixels of the whole picture, D degrees the lens's picture is turned clockwise (default 0): a camera's calibration |
| `audio`        | the sound's format, a string ("ambix1", "ambix1+stereo", "fuma1", "tbe", "stereo", "5.1") |
| `comment`      | free text, ignored                                                                        |

Unknown keys give a warning; a malformed manifest (bad JSON, wrong types, unknown names) is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vrplayer.layout.model import PROJECTIONS, STEREO_MODES, is_number, name_list, valid_crop

MANIFEST_KEYS = ("projection", "stereo", "eyes_swapped", "fov", "coverage", "crop", "initial_view", "lenses", "audio",
                 "comment")


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
        fail(f"unknown projection {manifest['projection']!r} (valid: {name_list(PROJECTIONS)})")
    if "stereo" in manifest and manifest["stereo"] not in STEREO_MODES:
        fail(f"unknown stereo {manifest['stereo']!r} (valid: {name_list(STEREO_MODES)})")
    if "eyes_swapped" in manifest and not isinstance(manifest["eyes_swapped"], bool):
        fail(f"eyes_swapped must be true or false, not {manifest['eyes_swapped']!r}")
    for key in ("fov", "coverage"):
        if key in manifest and not (is_number(manifest[key]) and 0 < manifest[key] <= 360):
            fail(f"{key} must be degrees between 0 and 360, not {manifest[key]!r}")
    if "coverage" in manifest and "crop" in manifest:
        fail("give coverage or crop, not both")
    if "crop" in manifest:
        crop = manifest["crop"]
        if not isinstance(crop, dict) or set(crop) - {"left", "top", "right", "bottom"}:
            fail(f"crop must be an object with left, top, right, bottom fractions, not {crop!r}")
        if not valid_crop([crop.get(k, 0.0) for k in ("left", "top", "right", "bottom")]):
            fail(f"crop fractions must be from 0 to below 1 and leave some picture, not {crop!r}")
    if "initial_view" in manifest:
        view = manifest["initial_view"]
        if (not isinstance(view, dict) or set(view) - {"yaw", "pitch", "roll"}
                or not all(is_number(v) for v in view.values())):
            fail(f"initial_view must be an object with yaw, pitch, roll in degrees, not {view!r}")
    if "lenses" in manifest:
        lenses = manifest["lenses"]
        if not isinstance(lenses, list) or not 1 <= len(lenses) <= 2 or not all(_is_lens(lens) for lens in lenses):
            fail('lenses must be one or two circles, each {"centre": [X, Y], "radius": R, "turn": D} in pixels (turn'
                 f" in degrees, optional), not {lenses!r}")
    for key in ("audio", "comment"):
        if key in manifest and not isinstance(manifest[key], str):
            fail(f"{key} must be a string, not {manifest[key]!r}")
    return [f"{name}: unknown key {key!r} ignored (known: {name_list(MANIFEST_KEYS)})"
            for key in manifest if key not in MANIFEST_KEYS]


def _is_lens(lens: Any) -> bool:
    if not isinstance(lens, dict) or set(lens) - {"centre", "radius", "turn"} or not {"centre", "radius"} <= set(lens):
        return False
    centre = lens["centre"]
    return (isinstance(centre, list) and len(centre) == 2 and all(is_number(v) and v >= 0 for v in centre)
            and is_number(lens["radius"]) and lens["radius"] > 0 and is_number(lens.get("turn", 0)))
