"""Every layout through the real renderer (Mesa through EGL, offscreen): projections, stereo packings, eyes and the
anaglyph, compared with FFmpeg's v360 on the same pictures and views as the numpy reference's tests."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest

from test_layouts_reference import CASES, MIN_PSNR, VIEW, pictures, psnr, v360_view  # noqa: F401 (fixture)
from vrplayer.display.offscreen import OffscreenDisplay
from vrplayer.layout import Layout
from vrplayer.formats.pixels import NATIVE
from vrplayer.media.video import VideoFrame
from vrplayer.render import projection
from vrplayer.render.renderer import SphereRenderer
from vrplayer.view import ViewState


@pytest.fixture(scope="module")
def gl():
    display = OffscreenDisplay(VIEW)
    renderer = SphereRenderer()
    yield display, renderer
    renderer.close()
    display.close()


def as_frame(picture: np.ndarray) -> VideoFrame:
    """An RGB picture as the decoder would hand it over: planar RGB (exact, no chroma subsampling)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24").reformat(format="gbrp")
    return VideoFrame(0.0, 1 / 30, frame, NATIVE["gbrp"], 0)


def render(gl, picture: np.ndarray, layout: Layout, view, eye: str = "left", size=VIEW) -> np.ndarray:
    display, renderer = gl
    yaw, pitch, roll, fov = view
    renderer.layout = layout
    renderer.upload(as_frame(picture))
    renderer.draw(ViewState(yaw=yaw, pitch=pitch, roll=roll, fov=fov), (0, 0, *size), eye)
    display.present()
    # The viewport sits at GL's origin, the bottom left; read_pixels gives rows top first.
    return display.read_pixels()[VIEW[1] - size[1]:, : size[0]] / 255.0


@pytest.mark.parametrize("case", list(CASES))
def test_renderer_matches_v360(gl, pictures, case):
    name, v360_input, layout, eye, views, size = CASES[case]
    border = 2 * (size[0] + size[1])
    for view in views:
        reference, theirs = v360_view(pictures[name], v360_input, view, size)
        ours = render(gl, pictures[name], layout, view, eye, size)
        # Drawn again with the view held still, the renderer reads each pixel's sample positions back from the
        # first time instead of working them out: the picture must not change.
        again = render(gl, pictures[name], layout, view, eye, size)
        assert np.abs(again - ours).max() <= 1 / 255, f"{case} at {view}: a held view draws a different picture"
        rays = projection.view_rays(*size, *view)
        _, valid = projection.sample_layout(pictures[name] / 255.0, layout, rays, eye)
        both = theirs & valid
        if both.any():
            score = psnr(ours[both], reference[both])
            assert score >= MIN_PSNR, f"{case} at {view}: PSNR {score:.1f} dB against v360"
        # Black exactly where the picture does not reach (the reference's coverage, itself checked against v360).
        outside = ~valid
        assert np.count_nonzero(ours[outside].max(axis=-1) > 2 / 255) <= border, f"{case} at {view}: not black outside"
        if valid.any():
            assert ours[valid].mean() > 0.2, f"{case} at {view}: black where the picture is"


def test_a_view_held_still_shows_each_new_frame(gl, pictures):
    # Positions read back belong to the view, not to a frame: a new picture under a held view shows in full.
    view = (150, 35, 10, 90)
    layout = Layout(stereo="top-bottom")
    rays = projection.view_rays(*VIEW, *view)
    render(gl, pictures["tb"], layout, view, "right")
    for picture in ("bt", "tb"):  # the eyes' halves trade places
        shown = render(gl, pictures[picture], layout, view, "right")
        expected, _ = projection.sample_layout(pictures[picture] / 255.0, layout, rays, "right")
        assert psnr(shown, expected) >= MIN_PSNR, picture


def test_turning_round_one_frame_brings_up_each_part_as_it_comes_into_view(gl, pictures):
    # A frame's planes go up tile by tile as views need them (textures start black): look all round one frame.
    display, _ = gl
    renderer = SphereRenderer()
    try:
        renderer.upload(as_frame(pictures["equirect"]))
        for yaw, pitch, roll, fov in [(0, 0, 0, 90), (120, 0, 0, 90), (-120, 30, 0, 90), (0, 90, 0, 90), (180, -80, 20, 120)]:
            renderer.draw(ViewState(yaw=yaw, pitch=pitch, roll=roll, fov=fov), (0, 0, *VIEW))
            display.present()
            shown = display.read_pixels()[..., :3] / 255.0
            expected = projection.render_reference(pictures["equirect"] / 255.0, Layout(), *VIEW, yaw, pitch, roll, fov)
            assert psnr(shown, expected) >= MIN_PSNR, f"view {(yaw, pitch, roll, fov)}"
    finally:
        renderer.close()


def test_the_right_eye_of_a_top_bottom_film_is_its_bottom_half(gl, pictures):
    layout = Layout(stereo="top-bottom")
    view = (20, 10, 0, 90)
    left = render(gl, pictures["tb"], layout, view, "left")
    right = render(gl, pictures["tb"], layout, view, "right")
    rays = projection.view_rays(*VIEW, *view)
    expected_right, _ = projection.sample_layout(pictures["tb"] / 255.0, layout, rays, "right")
    assert psnr(right, expected_right) >= MIN_PSNR
    assert psnr(left, right) < 25  # the eyes differ


