"""The layout decision: flags, manifest, container metadata, file-name tags, aspect ratio, defaults — per fact.

Pure logic: no media files, no GL; container metadata is built by hand.
"""

from __future__ import annotations

import json
import math

import pytest

from vrplayer.layout import (
    DEFAULT_FOV,
    FILENAME_TAGS,
    Layout,
    covered,
    decide_layout,
    decision_json,
    describe_decision,
    filename_tags,
    initial_view_from_pose,
    load_manifest,
    validate_manifest,
)
from vrplayer.media.spherical import ContainerLayout

V2 = "Spherical Video V2"
V1 = "Spherical Video V1"
MKV = "Matroska Projection"


def decide(width=3840, height=1920, filename="film.mp4", **kwargs):
    return decide_layout(width=width, height=height, filename=filename, **kwargs)


def shape(decision):
    """(projection, stereo, eyes_swapped, crop_left, crop_right, fov) — the facts most tests look at."""
    lay = decision.layout
    return (lay.projection, lay.stereo, lay.eyes_swapped, lay.crop_left, lay.crop_right, lay.fov)


EQ360_MONO = ("equirectangular", "mono", False, 0.0, 0.0, None)
EQ360_TB = ("equirectangular", "top-bottom", False, 0.0, 0.0, None)
EQ360_SBS = ("equirectangular", "side-by-side", False, 0.0, 0.0, None)
VR180_SBS = ("equirectangular", "side-by-side", False, 0.25, 0.25, None)
VR180_MONO = ("equirectangular", "mono", False, 0.25, 0.25, None)


# ---------------------------------------------------------------------------------------------------------------
# File-name tags
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("filename, size, expected, projection_source, stereo_source", [
    ("film_360.mp4", (3840, 1920), EQ360_MONO, "filename tag _360", "aspect 2:1"),
    ("film_180.mp4", (3840, 1920), VR180_SBS, "filename tag _180", "aspect 2:1"),
    ("film_180x180.mp4", (3840, 1920), VR180_SBS, "filename tag _180x180", "aspect 2:1"),
    ("film_VR180.mp4", (3840, 1920), VR180_SBS, "filename tag _VR180", "aspect 2:1"),
    ("film_F180.mp4", (3840, 1920), VR180_SBS, "filename tag _F180", "aspect 2:1"),
    ("film_TB.mp4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag _TB"),
    ("film_OU.mp4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag _OU"),
    ("film_3dv.mp4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag _3dv"),
    ("film_HOU.mp4", (3840, 1920), EQ360_TB, "aspect 2:1", "filename tag _HOU"),  # half-height pair
    ("film_SBS.mp4", (7680, 1920), EQ360_SBS, "aspect 4:1", "filename tag _SBS"),
    ("film_LR.mp4", (7680, 1920), EQ360_SBS, "aspect 4:1", "filename tag _LR"),
    ("film_3dh.mp4", (7680, 1920), EQ360_SBS, "aspect 4:1", "filename tag _3dh"),
    ("film_HSBS.mp4", (3840, 1920), VR180_SBS, "aspect 2:1", "filename tag _HSBS"),
    ("film_BT.mp4", (3840, 3840), ("equirectangular", "top-bottom", True, 0.0, 0.0, None), "aspect 1:1",
     "filename tag _BT"),
    ("film_RL.mp4", (7680, 1920), ("equirectangular", "side-by-side", True, 0.0, 0.0, None), "aspect 4:1",
     "filename tag _RL"),
    ("film_EAC.mp4", (3840, 2560), ("eac", "mono", False, 0.0, 0.0, None), "filename tag _EAC", "aspect 3:2"),
    ("film_CUBE.mp4", (3840, 2560), ("cubemap-3x2", "mono", False, 0.0, 0.0, None), "filename tag _CUBE",
     "aspect 3:2"),
    ("film_C3x2.mp4", (3840, 2560), ("cubemap-3x2", "mono", False, 0.0, 0.0, None), "filename tag _C3x2",
     "aspect 3:2"),
    ("film_C6x1.mp4", (6144, 1024), ("cubemap-6x1", "mono", False, 0.0, 0.0, None), "filename tag _C6x1",
     "aspect 6:1"),
    ("film_FISHEYE.mp4", (2048, 2048), ("fisheye", "mono", False, 0.0, 0.0, 180.0), "filename tag _FISHEYE",
     "aspect 1:1"),
    ("film_FISHEYE190.mp4", (2048, 2048), ("fisheye", "mono", False, 0.0, 0.0, 190.0),
     "filename tag _FISHEYE190", "aspect 1:1"),
    ("film_FISHEYE200.mp4", (4096, 2048), ("fisheye", "side-by-side", False, 0.0, 0.0, 200.0),
     "filename tag _FISHEYE200", "aspect 2:1"),
    ("film_MKX200.mp4", (2048, 2048), ("fisheye", "mono", False, 0.0, 0.0, 200.0), "filename tag _MKX200",
     "aspect 1:1"),
    ("MKX200_SBS.mp4", (4096, 2048), ("fisheye", "side-by-side", False, 0.0, 0.0, 200.0), "filename tag MKX200",
     "filename tag _SBS"),
    ("film_MKX220.mp4", (2048, 2048), ("fisheye", "mono", False, 0.0, 0.0, 220.0), "filename tag _MKX220",
     "aspect 1:1"),
    ("film_VRCA220.mp4", (2048, 2048), ("fisheye", "mono", False, 0.0, 0.0, 220.0), "filename tag _VRCA220",
     "aspect 1:1"),
    # Canon's dual fisheye: two forward 190° circles side by side — a stereo fisheye pair.
    ("clip_RF52.mp4", (8192, 4320), ("fisheye", "side-by-side", False, 0.0, 0.0, 190.0), "filename tag _RF52",
     "filename tag _RF52"),
    ("clip_RF5.2.mp4", (8192, 4320), ("fisheye", "side-by-side", False, 0.0, 0.0, 190.0), "filename tag _RF5.2",
     "filename tag _RF5.2"),
    ("film_DFISHEYE.mp4", (3840, 1920), ("dual-fisheye", "mono", False, 0.0, 0.0, 190.0),
     "filename tag _DFISHEYE", "aspect 2:1"),
    ("film_FLAT.mp4", (1920, 1080), ("flat", "mono", False, 0.0, 0.0, 60.0), "filename tag _FLAT", "aspect 16:9"),
    ("film_2D.mp4", (1920, 1080), ("flat", "mono", False, 0.0, 0.0, 60.0), "filename tag _2D", "filename tag _2D"),
    # Combinations.
    ("film_180_SBS.mp4", (3840, 1920), VR180_SBS, "filename tag _180", "filename tag _SBS"),
    ("film_360_TB.mp4", (3840, 3840), EQ360_TB, "filename tag _360", "filename tag _TB"),
    ("film_3dh_LR.mp4", (7680, 1920), EQ360_SBS, "aspect 4:1", "filename tag _3dh"),
    ("film_LR_180.mp4", (3840, 1920), VR180_SBS, "filename tag _180", "filename tag _LR"),
    ("film_180_RL.mp4", (3840, 1920), ("equirectangular", "side-by-side", True, 0.25, 0.25, None),
     "filename tag _180", "filename tag _RL"),
    ("film_F180_OU.mp4", (1920, 3840), ("equirectangular", "top-bottom", False, 0.25, 0.25, None),
     "filename tag _F180", "filename tag _OU"),
    ("film_SBS_FISHEYE190.mp4", (4096, 2048), ("fisheye", "side-by-side", False, 0.0, 0.0, 190.0),
     "filename tag _FISHEYE190", "filename tag _SBS"),
    ("film_360_2D.mp4", (3840, 1920), EQ360_MONO, "filename tag _360", "filename tag _2D"),
    ("film_2D_SBS.mp4", (3840, 1080), ("flat", "side-by-side", False, 0.0, 0.0, 60.0), "filename tag _2D",
     "filename tag _SBS"),
    # A specific tag beats a generic word, quietly.
    ("film_EAC_360.mp4", (3840, 2560), ("eac", "mono", False, 0.0, 0.0, None), "filename tag _EAC", "aspect 3:2"),
    ("film_EAC360.mp4", (3840, 2560), ("eac", "mono", False, 0.0, 0.0, None), "filename tag _EAC360",
     "aspect 3:2"),
    # Several words in a row, any separator or none; case ignored; separators . - space, brackets.
    ("film_Side-By-Side_180.mp4", (3840, 1920), VR180_SBS, "filename tag _180", "filename tag _Side-By-Side"),
    ("film.SideBySide.mp4", (7680, 1920), EQ360_SBS, "aspect 4:1", "filename tag .SideBySide"),
    ("film top bottom.mp4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag top bottom"),
    ("film-over-under-360.mp4", (3840, 3840), EQ360_TB, "filename tag -360", "filename tag -over-under"),
    ("film [360 TB].mkv", (3840, 3840), EQ360_TB, "filename tag 360", "filename tag TB"),
    ("FILM_tb.MP4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag _tb"),
    ("TB_film.mp4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag TB"),
    ("film.tb.mp4", (3840, 3840), EQ360_TB, "aspect 1:1", "filename tag .tb"),
    ("film 360°.mp4", (3840, 1920), EQ360_MONO, "filename tag 360", "aspect 2:1"),
])
def test_filename_tags(filename, size, expected, projection_source, stereo_source):
    decision = decide(*size, filename=filename)
    assert shape(decision) == expected
    assert decision.sources["projection"] == projection_source
    assert decision.sources["stereo"] == stereo_source
    assert decision.warnings == []


