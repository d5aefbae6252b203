"""The OpenXR display and its pose maths.

- Pose and field-of-view maths (vrplayer.xr_pose): pure numpy, run everywhere.
- The no-runtime path: a machine without an OpenXR runtime gets one clear line, fast.
- A real runtime: Monado's simulated headset with its compositor in a window on a private Xvfb (tests/xr_runtime.py).
  Monado needs Debian 13; elsewhere run these tests inside the root scripts/xr-root.sh builds:

      scripts/xr-root.sh run python -m pytest tests/test_xr.py

  That sets VRPLAYER_XR_TESTS=1: then a missing runtime fails the tests; without it they are skipped.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import xr_runtime
from conftest import ROOT, _stop, make_sample, timing_pictures
from test_mesh_render import mesh_films  # noqa: F401 (a fixture)
from test_render import decoded_frame
from vrplayer import xr_pose
from vrplayer.render import projection

XR_REQUIRED = os.environ.get("VRPLAYER_XR_TESTS") == "1"
# Never `import xr` here: it switches PyOpenGL to GLX for the whole process (vrplayer.display.xr guards against it).
HAVE_PYOPENXR = importlib.util.find_spec("xr") is not None
RUN_HINT = "run them with: scripts/xr-root.sh run python -m pytest tests/test_xr.py"


# ---------------------------------------------------------------------------------------------------------------------
# Pose maths (no runtime)
# ---------------------------------------------------------------------------------------------------------------------

def quat_axis_angle(axis, degrees):
    """OpenXR quaternion (x, y, z, w) for a rotation about an axis given in OpenXR's axes."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    half = math.radians(degrees) / 2
    x, y, z = axis * math.sin(half)
    return x, y, z, math.cos(half)


def test_quaternion_rotation_round_trip():
    rng = np.random.default_rng(1)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        r = xr_pose.rotation_from_quaternion(*q)
        assert np.allclose(r @ r.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(r), 1.0)
        back = np.array(xr_pose.quaternion_from_rotation(r))
        assert np.allclose(back, q * np.sign(q[3]), atol=1e-9)
    # 90° about OpenXR's up axis turns forward (−Z) to the left (−X).
    r = xr_pose.rotation_from_quaternion(*quat_axis_angle((0, 1, 0), 90))
    assert np.allclose(r @ [0, 0, -1], [-1, 0, 0], atol=1e-12)
    assert np.allclose(xr_pose.rotation_from_quaternion(0, 0, 0, 0), np.eye(3))


@pytest.mark.parametrize("axis, degrees, expected", [
    ((0, 1, 0), -30, (30, 0, 0)),   # turning right is a negative turn about OpenXR's +Y (up)
    ((0, 1, 0), 50, (-50, 0, 0)),
    ((1, 0, 0), 20, (0, 20, 0)),    # looking up: positive about +X (right)
    ((0, 0, 1), -15, (0, 0, 15)),   # right side down: negative about +Z (backwards)
])
def test_head_angles_follow_our_conventions(axis, degrees, expected):
    assert np.allclose(xr_pose.head_angles(*quat_axis_angle(axis, degrees)), expected, atol=1e-9)


def test_our_axes_match_projection_view_rotation():
    rng = np.random.default_rng(2)
    for _ in range(50):
        yaw, pitch, roll = rng.uniform(-179, 179), rng.uniform(-89, 89), rng.uniform(-179, 179)
        ours = projection.view_rotation(yaw, pitch, roll)
        q = xr_pose.quaternion_from_rotation(xr_pose.from_our_axes(ours))
        assert np.allclose(xr_pose.head_rotation(*q), ours, atol=1e-9)
        assert np.allclose(xr_pose.head_angles(*q), (yaw, pitch, roll), atol=1e-6)
        # The same physical direction: our forward (+z) is OpenXR's −Z, our down (+y) OpenXR's −Y.
        r_xr = xr_pose.rotation_from_quaternion(*q)
        assert np.allclose(ours @ [0, 0, 1], xr_pose.S @ (r_xr @ [0, 0, -1]), atol=1e-9)
        assert np.allclose(ours @ [0, 1, 0], xr_pose.S @ (r_xr @ [0, -1, 0]), atol=1e-9)


def test_yaw_pitch_roll_straight_up_and_down():
    for pitch in (90, -90):
        yaw, p, roll = xr_pose.yaw_pitch_roll(projection.view_rotation(30, pitch, 0))
        assert (round(yaw, 6), round(p, 6), roll) == (30, pitch, 0)


def test_tan_bounds_from_an_asymmetric_fov():
    # XrFovf order: left, right, up, down (radians, left and down negative) → renderer order left, right, down, up.
    left, right, up, down = math.radians(-50), math.radians(40), math.radians(45), math.radians(-55)
    assert np.allclose(xr_pose.tan_bounds_from_fov(left, right, up, down),
                       (math.tan(left), math.tan(right), math.tan(down), math.tan(up)))
    tl, tr, td, tu = xr_pose.tan_bounds_from_fov(left, right, up, down)
    assert tl < 0 < tr and td < 0 < tu


def test_recenter_turns_only_about_the_vertical():
    head = projection.view_rotation(40, 20, 10)
    world = xr_pose.recenter_rotation(head, 90)
    assert np.allclose(world[1], [0, 1, 0]) and np.allclose(world[:, 1], [0, 1, 0])  # the vertical stays put
    assert np.allclose(xr_pose.yaw_pitch_roll(world @ head), (90, 20, 10))
    # Later head turns add to the film's yaw.
    later = projection.view_rotation(55, -5, 0)
    assert np.allclose(xr_pose.yaw_pitch_roll(world @ later), (105, -5, 0))
    assert np.allclose(xr_pose.recenter_rotation(np.eye(3), 0), np.eye(3))


# ---------------------------------------------------------------------------------------------------------------------
# No runtime
# ---------------------------------------------------------------------------------------------------------------------

_OPEN_SNIPPET = """
import sys, time
from vrplayer.errors import DisplayUnavailable
from vrplayer.display.xr import XrDisplay
from vrplayer.display.xr_common import load_xr
try:
    load_xr()  # importing pyopenxr takes ≈ 0.3 s; time the search for a runtime alone
except DisplayUnavailable:
    pass
t = time.perf_counter()
try:
    XrDisplay()
except DisplayUnavailable as exc:
    print(f"{time.perf_counter() - t:.3f}")
    print(exc)
    sys.exit(3)
"""


