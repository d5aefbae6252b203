"""Where each cue's speaker is in the film, for captions placed at the speaker (pure).

Two sources: a TTML file's ImAc attributes (`imac:equirectangularLongitude` / `imac:equirectangularLatitude`, in
degrees, on a `p` or on the `div` round it; any namespace prefix), and for any subtitle file a sidecar beside it,
SUBTITLES.speakers.csv (for `festival.en.srt`: `festival.en.speakers.csv`), one row per cue:

    cue,yaw,pitch
    1,90,0
    3,-45,10

`cue` counts the file's cues from 1 in the order they are written (SubRip's own numbers, as a rule); yaw and pitch
are degrees in the film's own directions (yaw 0 its centre, positive to the right; pitch positive up), as ImAc's
longitude and latitude are. A cue without a row has no direction: it is captioned in view.
"""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET
from pathlib import Path

from vrplayer import log
from vrplayer.errors import path_text

_log = log.get("subtitles")

TT = "{http://www.w3.org/ns/ttml}"
LONGITUDE, LATITUDE = "equirectangularLongitude", "equirectangularLatitude"

Direction = tuple[float, float]  # yaw, pitch (degrees)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _angles(element, inherited: Direction | None) -> Direction | None:
    found = {_local(key): value for key, value in element.attrib.items() if _local(key) in (LONGITUDE, LATITUDE)}
    if LONGITUDE not in found:
        return inherited
    try:
        yaw = float(found[LONGITUDE])
        pitch = float(found.get(LATITUDE, "0"))
    except ValueError:
        return inherited
    if not (math.isfinite(yaw) and -90.0 <= pitch <= 90.0):
        return inherited
    return (yaw + 180.0) % 360.0 - 180.0, pitch


def ttml_directions(text: str, source: str) -> list[Direction | None]:
    """Each `p`'s speaker direction, in the order pysubs2 reads the cues (body → div → p)."""
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError):
        return []
    body = root.find(f"{TT}body")
    if body is None:
        return []
    directions = []
    for div in body.iterfind(f"{TT}div"):
        around = _angles(div, _angles(body, None))
        directions.extend(_angles(p, around) for p in div.iterfind(f"{TT}p"))
    if any(directions):
        _log.info("%s: %d of %d cues placed at their speaker", source, sum(1 for d in directions if d), len(directions))
    return directions


def speakers_file(subtitles: Path) -> Path:
    return subtitles.with_suffix(".speakers.csv")


def read_speakers(subtitles: Path) -> dict[int, Direction]:
    """The sidecar's directions by cue number (from 1); {} when there is none. Rows that cannot be read are left
    out with one warning naming the file and the first such line."""
    path = speakers_file(subtitles)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        _log.warning("cannot read %s (%s); its cues are captioned in view", path_text(str(path)), exc)
        return {}
    directions, bad = {}, []
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or not {"cue", "yaw"} <= {name.strip().lower() for name in rows.fieldnames}:
        _log.warning("%s: the first line must name the columns cue,yaw[,pitch]; its cues are captioned in view",
                     path_text(str(path)))
        return {}
    for line, row in enumerate(rows, 2):
        row = {str(key).strip().lower(): (value or "").strip() for key, value in row.items()}
        try:
            cue, yaw, pitch = int(row["cue"]), float(row["yaw"]), float(row.get("pitch") or 0.0)
            if cue < 1 or not math.isfinite(yaw) or not -90.0 <= pitch <= 90.0:
                raise ValueError
        except (TypeError, ValueError):
            bad.append(line)
            continue
        directions[cue] = ((yaw + 180.0) % 360.0 - 180.0, pitch)
    if bad:
        _log.warning("%s line %d (and %d more): not a cue number, a yaw and a pitch from -90 to 90; left out",
                     path_text(str(path)), bad[0], len(bad) - 1)
    return directions