@pytest.mark.parametrize("filename", [
    "tbilisi.mp4", "sbsmovie.mp4", "lrx.mp4", "flatland.mp4", "cubes.mp4", "peach.mp4", "film_360p.mp4",
    "film_1800.mp4", "fisheyes.mp4", "film_fisheye9000.mp4", "bottle.mp4", "outback_2dx.mp4", "holiday_monochrome.mp4",
])
def test_tags_are_not_found_inside_words(filename):
    assert filename_tags(filename) == []
    decision = decide(1920, 1080, filename=filename)
    assert shape(decision) == ("flat", "mono", False, 0.0, 0.0, 60.0)
    assert not any(source.startswith("filename") for source in decision.sources.values())


def test_the_extension_is_not_a_tag():
    assert filename_tags("film.flat") == []  # "flat" is the extension here
    assert [written for _, written in filename_tags("film_TB.flat.mkv")] == ["_TB", ".flat"]


@pytest.mark.parametrize("tag", FILENAME_TAGS, ids=lambda tag: tag.names[0])
def test_every_name_in_the_tag_table_is_recognised(tag):
    for name in tag.names:
        found = filename_tags(f"clip_{name.replace(' ', '-')}.mp4")
        assert [t for t, _ in found] == [tag], name


def test_disagreeing_tags_warn_and_the_first_wins():
    decision = decide(3840, 3840, filename="film_TB_SBS.mp4")
    assert decision.layout.stereo == "top-bottom"
    assert decision.sources["stereo"] == "filename tag _TB"
    assert decision.warnings == ["film_TB_SBS.mp4: filename tag _TB and filename tag _SBS disagree about stereo;"
                                 " using filename tag _TB"]

    # The eye order comes with the packing that won: _RL's lost to _TB, so its eye order is not used either.
    decision = decide(3840, 3840, filename="film_TB_RL.mp4")
    assert (decision.layout.stereo, decision.layout.eyes_swapped) == ("top-bottom", False)
    assert decision.sources["eyes_swapped"] == "filename tag _TB"
    assert decision.warnings == ["film_TB_RL.mp4: filename tag _TB and filename tag _RL disagree about stereo;"
                                 " using filename tag _TB"]

    decision = decide(2048, 2048, filename="film_MKX200_FISHEYE190.mp4")
    assert decision.layout.fov == 200.0
    assert decision.warnings == ["film_MKX200_FISHEYE190.mp4: filename tag _MKX200 and filename tag _FISHEYE190"
                                 " disagree about fov; using filename tag _MKX200"]


