"""The creator's overview: the whole picture unwrapped 2:1 whatever the film's projection, through the real renderer
(offscreen), against the numpy reference of every layout; the headset's outline against the corners' inverse
projection; `snapshot --overview`; key O and a click in a real window (Xvfb)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, VRPLAYER
from test_desktop import find_window, press_quit, focus, wait_for_pictures, window_picture, xdotool
from test_layouts_reference import CASES, psnr, pictures  # noqa: F401 (fixture)
from test_render_layouts import as_frame
from vrplayer.creator import overview
from vrplayer.creator.headsets import HEADSETS, field_of_view
from vrplayer.display.offscreen import OffscreenDisplay
from vrplayer.render import projection
from vrplayer.render.renderer import SphereRenderer
from vrplayer.snapshot import read_png
from vrplayer.view import ViewState

SIZE = (256, 128)
OUTLINE = np.array([255, 217, 0])  # the shader's outline colour, (1, 0.85, 0) in 8 bits
VIEWS = [  # yaw, pitch, roll: ahead, across the ±180° seam, over the north pole, rolled near the south pole
    (0.0, 0.0, 0.0), (170.0, 10.0, 0.0), (-60.0, 70.0, 0.0), (40.0, -55.0, 25.0),
]


@pytest.fixture(scope="module")
def gl():
    display = OffscreenDisplay(SIZE)
    renderer = SphereRenderer()
    yield display, renderer
    renderer.close()
    display.close()


def draw(gl, picture, layout, eye="left", outline=None) -> np.ndarray:
    display, renderer = gl
    renderer.layout = layout
    renderer.upload(as_frame(picture))
    renderer.draw_overview((0, 0, *SIZE), eye, outline)
    display.present()
    return display.read_pixels()


def overview_directions(size) -> np.ndarray:
    """The world direction of every overview pixel's centre (rows top first)."""
    w, h = size
    lon = np.radians((np.arange(w) + 0.5) / w * 360.0 - 180.0)
    lat = np.radians(90.0 - (np.arange(h) + 0.5) / h * 180.0)
    lon, lat = np.meshgrid(lon, lat)
    return np.stack([np.cos(lat) * np.sin(lon), -np.sin(lat), np.cos(lat) * np.cos(lon)], axis=-1)


@pytest.mark.parametrize("case", list(CASES))
def test_the_overview_is_the_whole_sphere_whatever_the_projection(gl, pictures, case):
    name, _, layout, eye, _, _ = CASES[case]
    ours = draw(gl, pictures[name], layout, eye) / 255.0
    expected, valid = projection.sample_layout(pictures[name] / 255.0, layout, overview_directions(SIZE), eye)
    # A texel-wide band at a lens's or a crop's edge may go either way: judged where both agree it is covered.
    inner = valid & np.roll(valid, 1, 0) & np.roll(valid, -1, 0) & np.roll(valid, 1, 1) & np.roll(valid, -1, 1)
    assert psnr(ours[inner], expected[inner]) >= 33.0, case
    outer = ~(valid | np.roll(valid, 1, 0) | np.roll(valid, -1, 0) | np.roll(valid, 1, 1) | np.roll(valid, -1, 1))
    assert not outer.any() or ours[outer].max() <= 2 / 255, f"{case}: not black where the film does not reach"


def outline_pixels(shown: np.ndarray) -> np.ndarray:
    """(x, y) centres of the pixels drawn in the outline's colour."""
    ys, xs = np.nonzero(np.all(shown == OUTLINE, axis=-1))
    return np.stack([xs + 0.5, ys + 0.5], axis=1)


def nearest(points: np.ndarray, x: float, y: float, width: int) -> float:
    """Distance from (x, y) to the nearest of `points`, longitude wrapping round."""
    dx = np.abs(points[:, 0] - x)
    dx = np.minimum(dx, width - dx)
    return float(np.sqrt(dx ** 2 + (points[:, 1] - y) ** 2).min())