def test_swapping_eyes_on_the_renderer_shows_the_other_half(gl, pictures):
    display, renderer = gl
    view = (0, 0, 0, 90)
    left = render(gl, pictures["tb"], Layout(stereo="top-bottom"), view, "right")
    renderer.swap_eyes = True
    try:
        swapped = render(gl, pictures["tb"], Layout(stereo="top-bottom"), view, "left")
    finally:
        renderer.swap_eyes = False
    np.testing.assert_array_equal(left, swapped)


def test_anaglyph_takes_red_from_the_left_eye_and_cyan_from_the_right(gl):
    # Left eye all red, right eye all cyan: a red-cyan anaglyph shows the left eye through the red channel only,
    # the right through green and blue.
    red = np.zeros((128, 256, 3), np.uint8)
    red[..., 0] = 255
    cyan = np.zeros((128, 256, 3), np.uint8)
    cyan[..., 1:] = 255
    picture = np.concatenate([red, cyan], axis=0)
    out = render(gl, picture, Layout(stereo="top-bottom"), (0, 0, 0, 90), "anaglyph")
    # Dubois' red-cyan matrices (rows: output R, G, B) applied to left = red, right = cyan.
    left = np.array([[0.437, 0.449, 0.164], [-0.062, -0.062, -0.024], [-0.048, -0.050, -0.017]])
    right = np.array([[-0.011, -0.032, -0.007], [0.377, 0.761, 0.009], [-0.026, -0.093, 1.234]])
    expected = np.clip(left @ [1, 0, 0] + right @ [0, 1, 1], 0, 1)  # (0.398, 0.708, 1.0)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), expected, atol=0.01)


def test_a_360_side_by_side_film_has_no_seam_at_the_back(gl):
    # A smooth horizontal ramp that wraps: the back seam of each eye must blend its last and first columns,
    # never reach into the other eye (which is a different colour).
    w, h = 256, 128
    ramp = (0.5 + 0.4 * np.cos(2 * math.pi * (np.arange(w) + 0.5) / w))[None, :, None] * np.ones((h, 1, 3))
    left = np.clip(np.rint(ramp * 255), 0, 255).astype(np.uint8)
    right = np.zeros_like(left)
    right[..., 2] = 255
    picture = np.concatenate([left, right], axis=1)
    out = render(gl, picture, Layout(stereo="side-by-side"), (180, 0, 0, 30), "left")
    row = out[VIEW[1] // 2]
    assert row[:, 2].max() - row[:, 0].min() < 0.05  # gray everywhere: no blue from the right eye
    assert np.abs(np.diff(row[:, 0])).max() < 0.02  # and smooth across the seam


@pytest.mark.parametrize("name,v360_input,flags,eye,view", [
    ("eac", "eac", (), "left", (45, 35, 0, 90)),  # across a cube corner
    ("tb", "e:in_stereo=tb", ("--stereo", "top-bottom"), "left", (120, -20, 10, 90)),
    ("sbs-vr180", "e:in_stereo=sbs:ih_fov=180:iv_fov=180", ("--stereo", "side-by-side", "--fov-covered", "180"), "left",
     (60, 10, 0, 90)),  # toward the border of the 180° film
    ("dfisheye", "dfisheye:ih_fov=200:iv_fov=200", ("--projection", "dual-fisheye", "--fov-covered", "200"), "left",
     (90, 0, 0, 90)),  # where the two lenses meet
])
def test_snapshot_of_a_film_matches_v360(make_film, pictures, tmp_path, name, v360_input, flags, eye, view):
    """The whole path a user takes: an encoded film, `vrplayer snapshot` with the layout overrides, against v360
    run on the same film."""
    import subprocess

    from conftest import run_cli
    from vrplayer.snapshot import read_png

    picture = pictures[name]
    film = make_film(f"layout_{name}.mp4", width=picture.shape[1], height=picture.shape[0], seconds=0.2,
                     audio=False, picture=picture)
    yaw, pitch, roll, fov = view
    out = tmp_path / "view.png"
    result = run_cli("snapshot", film, *flags, "--eye", eye, "--yaw", yaw, "--pitch", pitch, "--roll", roll,
                     "--fov", fov, "--size", f"{VIEW[0]}x{VIEW[1]}", "-o", out)
    assert result.returncode == 0, result.stderr
    ours = read_png(str(out)) / 255.0
    graph = (f"format=gbrap,v360=input={v360_input}:output=flat:yaw={yaw}:pitch={pitch}:roll={roll}:h_fov={fov}:"
             f"v_fov={projection.vertical_fov(fov, *VIEW)}:w={VIEW[0]}:h={VIEW[1]}:interp=linear:alpha_mask=1,"
             f"scale=in_color_matrix=bt709:in_range=limited,format=rgba")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-vf", graph, "-frames:v", "1", "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    rgba = np.frombuffer(raw, np.uint8).reshape(VIEW[1], VIEW[0], 4)
    theirs, mine = rgba[..., 3] > 127, ours.max(axis=-1) > 3 / 255
    both = theirs & mine
    assert both.mean() > 0.3
    score = psnr(ours[both], rgba[..., :3][both] / 255.0)
    assert score >= MIN_PSNR, f"{name} at {view}: {score:.1f} dB"
    # Coverage: v360's (W-1) pixel grid reaches about one source pixel further at a border, nothing more.
    assert (theirs ^ mine).sum() <= 2 * (VIEW[0] + VIEW[1]), f"{name} at {view}: coverage differs"