# ---------------------------------------------------------------------------------------------------------------
# Aspect ratio
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, expected, source", [
    ((3840, 1920), EQ360_MONO, "aspect 2:1"),
    ((4096, 2048), EQ360_MONO, "aspect 2:1"),
    ((3840, 1916), EQ360_MONO, "aspect 2.00:1"),  # encoders' rounding is within the tolerance
    ((4096, 4096), EQ360_TB, "aspect 1:1"),
    ((7680, 1920), EQ360_SBS, "aspect 4:1"),
    ((3840, 2560), ("eac", "mono", False, 0.0, 0.0, None), "aspect 3:2"),
    ((6144, 1024), ("cubemap-6x1", "mono", False, 0.0, 0.0, None), "aspect 6:1"),
    ((1920, 1080), ("flat", "mono", False, 0.0, 0.0, 60.0), "aspect 16:9"),
    ((1998, 1080), ("flat", "mono", False, 0.0, 0.0, 60.0), "aspect 1.85:1"),
    ((1440, 1080), ("flat", "mono", False, 0.0, 0.0, 60.0), "aspect 4:3"),
    ((3840, 1080), ("flat", "side-by-side", False, 0.0, 0.0, 60.0), "aspect 32:9"),
    ((1920, 2160), ("flat", "top-bottom", False, 0.0, 0.0, 60.0), "aspect 8:9"),
])
def test_aspect_alone(size, expected, source):
    decision = decide(*size, filename="film.mp4")
    assert shape(decision) == expected
    assert decision.sources["projection"] == source
    assert decision.warnings == []


def test_aspect_alone_non_matching_stereo_and_coverage_sources():
    decision = decide(1998, 1080)
    assert decision.sources["projection"] == "aspect 1.85:1"
    assert decision.sources["stereo"] == "default"
    assert decision.sources["eyes_swapped"] == "not used (mono)"
    assert decision.sources["fov"] == "default"
    assert decision.sources["initial_view"] == "default"


@pytest.mark.parametrize("projection, size, expected_stereo, expected_source", [
    ("equirectangular", (3840, 1920), "mono", "aspect 2:1"),
    ("equirectangular", (3840, 3840), "top-bottom", "aspect 1:1"),
    ("equirectangular", (7680, 1920), "side-by-side", "aspect 4:1"),
    ("equirectangular", (3840, 2160), "mono", "default"),
    ("fisheye", (2048, 2048), "mono", "aspect 1:1"),
    ("fisheye", (4096, 2048), "side-by-side", "aspect 2:1"),
    ("fisheye", (2048, 4096), "top-bottom", "aspect 1:2"),
    ("fisheye", (3840, 2160), "mono", "default"),  # a lens circle in a 16:9 frame
    ("dual-fisheye", (3840, 1920), "mono", "aspect 2:1"),
    ("eac", (3840, 2560), "mono", "aspect 3:2"),
    ("eac", (3840, 1280), "side-by-side", "aspect 3:1"),
    ("cubemap-6x1", (6144, 2048), "top-bottom", "aspect 3:1"),
    ("flat", (1920, 1080), "mono", "aspect 16:9"),
    ("flat", (3840, 1080), "side-by-side", "aspect 32:9"),
    ("flat", (1920, 800), "mono", "default"),
])
def test_aspect_gives_the_stereo_when_the_projection_is_known(projection, size, expected_stereo, expected_source):
    decision = decide(*size, flags={"projection": projection})
    assert decision.layout.projection == projection
    assert decision.layout.stereo == expected_stereo
    assert decision.sources["stereo"] == expected_source
    assert decision.warnings == []


def test_aspect_with_a_known_coverage():
    # VR180 (from the file name): 2:1 is a side-by-side pair, 1:1 one eye, 1:2 a top-bottom pair.
    assert shape(decide(5760, 2880, filename="film_180.mp4")) == VR180_SBS
    assert shape(decide(2880, 2880, filename="film_180.mp4")) == VR180_MONO
    assert decide(2880, 5760, filename="film_180.mp4").layout.stereo == "top-bottom"
    # Equirectangular from metadata without a crop: the whole picture decides the coverage as well.
    meta = ContainerLayout(kind=V2, projection="equirectangular")
    decision = decide(2880, 2880, container=meta)
    assert shape(decision) == EQ360_TB
    assert decision.sources["coverage"] == "aspect 1:1"


@pytest.mark.parametrize("filename, size, expected, projection_source", [
    ("film_SBS.mp4", (5760, 2880), VR180_SBS, "aspect 2:1"),  # each eye 1:1: VR180
    ("film_TB.mp4", (3840, 3840), EQ360_TB, "aspect 1:1"),  # each eye 2:1: 360
    ("film_TB.mp4", (3840, 1920), EQ360_TB, "aspect 2:1"),  # a half-height pair
    ("film_SBS.mp4", (1920, 1080), ("flat", "side-by-side", False, 0.0, 0.0, 60.0), "aspect 16:9"),  # half SBS
    ("film_TB.mp4", (1920, 2160), ("flat", "top-bottom", False, 0.0, 0.0, 60.0), "aspect 8:9"),
    ("film_mono.mp4", (2880, 2880), VR180_MONO, "aspect 1:1"),
])
def test_aspect_gives_the_projection_when_the_stereo_is_known(filename, size, expected, projection_source):
    decision = decide(*size, filename=filename)
    assert shape(decision) == expected
    assert decision.sources["projection"] == projection_source


def test_no_picture_size_gives_the_defaults():
    decision = decide(0, 0)
    assert shape(decision) == EQ360_MONO
    assert decision.sources == {"projection": "default", "stereo": "default", "eyes_swapped": "not used (mono)",
                                "coverage": "default", "fov": "not used by equirectangular",
                                "initial_view": "default"}


# ---------------------------------------------------------------------------------------------------------------
# Precedence, fact by fact
# ---------------------------------------------------------------------------------------------------------------

def test_flags_beat_the_manifest_on_every_fact():
    decision = decide(
        4096, 2048,
        flags={"projection": "fisheye", "stereo": "side-by-side", "eyes_swapped": True, "fov_covered": 200,
               "initial_yaw": 10},
        manifest={"projection": "dual-fisheye", "stereo": "top-bottom", "eyes_swapped": False, "fov": 190,
                  "initial_view": {"yaw": 50, "pitch": 5, "roll": 2}},
        manifest_source="/films/film.json",
    )
    assert shape(decision) == ("fisheye", "side-by-side", True, 0.0, 0.0, 200.0)
    lay = decision.layout
    assert (lay.initial_yaw, lay.initial_pitch, lay.initial_roll) == (10.0, 5.0, 2.0)
    assert decision.sources == {
        "projection": "flag --projection", "stereo": "flag --stereo", "eyes_swapped": "flag --eyes-swapped",
        "coverage": "from the fov", "fov": "flag --fov-covered",
        "initial_view": "flag --initial-yaw (pitch and roll: manifest film.json)",
    }
    assert decision.warnings == []


