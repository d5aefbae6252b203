"""The mesh projection drawn (VR180 camera films): the numpy reference against an exact search of every triangle, a
camera's 40 × 40 fisheye mesh against the `fisheye` projection it stands for (within a pixel), the real renderer
against the reference, and real films tagged with one mesh or one per eye, through `probe`, `snapshot` and the
desktop window. (The headset's test is in test_xr.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, run_cli
from test_mesh import fisheye_mesh
from test_render_layouts import VIEW, as_frame, gl  # noqa: F401 (a fixture)
from test_spherical import mshp, prhd, st3d, sv3d, with_entry_boxes
from vrplayer.layout import Layout
from vrplayer.layout.mesh import Mesh, sphere_share, span
from vrplayer.render import mesh_lookup, projection
from vrplayer.snapshot import read_png
from vrplayer.view import ViewState

EYE = 512  # each eye's picture, pixels


def uv_sphere(columns: int = 37, rows: int = 19) -> Mesh:
    """A whole-sphere mesh as a globe's grid, its texture an equirectangular picture: triangles across the ±180°
    seam (the first and last columns are the same meridian) and fans of thin triangles round both poles."""
    lon, lat = np.meshgrid(np.radians(np.linspace(-180, 180, columns)), np.radians(np.linspace(-90, 90, rows)))
    positions = np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), -np.cos(lat) * np.cos(lon)], -1).reshape(-1, 3)
    uv = np.stack([lon / (2 * np.pi) + 0.5, lat / np.pi + 0.5], -1).reshape(-1, 2)
    quads = [(r * columns + c, r * columns + c + 1, (r + 1) * columns + c + 1, (r + 1) * columns + c)
             for r in range(rows - 1) for c in range(columns - 1)]
    triangles = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))], np.int32)
    return Mesh(positions.astype(np.float32), uv.astype(np.float32), triangles)


def random_directions(count: int, seed: int = 1) -> np.ndarray:
    d = np.random.default_rng(seed).normal(size=(count, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def exact_uv(mesh: Mesh, directions: np.ndarray):
    """Every triangle tried against every ray (slow and sure): the texture coordinate where the ray meets the
    triangle it passes through, perspective-correct as GL interpolates, and whether it meets one at all."""
    corners, uv, _ = mesh_lookup._triangles(mesh)
    w = mesh_lookup.weights(directions[:, None, :], corners[None])
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    facing = np.sign(np.einsum("tj,tj->t", normal, corners[:, 0]))
    ahead = np.sign(directions @ normal.T) == facing
    inside = ahead & np.all(w >= -1e-9, axis=-1)
    first = inside.argmax(axis=1)
    rows = np.arange(len(directions))
    found = np.einsum("nk,nkj->nj", w[rows, first], uv[first])
    return found[:, 0], found[:, 1], inside.any(axis=1)


@pytest.mark.parametrize("mesh", [fisheye_mesh(), uv_sphere()], ids=["vr180-camera", "whole-sphere"])
def test_the_lookup_finds_the_triangle_each_ray_meets(mesh):
    d = random_directions(3000)
    d = d[np.abs(d[:, 1]) < 0.999]  # (at the poles themselves every meridian meets: any of their points is right)
    lookup = mesh_lookup.lookup_for((mesh,))
    u, v, valid = mesh_lookup.mesh_uv(lookup, 0, *d.T)
    eu, ev, covered = exact_uv(mesh, d)
    np.testing.assert_array_equal(valid, covered)
    seam = np.abs(eu - 0.5) > 0.499  # on the seam a ray meets both its sides: either texture edge is right
    np.testing.assert_allclose(np.where(seam, 0, u - eu)[valid], 0, atol=1e-9)
    np.testing.assert_allclose((v - ev)[valid], 0, atol=1e-9)


def test_coverage_of_a_camera_mesh_and_a_whole_sphere():
    assert span(fisheye_mesh()) == pytest.approx((180.0, 180.0), abs=1e-3)
    assert sphere_share(fisheye_mesh()) == pytest.approx(0.5, abs=1e-3)
    assert span(uv_sphere()) == (360.0, pytest.approx(180.0))
    assert sphere_share(uv_sphere()) == pytest.approx(1.0, abs=1e-3)
    assert mesh_lookup.mesh_uv(mesh_lookup.lookup_for((uv_sphere(),)), 0, *random_directions(500).T)[2].all()


def test_a_camera_mesh_is_the_fisheye_it_stands_for_within_a_pixel():
    """A 40 × 40 mesh is a fisheye lens cut into flat triangles: at a 1024-pixel eye its picture points stay within
    a pixel of the exact lens's."""
    d = random_directions(100_000, seed=3)
    u, v, valid = mesh_lookup.mesh_uv(mesh_lookup.lookup_for((fisheye_mesh(),)), 0, *d.T)
    fu, fv, inside = projection.fisheye_uv(*d.T, 180.0, 1024, 1024)
    assert (valid != inside).mean() < 1e-3  # (only at the lens's rim, where the flat triangles cut the circle)
    both = valid & inside
    error = np.hypot(u - fu, v - fv)[both] * 1024
    assert error.max() < 1.0, error.max()
    wrong_lens = projection.fisheye_uv(*d.T, 186.0, 1024, 1024)  # the measure can fail: a 3 % wider lens cannot pass
    assert (np.hypot(u - wrong_lens[0], v - wrong_lens[1])[both] * 1024).max() > 5.0