def open_in_subprocess(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, "-c", _OPEN_SNIPPET], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def test_no_runtime_gives_one_clear_line_quickly(tmp_path):
    # An active-runtime manifest that does not exist: no runtime, wherever this runs (inside the root too).
    result = open_in_subprocess({"XR_RUNTIME_JSON": str(tmp_path / "none.json")})
    assert result.returncode == 3, result.stderr
    seconds, message = result.stdout.strip().splitlines()
    assert "\n" not in message
    if not HAVE_PYOPENXR:
        assert "install pyopenxr" in message
    else:
        assert message.startswith("no OpenXR runtime found")
        assert float(seconds) < 0.2, "failing to find a runtime should be quick"
        assert "OpenXR-Loader" not in result.stderr, "the loader's own complaints belong in the debug log"


# ---------------------------------------------------------------------------------------------------------------------
# A real runtime: Monado's simulated headset
# ---------------------------------------------------------------------------------------------------------------------

def _why_no_runtime() -> str | None:
    why = xr_runtime.available()
    if why is None and not HAVE_PYOPENXR:
        why = "pyopenxr is not installed"
    return why


@pytest.fixture(scope="module")
def monado():
    why = _why_no_runtime()
    if why:
        if XR_REQUIRED:
            pytest.fail(f"VRPLAYER_XR_TESTS=1 but no OpenXR runtime can run here: {why}")
        pytest.skip(f"no OpenXR runtime here ({why}); {RUN_HINT}")
    runtime = xr_runtime.MonadoRuntime()
    runtime.start()
    saved = {key: os.environ.get(key) for key in (*runtime.env, "OXR_NO_PRINTING")}
    os.environ.update(runtime.env, OXR_NO_PRINTING="1")  # Monado's client prints its instance info otherwise
    yield runtime
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    runtime.stop()


@pytest.fixture
def display(monado):
    from vrplayer.display.xr import XrDisplay

    opened = []

    def open_display(**kwargs):
        opened.append(XrDisplay(**kwargs))
        return opened[-1]

    yield open_display
    for d in opened:
        d.close()


def run_frames(display, draw, frames: int = 30, timeout: float = 30.0) -> list:
    """Run the frame loop until `frames` frames were drawn; returns the events seen."""
    events, drawn = [], 0
    deadline = time.monotonic() + timeout
    while drawn < frames:
        assert time.monotonic() < deadline, f"only {drawn} of {frames} frames in {timeout} s; events {events}"
        events += display.poll_events()
        frame = display.wait_frame()
        if frame is None:
            events += display.poll_events(timeout=0.01)
            continue
        display.render_views(draw)
        drawn += frame.should_render
    return events


def clear_eyes(colours):
    from OpenGL import GL

    def draw(eye, rotation, tan_bounds, viewport):
        GL.glViewport(*viewport)
        GL.glClearColor(*colours[eye], 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)

    return draw


def names(events, kind):
    return [e.name for e in events if e.kind == kind]


def test_session_reaches_focused_with_two_located_views(display):
    d = display()
    assert d.system_name == "Monado: Simulated HMD"
    assert d.graphics == "egl"  # Monado offers XR_MNDX_egl_enable: no X server needed for our context
    events = run_frames(d, clear_eyes([(0, 0, 0), (0, 0, 0)]), frames=10)
    states = names(events, "session")
    assert states[:5] == ["idle", "ready", "synchronized", "visible", "focused"], states
    assert d.state.name == "FOCUSED" and d.running
    assert names(events, "presence")[-1] == "on" and d.headset_on
    fovs = d.view_fovs
    assert len(fovs) == 2
    for left, right, up, down in fovs:
        assert left < 0 < right and down < 0 < up
    width, height = d.framebuffer_size()
    assert width > 100 and height > 100
    assert xr_formats_name(d.swapchain_format) == "GL_SRGB8_ALPHA8"
    assert d.equirect_supported
    times = d.frame_times
    assert times.frames >= 10 and times.render_ms > 0 and times.wait_ms > 0
    pose = d.head_pose
    assert pose.display_time > 0 and pose.monotonic is not None
    assert abs(pose.monotonic - time.monotonic()) < 1.0  # the predicted display time is about now
    assert abs(pose.yaw) < 15 and abs(pose.pitch) < 15  # the simulated headset wobbles a little round forward


def xr_formats_name(value):
    from vrplayer.display.xr_swapchain import format_name

    return format_name(value)


def region_median(picture, x0, x1, y0=0.2, y1=0.8):
    h, w = picture.shape[:2]
    return np.median(picture[int(h * y0):int(h * y1), int(w * x0):int(w * x1)].reshape(-1, 3), axis=0)


@pytest.mark.parametrize("graphics", ["egl", "glx"])
def test_each_eye_shows_in_the_compositor_with_the_right_gamma(display, monado, graphics):
    # Left eye mid-grey: our values are gamma-encoded already, so 0.5 must come out as 128 on the "headset"
    # (an sRGB image written raw); encoding twice would show ≈ 188. Right eye pure blue.
    d = display(graphics=graphics, capture=True)
    assert d.graphics == graphics
    draw = clear_eyes([(0.5, 0.5, 0.5), (0.0, 0.0, 1.0)])
    run_frames(d, draw, frames=20)
    shot = monado.screenshot()
    run_frames(d, draw, frames=2)
    left, right = region_median(shot, 0.1, 0.4), region_median(shot, 0.6, 0.9)
    assert np.abs(left - 128).max() <= 4, f"left eye shows {left}"
    assert np.abs(right - (0, 0, 255)).max() <= 4, f"right eye shows {right}"
    eyes = d.read_pixels()
    assert np.abs(eyes[10, 10].astype(int) - 128).max() <= 1 and tuple(eyes[10, -10]) == (0, 0, 255)


