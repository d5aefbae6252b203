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

# --- Insta360 `.insv` ----------------------------------------------------------------------------------------------
# 5.7K takes are two files, one lens each: `…_00_NNN.insv` and `…_10_NNN.insv` (the first read here as the front
# lens: no public source says which); lower resolutions put both lenses side by side in one file; X3–X5 may hold
# one side-by-side stream or two square streams (one per lens, the first the front lens).
INSV_SUFFIX = ".insv"
INSV_PAIR_NAME = re.compile(r"^(?P<head>.+_)(?P<lens>00|10)(?P<tail>_\d+\.insv)$", re.IGNORECASE)
INSV_FRONT_LENS, INSV_BACK_LENS = "00", "10"
# The default lens model (the calibration's numbers are not public; the manifest's "lenses" overrides it): each
# lens ~200°, equidistant, its circle centred in its half with the half's shorter side as diameter, turned a
# quarter turn so the lenses' tops meet in the middle ("heads together"): the left half's clockwise, the right
# half's counter-clockwise.
INSV_LENS_FOV = 200.0
INSV_LENS_TURNS = (90.0, -90.0)  # left half's, right half's (degrees clockwise)
# The trailer at the file's end: its last 72 bytes are 32 of padding, u32 LE total size, u32 LE version and this
# 32-byte ASCII magic; records walk backwards from there as [payload][u8 format][u8 id][u32 LE size].
INSV_MAGIC = b"8db42d694ccc418790edff439fe026bf"
INSV_TRAILER_TAIL = 72
INSV_RECORD_METADATA, INSV_RECORD_GYRO, INSV_RECORD_FRAME_TIMES, INSV_RECORD_QUATERNIONS = 1, 3, 6, 18
MAX_INSV_TRAILER = 64 << 20  # a trailer claiming more is damaged
# Record 1 is a protobuf `ExtraMetadata`; the fields read (numbers as open tools decode them): camera type (2,
# string), lens calibration "offset" (5, string), picture size (19: x 1, y 2), frame rate (20), file group (26:
# index 2, total 4: which file of a two-file take), posture (46: 0, 1, 2, 3 for 0°, 90°, 180°, 270°).
INSV_FIELD_CAMERA_TYPE, INSV_FIELD_OFFSET, INSV_FIELD_DIMENSION, INSV_FIELD_FRAME_RATE = 2, 5, 19, 20
INSV_FIELD_FILE_GROUP, INSV_FIELD_POSTURE = 26, 46
# Record 18 (quaternions): read as the gyro record is laid out, samples of a u64 LE timestamp in milliseconds and
# w, x, y, z as f64 LE (the camera's orientation from the start of the take; the record's layout is not public).
INSV_QUATERNION_SAMPLE = "<Q4d"

# --- Canon RF 5.2 mm F2.8 L Dual Fisheye (EOS R5 / R5 C) ---------------------------------------------------------
# Recognised from the file's own tags (FFmpeg's tags of the file or its video track): made by Canon, the lens named
# below. 8192 × 4320 video of two ~190° circles, the RIGHT eye's on the left and the left eye's on the right (each
# lens inverts its half, the camera flips the frame); the circles are ~4010 px across and not centred in their
# halves, by a per-unit amount (the manifest's "lenses" gives a unit's centre and radius).
CANON_MAKE = "canon"
CANON_DUAL_FISHEYE_LENS = "RF5.2mm F2.8 L DUAL FISHEYE"
CANON_LENS_FOV = 190.0
CANON_CIRCLE_DIAMETER = 4010 / 4320  # of the picture's height, by default centred in each half

# GoPro telemetry: GPMF in a data track with this handler; KLV entries (a 4-character key, a type character, a
# struct size byte, a 16-bit big-endian repeat count, the data padded to 4 bytes), DEVC and STRM nesting (type
# 0), SCAL dividing the values after it. GRAV: the gravity vector (x, y, z), CORI: the camera orientation
# quaternion (w, x, y, z) from the start of the take, both int16 before scaling. Their axes are taken here to be
# vrplayer's (x right, y down, z forward: a level camera's gravity reads (0, 1, 0)); the samples of a payload are
# spread evenly over its packet's duration.
GOPRO_TELEMETRY_HANDLER = "GoPro MET"
GPMF_NESTED = 0
GPMF_TYPES = {"b": "b", "B": "B", "s": "h", "S": "H", "l": "i", "L": "I", "f": "f", "d": "d", "j": "q", "J": "Q"}

# --- VR180 cameras' `camm` motion track ------------------------------------------------------------------------------
# Google's camera motion metadata: a track whose sample entry is `camm`; each sample little-endian, a u16 reserved
# and a u16 type, then the type's data; type 0 is the camera's orientation as an angle-axis (3 float32, radians:
# the axis times the angle) from the camera's axes to the world's, taken here to be vrplayer's axes.
CAMM_ENTRY = b"camm"
CAMM_ANGLE_AXIS = 0
CAMM_SAMPLE_SIZES = {0: 12, 1: 8, 2: 12, 3: 12, 4: 12, 5: 52, 6: 28, 7: 12}  # the data's bytes, by type

# --- Apple spatial video (iPhone 15 Pro and later, Vision Pro) --------------------------------------------------------
# One MV-HEVC track: the base layer (the left eye, a 2-D film on its own) and a second view; the sample entry
# carries the layered HEVC configuration (`lhvC`) and Apple's video extended usage (`vexu`, its `eyes` box saying
# which views are there). FFmpeg ≥ 7.1's HEVC decoder gives both views with its `view_ids` option (-1: all).
APPLE_SPATIAL_BOXES = (b"lhvC", b"vexu")
# vexu/eyes/stri's own flags byte (after its version and flags): has the left eye's view (0x01), the right's (0x02),
# more views (0x04), and the eye views reversed (0x08: the second view is the left eye), as FFmpeg's reader takes it.
APPLE_STRI_EYE_VIEWS_REVERSED = 0x08
APPLE_SPATIAL_FOV = 60.0  # a 2-D (or stereo) film on a screen ahead, as vrplayer shows flat films
