"""Projection, view and colour maths (pure numpy)."""

import numpy as np
import pytest

from vrplayer.formats import colourspace
from vrplayer.render import colour, projection
from vrplayer.view import ViewState


@pytest.mark.parametrize("ypr", [(0, 0, 0), (37, -12, 5), (180, 89, -30), (-90, -45, 90)])
def test_view_rotation_is_a_rotation(ypr):
    r = projection.view_rotation(*ypr)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_v360_sign_conventions():
    forward = np.array([0.0, 0.0, 1.0])
    # Positive yaw turns right (+x), positive pitch looks up (−y: y points down), positive roll tips right side down.
    np.testing.assert_allclose(projection.view_rotation(90, 0) @ forward, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(projection.view_rotation(0, 90) @ forward, [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(projection.view_rotation(0, 0, 90) @ [1.0, 0, 0], [0, 1, 0], atol=1e-12)


def test_centre_pixel_looks_where_the_view_points():
    rays = projection.view_rays(64, 36, yaw=30, pitch=20, roll=0, hfov=90)
    lon, lat = projection.lon_lat((rays[17, 31] + rays[18, 32]) / 2)
    assert lon == pytest.approx(30, abs=1.5) and lat == pytest.approx(20, abs=1.5)


def test_pixel_of_inverts_view_rays():
    w, h = 320, 180
    rays = projection.view_rays(w, h, yaw=-120, pitch=35, roll=10, hfov=100)
    for (j, i) in [(0, 0), (90, 160), (179, 319), (40, 250)]:
        lon, lat = projection.lon_lat(rays[j, i])
        x, y = projection.pixel_of(float(lon), float(lat), w, h, -120, 35, 10, 100)
        assert (x, y) == pytest.approx((i, j), abs=1e-6)


def test_equirect_uv_wraps_at_the_back():
    u_left, _ = projection.equirect_uv(projection.direction(-179.9, 0)[None])
    u_right, _ = projection.equirect_uv(projection.direction(179.9, 0)[None])
    assert u_left[0] == pytest.approx(0.0, abs=1e-3) and u_right[0] == pytest.approx(1.0, abs=1e-3)
    _, v_up = projection.equirect_uv(projection.direction(0, 90)[None])
    assert v_up[0] == pytest.approx(0.0)


def test_vertical_fov_keeps_pixels_square():
    assert projection.vertical_fov(90, 1280, 720) == pytest.approx(58.7155, abs=1e-3)
    assert projection.vertical_fov(90, 500, 500) == pytest.approx(90)


def test_view_state_limits():
    view = ViewState(yaw=170, fov=90)
    view.look(20, 100)
    assert view.yaw == pytest.approx(-170) and view.pitch == 90
    view.zoom(100)
    assert view.fov == 30
    view.zoom(-100)
    assert view.fov == 120
    view.drag(100, 0, 1200)  # drag right: the picture follows the pointer, the view turns left
    assert view.yaw == pytest.approx(180)  # yaw lives in (−180, 180]
    view.recenter()
    assert (view.yaw, view.pitch) == (0, 0)


@pytest.mark.parametrize("matrix", ["bt601", "bt709", "bt2020"])
def test_limited_range_black_white_and_neutral(matrix):
    t8 = colour.yuv_transform(matrix, "limited", 8, 8)
    codes = np.array([[16, 128, 128], [235, 128, 128], [126, 128, 128]]) / 255.0
    rgb = colour.apply(t8, codes)
    np.testing.assert_allclose(rgb[0], 0, atol=1e-9)
    np.testing.assert_allclose(rgb[1], 1, atol=1e-9)
    np.testing.assert_allclose(rgb[2], rgb[2][0], atol=1e-9)  # gray stays gray


def test_ten_bit_storage_variants_agree():
    # The same 10-bit code: in the low bits of a 16-bit word (yuv420p10le) and in the high bits (P010).
    code = np.array([[400, 512, 960]])
    low = colour.apply(colour.yuv_transform("bt709", "limited", 10, 16), code / 65535.0)
    high = colour.apply(colour.yuv_transform("bt709", "limited", 10, 16, msb_aligned=True), (code * 64) / 65535.0)
    np.testing.assert_allclose(low, high, atol=1e-9)
    assert low[0, 0] == pytest.approx(1.0, abs=1e-6) and low[0, 2] < 0.5  # full Cr: red, not blue


def test_bt709_red():
    # BT.709 limited-range codes for pure red (Y 63, Cb 102, Cr 240).
    rgb = colour.apply(colour.yuv_transform("bt709", "limited", 8, 8), np.array([[63, 102, 240]]) / 255.0)
    np.testing.assert_allclose(rgb[0], [1, 0, 0], atol=0.01)


def test_untagged_matrix_follows_height():
    assert colourspace.matrix_name(None, 1080)[0] == "bt709"
    assert colourspace.matrix_name(2, 480)[0] == "bt601"
    assert colourspace.matrix_name(9, 480)[0] == "bt2020"