def test_manifest_beats_metadata_on_every_fact():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="top-bottom", eyes_swapped=False,
                           crop=(0.0, 0.0, 0.0, 0.0), pose=(90.0, 0.0, 0.0))
    decision = decide(3840, 1920, container=meta, manifest_source="film.json", manifest={
        "projection": "equirectangular", "stereo": "side-by-side", "eyes_swapped": True, "coverage": 180,
        "initial_view": {"yaw": 20}})
    assert shape(decision) == ("equirectangular", "side-by-side", True, 0.25, 0.25, None)
    lay = decision.layout
    assert (lay.initial_yaw, lay.initial_pitch, lay.initial_roll) == (20.0, 0.0, 0.0)
    for fact in ("projection", "stereo", "eyes_swapped", "coverage", "initial_view"):
        assert decision.sources[fact] == "manifest film.json", fact
    assert decision.warnings == []


def test_metadata_beats_the_filename_on_every_fact():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="top-bottom", eyes_swapped=False,
                           crop=(0.0, 0.0, 0.0, 0.0), pose=(30.0, 0.0, 0.0))
    decision = decide(3840, 3840, filename="film_180_RL.mp4", container=meta)
    assert shape(decision) == EQ360_TB
    assert decision.layout.initial_yaw == -30.0
    for fact in ("projection", "stereo", "eyes_swapped", "coverage", "initial_view"):
        assert decision.sources[fact] == "metadata (Spherical Video V2)", fact
    assert decision.warnings == []


def test_the_filename_beats_the_aspect():
    decision = decide(3840, 1920, filename="film_FISHEYE_SBS.mp4")  # 2:1 alone would be a mono 360
    assert shape(decision) == ("fisheye", "side-by-side", False, 0.0, 0.0, 180.0)
    assert decision.sources["projection"] == "filename tag _FISHEYE"
    assert decision.sources["stereo"] == "filename tag _SBS"
    assert decision.sources["fov"] == "default"


def test_each_fact_from_a_different_source():
    meta = ContainerLayout(kind=V2, projection="equirectangular", crop=(0.25, 0.0, 0.25, 0.0))
    decision = decide(2880, 5760, filename="film_BT.mp4", container=meta, flags={"eyes_swapped": False},
                      manifest={"initial_view": {"yaw": -45, "pitch": 10}}, manifest_source="film.mp4.json")
    assert shape(decision) == ("equirectangular", "top-bottom", False, 0.25, 0.25, None)
    assert (decision.layout.initial_yaw, decision.layout.initial_pitch) == (-45.0, 10.0)
    assert decision.sources == {
        "projection": "metadata (Spherical Video V2)", "stereo": "filename tag _BT",
        "eyes_swapped": "flag --eyes-swapped", "coverage": "metadata (Spherical Video V2)",
        "fov": "not used by equirectangular", "initial_view": "manifest film.mp4.json",
    }

    # Without the flag, the eye order comes from the same tag as the packing.
    decision = decide(2880, 5760, filename="film_BT.mp4", container=meta)
    assert decision.layout.eyes_swapped is True
    assert decision.sources["eyes_swapped"] == "filename tag _BT"


def test_metadata_projection_with_a_filename_coverage():
    meta = ContainerLayout(kind=MKV, projection="equirectangular")  # no crop given
    decision = decide(5760, 2880, filename="film_180.mp4", container=meta)
    assert shape(decision) == VR180_SBS
    assert decision.sources["projection"] == "metadata (Matroska Projection)"
    assert decision.sources["coverage"] == "filename tag _180"
    assert decision.sources["stereo"] == "aspect 2:1"


def test_dependent_facts_come_only_from_an_agreeing_source():
    # The lens fov of the file name means nothing once a flag makes the film flat.
    decision = decide(1920, 1080, filename="film_MKX200.mp4", flags={"projection": "flat"})
    assert decision.layout.fov == 60.0
    assert decision.sources["fov"] == "default"
    # _RL's eye order belongs to a side-by-side packing; the flag says top-bottom.
    decision = decide(3840, 3840, filename="film_RL.mp4", flags={"stereo": "top-bottom"})
    assert decision.layout.eyes_swapped is False
    assert decision.sources["eyes_swapped"] == "default"


def test_the_filename_beats_the_default_initial_view_only_when_nothing_else_speaks():
    decision = decide(flags={"initial_yaw": 270})
    assert (decision.layout.initial_yaw, decision.layout.initial_pitch) == (-90.0, 0.0)
    assert decision.sources["initial_view"] == "flag --initial-yaw"


# ---------------------------------------------------------------------------------------------------------------
# Container metadata
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, pose, expected", [
    (V2, (30.0, 10.0, 5.0), (-30.0, 10.0, 5.0)),
    (V2, (-90.0, -20.0, 0.0), (90.0, -20.0, 0.0)),
    (V2, (180.0, 0.0, 0.0), (180.0, 0.0, 0.0)),
    (MKV, (45.0, 10.0, -3.0), (-45.0, 10.0, -3.0)),
    (V1, (45.0, 10.0, 5.0), (45.0, 10.0, 5.0)),
    (V1, (270.0, -10.0, 3.0), (-90.0, -10.0, 3.0)),  # a compass heading of 270: 90° to the left
    (V2, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
])
def test_pose_conversion(kind, pose, expected):
    assert initial_view_from_pose(kind, pose) == expected
    assert math.copysign(1.0, initial_view_from_pose(kind, pose)[0]) == math.copysign(1.0, expected[0])
    decision = decide(container=ContainerLayout(kind=kind, projection="equirectangular", pose=pose))
    lay = decision.layout
    assert (lay.initial_yaw, lay.initial_pitch, lay.initial_roll) == expected
    assert decision.sources["initial_view"] == f"metadata ({kind})"


def test_pose_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="no pose convention known for 'Spherical Video V3'"):
        initial_view_from_pose("Spherical Video V3", (10.0, 0.0, 0.0))
    decision = decide(container=ContainerLayout(kind="Spherical Video V3", pose=(10.0, 0.0, 0.0)))
    assert decision.layout.initial_yaw == 0.0
    assert decision.warnings == ["film.mp4: initial view ignored: no pose convention known for 'Spherical Video V3'"]