@pytest.mark.parametrize("prefer_srgb", [True, False])
def test_the_renderer_gets_gamma_right_on_srgb_and_linear_swapchains(display, monado, prefer_srgb):
    """A mid-grey film (128 everywhere) drawn by the renderer reaches the headset as 128, whether the runtime's
    swapchain is sRGB (our encoded values stored as they are) or linear (the renderer writes linear light)."""
    import av

    from vrplayer.formats.pixels import NATIVE
    from vrplayer.media.video import VideoFrame
    from vrplayer.render.renderer import SphereRenderer

    d = display(prefer_srgb=prefer_srgb)
    assert d.linear_swapchain == (not prefer_srgb)
    grey = np.full((64, 128, 3), 128, np.uint8)
    frame = av.VideoFrame.from_ndarray(grey, format="rgb24").reformat(format="gbrp")
    renderer = SphereRenderer()
    renderer.linear_output = d.linear_swapchain
    try:
        renderer.upload(VideoFrame(0.0, 1 / 30, frame, NATIVE["gbrp"], 0))
        draw = lambda eye, rotation, tan_bounds, viewport: renderer.draw_rays(rotation, tan_bounds, viewport)  # noqa: E731
        run_frames(d, draw, frames=15)
        shot = monado.screenshot()
        run_frames(d, draw, frames=1)
    finally:
        renderer.close()
    assert np.abs(region_median(shot, 0.1, 0.4) - 128).max() <= 6, region_median(shot, 0.1, 0.4)


def test_request_exit_stops_then_exits_and_closes_cleanly(display, monado):
    d = display()
    run_frames(d, clear_eyes([(1, 0, 0), (0, 1, 0)]), frames=5)
    d.request_exit()
    events = []
    deadline = time.monotonic() + 10
    while not d.should_close():
        assert time.monotonic() < deadline, f"no EXITING after request_exit: {events}"
        events += d.poll_events()
        if d.wait_frame() is not None:
            d.render_views(None)
        else:
            events += d.poll_events(timeout=0.01)
    states = names(events, "session")
    assert states.index("stopping") < states.index("exiting"), states
    assert names(events, "close") == ["exit"]
    assert names(events, "presence")[-1] == "off"
    assert not d.running and d.wait_frame() is None
    t = time.perf_counter()
    d.close()
    assert time.perf_counter() - t < 1.0
    assert d.session is None and d.instance is None
    d.close()  # twice is harmless


def eye_pixel(rotation, tan_bounds, width, height, lon, lat):
    """Where a world direction appears in an eye picture (x right, y down from the top row)."""
    cam = rotation.T @ projection.direction(lon, lat)
    tl, tr, td, tu = tan_bounds
    x = (cam[0] / cam[2] - tl) / (tr - tl) * width
    y = (cam[1] / cam[2] + tu) / (tu - td) * height  # camera y is down; the top row looks along tan = tu (up)
    return x, y


