"""Real pixels from the real renderer (Mesa through EGL, offscreen), checked against FFmpeg's v360 filter and
against the known colours of the sample film's markers."""

import subprocess

import numpy as np
import pytest

from conftest import make_sample, run_cli
from vrplayer.display.offscreen import OffscreenDisplay
from vrplayer.formats.pixels import NATIVE
from vrplayer.media.video import VideoDecoder, VideoFrame
from vrplayer.render import projection
from vrplayer.render.renderer import SphereRenderer
from vrplayer.snapshot import read_png
from vrplayer.view import ViewState

W, H = 640, 360
FRAME = 15  # 0.5 s into a 30 fps film: between flashes


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def v360(film, yaw, pitch, roll, fov, frame=FRAME, in_matrix="bt709"):
    vfov = projection.vertical_fov(fov, W, H)
    graph = (
        f"select=eq(n\\,{frame}),v360=input=e:output=flat:yaw={yaw}:pitch={pitch}:roll={roll}:"
        f"h_fov={fov}:v_fov={vfov}:w={W}:h={H}:interp=linear,"
        f"scale=in_color_matrix={in_matrix}:in_range=limited,format=rgb24"
    )
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(film), "-vf", graph, "-frames:v", "1", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(H, W, 3)


def smooth_scene(width=1920, height=960) -> np.ndarray:
    """The sample scene with its 1-pixel lines and letter edges softened (a 9-tap box blur, twice, wrapping round
    the seam): FFmpeg's v360 places equirect pixels on a (W−1) grid, half a pixel off the texel-centre convention
    the renderer follows, and on 1-pixel detail that half pixel alone costs ~10 dB. Soft features measure the
    projection, not that convention."""
    picture = make_sample.scene_rgb(width, height, FRAME, 30).astype(np.float64)
    for _ in range(2):
        for axis, mode in ((1, "wrap"), (0, "edge")):
            pad = [(0, 0)] * 3
            pad[axis] = (4, 4)
            padded = np.pad(picture, pad, mode=mode)
            picture = sum(np.take(padded, range(k, k + picture.shape[axis]), axis=axis) for k in range(9)) / 9
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def smooth_film(make_film):
    return make_film("smooth_scene.mp4", seconds=1.0, audio=False, picture=smooth_scene())


VIEWS = [
    (0, 0, 0, 90),  # straight ahead
    (90, 0, 0, 90),
    (180, 0, 0, 90),  # the back seam (longitude ±180°) in the middle of the view
    (-135, 30, 0, 100),
    (0, 90, 0, 90),  # the zenith: no pinching
    (45, -90, 0, 90),  # the nadir
    (30, 10, 25, 110),  # roll
    (-170, -60, -15, 120),  # seam and low latitudes at the widest view
]


@pytest.mark.parametrize("yaw,pitch,roll,fov", VIEWS)
def test_snapshot_matches_ffmpeg_v360(smooth_film, tmp_path, yaw, pitch, roll, fov):
    out = tmp_path / "view.png"
    result = run_cli("snapshot", smooth_film, "--at", FRAME / 30, "--yaw", yaw, "--pitch", pitch, "--roll", roll,
                     "--fov", fov, "--size", f"{W}x{H}", "-o", out)
    assert result.returncode == 0, result.stderr
    ours = read_png(str(out))
    reference = v360(smooth_film, yaw, pitch, roll, fov)
    score = psnr(ours, reference)
    assert score >= 35.0, f"PSNR {score:.1f} dB against v360 at yaw {yaw} pitch {pitch} roll {roll} fov {fov}"


@pytest.fixture(scope="module")
def gl():
    display = OffscreenDisplay((W, H))
    renderer = SphereRenderer()
    yield display, renderer
    renderer.close()
    display.close()


def decoded_frame(film, at: float) -> VideoFrame:
    decoder = VideoDecoder(str(film))
    try:
        decoder.seek(at)
        return decoder.get(timeout=30)
    finally:
        decoder.close()


def draw(gl, frame, view) -> np.ndarray:
    display, renderer = gl
    renderer.upload(frame)
    renderer.draw(view, (0, 0, W, H))
    display.present()
    return display.read_pixels()