def test_a_mesh_projection_is_drawn_with_its_own_meshes():
    from test_mesh import fisheye_mesh

    mesh = fisheye_mesh()
    decision = decide(4096, 2048, container=ContainerLayout(kind=V2, projection="mesh", stereo="side-by-side",
                                                            meshes=(mesh,)))
    assert (decision.layout.projection, decision.layout.stereo) == ("mesh", "side-by-side")
    assert decision.layout.meshes == (mesh,) and decision.warnings == []
    assert decision.sources["projection"] == "metadata (Spherical Video V2 mshp)"
    assert decision.sources["coverage"] == "from the mesh"
    assert covered(decision.layout, 4096, 2048) == pytest.approx((180.0, 180.0))
    lines = describe_decision(decision)
    assert lines[0] == "projection:  mesh, 180°×180° — metadata (Spherical Video V2 mshp)"
    assert lines[2] == "mesh:        one for both eyes: 1600 vertices, 3042 triangles, 180°×180°, 50.0% of the sphere"
    assert decision_json(decision)["meshes"] == [{"vertices": 1600, "triangles": 3042,
                                                  "covered": {"horizontal": 180.0, "vertical": 180.0},
                                                  "sphere_share": 0.5}]
    # No stereo box: each eye's place comes from the mesh, so the packing is mono, whatever the picture's shape.
    alone = decide(4096, 2048, container=ContainerLayout(kind=MKV, projection="mesh", meshes=(mesh,)))
    assert alone.layout.stereo == "mono" and alone.sources["projection"] == "metadata (Matroska Projection)"


def test_stereo_custom_meshes_are_each_eyes_own_and_a_flag_chooses_another_projection():
    from test_mesh import fisheye_mesh

    left, right = fisheye_mesh(half=0), fisheye_mesh(half=1)
    meta = ContainerLayout(kind=V2, projection="mesh", stereo="custom", meshes=(left, right))
    decision = decide(4096, 2048, container=meta)
    assert (decision.layout.projection, decision.layout.stereo, decision.layout.meshes) == ("mesh", "mono", (left, right))
    assert decision.sources["stereo"] == "metadata (Spherical Video V2 stereo-custom: each eye's own mesh)"
    assert describe_decision(decision)[2].startswith("mesh:        the left eye's and the right eye's: 1600 vertices")
    flat = decide(4096, 2048, container=meta, flags={"projection": "fisheye", "stereo": "side-by-side"})
    assert (flat.layout.projection, flat.layout.meshes) == ("fisheye", None)


def test_a_mesh_asked_for_where_the_film_has_none_is_refused():
    with pytest.raises(ValueError, match=r"^flag --projection: film.mp4 carries no mesh of its own"):
        decide(flags={"projection": "mesh"})
    with pytest.raises(ValueError, match=r"^manifest film.json: film.mp4 carries no mesh"):
        decide(manifest={"projection": "mesh"}, manifest_source="film.json")


def test_a_mesh_that_could_not_be_read_falls_through_with_a_warning():
    meta = ContainerLayout(kind=V2, projection="mesh", stereo="side-by-side")
    decision = decide(5760, 2880, filename="/films/film.mp4", container=meta)
    assert shape(decision) == VR180_SBS  # the picture's shape, with the metadata's packing
    assert decision.sources["projection"] == "aspect 2:1"
    assert decision.sources["stereo"] == "metadata (Spherical Video V2)"
    assert decision.warnings == ["film.mp4: projection 'mesh' (Spherical Video V2 mshp) cannot be drawn; showing it"
                                 " as equirectangular — use --projection to choose another"]


def test_a_mesh_that_could_not_be_read_falls_through_to_the_filename():
    meta = ContainerLayout(kind=MKV, projection="mesh")
    decision = decide(4096, 2048, filename="film_FISHEYE200_SBS.mkv", container=meta)
    assert shape(decision) == ("fisheye", "side-by-side", False, 0.0, 0.0, 200.0)
    assert decision.warnings == ["film_FISHEYE200_SBS.mkv: projection 'mesh' (Matroska Projection) cannot be"
                                 " drawn; showing it as fisheye — use --projection to choose another"]


def test_unknown_projection_and_stereo_fall_through_with_warnings():
    meta = ContainerLayout(kind=V2, projection="pyramid", stereo="stereo-custom")
    decision = decide(3840, 3840, container=meta)
    assert shape(decision) == EQ360_TB
    assert decision.warnings == [
        "film.mp4: stereo mode 'stereo-custom' (Spherical Video V2) is not supported; deciding the packing from the"
        " file name or the picture — use --stereo to choose",
        "film.mp4: projection 'pyramid' (Spherical Video V2) cannot be drawn; showing it as equirectangular — use"
        " --projection to choose another",
    ]


def test_cubemap_is_read_as_youtube_eac():
    decision = decide(3840, 2560, container=ContainerLayout(kind=V2, projection="cubemap", cubemap_layout=0))
    assert decision.layout.projection == "eac"
    assert decision.sources["projection"] == "metadata (Spherical Video V2 cubemap layout 0, read as YouTube's EAC)"
    assert decision.warnings == []
    decision = decide(3840, 2560, container=ContainerLayout(kind=V2, projection="cubemap", cubemap_layout=3))
    assert decision.layout.projection == "eac"  # from the 3:2 picture
    assert decision.sources["projection"] == "aspect 3:2"
    assert decision.warnings == ["film.mp4: projection 'cubemap' layout 3 (Spherical Video V2) cannot be drawn;"
                                 " showing it as eac — use --projection to choose another"]


def test_matroska_rectangular_is_flat():
    decision = decide(1920, 1080, container=ContainerLayout(kind=MKV, projection="rectangular"))
    assert decision.layout.projection == "flat"
    assert decision.sources["projection"] == "metadata (Matroska Projection)"


def test_metadata_crop_and_problems():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="side-by-side",
                           crop=(0.25, 0.0, 0.25, 0.0), problems=["film.mp4: sv3d box truncated; ignored its end"])
    decision = decide(5760, 2880, container=meta)
    assert shape(decision) == VR180_SBS
    assert decision.sources["coverage"] == "metadata (Spherical Video V2)"
    assert decision.warnings == ["film.mp4: sv3d box truncated; ignored its end"]

    meta = ContainerLayout(kind=V2, projection="equirectangular", crop=(0.6, 0.0, 0.6, 0.0))
    decision = decide(3840, 1920, container=meta)
    assert decision.layout.crop_left == 0.0
    assert decision.warnings == ["film.mp4: metadata (Spherical Video V2) has an impossible crop (0.6, 0.0, 0.6,"
                                 " 0.0); ignoring it"]