def test_each_eye_takes_its_own_mesh_and_swapping_the_eyes_swaps_the_meshes():
    left, right = fisheye_mesh(half=0), fisheye_mesh(half=1)
    layout = Layout(projection="mesh", meshes=(left, right))
    ahead = np.array([[0.0, 0.0, 1.0]])
    assert projection.texture_uv(layout, ahead, (1024, 512), "left")[0][0] == pytest.approx(0.25)
    assert projection.texture_uv(layout, ahead, (1024, 512), "right")[0][0] == pytest.approx(0.75)
    swapped = Layout(projection="mesh", meshes=(left, right), eyes_swapped=True)
    assert projection.texture_uv(swapped, ahead, (1024, 512), "left")[0][0] == pytest.approx(0.75)
    one = Layout(projection="mesh", stereo="side-by-side", meshes=(fisheye_mesh(),))  # one mesh, each eye's half
    assert projection.texture_uv(one, ahead, (1024, 512), "right")[0][0] == pytest.approx(0.75)


# --- the real renderer -------------------------------------------------------------------------------------------

def pattern(width: int, height: int, tint=(1.0, 1.0, 1.0)) -> np.ndarray:
    """A picture with detail everywhere (no two nearby points alike) and a smooth part."""
    y, x = np.mgrid[0:height, 0:width]
    picture = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), ((x // 16 + y // 16) % 2) * 255], -1)
    return (picture * np.array(tint)).astype(np.uint8)


def draw(gl, picture: np.ndarray, layout: Layout, view, eye="left") -> np.ndarray:
    display, renderer = gl
    renderer.layout = layout
    renderer.upload(as_frame(picture))
    renderer.draw(ViewState(yaw=view[0], pitch=view[1], roll=view[2], fov=view[3]), (0, 0, *VIEW), eye)
    display.present()
    return display.read_pixels() / 255.0


CUSTOM = Layout(projection="mesh", meshes=(fisheye_mesh(half=0), fisheye_mesh(half=1)))


@pytest.mark.parametrize("layout, size", [
    (Layout(projection="mesh", meshes=(fisheye_mesh(),)), (EYE, EYE)),
    (Layout(projection="mesh", stereo="side-by-side", meshes=(fisheye_mesh(),)), (2 * EYE, EYE)),
    (CUSTOM, (2 * EYE, EYE)),
    (Layout(projection="mesh", meshes=(uv_sphere(),)), (2 * EYE, EYE)),
], ids=["mono", "side-by-side", "an-eye-each", "whole-sphere"])
def test_the_renderer_draws_the_mesh_as_the_reference_does(gl, layout, size):
    picture = np.concatenate([pattern(size[0] // 2, size[1], (1, 0.6, 0.6)), pattern(size[0] // 2, size[1], (0.6, 0.6, 1))], 1)
    for view in [(0, 0, 0, 90), (35, 25, 10, 100), (80, -30, 0, 90), (170, 80, 0, 90), (-178, 0, 0, 60)]:
        for eye in ("left", "right"):
            ours = draw(gl, picture, layout, view, eye)
            again = draw(gl, picture, layout, view, eye)  # held still: the cached sample positions draw the same
            assert np.abs(again - ours).max() <= 1 / 255
            reference = projection.render_reference(picture / 255.0, layout, *VIEW, *view, eye=eye)
            difference = np.abs(ours - reference)
            assert np.percentile(difference, 99.5) <= 3 / 255, (view, eye)
            assert difference.mean() <= 1 / 255, (view, eye)


# --- real films ----------------------------------------------------------------------------------------------------


SAWTOOTH = 64  # pixels per period of the films' position code, 256 / SAWTOOTH levels a pixel


def position_code(width: int, height: int, blue: int) -> np.ndarray:
    """A picture that says where each of its points is: red climbs 4 levels a pixel rightwards and green
    downwards, starting again every SAWTOOTH pixels, so two views of it differ by 4 levels for each pixel one
    samples away from the other (blue, constant, tells the eyes apart)."""
    y, x = np.mgrid[0:height, 0:width]
    step = 256 // SAWTOOTH
    return np.stack([(x % SAWTOOTH) * step, (y % SAWTOOTH) * step, np.full_like(x, blue)], -1).astype(np.uint8)


def displacement(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Per view pixel, how far apart (picture pixels) the two views sampled the position-coded picture; NaN where
    either sampled black, or next to a sawtooth's restart (a pixel blending its two ends says nothing)."""
    step = 256 // SAWTOOTH
    apart = (ours[..., :2] - theirs[..., :2] + 128) % 256 - 128
    unclear = (ours.max(axis=-1) < 8) | (theirs.max(axis=-1) < 8)
    for view in (ours, theirs):
        padded = np.pad(view[..., :2], ((1, 1), (1, 1), (0, 0)), mode="edge")
        around = np.stack([padded[1 + dy: 1 + dy + view.shape[0], 1 + dx: 1 + dx + view.shape[1]]
                           for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
        unclear |= np.any(around.max(axis=0) - around.min(axis=0) > 64, axis=-1)
    return np.where(unclear, np.nan, np.hypot(*np.moveaxis(apart, -1, 0)) / step)


@pytest.fixture(scope="module")
def mesh_films(make_film, tmp_path_factory):
    """A VR180 camera's side-by-side film of a position-coded picture (the right eye's bluer); tagged with one
    mesh for both eyes (st3d left-right), and with one mesh each (stereo-custom)."""
    folder = tmp_path_factory.mktemp("mesh_films")
    picture = np.concatenate([position_code(EYE, EYE, 40), position_code(EYE, EYE, 200)], axis=1)
    plain = make_film("vr180_camera_plain.mp4", width=2 * EYE, height=EYE, seconds=2.0, audio=False, fps=10,
                      picture=picture, pix_fmt="yuv444p", crf=1)
    return {
        "one": with_entry_boxes(plain, folder / "one_mesh.mp4", st3d(2), sv3d(prhd(), mshp(fisheye_mesh()))),
        "each": with_entry_boxes(plain, folder / "eye_meshes.mp4", st3d(3),
                                 sv3d(prhd(), mshp(fisheye_mesh(half=0), fisheye_mesh(half=1)))),
        "plain": plain,
    }


def snapshot(film, out, *options) -> np.ndarray:
    result = run_cli("snapshot", film, "--at", "0.2", "--size", "240x180", "-o", out, *options)
    assert result.returncode == 0, result.stderr
    return read_png(str(out)).astype(int)


def test_probe_describes_the_mesh(mesh_films):
    result = run_cli("probe", mesh_films["each"])
    assert result.returncode == 0, result.stderr
    assert "projection:  mesh, 180°×180° — metadata (Spherical Video V2 mshp)" in result.stdout
    assert ("mesh:        the left eye's and the right eye's: 1600 vertices, 3042 triangles, 180°×180°, 50.0% of the"
            " sphere each") in result.stdout
    facts = json.loads(run_cli("probe", "--json", mesh_films["one"]).stdout)
    layout = facts["layout"] if "layout" in facts else facts
    assert layout["projection"] == "mesh" and layout["stereo"] == "side-by-side"
    assert layout["meshes"] == [{"vertices": 1600, "triangles": 3042, "covered": {"horizontal": 180.0, "vertical": 180.0},
                                 "sphere_share": 0.5}]
    assert layout["warnings"] == []


@pytest.mark.parametrize("which", ["one", "each"])
def test_a_mesh_film_looks_as_the_same_picture_as_fisheye_within_a_pixel(mesh_films, which, tmp_path):
    as_fisheye = ("--projection", "fisheye", "--stereo", "side-by-side", "--fov-covered", "180")
    views = [("--yaw", "0"), ("--yaw", "50", "--pitch", "30"), ("--yaw", "-70", "--pitch", "-20", "--roll", "15")]
    for view in views:
        for eye in ("left", "right"):
            ours = snapshot(mesh_films[which], tmp_path / "mesh.png", *view, "--eye", eye)
            theirs = snapshot(mesh_films["plain"], tmp_path / "fisheye.png", *view, "--eye", eye, *as_fisheye)
            blue = np.median(ours[..., 2][ours.max(axis=-1) > 8])
            assert abs(blue - (40 if eye == "left" else 200)) < 20, f"the {eye} eye shows the other eye's picture"
            apart = displacement(ours, theirs)
            assert np.isfinite(apart).mean() > 0.3, (view, eye)
            assert np.nanpercentile(apart, 99) <= 1.0, (view, eye, np.nanpercentile(apart, 99))
    # The measure can fail: through a lens 3 % wider, the picture is sampled pixels away.
    wider = snapshot(mesh_films["plain"], tmp_path / "wider.png", *views[1], *as_fisheye[:-1], "186")
    ours = snapshot(mesh_films[which], tmp_path / "mesh.png", *views[1])
    assert np.nanpercentile(displacement(ours, wider), 99) > 2.0


def test_the_desktop_window_shows_each_eyes_mesh(xvfb, mesh_films, tmp_path):
    from test_desktop import SIZE, close_window, find_window, focus, window_picture, xdotool

    proc = subprocess.Popen(
        [sys.executable, "-m", "vrplayer", "play", str(mesh_films["each"]), "--display", "desktop", "--no-audio",
         "--loop", "--size", f"{SIZE[0]}x{SIZE[1]}", "--yaw", "30", "--pitch", "10", "--duration", "40"],
        env={"DISPLAY": xvfb, "PATH": "/usr/bin:/bin"}, cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = find_window(xvfb)
        focus(xvfb, window)
        time.sleep(1.0)
        shown = {"left": window_picture(xvfb, window).astype(int)}
        xdotool(xvfb, "key", "--window", window, "e")
        time.sleep(0.6)
        shown["right"] = window_picture(xvfb, window).astype(int)
    finally:
        close_window(xvfb, window, proc)
    for eye, picture in shown.items():
        expected = snapshot(mesh_films["each"], tmp_path / f"{eye}.png", "--yaw", "30", "--pitch", "10",
                            "--eye", eye, "--size", f"{picture.shape[1]}x{picture.shape[0]}")
        assert np.percentile(np.abs(picture - expected).max(axis=2), 90) <= 12, eye


def test_tag_writes_a_films_meshes_back_into_its_copy_mp4_and_matroska(mesh_films, tmp_path):
    """A tagged copy keeps the film's own meshes (mshp; Matroska's ProjectionPrivate), with the new opening view,
    its media data byte for byte; a Matroska film made with mkvmerge's own projection options reads as MP4's does."""
    from test_tag import assert_media_unchanged
    from vrplayer.media.mesh import write_mshp
    from vrplayer.media.spherical import read_container_layout

    def meshes_of(path):
        return read_container_layout(str(path)).meshes

    copy = tmp_path / "turned.mp4"
    result = run_cli("tag", mesh_films["each"], "-o", copy, "--initial-yaw", "30")
    assert result.returncode == 0, result.stderr
    facts = json.loads(run_cli("probe", "--json", copy).stdout)["layout"]
    assert (facts["projection"], facts["stereo"], facts["initial_view"]["yaw"]) == ("mesh", "mono", 30.0)
    for ours, theirs in zip(meshes_of(copy), meshes_of(mesh_films["each"]), strict=True):
        np.testing.assert_array_equal(ours.positions, theirs.positions)
        np.testing.assert_array_equal(ours.uv, theirs.uv)
    assert_media_unchanged(mesh_films["each"], copy)

    mkv = tmp_path / "camera.mkv"
    private = write_mshp([fisheye_mesh()], compress=True).hex()
    subprocess.run(["mkvmerge", "-q", "-o", str(mkv), "--stereo-mode", "0:1", "--projection-type", "0:3",
                    "--projection-private", f"0:{private}", str(mesh_films["plain"])], check=True)
    assert len(meshes_of(mkv)) == 1
    ours = snapshot(mkv, tmp_path / "mkv.png", "--yaw", "40", "--eye", "right")
    theirs = snapshot(mesh_films["one"], tmp_path / "mp4.png", "--yaw", "40", "--eye", "right")
    assert np.nanpercentile(displacement(ours, theirs), 99) <= 0.5
    tagged = tmp_path / "camera_turned.mkv"
    result = run_cli("tag", mkv, "-o", tagged, "--initial-yaw", "-20")
    assert result.returncode == 0, result.stderr
    facts = json.loads(run_cli("probe", "--json", tagged).stdout)["layout"]
    assert (facts["projection"], facts["stereo"], facts["initial_view"]["yaw"]) == ("mesh", "side-by-side", -20.0)
    np.testing.assert_array_equal(meshes_of(tagged)[0].uv, fisheye_mesh().uv)
    assert_media_unchanged(mkv, tagged)