@pytest.mark.parametrize("graphics", ["egl", "glx"])
def test_the_film_appears_in_the_headset(display, monado, sample_film, graphics):
    from vrplayer.render.renderer import SphereRenderer

    d = display(graphics=graphics, capture=True, yaw=25)  # the film turned, so that N sits left of centre
    renderer = SphereRenderer()
    try:
        renderer.upload(decoded_frame(sample_film, 0.5))
        seen = {}

        def draw(eye, rotation, tan_bounds, viewport):
            seen[eye] = (rotation.copy(), tan_bounds)
            renderer.draw_rays(rotation, tan_bounds, viewport)

        run_frames(d, draw, frames=15)
        shot = monado.screenshot()
        run_frames(d, draw, frames=1)
    finally:
        renderer.close()
    marker = make_sample.MARKERS["N"]
    eyes = d.read_pixels()
    width, height = d.framebuffer_size()
    rotation, tan_bounds = seen[0]
    yaw, pitch, _ = xr_pose.yaw_pitch_roll(rotation)
    assert abs(yaw - 25) < 15 and abs(pitch) < 15
    x, y = eye_pixel(rotation, tan_bounds, width, height, marker["lon"], marker["lat"])
    # Left of centre, below the horizon (where exactly follows the simulated head's slow sway, ±15°).
    assert 0.0 < x < 0.45 * width and 0.5 * height < y < 0.8 * height, (x, y, width, height)
    # Our own picture of the left eye: the marker's colour where the maths puts it.
    patch = eyes[round(y) - 3:round(y) + 4, round(x) - 3:round(x) + 4].reshape(-1, 3).astype(int)
    assert np.abs(patch - marker["rgb"]).max() <= 12, f"{patch.mean(0)} vs {marker['rgb']}"
    # The headset: the left half of the compositor window shows the left eye (the runtime may shift it a little
    # for the head's motion since the frame was drawn).
    sh, sw = shot.shape[:2]
    found = marker_centre(shot[:, : sw // 2], marker["rgb"])
    assert found is not None, "no N marker in the headset's left half"
    assert abs(found[0] - x * (sw / 2) / width) < 12 and abs(found[1] - y * sh / height) < 12, (found, x, y)
    left = shot[:, : sw // 2].astype(float)
    assert left.mean() > 20, "the headset shows black"
    # The whole left eye matches what the headset shows, compared as coarse blocks (the runtime's reprojection
    # moves thin grid lines and text by a pixel or two).
    corr = np.corrcoef(_blocks(eyes[:, :width]).ravel(), _blocks(left).ravel())[0, 1]
    assert corr > 0.9, f"the headset's left half looks unlike the left eye (correlation {corr:.2f})"


def marker_centre(picture, rgb, tolerance: int = 20):
    """(x, y) centre of the pixels of a marker's colour, None when there are too few to be the marker."""
    ys, xs = np.nonzero(np.abs(picture.astype(int) - rgb).max(axis=2) <= tolerance)
    return (xs.mean(), ys.mean()) if len(xs) >= 30 else None


def _blocks(picture, rows: int = 12, columns: int = 10) -> np.ndarray:
    """Mean colour of each of rows × columns blocks: pictures of different sizes become comparable."""
    h, w = picture.shape[:2]
    ys, xs = np.linspace(0, h, rows + 1).astype(int), np.linspace(0, w, columns + 1).astype(int)
    return np.array([[picture[ys[i]:ys[i + 1], xs[j]:xs[j + 1]].reshape(-1, 3).mean(0) for j in range(columns)]
                     for i in range(rows)])


def test_recenter_faces_the_initial_view(display):
    d = display(yaw=0)
    draw = clear_eyes([(0, 0, 0), (0, 0, 0)])
    run_frames(d, draw, frames=5)
    head = d.head_pose
    d.recenter(yaw=90)
    now = d.head_pose
    assert abs(now.yaw - 90) < 1e-6 and abs(now.pitch - head.pitch) < 1e-6 and abs(now.roll - head.roll) < 1e-6
    run_frames(d, draw, frames=5)
    assert abs(d.head_pose.yaw - 90) < 10  # the simulated head wobbles on
    assert np.allclose(d.world_rotation[1], [0, 1, 0])


def test_a_new_session_after_the_old_one_is_gone(display):
    """What the player does after a "loss_pending" session event: restart() makes a new session on the same
    instance, and it runs to FOCUSED again."""
    d = display()
    draw = clear_eyes([(0, 0, 0), (0, 0, 0)])
    run_frames(d, draw, frames=3)
    d.restart()
    assert not d.running
    events = run_frames(d, draw, frames=3)
    assert names(events, "session")[:5] == ["idle", "ready", "synchronized", "visible", "focused"]


def test_runtime_gone_mid_session_closes_with_one_event(monkeypatch):
    """The runtime's service dies: a ("close", "lost") event, nothing raised, close() still works."""
    why = _why_no_runtime()
    if why:
        if XR_REQUIRED:
            pytest.fail(f"VRPLAYER_XR_TESTS=1 but no OpenXR runtime can run here: {why}")
        pytest.skip(f"no OpenXR runtime here ({why}); {RUN_HINT}")
    from vrplayer.display.xr import XrDisplay

    with xr_runtime.MonadoRuntime(compositor="null") as runtime:  # no X server at all: EGL only
        for key, value in runtime.env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.setenv("OXR_NO_PRINTING", "1")
        d = XrDisplay()
        try:
            events = run_frames(d, clear_eyes([(1, 1, 1), (1, 1, 1)]), frames=5)
            assert "focused" in names(events, "session")
            runtime.service.kill()
            runtime.service.wait()
            deadline = time.monotonic() + 10
            while not d.should_close():
                assert time.monotonic() < deadline, f"the display did not notice the runtime was gone: {events}"
                events += d.poll_events()
                if d.wait_frame() is not None:
                    d.render_views(clear_eyes([(1, 1, 1), (1, 1, 1)]))
                else:
                    events += d.poll_events(timeout=0.01)
            events += d.poll_events()
            assert names(events, "close") == ["lost"]
        finally:
            d.close()


def test_service_down_gives_one_clear_line(monado, tmp_path):
    # The runtime is installed (manifest active) but its service is not running.
    empty = tmp_path / "run"
    empty.mkdir(mode=0o700)
    result = open_in_subprocess({"XDG_RUNTIME_DIR": str(empty)})
    assert result.returncode == 3, result.stderr
    message = result.stdout.strip().splitlines()[-1]
    assert "OpenXR runtime" in message and "service" in message, message


def test_the_film_as_an_equirect_layer_looks_like_the_projection(display, monado, sample_film):
    """XR_KHR_composition_layer_equirect2: the compositor samples the film itself. Facing the same way, the headset
    must show what our own projection shows: same place, same way up, not mirrored."""
    from OpenGL import GL
    from vrplayer.render.renderer import SphereRenderer

    d = display(capture=True, yaw=25)
    assert d.equirect_supported
    frame = decoded_frame(sample_film, 0.5)
    rgb = frame.frame.to_ndarray(format="rgb24")
    height, width = rgb.shape[:2]
    texture = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, width, height, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, rgb)
    source = GL.glGenFramebuffers(1)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, source)
    GL.glFramebufferTexture2D(GL.GL_READ_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, texture, 0)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, 0)

    def copy_film(viewport):
        # The texture's first row is the picture's top; the swapchain wants the top at the highest y: flip.
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, source)
        x, y, w, h = viewport
        GL.glBlitFramebuffer(0, 0, width, height, x, y + h, x + w, y, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, 0)

    def run_equirect(frames):
        deadline = time.monotonic() + 30
        drawn = 0
        while drawn < frames:
            assert time.monotonic() < deadline
            d.poll_events()
            f = d.wait_frame()
            if f is None:
                d.poll_events(timeout=0.01)
                continue
            d.render_equirect(copy_film, (width, height))
            drawn += f.should_render

    renderer = SphereRenderer()
    try:
        renderer.upload(frame)
        run_frames(d, lambda eye, rotation, tan_bounds, viewport: renderer.draw_rays(rotation, tan_bounds, viewport), frames=10)
        projected = monado.screenshot()
        run_equirect(10)
        layered = monado.screenshot()
        run_equirect(1)
    finally:
        renderer.close()
        GL.glDeleteFramebuffers(1, [source])
        GL.glDeleteTextures([texture])
    assert d.read_pixels().shape == (height, width, 3)
    sw = layered.shape[1]
    corr = np.corrcoef(_blocks(projected[:, : sw // 2]).ravel(), _blocks(layered[:, : sw // 2]).ravel())[0, 1]
    assert corr > 0.9, f"the equirect layer looks unlike the projection (correlation {corr:.2f})"
    # Same place, same way up, not mirrored: the N marker where the projection shows it (left of centre, low).
    rgb_n = make_sample.MARKERS["N"]["rgb"]
    at_projected, at_layered = marker_centre(projected[:, : sw // 2], rgb_n), marker_centre(layered[:, : sw // 2], rgb_n)
    assert at_projected is not None and at_layered is not None
    assert at_projected[0] < sw / 4 and at_projected[1] > projected.shape[0] / 2
    # (The two screenshots are some frames apart, and the simulated head sways slowly meanwhile: a few degrees.)
    assert abs(at_projected[0] - at_layered[0]) < 25 and abs(at_projected[1] - at_layered[1]) < 25, (at_projected, at_layered)


# ---------------------------------------------------------------------------------------------------------------------
# The player in the headset
# ---------------------------------------------------------------------------------------------------------------------

def play_in_headset(monado, film, shot_after: float, *args) -> tuple[np.ndarray, str]:
    """Run `vrplayer play --display xr --no-audio FILM ARGS`, screenshot the compositor after `shot_after` seconds;
    (the screenshot, the player's stderr) once it has ended well."""
    proc = subprocess.Popen([sys.executable, "-m", "vrplayer", "play", str(film), "--display", "xr", "--no-audio", *map(str, args)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(shot_after)
        shot = monado.screenshot()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    return shot, err


def test_vrplayer_plays_a_film_in_the_headset(monado, sample_film, tmp_path):
    """`vrplayer play --display xr`: the film reaches the headset, frame after frame in order, paced by the runtime."""
    timing = tmp_path / "timing.jsonl"
    shot, err = play_in_headset(monado, sample_film, 3.0, "--start", "0.5", "--duration", "4", "--timing-log", timing)
    assert "WARNING" not in err, err
    pts = [entry["pts"] for entry in timing_pictures(timing)]
    # How many of the film's pictures a busy machine manages is not the point (no timed assertions): the pictures
    # come in order, from the start asked for, and the film moves on.
    assert len(pts) >= 5 and pts == sorted(pts) and pts[0] >= 0.5 - 1e-6 and pts[-1] - pts[0] >= 1.0, pts
    left = shot[:, : shot.shape[1] // 2].astype(float)
    assert left.mean() > 20 and left.std() > 10, "the headset does not show the film"


def test_a_vr180_camera_film_shows_each_eye_its_own_mesh_in_the_headset(monado, mesh_films):
    """A stereo-custom film (each eye its own mesh into one side of the picture, the right eye's bluer): the
    headset's left half shows the left eye's picture, its right half the right eye's."""
    shot, err = play_in_headset(monado, mesh_films["each"], 3.0, "--loop", "--duration", "4")
    assert "WARNING" not in err, err
    width = shot.shape[1]
    for half, blue in ((shot[:, : width // 2], 40), (shot[:, width // 2:], 200)):
        lit = half[half.max(axis=-1) > 8]
        assert len(lit) > 0.5 * half.shape[0] * half.shape[1], "the headset shows little of the film"
        assert abs(np.median(lit[:, 2]) - blue) < 25, f"an eye shows blue {np.median(lit[:, 2])}, not {blue}"


def test_apple_spatial_video_shows_each_eye_its_own_view_in_the_headset(monado):
    """The two-view MV-HEVC film (sample_media/spatial_film.py): the left eye sees the base layer (its red band),
    the right eye the second view (its blue band)."""
    film = ROOT / "sample_media" / "spatial_two_views.mov"
    shot, err = play_in_headset(monado, film, 2.5, "--loop", "--duration", "4")
    assert "WARNING" not in err, err
    width = shot.shape[1]
    for half, band in ((shot[:, : width // 2], "red"), (shot[:, width // 2:], "blue")):
        pixels = half.reshape(-1, 3).astype(int)
        red = ((pixels[:, 0] > 150) & (pixels[:, 2] < 90)).sum()
        blue = ((pixels[:, 2] > 150) & (pixels[:, 0] < 90)).sum()
        assert max(red, blue) > 200, "the eye shows little of the film"
        assert (red > 10 * blue) if band == "red" else (blue > 10 * red), (band, red, blue)


def test_taking_the_headset_off_pauses_the_film_and_putting_it_on_resumes(display, monado, sample_film):
    from vrplayer.display.base import InputEvent
    from vrplayer.player import Film, Player, PlayOptions

    headset = display()
    player = Player(headset, PlayOptions(duration=5.0), audio=False)
    started = time.monotonic()
    seen = []  # (seconds since start, film paused?, film time)
    sent = set()

    def tick(playback):
        t = time.monotonic() - started
        seen.append((t, playback.clock.paused, playback.clock.now()))
        # The simulated headset never leaves a head: its presence events are handed in as the runtime would.
        if t > 1.5 and "off" not in sent:
            sent.add("off")
            headset._events.append(InputEvent("presence", "off"))
        if t > 3.0 and "on" not in sent:
            sent.add("on")
            headset._events.append(InputEvent("presence", "on"))

    player.on_tick = tick
    try:
        player.start_deadline()
        outcome = player.play_film(Film(str(sample_film)))
    finally:
        player.close()
    assert outcome == "quit"  # the duration ran out, the film did not end
    off = [s for s in seen if 1.8 < s[0] < 2.9]
    assert off and all(paused for _, paused, _ in off)
    assert off[-1][2] - off[0][2] < 0.05  # the film stood still while nobody watched
    back = [s for s in seen if s[0] > 3.5]
    assert back and not back[-1][1] and back[-1][2] > off[-1][2] + 0.5  # and went on afterwards
    # The head pose of the last frame, with its time on the monotonic clock, for the sound.
    yaw, pitch, roll, when = player.head_pose
    assert when > started and abs(pitch) < 20 and abs(roll) < 20


def find_window(name: str, timeout: float) -> str:
    """The X window with this name (the mirror), once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--name", name], capture_output=True, text=True)
        if found.stdout.strip():
            return found.stdout.split()[0]
        time.sleep(0.2)
    raise AssertionError(f"no window named {name!r}")


def test_the_mirror_window_shows_what_the_viewer_sees(monado, sample_film, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "play", str(sample_film), "--display", "xr", "--mirror", "--no-audio",
         "--size", "480x270", "--duration", "4"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = find_window("vrplayer mirror", 20)
        time.sleep(1.5)
        shot = monado.screenshot()
        geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window], capture_output=True, text=True,
                                  check=True).stdout
        values = dict(line.split("=") for line in geometry.split())
        x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        picture = shot[y:y + h, x:x + w].astype(float)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert (w, h) == (480, 270)
    assert picture.mean() > 20 and picture.std() > 10, "the mirror shows nothing"


def test_a_headset_kiosk_pauses_for_a_viewer_who_leaves_resets_after_the_grace_and_restarts_for_the_next(
        display, monado, sample_film, tmp_path):
    from vrplayer.kiosk.runner import Kiosk, KioskOptions
    from vrplayer.kiosk.sessionlog import read_events
    from vrplayer.player import Player, PlayOptions

    programme = tmp_path / "programme.toml"
    programme.write_text(
        f'grace_seconds = 1.0\non_viewer_leaves = "reset"\non_viewer_returns = "restart"\n'
        f'[[items]]\nfile = "{sample_film}"\n')
    headset = display()
    player = Player(headset, PlayOptions(duration=9.0), audio=False)
    kiosk = Kiosk(str(programme), player, KioskOptions(log_dir=str(tmp_path / "log")))
    kiosk_tick = player.on_tick
    started = time.monotonic()
    done = set()

    def tick(playback):
        t = time.monotonic() - started
        # The simulated headset never leaves a head: presence changes are handed in as the runtime reports them.
        if t > 2.5 and "off" not in done:
            done.add("off")
            headset._set_presence(False)
        if t > 5.0 and "on" not in done:
            done.add("on")
            headset._set_presence(True)
        return kiosk_tick(playback)

    player.on_tick = tick
    try:
        assert kiosk.run() == 0
    finally:
        player.close()
    events = [(e["event"], e.get("how") or e.get("why")) for e in read_events(tmp_path / "log")
              if e["event"] in ("viewer_on", "viewer_off", "film_started", "reset")]
    assert events[:6] == [
        ("viewer_on", "headset on"),  # the attract state gives way at once: the headset is on
        ("film_started", None),
        ("viewer_off", "headset off"),
        ("reset", "no viewer for 1 s"),  # after the grace period: back to the attract state
        ("viewer_on", "headset on"),
        ("film_started", None),  # the next viewer gets the film from its start
    ], events


def test_the_film_as_an_equirect_layer_from_the_player(monado, sample_film, tmp_path):
    """`--xr-layer equirect`: the player hands the decoded film to the compositor as an equirect layer."""
    shot, err = play_in_headset(monado, sample_film, 2.2, "--xr-layer", "equirect", "--duration", "3")
    assert "headset, equirect layer:" in err, err
    left = shot[:, : shot.shape[1] // 2].astype(float)
    assert left.mean() > 20 and left.std() > 10, "the headset does not show the film"


def test_overlays_in_the_headset_stay_in_view_or_on_the_sphere_in_both_eyes(display, monado, sample_film):
    """The overlay seam in each eye: a card in view sits where the head's frame puts it (one place for both eyes),
    a card on the sphere where the film has its direction."""
    from vrplayer.player import Film, Player, PlayOptions
    from vrplayer.render import placement
    from vrplayer.render.overlay import TextCard
    from vrplayer.render.placement import InView, OnSphere

    headset = display(capture=True)
    player = Player(headset, PlayOptions(duration=20.0), audio=False)
    in_view = TextCard("IN VIEW", InView("top-left"), colour=(0, 0, 0, 1), backing=(1, 1, 0, 1))
    on_sphere = TextCard("SPEAKER", OnSphere(yaw=10.0, pitch=-5.0, height=8.0), colour=(1, 1, 1, 1), backing=(1, 0, 1, 1))
    player.overlays.append(lambda playback: [in_view, on_sphere])
    seen, shots = {}, []
    draw_rays = player.renderer.draw_rays

    def recording(rotation, tan_bounds, viewport, eye="left"):
        seen[eye] = (np.array(rotation), tuple(tan_bounds), tuple(viewport))
        draw_rays(rotation, tan_bounds, viewport, eye)

    player.renderer.draw_rays = recording

    def tick(playback):
        if playback is not None and playback.scheduler.shown > 20 and len(seen) == 2:
            shots.append((headset.read_pixels(), dict(seen), headset.head_pose.rotation, list(headset.eye_offsets)))
            return "shot"
        return None

    player.on_tick = tick
    try:
        player.start_deadline()
        assert player.play_film(Film(str(sample_film), start=1.5)) == "shot"
    finally:
        player.close()
    eyes, views, head, eye_offsets = shots[0]
    if os.environ.get("VRPLAYER_TEST_SHOTS"):  # a folder to look at the eyes' pictures in
        from vrplayer.snapshot import write_png
        write_png(eyes, os.path.join(os.environ["VRPLAYER_TEST_SHOTS"], "headset-overlays.png"))
    assert len(eye_offsets) == 2 and 0.04 < np.linalg.norm(eye_offsets[0] - eye_offsets[1]) < 0.09  # the eyes, in metres
    width = eyes.shape[1] // 2
    frame = placement.headset_frame(views["left"][1], views["left"][2])
    text_size = lambda card: (6 * len(card.text) - 1 + 2, 7 + 2)  # noqa: E731  (the 5×7 font, a pixel of backing)
    u, v = np.meshgrid(np.linspace(0, 1, 33), np.linspace(0, 1, 33))
    for index, eye in enumerate(("left", "right")):
        picture = eyes[:, index * width:(index + 1) * width].astype(int)
        rotation, tan_bounds, viewport = views[eye]
        for card, backing in ((in_view, (255, 255, 0)), (on_sphere, (255, 0, 255))):
            inside = np.all(np.abs(picture - backing) < 16, axis=2)
            ys, xs = np.nonzero(inside)
            assert len(xs) > 100, f"no {card.text} card in the {eye} eye"
            offset = None
            if isinstance(card.place, InView):
                rect = placement.view_rect(card.place, frame, text_size(card))
                matrix = placement.to_eye(rotation, head, True)
                offset = rotation.T @ eye_offsets[index] / placement.IN_VIEW_DEPTH  # its depth, for this eye
            else:
                rect = placement.sphere_rect(card.place, text_size(card))
                matrix = placement.to_eye(rotation, None, False)
            edges = placement.project(placement.card_points(rect, isinstance(card.place, InView), u, v), matrix,
                                      tan_bounds, viewport, offset)
            (x0, y0), (x1, y1) = np.nanmin(edges.reshape(-1, 2), axis=0), np.nanmax(edges.reshape(-1, 2), axis=0)
            assert abs(xs.min() - x0) < 3 and abs(xs.max() + 1 - x1) < 3, (eye, card.text, xs.min(), xs.max(), x0, x1)
            assert abs(ys.min() - y0) < 3 and abs(ys.max() + 1 - y1) < 3, (eye, card.text, ys.min(), ys.max(), y0, y1)


def test_a_viewing_in_the_headset_records_its_head_trace(monado, sample_film, tmp_path):
    """`vrplayer play --display xr --record-heads DIR`: the trace carries the headset's eye field of view and the
    head's pose, sampled at least 10 times a second of film."""
    from vrplayer.analytics.trace import read_trace

    _, err = play_in_headset(monado, sample_film, 1.0, "--duration", "3", "--record-heads", tmp_path / "heads")
    [path] = list((tmp_path / "heads").glob("*.jsonl"))
    trace = read_trace(path)
    assert trace.header["display"]["kind"] == "xr"
    hfov, vfov = trace.header["display"]["fov"]
    assert 60 < hfov < 180 and 60 < vfov < 180, trace.header["display"]
    t = trace.samples[:, 0]
    # A sample per headset frame at most: on this machine's software GL the headset may draw fewer than 10 frames a
    # second (a real one draws 72–120), so the rate asked is 10 a second or every frame, whichever is fewer.
    import re

    frames = int(re.search(r"headset, [^:]*: (\d+) frames", err).group(1))
    assert len(t) > 5 and len(t) / (t[-1] - t[0]) >= min(10.0, 0.8 * frames / 3.0), (len(t), frames)
    assert np.all(np.abs(trace.samples[:, 2]) < 30)  # Monado's simulated head looks about level


# -- two cuts in the headset (vrplayer compare --display xr) -----------------------------------------------------


@pytest.fixture(scope="module")
def code_cuts(tmp_path_factory):
    """test_compare's films: A with a red band below its centre, B with a blue one."""
    from test_compare import MARKS, make_code_film

    folder = tmp_path_factory.mktemp("xr_cuts")
    return (make_code_film(folder / "cut_a.mp4", 24, 8.0, MARKS["A"]),
            make_code_film(folder / "cut_b.mp4", 30, 8.0, MARKS["B"], 20))


def band_colour(shot: np.ndarray) -> str:
    """Which cut the left eye shows: the colour of the band below the film's centre (red A, blue B)."""
    h, w = shot.shape[:2]
    part = shot[int(h * 0.5):int(h * 0.9), int(w * 0.1):int(w * 0.4)].reshape(-1, 3).astype(int)
    red = np.sum((part[:, 0] > 150) & (part[:, 2] < 80))
    blue = np.sum((part[:, 2] > 150) & (part[:, 0] < 80))
    return "A" if red > 4 * blue + 50 else "B" if blue > 4 * red + 50 else "?"


def shown_in(timing) -> list[str]:
    return [entry["shown"] for entry in timing_pictures(timing)] if timing.exists() else []


def test_compare_in_the_headset_flips_a_and_b_from_the_mirror_window(monado, code_cuts, tmp_path):
    timing = tmp_path / "timing.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "compare", *code_cuts, "--display", "xr", "--mirror", "--no-audio",
         "--mode", "toggle", "--size", "320x180", "--duration", "12", "--timing-log", str(timing)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = find_window("vrplayer compare mirror", 30)
        deadline = time.monotonic() + 20
        while len(shown_in(timing)) < 5:
            assert time.monotonic() < deadline and proc.poll() is None, ("no pictures in the headset", proc.poll() is None or proc.communicate()[1])
            time.sleep(0.1)
        before = monado.screenshot()
        subprocess.run(["xdotool", "key", "--window", window, "Tab"], check=True)
        deadline = time.monotonic() + 10
        while "B" not in shown_in(timing):
            assert time.monotonic() < deadline and proc.poll() is None, "Tab on the mirror did not flip to B"
            time.sleep(0.1)
        time.sleep(0.5)
        after = monado.screenshot()
        proc.send_signal(2)  # Ctrl-C: the comparison ends
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "A/B flipped from the mirror window: B on show" in err, err
    shown = shown_in(timing)
    flipped = shown.index("B")
    assert set(shown[:flipped]) == {"A"} and set(shown[flipped:]) == {"B"}  # at one instant, for both eyes
    assert band_colour(before) == "A" and band_colour(after) == "B", (band_colour(before), band_colour(after))


def test_the_controllers_select_button_flips_a_and_b(display, monado, code_cuts, tmp_path):
    """The controller's button: a real action set attached to the session and synced every turn; its press comes
    out of the display as a "button" event (injected here: the simulated headset has no hands to press it)."""
    from vrplayer.creator.compare_headset import HeadsetCompareLoop
    from vrplayer.creator.compare_loop import CompareOptions, _Sound
    from vrplayer.creator.compare_view import CompareDrawing
    from vrplayer.creator.cut_pair import CutPair
    from vrplayer.display.base import InputEvent
    from vrplayer.render.compare_pass import Composition

    headset = display()
    assert headset._select is not None and headset._select.action_set is not None
    assert headset._select.pressed() is False  # synced for real: nobody pressed anything
    timing = tmp_path / "timing.jsonl"
    options = CompareOptions(composition=Composition("toggle"), display="xr", duration=5.0, timing_log=str(timing))
    pair = CutPair(*code_cuts, 0.0, None, 1.0)
    drawing = CompareDrawing([cut.playback.layout.layout for cut in pair.cuts], ("A", "B"))
    sound = _Sound(False)
    own_poll = headset.poll_events
    started = time.monotonic()
    pressed = []

    def poll_events(timeout=0.0):
        events = own_poll(timeout)
        if time.monotonic() - started > 2.0 and not pressed:
            pressed.append(True)
            events.append(InputEvent("button", "select"))
        return events

    headset.poll_events = poll_events
    try:
        HeadsetCompareLoop(pair, headset, drawing, sound, options).run()
    finally:
        drawing.close()
        pair.close()
        sound.close()
    shown = shown_in(timing)
    assert "A" in shown and "B" in shown and shown.index("B") > 0
    flipped = shown.index("B")
    assert set(shown[flipped:]) == {"B"}


def test_subtitles_in_the_headset_sit_at_one_place_in_both_eyes_in_front_of_the_picture(monado, tmp_path):
    """`play --display xr --subtitles`: the cue is drawn into each eye, in view, at one place and at one depth
    (placement.IN_VIEW_DEPTH) from the eyes' own positions: never doubled, and in front of the picture (drawn at
    infinity), as the compositor shows the two eyes."""
    import math
    import re

    from vrplayer.render.placement import IN_VIEW_DEPTH

    film = tmp_path / "grey_360.mp4"  # a light-grey sphere with a mid-grey stripe up its middle (at infinity)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "color=c=0xc8c8c8:s=1024x512:d=8:r=30,drawbox=x=508:y=0:w=8:h=512:color=0x909090:t=fill",
                    "-pix_fmt", "yuv420p", str(film)], check=True)
    (tmp_path / "grey_360.en.srt").write_text("1\n00:00:00,000 --> 00:00:30,000\nWelcome to the festival\n",
                                              encoding="utf-8")
    shot, err = play_in_headset(monado, film, 2.5, "--duration", "4", "--subtitles", "en")
    assert "grey_360.en.srt for" in err, err
    eyes_line = re.search(r"headset eyes: ([\d.]+) mm apart; fields of view \(left, right, up, down\) \(([-\d., ]+)\)", err)
    assert eyes_line, err
    apart = float(eyes_line.group(1)) / 1000
    left, right = (math.radians(float(v)) for v in eyes_line.group(2).split(",")[:2])
    h, w = shot.shape[:2]
    eyes = []
    for half in (slice(0, w // 2), slice(w // 2, w)):
        picture = shot[:, half].astype(int).max(axis=2)
        ys, xs = np.nonzero(picture < 120)  # the box (text on it is white)
        assert len(ys) > 200, "no caption in this eye"
        assert np.median(ys) > h / 2, "the caption is not below the middle of the view"
        _, stripe = np.nonzero((picture[: h // 3] > 125) & (picture[: h // 3] < 165))
        assert len(stripe) > 50, "the stripe at infinity is not in this eye"
        eyes.append((np.median(xs), np.median(ys), len(ys), np.median(stripe)))
    (lx, ly, ln, ls), (rx, ry, rn, rs) = eyes
    assert abs(ly - ry) < 0.02 * h and 0.8 < ln / rn < 1.25, eyes  # one place: the same height, the same size
    # One depth: against the picture's infinity the caption sits right in the left eye and left in the right one
    # (crossed, so it is seen in front), by what the eyes' distance makes of IN_VIEW_DEPTH at this eye's focal length.
    disparity = (lx - ls) - (rx - rs)
    focal = (w // 2) / (math.tan(right) - math.tan(left))
    expected = focal * apart / IN_VIEW_DEPTH
    print(f"eyes {apart * 1000:.1f} mm apart: caption disparity {disparity:.1f} px, expected {expected:.1f} px")
    assert disparity > 2 and 0.5 * expected < disparity < 2 * expected, (disparity, expected, eyes)


def test_a_caption_over_a_stereo_film_stands_in_front_of_the_nearer_picture_behind_it(monado, make_film, tmp_path):
    """Over a stereo film with something nearer than 2 m behind the caption, the caption is drawn nearer still:
    its disparity between the compositor's two eyes is more than that thing's (never inside the picture's 3D)."""
    from test_subtitles import near_panel_picture

    from vrplayer.text.depth import nearest_disparity

    film = make_film("near_360_TB.mp4", width=1024, height=1024, seconds=8.0, audio=False, picture=near_panel_picture())
    cues = tmp_path / "near.srt"
    cues.write_text("1\n00:00:00,000 --> 00:00:30,000\nWelcome to the festival\n", encoding="utf-8")
    shot, err = play_in_headset(monado, film, 2.5, "--duration", "4", "--subtitles", cues)
    assert "caption stands 0.6" in err, err  # 0.063 m / (1.5 × 3.5°): in front of the panel at 1.0 m
    h, w = shot.shape[:2]
    halves = [shot[:, :w // 2].astype(int).max(axis=2), shot[:, w // 2:2 * (w // 2)].astype(int).max(axis=2)]
    boxes = []
    for picture in halves:
        ys, xs = np.nonzero(picture < 120)  # the caption's box
        assert len(ys) > 200, "no caption in this eye"
        boxes.append((np.median(xs), ys.min()))
    # Between the eyes' pictures, the caption's shift and the panel's (matched in its rows above the caption): both
    # in one picture, so what the eyes' frusta (or the simulated head's sway) add to both cancels in the comparison.
    caption = boxes[0][0] - boxes[1][0]
    band = slice(h // 2 + 2, int(min(y for _, y in boxes)) - 3)
    room = 40  # the right eye's picture moved left first, so any shift of the panel is a positive one to find
    panel = nearest_disparity(halves[0][band].astype(float), np.roll(halves[1], -room, axis=1)[band].astype(float),
                              2 * room, share=0.5) - room
    print(f"disparity in the compositor's eyes: caption {caption:.1f} px, the panel behind it {panel:.1f} px")
    assert caption > panel + 1.5, (caption, panel)  # in front of it


def test_a_headset_is_a_seat_of_a_screening_room(monado, tmp_path):
    """`vrplayer seat --display xr`: a headset in a room, beside an offscreen seat, through a real broker: both show
    the conductor's film on the room's schedule (the headset's frames picked for the runtime's display time), and
    the headset's seat reports itself as a headset."""
    from broker import Broker, RoomListener, free_port
    from room_schedule import frame_errors, pictures

    library = tmp_path / "library"
    library.mkdir()
    make_sample.make_film(str(library / "film.mp4"), width=384, height=192, seconds=5.0, fps=30, audio=False)
    broker = Broker(tmp_path / "broker").start()
    listener = RoomListener(broker, "xr-room")
    procs = []
    try:
        for name, display in (("headset", "xr"), ("screen", "offscreen")):
            procs.append(subprocess.Popen([sys.executable, "-m", "vrplayer", "seat", "--room", broker.url("xr-room"),
                                           "--name", name, "--library", str(library), "--display", display, "--no-audio",
                                           "--size", "320x180", "--timing-log", str(tmp_path / f"{name}.jsonl")],
                                          cwd=ROOT, stderr=open(tmp_path / f"{name}.log", "w")))
        listener.wait_for(lambda ears: {"headset", "screen"} <= set(ears.statuses), timeout=60, message="both seats")
        conductor = subprocess.Popen([sys.executable, "-m", "vrplayer", "conductor", "--room", broker.url("xr-room"),
                                      "--control", f"127.0.0.1:{free_port()}", "--start-delay", "3", str(library / "film.mp4")],
                                     cwd=ROOT, stderr=open(tmp_path / "conductor.log", "w"))
        procs.append(conductor)
        listener.wait_for(lambda ears: ears.statuses.get("headset", {}).get("state") == "playing", timeout=30,
                          message="the headset playing")
        status = dict(listener.statuses["headset"])
        assert conductor.wait(timeout=60) == 0
        time.sleep(0.5)
        assert status["display"] == "xr" and "headset_on" in status, status
        for name in ("headset", "screen"):
            found = [e for e in frame_errors(listener.cues, pictures(tmp_path / f"{name}.jsonl")) if e[2] is not None]
            assert len(found) > 20, f"{name}: {(tmp_path / f'{name}.log').read_text()[-1500:]}"
            # (the headset is paced by the runtime: on this machine a frame every 50–80 ms, so the bound is loose)
            off = [e for e in found if abs(e[2]) > 0.1]
            assert not off, f"{name}: frames off the room's schedule: {off[:5]}"
            assert found[-1][1] > 4.0  # it played the film through
    finally:
        for proc in procs:
            _stop(proc)
        listener.close()
        broker.stop()
