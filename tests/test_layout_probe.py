"""Layout detection end to end: films tagged the ways real films are (Spherical Video V1/V2 boxes, Matroska
elements, file names, a sidecar manifest), and what `vrplayer probe --json` decides for them — plus overrides,
contradictions, broken metadata, and the initial view a tagged film opens on."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import make_sample, run_cli
from test_spherical import cbmp, equi, mshp, prhd, st3d, sv3d, v1_box, v1_xml, with_entry_boxes, with_trak_box
from vrplayer.render import projection
from vrplayer.snapshot import read_png


def _ffmpeg_film(path: Path, size: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10", "-frames:v", "3",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def films(tmp_path_factory) -> Path:
    if not shutil.which("mkvmerge"):
        pytest.fail("mkvmerge (mkvtoolnix) is not installed: scripts/setup.sh --test installs it")
    return tmp_path_factory.mktemp("layouts")


@pytest.fixture(scope="module")
def wide(films) -> Path:
    """A plain 2:1 film with no metadata, named so that its name says nothing."""
    return _ffmpeg_film(films / "plain.mp4", "256x128")


def probe(path, *flags) -> dict:
    result = run_cli("probe", "--json", path, *flags)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["layout"]


def mkv(films, wide, name, *options) -> Path:
    path = films / f"{name}.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(path), *options, str(wide)], check=True)
    return path


def test_spherical_v2_top_bottom_with_a_pose(films, wide):
    tagged = mkv(films, wide, "v2src", "--projection-type", "0:1", "--projection-pose-yaw", "0:30",
                 "--stereo-mode", "0:top_bottom_left_first")
    mp4 = films / "v2.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tagged), "-c", "copy", "-strict", "unofficial", str(mp4)], check=True)
    layout = probe(mp4)
    assert (layout["projection"], layout["stereo"], layout["eyes_swapped"]) == ("equirectangular", "top-bottom", False)
    assert layout["sources"]["stereo"] == "metadata (Spherical Video V2)"
    assert layout["initial_view"]["yaw"] == pytest.approx(-30.0)  # prhd yaw turns counter-clockwise: to the left
    assert layout["sources"]["initial_view"] == "metadata (Spherical Video V2)"


def test_matroska_vr180_side_by_side(films, wide):
    path = mkv(films, wide, "vr180", "--projection-type", "0:1",
               "--projection-private", "0:0000000000000000000000004000000040000000",
               "--stereo-mode", "0:side_by_side_left_first")
    layout = probe(path)
    assert (layout["projection"], layout["stereo"]) == ("equirectangular", "side-by-side")
    assert layout["covered"] == {"horizontal": 180.0, "vertical": 180.0}
    assert layout["sources"]["projection"] == "metadata (Matroska Projection)"


def test_matroska_right_eye_first(films, wide):
    layout = probe(mkv(films, wide, "rl", "--projection-type", "0:1", "--stereo-mode", "0:side_by_side_right_first"))
    assert (layout["stereo"], layout["eyes_swapped"]) == ("side-by-side", True)


def test_spherical_v1_initial_heading(films, wide):
    xml = v1_xml(Spherical="true", Stitched="true", ProjectionType="equirectangular", StereoMode="top-bottom",
                 InitialViewHeadingDegrees="90")
    layout = probe(with_trak_box(wide, films / "v1.mp4", v1_box(xml)))
    assert layout["stereo"] == "top-bottom"
    assert layout["initial_view"]["yaw"] == pytest.approx(90.0)  # a compass heading: clockwise, to the right
    assert layout["sources"]["initial_view"] == "metadata (Spherical Video V1)"


def test_cubemap_box_is_read_as_youtube_eac(films, wide):
    layout = probe(with_entry_boxes(wide, films / "cube.mp4", st3d(0), sv3d(prhd(), cbmp(0, 0))))
    assert layout["projection"] == "eac"


def test_a_mesh_is_drawn_as_its_mesh_and_an_override_still_plays_it_another_way(films, wide, tmp_path):
    film = with_entry_boxes(wide, films / "mesh.mp4", st3d(0), sv3d(prhd(), mshp()))
    layout = probe(film)
    assert (layout["projection"], layout["warnings"]) == ("mesh", [])
    assert layout["sources"]["projection"] == "metadata (Spherical Video V2 mshp)"
    overridden = probe(film, "--projection", "flat")
    assert overridden["projection"] == "flat" and overridden["sources"]["projection"] == "flag --projection"
    result = run_cli("snapshot", film, "--projection", "flat", "--size", "64x36", "-o", tmp_path / "mesh.png")
    assert result.returncode == 0, result.stderr
    # A damaged mesh is named, and the film plays by its shape meanwhile.
    from test_spherical import Box

    broken = with_entry_boxes(wide, films / "broken_mesh.mp4", st3d(0), sv3d(prhd(), Box(b"mshp", bytes(16))))
    layout = probe(broken)
    assert layout["projection"] == "equirectangular"
    assert any("mshp" in w and "CRC" in w for w in layout["warnings"]), layout["warnings"]
    assert any("cannot be drawn" in w and "--projection" in w for w in layout["warnings"]), layout["warnings"]


def test_a_malformed_box_is_a_warning_not_a_failure(films, wide):
    from test_spherical import Box

    short_prhd = Box(b"prhd", bytes(4) + bytes(4))  # yaw only: 8 bytes where 16 belong
    layout = probe(with_entry_boxes(wide, films / "short.mp4", st3d(1), sv3d(short_prhd, equi())))
    assert any("prhd" in w for w in layout["warnings"]), layout["warnings"]
    assert layout["stereo"] == "top-bottom"  # what was readable still counts


def test_metadata_contradicted_by_the_picture_warns_and_follows_the_picture(films):
    four_to_one = _ffmpeg_film(films / "four.mp4", "512x128")
    layout = probe(with_entry_boxes(four_to_one, films / "four_tb.mp4", st3d(1), sv3d(prhd(), equi())))
    assert layout["stereo"] == "side-by-side"
    assert any("top-bottom" in w and "side-by-side" in w and "512x128" in w for w in layout["warnings"]), layout["warnings"]


@pytest.mark.parametrize("name,size,expected", [
    ("concert_360.mp4", "256x128", ("equirectangular", "mono", False, 360)),
    ("trailer_180_SBS.mp4", "256x128", ("equirectangular", "side-by-side", False, 180)),
    ("dance_VR180_LR.mp4", "256x128", ("equirectangular", "side-by-side", False, 180)),
    ("city_360_TB.mp4", "128x128", ("equirectangular", "top-bottom", False, 360)),
    ("city_360_OU.mp4", "128x128", ("equirectangular", "top-bottom", False, 360)),
    ("forest_3dv.mp4", "128x128", ("equirectangular", "top-bottom", False, 360)),
    ("forest_3dh.mp4", "512x128", ("equirectangular", "side-by-side", False, 360)),
    ("swap_360_BT.mp4", "128x128", ("equirectangular", "top-bottom", True, 360)),
    ("swap_180_RL.mp4", "256x128", ("equirectangular", "side-by-side", True, 180)),
    ("yt_EAC.mp4", "192x128", ("eac", "mono", False, 360)),
    ("lens_FISHEYE190.mp4", "128x128", ("fisheye", "mono", False, 190)),
    ("lens_MKX200.mp4", "128x128", ("fisheye", "mono", False, 200)),
    ("lens_F180_SBS.mp4", "256x128", ("equirectangular", "side-by-side", False, 180)),
    ("tbilisi.mp4", "256x128", ("equirectangular", "mono", False, 360)),  # "tb" inside a word is no tag
])
def test_filename_conventions(films, name, size, expected):
    layout = probe(_ffmpeg_film(films / name, size))
    projection_name, stereo, swapped, degrees = expected
    assert (layout["projection"], layout["stereo"], layout["eyes_swapped"]) == (projection_name, stereo, swapped)
    assert layout["covered"]["horizontal"] == pytest.approx(degrees)
    if name != "tbilisi.mp4":
        assert layout["sources"]["projection"].startswith(("filename tag", "aspect")), layout["sources"]


def test_aspect_ratio_is_the_last_resort(films):
    layout = probe(_ffmpeg_film(films / "untagged.mp4", "128x128"))
    assert (layout["projection"], layout["stereo"]) == ("equirectangular", "top-bottom")
    assert layout["sources"]["stereo"] == "aspect 1:1"


def test_a_sidecar_manifest_beats_metadata_and_the_file_name(films, wide):
    film = with_entry_boxes(wide, films / "show_360_TB.mp4", st3d(1), sv3d(prhd(), equi()))
    (films / "show_360_TB.json").write_text(json.dumps(
        {"projection": "fisheye", "fov": 200, "stereo": "mono", "initial_view": {"yaw": 45, "pitch": -5}}))
    layout = probe(film)
    assert (layout["projection"], layout["stereo"], layout["fov"]) == ("fisheye", "mono", 200)
    assert layout["initial_view"]["yaw"] == 45 and layout["initial_view"]["pitch"] == -5
    assert layout["sources"]["projection"] == "manifest show_360_TB.json"


def test_a_broken_manifest_is_one_clear_line(films, wide):
    film = films / "broken_manifest.mp4"
    shutil.copy(wide, film)
    (films / "broken_manifest.json").write_text("{ not json")
    result = run_cli("probe", film)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "broken_manifest.json" in result.stderr


def test_flags_beat_everything(films, wide):
    film = with_entry_boxes(wide, films / "flags_360_TB.mp4", st3d(1), sv3d(prhd(yaw=20), equi()))
    layout = probe(film, "--projection", "equirectangular", "--stereo", "side-by-side", "--eyes-swapped",
                   "--fov-covered", "180", "--initial-yaw", "-60")
    assert (layout["stereo"], layout["eyes_swapped"], layout["covered"]["horizontal"]) == ("side-by-side", True, 180)
    assert layout["initial_view"]["yaw"] == -60
    assert all(layout["sources"][fact].startswith("flag") for fact in ("projection", "stereo", "eyes_swapped", "initial_view"))


def test_a_tagged_initial_view_is_where_the_film_opens(make_film, tmp_path):
    """The sample scene tagged with a pose yaw of 90 (counter-clockwise: a quarter turn to the left) opens facing
    west: the W marker is in the middle of the first picture, and recenter would return there."""
    film = make_film("scene_1s.mp4", seconds=1.0, audio=False)
    tagged = with_entry_boxes(film, tmp_path / "scene_turned.mp4", st3d(0), sv3d(prhd(yaw=90), equi()))
    out = tmp_path / "start.png"
    result = run_cli("snapshot", tagged, "--at", "0.5", "--pitch", "-10", "--fov", "60", "--size", "320x180", "-o", out)
    assert result.returncode == 0, result.stderr
    picture = read_png(str(out))
    marker = make_sample.MARKERS["W"]
    x, y = projection.pixel_of(marker["lon"], marker["lat"], 320, 180, -90, -10, 0, 60)
    patch = picture[round(y) - 2 : round(y) + 3, round(x) - 2 : round(x) + 3].reshape(-1, 3).astype(int)
    assert np.abs(np.median(patch, axis=0) - np.array(marker["rgb"])).max() < 40