# ---------------------------------------------------------------------------------------------------------------
# Contradictions with the picture's shape
# ---------------------------------------------------------------------------------------------------------------

def test_metadata_top_bottom_on_a_4_to_1_picture_becomes_side_by_side():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="top-bottom")
    decision = decide(3840, 960, container=meta)
    assert shape(decision) == EQ360_SBS
    assert decision.sources["stereo"] == "aspect 4:1 (overriding metadata (Spherical Video V2))"
    assert decision.warnings == ["metadata (Spherical Video V2) says top-bottom but the 3840x960 picture (4:1) looks"
                                 " side-by-side; using side-by-side"]


def test_filename_packing_gives_way_to_an_impossible_shape():
    decision = decide(3840, 960, filename="film_360_TB.mp4")
    assert decision.layout.stereo == "side-by-side"
    assert decision.warnings == ["filename tag _TB says top-bottom but the 3840x960 picture (4:1) looks"
                                 " side-by-side; using side-by-side"]


def test_metadata_mono_on_a_square_360_picture_becomes_top_bottom():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="mono", crop=(0.0, 0.0, 0.0, 0.0))
    decision = decide(3840, 3840, container=meta)
    assert decision.layout.stereo == "top-bottom"
    assert decision.warnings == ["metadata (Spherical Video V2) says mono but the 3840x3840 picture (1:1) looks"
                                 " top-bottom; using top-bottom"]


def test_metadata_mono_vr180_on_a_2_to_1_picture_becomes_side_by_side():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="mono", crop=(0.25, 0.0, 0.25, 0.0))
    decision = decide(5760, 2880, container=meta)
    assert shape(decision) == VR180_SBS
    assert decision.warnings == ["metadata (Spherical Video V2) says mono but the 5760x2880 picture (2:1) looks"
                                 " side-by-side; using side-by-side"]


@pytest.mark.parametrize("flags, manifest, said_by", [
    ({"stereo": "top-bottom"}, None, "flag --stereo"),
    (None, {"stereo": "top-bottom"}, "manifest film.json"),
])
def test_flags_and_manifest_are_kept_against_the_shape(flags, manifest, said_by):
    decision = decide(3840, 960, flags=flags, manifest=manifest, manifest_source="film.json",
                      container=ContainerLayout(kind=V2, projection="equirectangular"))
    assert decision.layout.stereo == "top-bottom"
    assert decision.sources["stereo"] == said_by
    assert decision.warnings == [f"{said_by} says top-bottom but the 3840x960 picture (4:1) looks side-by-side;"
                                 " keeping top-bottom as asked"]


@pytest.mark.parametrize("stereo, size", [
    ("top-bottom", (3840, 1920)),  # half-height top-bottom 360
    ("side-by-side", (3840, 1920)),  # half-width side-by-side 360
    ("mono", (3840, 2160)),  # a 360 film in a 16:9 frame: odd, not impossible
])
def test_possible_packings_are_not_questioned(stereo, size):
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo=stereo, crop=(0.0, 0.0, 0.0, 0.0))
    decision = decide(*size, container=meta)
    assert decision.layout.stereo == stereo
    assert decision.warnings == []


def test_lens_and_flat_pictures_are_not_checked():
    meta = ContainerLayout(kind=V2, stereo="top-bottom")
    decision = decide(3840, 960, container=meta, flags={"projection": "fisheye"})
    assert decision.layout.stereo == "top-bottom"
    assert decision.warnings == []


def test_a_packing_nothing_fits_is_kept_with_a_warning():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="mono", crop=(0.0, 0.0, 0.0, 0.0))
    decision = decide(6000, 500, container=meta)  # 12:1: each eye of any packing is far from 2:1
    assert decision.layout.stereo == "mono"
    assert decision.warnings == ["metadata (Spherical Video V2) says mono but the 6000x500 picture (12:1) fits no"
                                 " equirectangular packing; keeping mono"]


def test_an_impossible_default_packing_is_replaced_quietly():
    # Equirectangular from metadata, nothing about stereo, a 4.5:1 picture: no exact match, mono is impossible.
    decision = decide(4320, 960, container=ContainerLayout(kind=V2, projection="equirectangular"))
    assert decision.layout.stereo == "side-by-side"
    assert decision.sources["stereo"] == "aspect 9:2"
    assert decision.warnings == []


# ---------------------------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags, message", [
    ({"projection": "sphere"}, "--projection: unknown projection 'sphere' (valid: equirectangular, eac, cubemap-3x2,"
                               " cubemap-6x1, fisheye, dual-fisheye, flat, mesh)"),
    ({"stereo": "tb"}, "--stereo: unknown stereo mode 'tb' (valid: mono, top-bottom, side-by-side)"),
    ({"eyes_swapped": "yes"}, "--eyes-swapped: must be true or false, not 'yes'"),
    ({"fov_covered": 0}, "--fov-covered: must be degrees between 0 and 360, not 0"),
    ({"fov_covered": 400}, "--fov-covered: must be degrees between 0 and 360, not 400"),
    ({"initial_yaw": "left"}, "--initial-yaw: must be degrees, not 'left'"),
    ({"yaw": 10}, "unknown layout flag 'yaw' (valid: projection, stereo, eyes_swapped, fov_covered, initial_yaw)"),
])
def test_bad_flags_are_refused(flags, message):
    with pytest.raises(ValueError) as error:
        decide(flags=flags)
    assert str(error.value) == message
    assert "\n" not in str(error.value)


def test_unset_flags_are_ignored():
    decision = decide(3840, 3840, flags={"projection": None, "stereo": None, "eyes_swapped": None,
                                         "fov_covered": None, "initial_yaw": None})
    assert shape(decision) == EQ360_TB
    assert decision.sources["projection"] == "aspect 1:1"


@pytest.mark.parametrize("projection, degrees, expected_crop, expected_fov", [
    ("equirectangular", 180, (0.25, 0.25), None),
    ("equirectangular", 270, (0.125, 0.125), None),
    ("fisheye", 200, (0.0, 0.0), 200.0),
    ("dual-fisheye", 210, (0.0, 0.0), 210.0),
    ("flat", 90, (0.0, 0.0), 90.0),
])
def test_fov_covered_means_what_the_projection_uses(projection, degrees, expected_crop, expected_fov):
    decision = decide(flags={"projection": projection, "fov_covered": degrees})
    assert (decision.layout.crop_left, decision.layout.crop_right) == expected_crop
    assert decision.layout.fov == expected_fov