@pytest.mark.parametrize("name", ["N", "E", "S", "W"])
def test_markers_appear_in_their_colour_where_they_should(gl, sample_film, name):
    marker = make_sample.MARKERS[name]
    view = ViewState(yaw=marker["lon"] + 25, pitch=5, fov=100)  # off-centre, so position matters
    picture = draw(gl, decoded_frame(sample_film, 0.5), view)
    x, y = projection.pixel_of(marker["lon"], marker["lat"], W, H, view.yaw, view.pitch, 0, view.fov)
    patch = picture[round(y) - 3 : round(y) + 4, round(x) - 3 : round(x) + 4].reshape(-1, 3).astype(int)
    assert np.abs(patch - np.array(marker["rgb"])).max() <= 12, f"{name} marker: {patch.mean(0)} vs {marker['rgb']}"


def test_pole_caps_fill_the_view_looking_up_and_down(gl, sample_film):
    frame = decoded_frame(sample_film, 0.5)
    for key, pitch in (("up", 90), ("down", -90)):
        picture = draw(gl, frame, ViewState(pitch=pitch, fov=30))
        expected = np.array(make_sample.POLE_CAPS[key]["rgb"])
        centre = picture[H // 2 - 20 : H // 2 + 20, W // 2 - 20 : W // 2 + 20].reshape(-1, 3).astype(int)
        assert np.abs(centre - expected).max() <= 12, key


def test_flash_frame_is_white(gl, sample_film):
    picture = draw(gl, decoded_frame(sample_film, 1.0), ViewState(pitch=40))
    assert picture.reshape(-1, 3).min(axis=1).mean() > 250


def test_clearing_a_viewport_blanks_that_viewport_alone(gl, sample_film):
    """Black where there is no film, in one eye's or one part's viewport: the picture beside it stays."""
    display, renderer = gl
    whole = draw(gl, decoded_frame(sample_film, 1.0), ViewState(pitch=40))  # the white flash, everywhere
    renderer.draw(ViewState(pitch=40), (0, 0, W, H))
    renderer.clear((W // 2, 0, W - W // 2, H))
    display.present()
    picture = display.read_pixels()
    assert (picture[:, : W // 2] == whole[:, : W // 2]).all()
    assert picture[:, W // 2 :].max() == 0


def reformatted(frame: VideoFrame, pix_fmt: str) -> VideoFrame:
    converted = frame.frame.reformat(format=pix_fmt)
    converted.colorspace, converted.color_range = frame.frame.colorspace, frame.frame.color_range
    return VideoFrame(frame.pts, frame.duration, converted, NATIVE[pix_fmt], frame.generation)


@pytest.mark.parametrize("pix_fmt", ["nv12", "yuv420p10le", "p010le", "yuv444p", "gbrp"])
def test_every_native_plane_layout_draws_the_same_picture(gl, sample_film, pix_fmt):
    frame = decoded_frame(sample_film, 0.5)
    view = ViewState(yaw=-100, pitch=15, fov=100)
    reference = draw(gl, frame, view)
    picture = draw(gl, reformatted(frame, pix_fmt), view)
    assert psnr(picture, reference) >= 38.0


def test_ten_bit_hevc_film_is_uploaded_as_16_bit_planes_and_matches_v360(gl, make_film):
    film = make_film("hevc10.mp4", width=1920, height=960, seconds=1.0, codec="libx265", pix_fmt="yuv420p10le",
                     colorspace="bt709", audio=False, picture=smooth_scene())
    frame = decoded_frame(film, 0.5)
    assert frame.layout.storage_bits == 16 and frame.frame.format.name == "yuv420p10le"
    picture = draw(gl, frame, ViewState(yaw=30, pitch=-20, fov=90))
    assert psnr(picture, v360(film, 30, -20, 0, 90)) >= 35.0


def test_bt601_full_range_film_uses_its_own_matrix(gl, make_film):
    film = make_film("bt601_full.mp4", width=1024, height=512, seconds=1.0, colorspace="bt601", color_range="pc", audio=False)
    frame = decoded_frame(film, 0.5)
    marker = make_sample.MARKERS["E"]
    picture = draw(gl, frame, ViewState(yaw=90, pitch=-10, fov=60))
    centre = picture[H // 2 - 2 : H // 2 + 3, W // 2 - 2 : W // 2 + 3].reshape(-1, 3).astype(int)
    assert np.abs(centre - np.array(marker["rgb"])).max() <= 12
