"""What is known about camera files, each fact once. Read from public reverse-engineering notes and open tools
(GoPro's own docs say little); none was checked against a real camera's file here, so each is a constant to fix
in one place when a real file says otherwise.
"""

from __future__ import annotations

import re

# --- GoPro MAX `.360` -------------------------------------------------------------------------------------------
# One MP4 with two HEVC video tracks (streams 0 and 5; 0 and 4 in time-lapse), both with this handler name, beside
# GPMF telemetry, a stereo AAC track and a 4-channel 48 kHz PCM track of first-order ambisonics (AmbiX).
GOPRO_VIDEO_HANDLER = "GoPro H.265"
GOPRO_SOUND_HANDLER = "GoPro AMB"
GOPRO_SOUND_FORMAT = "ambix1"
# The first track holds the cube's LEFT | FRONT | RIGHT faces, the second DOWN | BACK | UP, each already turned as
# an equi-angular cubemap's bottom row is (FFmpeg's EAC input: DOWN 270°, BACK 90°, UP 270°): the two, one above
# the other, are a 3x2 EAC picture.
GOPRO_TRACK_FACES = (("left", "front", "right"), ("down", "back", "up"))
# Each face is as tall as the track; the side faces of each track carry the lens seam down their middle, with a
# band of `strip` = (track width − 3 × face) / 2 pixels seen by both lenses (32 px, or 0 before firmware 1.5):
# cut out, centred on the seam, it leaves square faces.
GOPRO_TRACK_SIZES = {(4096, 1344): "5.6K", (2272, 736): "3K"}
# The assembled picture has no padding round its rows (YouTube's EAC, and so FFmpeg's v360, have 2 pixels).
GOPRO_EAC_PADDING = 0


def gopro_strip(width: int, height: int) -> int | None:
    """The lens-overlap band's width of a GoPro MAX track of this size, None when the size does not follow the
    rule (faces as tall as the track, an even band, halves of faces that chroma subsampling can cut)."""
    spare = width - 3 * height
    if height <= 0 or spare < 0 or spare % 4 or height % 4:
        return None
    return spare // 2

# A long take is split into chapters of one recording: GS01xxxx.360, GS02xxxx.360, … (chapter, then the take's
# four-digit number).
GOPRO_CHAPTER_NAME = re.compile(r"^GS(\d\d)(\d{4})\.360$", re.IGNORECASE)