def test_fov_covered_without_a_projection_is_an_equirectangular_crop():
    decision = decide(3840, 1920, flags={"fov_covered": 180})
    assert shape(decision) == VR180_SBS
    assert decision.sources["coverage"] == "flag --fov-covered"
    assert decision.sources["projection"] == "aspect 2:1"


def test_too_wide_a_flat_screen_is_refused_with_a_warning():
    decision = decide(1920, 1080, flags={"projection": "flat", "fov_covered": 200})
    assert decision.layout.fov == 60.0
    assert decision.sources["fov"] == "default"
    assert decision.warnings == ["flag --fov-covered: a flat screen cannot be 200° wide; using 60°"]


def test_swapping_the_eyes_of_a_mono_picture_warns():
    decision = decide(3840, 1920, flags={"eyes_swapped": True})
    assert decision.layout.eyes_swapped is False
    assert decision.sources["eyes_swapped"] == "not used (mono)"
    assert decision.warnings == ["flag --eyes-swapped says the eyes are swapped, but the picture is mono; ignoring it"]


# ---------------------------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------------------------

def write(path, content):
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_manifest_found_by_the_same_stem(tmp_path):
    film = tmp_path / "film.mp4"
    write(tmp_path / "film.json", {"projection": "fisheye", "fov": 200})
    assert load_manifest(film) == ({"projection": "fisheye", "fov": 200}, str(tmp_path / "film.json"))


def test_manifest_found_by_the_whole_name(tmp_path):
    film = tmp_path / "film.mp4"
    write(tmp_path / "film.mp4.json", {"stereo": "top-bottom"})
    assert load_manifest(film) == ({"stereo": "top-bottom"}, str(tmp_path / "film.mp4.json"))


def test_the_whole_name_wins_over_the_stem(tmp_path):
    film = tmp_path / "film.mp4"
    write(tmp_path / "film.json", {"stereo": "mono"})
    write(tmp_path / "film.mp4.json", {"stereo": "side-by-side"})
    assert load_manifest(film) == ({"stereo": "side-by-side"}, str(tmp_path / "film.mp4.json"))


def test_no_manifest(tmp_path):
    assert load_manifest(tmp_path / "film.mp4") == (None, None)
    (tmp_path / "film.json").mkdir()  # a folder of that name is not a manifest
    assert load_manifest(tmp_path / "film.mp4") == (None, None)


def test_a_manifest_read_and_used(tmp_path):
    film = tmp_path / "film.mp4"
    write(tmp_path / "film.json", {
        "projection": "equirectangular", "stereo": "top-bottom", "eyes_swapped": True,
        "crop": {"left": 0.25, "right": 0.25}, "initial_view": {"yaw": 30, "pitch": -5, "roll": 1},
        "audio": "ambix1+stereo", "comment": "shot on a rig"})
    manifest, source = load_manifest(film)
    decision = decide(2880, 5760, filename=str(film), manifest=manifest, manifest_source=source)
    lay = decision.layout
    assert shape(decision) == ("equirectangular", "top-bottom", True, 0.25, 0.25, None)
    assert (lay.crop_top, lay.crop_bottom) == (0.0, 0.0)
    assert (lay.initial_yaw, lay.initial_pitch, lay.initial_roll) == (30.0, -5.0, 1.0)
    assert decision.audio == "ambix1+stereo"
    assert decision.sources["coverage"] == "manifest film.json"
    assert decision.warnings == []


def test_unknown_manifest_keys_warn(tmp_path):
    film = tmp_path / "film.mp4"
    write(tmp_path / "film.json", {"projection": "equirectangular", "layout": "tb"})
    manifest, source = load_manifest(film)  # no error
    decision = decide(filename=str(film), manifest=manifest, manifest_source=source)
    assert decision.warnings == ["film.json: unknown key 'layout' ignored (known: projection, stereo, eyes_swapped,"
                                 " fov, coverage, crop, initial_view, lenses, audio, comment)"]


@pytest.mark.parametrize("content, problem", [
    ("{ not json", "not valid JSON (Expecting property name enclosed in double quotes at line 1 column 3)"),
    ("[1, 2]", "must be a JSON object, not list"),
    ({"projection": "sphere"}, "unknown projection 'sphere' (valid: equirectangular, eac, cubemap-3x2,"
                               " cubemap-6x1, fisheye, dual-fisheye, flat, mesh)"),
    ({"stereo": "tb"}, "unknown stereo 'tb' (valid: mono, top-bottom, side-by-side)"),
    ({"eyes_swapped": "yes"}, "eyes_swapped must be true or false, not 'yes'"),
    ({"fov": "wide"}, "fov must be degrees between 0 and 360, not 'wide'"),
    ({"fov": True}, "fov must be degrees between 0 and 360, not True"),
    ({"coverage": 0}, "coverage must be degrees between 0 and 360, not 0"),
    ({"coverage": 180, "crop": {"left": 0.25}}, "give coverage or crop, not both"),
    ({"crop": [0.25, 0, 0.25, 0]}, "crop must be an object with left, top, right, bottom fractions, not"
                                   " [0.25, 0, 0.25, 0]"),
    ({"crop": {"left": 0.6, "right": 0.5}}, "crop fractions must be from 0 to below 1 and leave some picture, not"
                                            " {'left': 0.6, 'right': 0.5}"),
    ({"initial_view": {"yaw": "north"}}, "initial_view must be an object with yaw, pitch, roll in degrees, not"
                                         " {'yaw': 'north'}"),
    ({"initial_view": {"heading": 10}}, "initial_view must be an object with yaw, pitch, roll in degrees, not"
                                        " {'heading': 10}"),
    ({"audio": 4}, "audio must be a string, not 4"),
])
def test_malformed_manifests_are_refused(tmp_path, content, problem):
    path = write(tmp_path / "film.json", content)
    with pytest.raises(ValueError) as error:
        load_manifest(tmp_path / "film.mp4")
    assert str(error.value) == f"{path}: {problem}; fix the manifest or remove it"
    assert "\n" not in str(error.value)


def test_a_malformed_manifest_given_directly_is_refused():
    with pytest.raises(ValueError, match=r"^film.json: unknown stereo 'ou' \(valid: mono, top-bottom,"):
        decide(manifest={"stereo": "ou"}, manifest_source="/x/film.json")