@pytest.mark.parametrize("case", ["equirect", "eac", "c6x1", "vr180", "fisheye", "dfisheye", "flat", "tb-left"])
@pytest.mark.parametrize("view", VIEWS, ids=["ahead", "seam", "north-pole", "south-rolled"])
def test_the_outline_falls_where_the_headset_view_does(gl, pictures, case, view):
    name, _, layout, eye, _, _ = CASES[case]
    fov = field_of_view("quest3")
    shown = draw(gl, pictures[name], layout, eye, overview.outline_of(*view, fov))
    drawn = outline_pixels(shown)
    assert len(drawn) > 100, f"{case} {view}: no outline"
    # Each corner, inverse-projected onto the overview, lands within a pixel of the outline drawn.
    for lon, lat in overview.outline_corners(*view, fov):
        x, y = overview.overview_pixel(lon, lat, SIZE)
        if abs(lat) < 89.0:  # (at a pole a corner's pixel is a whole row)
            assert nearest(drawn, x, y, SIZE[0]) <= 1.0, f"{case} {view}: corner ({lon:.1f}, {lat:.1f}) far from the outline"
    # And the whole edge: every point of it is next to the line drawn, every pixel of the line next to the edge.
    edge = np.array([overview.overview_pixel(lon, lat, SIZE) for lon, lat in overview.outline_points(*view, fov, per_edge=400)])
    for x, y in edge[::7]:
        if 0.5 < y < SIZE[1] - 0.5:
            assert nearest(drawn, x, y, SIZE[0]) <= 1.0, f"{case} {view}: the edge at ({x:.1f}, {y:.1f}) is not outlined"
    far = [nearest(edge, x, y, SIZE[0]) for x, y in drawn[::5]]
    assert max(far) <= 1.5, f"{case} {view}: an outline pixel {max(far):.2f} px from the edge"
    # Outside the view the picture is dimmed; inside it is the film's own.
    plain = draw(gl, pictures[name], layout, eye)
    x, y = (int(v) for v in overview.overview_pixel(view[0], view[1], SIZE))
    assert np.abs(shown[y, x].astype(int) - plain[y, x]).max() <= 1


def test_a_click_looks_where_it_is_and_the_headsets_have_sources():
    for x, y in ((0.0, 0.0), (128.0, 64.0), (200.0, 20.0)):
        yaw, pitch = overview.look_at(x, y, SIZE)
        back = overview.overview_pixel(yaw, pitch, SIZE)
        assert np.allclose(back, (x, y))
    assert overview.look_at(192.0, 32.0, SIZE) == (90.0, 45.0)
    for headset in HEADSETS.values():
        assert 60 < headset.horizontal < 180 and 60 < headset.vertical < 180 and len(headset.source) > 20
    given = field_of_view(fov="100×80")
    assert (given.horizontal, given.vertical) == (100.0, 80.0)
    assert (field_of_view().horizontal, field_of_view().vertical) == (110.0, 96.0)  # Quest 3 unless told


def test_snapshot_overview_writes_the_whole_picture_with_the_view_outlined(make_film, tmp_path):
    film = make_film("overview.mp4", width=512, height=256, seconds=1.0, audio=False)
    out = tmp_path / "overview.png"
    done = subprocess.run([*VRPLAYER, "snapshot", str(film), "--overview", "--size", "512x256", "--yaw", "170",
                           "--headset", "index", "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shown = read_png(str(out))
    assert shown.shape == (256, 512, 3)
    drawn = outline_pixels(shown)
    fov = field_of_view("index")
    for lon, lat in overview.outline_corners(170.0, 0.0, 0.0, fov):
        assert nearest(drawn, *overview.overview_pixel(lon, lat, (512, 256)), 512) <= 1.0
    # The outline crosses the ±180° seam: it shows at both edges of the picture.
    assert (drawn[:, 0] < 20).any() and (drawn[:, 0] > 492).any()
    for bad, says in ((["--headset-fov", "200x90"], "between 0 and 180"), (["--headset-fov", "wide"], "not a field of view")):
        done = subprocess.run([*VRPLAYER, "snapshot", str(film), "--overview", *bad, "-o", str(out)], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr


def test_key_o_shows_the_overview_and_a_click_in_it_looks_there(xvfb, make_film, tmp_path):
    film = make_film("overview_window.mp4", width=512, height=256, seconds=30.0, audio=False)
    heads = tmp_path / "heads"
    proc = subprocess.Popen(
        [*VRPLAYER, "play", str(film), "--display", "desktop", "--no-audio", "--size", "640x360", "--duration", "40",
         "--record-heads", str(heads), "--timing-log", str(tmp_path / "timing.jsonl")],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        window = find_window(xvfb)
        wait_for_pictures(tmp_path / "timing.jsonl", 5)
        focus(xvfb, window)
        xdotool(xvfb, "key", "--window", window, "o")
        time.sleep(1.0)
        picture = window_picture(xvfb, window)
        # 640x360: the overview is 640x320 in the middle, black bars of 20 px above and below.
        # (The bottom right corner is left out: the X server's pointer sits there.)
        assert picture[:15].max() < 10 and picture[-15:, :600].max() < 10 and picture[30:330].mean() > 40
        assert np.all(picture == OUTLINE, axis=-1).sum() > 200  # the headset's outline is on it
        # Click at longitude 90, latitude 45: x = 480, y = 20 + 80.
        xdotool(xvfb, "mousemove", "--window", window, "480", "100", "click", "1")
        time.sleep(0.5)
        xdotool(xvfb, "key", "--window", window, "o")
        time.sleep(1.0)
        press_quit(xvfb, window)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    samples = [json.loads(line) for trace in heads.glob("*.jsonl") for line in trace.read_text().splitlines()[1:]]
    last = [s for s in samples if "yaw" in s][-1]
    assert math.isclose(last["yaw"], 90.0, abs_tol=0.6) and math.isclose(last["pitch"], 45.0, abs_tol=0.6), last