def test_validate_manifest_returns_the_warnings():
    assert validate_manifest({"fov": 190, "colour": "bt709", "audio": "tbe"}, "a.json") == [
        "a.json: unknown key 'colour' ignored (known: projection, stereo, eyes_swapped, fov, coverage, crop,"
        " initial_view, lenses, audio, comment)"]


def test_manifest_keys_that_do_not_apply_warn():
    decision = decide(2048, 2048, manifest={"projection": "fisheye", "coverage": 180}, manifest_source="f.json")
    assert decision.warnings == ["manifest f.json: coverage/crop apply to equirectangular films only; ignored for"
                                 " fisheye (use fov)"]
    decision = decide(3840, 1920, manifest={"fov": 190}, manifest_source="f.json")
    assert decision.layout.fov is None
    assert decision.warnings == ["manifest f.json: fov applies to fisheye, dual-fisheye and flat films only; ignored"
                                 " for equirectangular (use coverage)"]


# ---------------------------------------------------------------------------------------------------------------
# What is covered; probe output
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout, size, expected", [
    (Layout(), (3840, 1920), (360.0, 180.0)),
    (Layout(crop_left=0.25, crop_right=0.25), (3840, 1920), (180.0, 180.0)),
    (Layout(crop_left=0.125, crop_right=0.125, crop_top=0.25), (3840, 1920), (270.0, 135.0)),
    (Layout(projection="fisheye", fov=200.0), (2048, 2048), (200.0, 200.0)),
    (Layout(projection="fisheye"), (2048, 2048), (180.0, 180.0)),
    (Layout(projection="dual-fisheye", fov=190.0), (3840, 1920), (360.0, 180.0)),
    (Layout(projection="dual-fisheye", fov=170.0), (3840, 1920), (340.0, 170.0)),
    (Layout(projection="eac"), (3840, 2560), (360.0, 180.0)),
    (Layout(projection="cubemap-6x1"), (6144, 1024), (360.0, 180.0)),
    (Layout(projection="flat", fov=90.0), (1000, 1000), (90.0, 90.0)),
])
def test_covered(layout, size, expected):
    assert covered(layout, *size) == pytest.approx(expected)


def test_covered_by_a_flat_screen_follows_the_films_shape():
    vertical = math.degrees(2 * math.atan(math.tan(math.radians(30)) * 9 / 16))  # 60° wide, 16:9
    assert covered(Layout(projection="flat", fov=60.0), 1920, 1080) == pytest.approx((60.0, vertical))
    # Full side-by-side (each eye 16:9) and half side-by-side (each eye squeezed to 8:9): both 16:9 films.
    assert covered(Layout(projection="flat", stereo="side-by-side", fov=60.0), 3840, 1080)[1] == pytest.approx(vertical)
    assert covered(Layout(projection="flat", stereo="side-by-side", fov=60.0), 1920, 1080)[1] == pytest.approx(vertical)
    assert covered(Layout(projection="flat", stereo="top-bottom", fov=60.0), 1920, 1080)[1] == pytest.approx(vertical)


def test_defaults():
    assert DEFAULT_FOV == {"fisheye": 180.0, "dual-fisheye": 190.0, "flat": 60.0}


def test_describe_and_json_for_a_vr180_film():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="side-by-side", crop=(0.25, 0.0, 0.25, 0.0),
                           pose=(-30.0, 10.0, 0.0))
    decision = decide(5760, 2880, filename="trip_RL.mp4", container=meta,
                      manifest={"audio": "ambix1"}, manifest_source="trip.json")
    assert describe_decision(decision) == [
        "projection:  equirectangular, 180°×180° — metadata (Spherical Video V2)",
        "stereo:      side-by-side, eyes swapped (right eye first) — metadata (Spherical Video V2); eye order:"
        " filename tag _RL",
        "start view:  yaw 30°, pitch 10°, roll 0° — metadata (Spherical Video V2)",
    ]
    assert decision_json(decision) == {
        "projection": "equirectangular",
        "stereo": "side-by-side",
        "eyes_swapped": True,
        "covered": {"horizontal": 180.0, "vertical": 180.0},
        "crop": {"left": 0.25, "top": 0.0, "right": 0.25, "bottom": 0.0},
        "fov": None,
        "meshes": None,
        "lens_circles": None,
        "initial_view": {"yaw": 30.0, "pitch": 10.0, "roll": 0.0},
        "audio": "ambix1",
        "sources": {"projection": "metadata (Spherical Video V2)", "stereo": "metadata (Spherical Video V2)",
                    "eyes_swapped": "filename tag _RL", "coverage": "metadata (Spherical Video V2)",
                    "fov": "not used by equirectangular", "initial_view": "metadata (Spherical Video V2)"},
        "warnings": [],
    }
    json.dumps(decision_json(decision))  # serialisable as it is


def test_describe_a_fisheye_and_a_flat_film():
    decision = decide(2048, 2048, filename="dome_FISHEYE190.mp4", flags={"initial_yaw": -12.5})
    assert describe_decision(decision) == [
        "projection:  fisheye, 190°×190° — filename tag _FISHEYE190",
        "stereo:      mono — aspect 1:1",
        "fov:         190° lens — filename tag _FISHEYE190",
        "start view:  yaw -12.5°, pitch 0°, roll 0° — flag --initial-yaw",
    ]
    decision = decide(1920, 1080, filename="film.mp4")
    assert describe_decision(decision) == [
        "projection:  flat, 60°×36° — aspect 16:9",
        "stereo:      mono — default",
        "fov:         60° screen width — default",
        "start view:  yaw 0°, pitch 0°, roll 0° — default",
    ]
    assert decision_json(decision)["covered"] == {"horizontal": 60.0, "vertical": 35.983}


def test_describe_names_a_coverage_from_another_source():
    meta = ContainerLayout(kind=MKV, projection="equirectangular")
    decision = decide(5760, 2880, filename="film_180.mkv", container=meta)
    assert describe_decision(decision)[0] == ("projection:  equirectangular, 180°×180° — metadata (Matroska"
                                              " Projection); coverage: filename tag _180")


def test_json_carries_the_warnings():
    meta = ContainerLayout(kind=V2, projection="equirectangular", stereo="top-bottom")
    decision = decide(3840, 960, container=meta)
    assert decision_json(decision)["warnings"] == decision.warnings
    assert len(decision.warnings) == 1
