"""Ambisonics: SH functions, format conversions, SH rotations (checked against spaudiopy's Ivanic–Ruedenberg, an
independent implementation), head-pose axes, and the format decision.

Conventions under test: ambisonic axes x front, y left, z up (azimuth left-positive); our view yaw is
RIGHT-positive, so a source on the left (ambisonic azimuth +90) is where our yaw −90 looks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from vrplayer.audio import ambisonics as A
from vrplayer.formats import sound

RNG = np.random.default_rng(20240611)


def random_directions(count: int) -> np.ndarray:
    d = RNG.normal(size=(count, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def closed_form_sn3d(d: np.ndarray) -> np.ndarray:
    """Third-order SN3D/ACN written out from the AmbiX table (Nachbar et al. 2011), independent of sh_sn3d."""
    x, y, z = d[:, 0], d[:, 1], d[:, 2]
    s3 = math.sqrt(3.0)
    return np.stack([
        np.ones_like(x), y, z, x,
        s3 * x * y, s3 * y * z, 0.5 * (3 * z * z - 1), s3 * x * z, s3 / 2 * (x * x - y * y),
        math.sqrt(5 / 8) * y * (3 * x * x - y * y),
        math.sqrt(15) * x * y * z,
        math.sqrt(3 / 8) * y * (5 * z * z - 1),
        0.5 * z * (5 * z * z - 3),
        math.sqrt(3 / 8) * x * (5 * z * z - 1),
        math.sqrt(15) / 2 * z * (x * x - y * y),
        math.sqrt(5 / 8) * x * (x * x - 3 * y * y),
    ], axis=1)


def sphere_quadrature(order: int):
    """Exact quadrature for polynomials of degree ≤ 2·order on the sphere: Gauss–Legendre in z × uniform azimuth."""
    z, wz = np.polynomial.legendre.leggauss(order + 2)
    az = np.arange(2 * order + 3) * 2 * np.pi / (2 * order + 3)
    zz, aa = np.meshgrid(z, az, indexing="ij")
    r = np.sqrt(1 - zz ** 2)
    d = np.stack([r * np.cos(aa), r * np.sin(aa), zz], axis=-1).reshape(-1, 3)
    w = (wz[:, None] * np.full(len(az), 2 * np.pi / len(az))[None, :]).reshape(-1)
    return d, w


# ---------------------------------------------------------------------------------------------------------------
# Spherical harmonics


def test_sh_matches_the_closed_form_table():
    d = random_directions(200)
    assert np.allclose(A.sh_sn3d(3, d), closed_form_sn3d(d), atol=1e-12)
    assert np.allclose(A.sh_sn3d(1, d), closed_form_sn3d(d)[:, :4], atol=1e-12)


def test_sn3d_normalisation():
    # SN3D: the mean of Y_nm² over the sphere is 1 / (2n + 1); different (n, m) are orthogonal.
    d, w = sphere_quadrature(3)
    y = A.sh_sn3d(3, d)
    gram = (y * w[:, None]).T @ y / (4 * np.pi)
    expected = np.diag([1.0 / (2 * n + 1) for n in range(4) for _ in range(2 * n + 1)])
    assert np.allclose(gram, expected, atol=1e-12)


def test_direction_axes():
    assert np.allclose(A.direction(0, 0), [1, 0, 0])
    assert np.allclose(A.direction(90, 0), [0, 1, 0])  # azimuth +90: left
    assert np.allclose(A.direction(0, 90), [0, 0, 1])
    w, y, z, x = A.encode(1, 90)
    assert (w, y, z, x) == pytest.approx((1, 1, 0, 0), abs=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Rotations


def random_rotation() -> np.ndarray:
    q = RNG.normal(size=4)
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


@pytest.mark.parametrize("order", [1, 2, 3])
def test_rotation_is_orthonormal_with_determinant_one(order):
    for _ in range(5):
        m = A.sh_rotation(order, random_rotation())
        assert np.allclose(m @ m.T, np.eye(len(m)), atol=1e-12)
        assert np.linalg.det(m) == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_rotation_moves_directions(order):
    # The defining property: M · Y(d) = Y(R · d).
    d = random_directions(100)
    for _ in range(5):
        r = random_rotation()
        assert np.allclose(A.sh_sn3d(order, d) @ A.sh_rotation(order, r).T, A.sh_sn3d(order, d @ r.T), atol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_full_turns_and_composition(order):
    for angles in [(360, 0, 0), (0, 360, 0), (0, 0, 360), (360, 360, 360)]:
        assert np.allclose(A.sh_rotation(order, A.field_rotation_from_view(*angles)), np.eye((order + 1) ** 2), atol=1e-12)
    for _ in range(5):
        a, b = random_rotation(), random_rotation()
        assert np.allclose(A.sh_rotation(order, a) @ A.sh_rotation(order, b), A.sh_rotation(order, a @ b), atol=1e-12)


@pytest.fixture(scope="module")
def spa():
    return pytest.importorskip("spaudiopy")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_rotation_agrees_with_spaudiopy(spa, order):
    """spaudiopy.sph.sh_rotation_matrix(N, yaw, pitch, roll) (Ivanic–Ruedenberg, ported from the IEM plug-ins):
    real SH in ACN order, N3D (the rotation is the same for SN3D: normalisations differ per degree only), built
    from spaudiopy.utils.rotation_euler(yaw, pitch, roll) = Rz(−yaw)·Ry(−pitch)·Rx(−roll) in x front, y left,
    z up acting on directions: a *listener* rotation (it maps encode(az) to encode(az − yaw))."""
    for _ in range(6):
        yaw, pitch, roll = RNG.uniform(-math.pi, math.pi, 3)
        theirs = spa.sph.sh_rotation_matrix(order, yaw, pitch, roll)
        ours = A.sh_rotation(order, spa.utils.rotation_euler(yaw, pitch, roll))
        assert np.max(np.abs(ours - theirs)) < 1e-9


@pytest.mark.parametrize("order", [1, 2, 3])
def test_view_angles_against_spaudiopy_listener_angles(spa, order):
    # Ours: yaw right-positive, pitch up-positive, roll right-side-down positive; spaudiopy's listener: yaw
    # left-positive (about +z), pitch nose-down positive (about +y, the left axis), roll right-side-down positive
    # (about +x). So ours(yaw, pitch, roll) = spa(0, 0, roll) · spa(0, −pitch, 0) · spa(−yaw, 0, 0).
    for _ in range(4):
        yaw, pitch, roll = RNG.uniform(-180, 180), RNG.uniform(-90, 90), RNG.uniform(-180, 180)
        y, p, r = math.radians(yaw), math.radians(pitch), math.radians(roll)
        ours = A.sh_rotation(order, A.field_rotation_from_view(yaw, pitch, roll))
        assert np.max(np.abs(ours - spa.sph.sh_rotation_matrix(order, 0, 0, r) @ spa.sph.sh_rotation_matrix(order, 0, -p, 0)
                             @ spa.sph.sh_rotation_matrix(order, -y, 0, 0))) < 1e-9
        assert np.max(np.abs(A.sh_rotation(order, A.field_rotation_from_view(yaw)) - spa.sph.sh_rotation_matrix(order, -y, 0, 0))) < 1e-9


def test_turning_toward_a_source_brings_it_ahead():
    """Our conventions: a source on the left (ambisonic azimuth +90) is at our yaw −90. Turning the head there
    (yaw −90) puts it straight ahead; turning the other way (yaw +90) puts it behind; looking up (pitch +90) at a
    source overhead puts it ahead; rolling the right side down 90° (the left ear now points up) puts a source on
    the left below the head."""
    for order in (1, 2, 3):
        left = A.encode(order, 90)
        assert np.allclose(A.sh_rotation(order, A.field_rotation_from_view(-90)) @ left, A.encode(order, 0), atol=1e-12)
        assert np.allclose(A.sh_rotation(order, A.field_rotation_from_view(90)) @ left, A.encode(order, 180), atol=1e-12)
        assert np.allclose(A.sh_rotation(order, A.field_rotation_from_view(0, 90)) @ A.encode(order, 0, 90),
                           A.encode(order, 0), atol=1e-12)
        assert np.allclose(A.sh_rotation(order, A.field_rotation_from_view(0, 0, 90)) @ left, A.encode(order, 0, -90), atol=1e-12)
    # And in the picture's own terms: the direction our yaw −90 looks at is ambisonic azimuth +90.
    from vrplayer.render.projection import direction as view_direction

    assert np.allclose(A.OURS_TO_AMBI @ view_direction(-90, 0), A.direction(90, 0), atol=1e-12)
    assert np.allclose(A.OURS_TO_AMBI @ view_direction(0, 30), A.direction(0, 30), atol=1e-12)


def test_axis_maps_are_proper_rotations():
    for m in (A.OURS_TO_AMBI, A.XR_TO_AMBI):
        assert np.allclose(m @ m.T, np.eye(3))
        assert np.linalg.det(m) == pytest.approx(1.0)
    assert np.allclose(A.XR_TO_AMBI @ [0, 0, -1], [1, 0, 0])  # OpenXR forward (−Z) → front
    assert np.allclose(A.XR_TO_AMBI @ [0, 1, 0], [0, 0, 1])  # +Y up → up
    assert np.allclose(A.XR_TO_AMBI @ [-1, 0, 0], [0, 1, 0])  # −X (left) → left


def test_field_rotation_from_a_view_matrix():
    from vrplayer.render.projection import view_rotation

    for _ in range(5):
        yaw, pitch, roll = RNG.uniform(-180, 180), RNG.uniform(-90, 90), RNG.uniform(-180, 180)
        assert np.allclose(A.field_rotation_from_matrix(view_rotation(yaw, pitch, roll)),
                           A.field_rotation_from_view(yaw, pitch, roll), atol=1e-12)


def test_openxr_quaternion():
    # +90° about OpenXR's +Y (up) turns the head from −Z to −X: to the left, which is our yaw −90.
    s = math.sin(math.pi / 4)
    rotation = A.field_rotation_from_quaternion(0.0, s, 0.0, s)
    assert np.allclose(rotation, A.field_rotation_from_view(-90), atol=1e-12)
    assert np.allclose(rotation @ A.direction(90), A.direction(0), atol=1e-12)
    # Any quaternion agrees with the view angles vrplayer.xr_pose reads from it.
    from vrplayer.xr_pose import head_angles

    for _ in range(10):
        q = RNG.normal(size=4)
        q /= np.linalg.norm(q)
        assert np.allclose(A.field_rotation_from_quaternion(*q), A.field_rotation_from_view(*head_angles(*q)), atol=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Format conversions


@pytest.mark.parametrize("order", [1, 2, 3])
def test_fuma_to_ambix(order):
    """FuMa is maxN (each component peaks at 1 over the sphere; W at 1/√2) in the order W X Y Z R S T U V K L M N
    O P Q. Build it from our SN3D by dividing by each function's peak found on a dense grid, and check that the
    conversion gives SN3D back."""
    az, el = np.meshgrid(np.linspace(-180, 180, 721), np.linspace(-90, 90, 361))
    peaks = np.abs(A.sh_sn3d(3, A.direction(az, el))).max(axis=(0, 1))
    fuma_letters_acn = [0, 3, 1, 2, 6, 7, 5, 8, 4, 12, 13, 11, 14, 10, 15, 9]
    n = (order + 1) ** 2
    d = random_directions(50)
    sn3d = A.sh_sn3d(3, d)
    fuma = np.stack([sn3d[:, acn] / peaks[acn] for acn in fuma_letters_acn[:n]], axis=1)
    fuma[:, 0] /= math.sqrt(2)
    to_sh, bus = A.format_matrices(sound.parse_format_name(f"fuma{order}"))
    assert np.allclose(fuma @ to_sh.T, sn3d[:, :n], atol=2e-4)  # the grid finds each peak to ~1e-4
    assert not np.any(bus)


def test_tbe_to_ambix_inverts_the_farina_matrix():
    forward = [(0, 0.488603), (1, -0.488603), (3, 0.488603), (2, 0.488603), (8, -0.630783), (4, -0.630783),
               (5, -0.630783), (7, 0.630783)]
    ambix = A.sh_sn3d(2, random_directions(20))
    tbe = np.stack([g * ambix[:, acn] for acn, g in forward], axis=1)
    head_locked = RNG.normal(size=(20, 2))
    to_sh, bus = A.format_matrices(sound.parse_format_name("tbe+stereo"))
    frames = np.concatenate([tbe, head_locked], axis=1)
    expected = ambix.copy()
    expected[:, 6] = 0.0  # TBE has no ACN 6
    assert np.allclose(frames @ to_sh.T, expected, atol=1e-12)
    assert np.allclose(frames @ bus.T, head_locked)


def test_ambix_head_locked_and_channel_map():
    to_sh, bus = A.format_matrices(sound.parse_format_name("ambix1+stereo"))
    frames = RNG.normal(size=(10, 6))
    assert np.allclose(frames @ to_sh.T, frames[:, :4])
    assert np.allclose(frames @ bus.T, frames[:, 4:])
    # SA3D's example: a track holding W X Y Z has channel_map 0, 2, 3, 1 (ACN k is track channel map[k]).
    fmt = sound.AudioFormat("ambix1", 4, "ambix", 1, 0, channel_map=(0, 2, 3, 1))
    wxyz = RNG.normal(size=(10, 4))
    to_sh, _ = A.format_matrices(fmt)
    assert np.allclose(wxyz @ to_sh.T, wxyz[:, [0, 2, 3, 1]])


def test_higher_orders_are_truncated_to_the_maximum():
    fmt = sound.parse_format_name("ambix4")
    assert fmt.channels == 25 and A.render_order(fmt) == A.MAX_ORDER
    to_sh, _ = A.format_matrices(fmt)
    assert to_sh.shape == (16, 25) and np.allclose(to_sh[:, :16], np.eye(16))


def test_speaker_layouts():
    to_sh, bus = A.format_matrices(sound.parse_format_name("5.1"))
    assert to_sh.shape == (16, 6)
    assert np.allclose(to_sh[:, 0], A.encode(3, 30))  # FL: 30° to the left
    assert np.allclose(to_sh[:, 1], A.encode(3, -30))
    assert np.allclose(to_sh[:, 5], A.encode(3, -110))
    assert not np.any(to_sh[:, 3]) and np.allclose(bus[:, 3], A.LFE_GAIN)  # LFE: both ears, not in the field
    to_sh, bus = A.format_matrices(sound.parse_format_name("7.1"), speaker_order=2)
    assert to_sh.shape == (9, 8) and np.allclose(to_sh[:, 6], A.encode(2, 90))  # SL


def test_plain_formats_pass_through():
    to_sh, bus = A.format_matrices(sound.parse_format_name("stereo"))
    assert to_sh is None and np.allclose(bus, np.eye(2))
    to_sh, bus = A.format_matrices(sound.parse_format_name("mono"))
    assert to_sh is None and np.allclose(bus, [[1], [1]])


# ---------------------------------------------------------------------------------------------------------------
# Names and the decision


@pytest.mark.parametrize("text, name", [
    ("ambix1", "ambix1"), ("AmbiX 1+stereo", "ambix1+stereo"), ("ambisonic 1", "ambix1"), ("ambisonic 2", "ambix2"),
    ("foa", "ambix1"), ("FuMa", "fuma1"), ("fuma3", "fuma3"), ("tbe", "tbe"), ("TBE+2", "tbe+stereo"),
    ("FB360", "tbe"), ("5.1", "5.1"), ("5.1(side)", "5.1"), ("stereo", "stereo"), ("ambix3+stereo", "ambix3+stereo"),
])
def test_format_names(text, name):
    assert sound.parse_format_name(text).name == name


@pytest.mark.parametrize("text", ["", "ambix0", "fuma4", "fuma1+stereo", "surround", "ambix1+3"])
def test_unknown_format_names(text):
    assert sound.parse_format_name(text) is None


def test_every_listed_name_parses():
    for name in sound.FORMAT_NAMES:
        assert sound.parse_format_name(name).name == name


class FakeSa3d:
    def __init__(self, fmt, problems=()):
        self._fmt, self.problems = fmt, list(problems)

    def audio_format(self):
        return self._fmt


def test_decision_order():
    sa3d = FakeSa3d(sound.parse_format_name("ambix1+stereo"))
    # The flag beats everything.
    assert sound.format_for(6, sa3d, "5.1", override="5.1")[:2][1] == "--audio-format"
    fmt, source, warning = sound.format_for(6, sa3d, "5.1")
    assert (fmt.name, source, warning) == ("ambix1+stereo", "SA3D box", None)
    fmt, source, _ = sound.format_for(4, None, "fuma1", layout_name="ambisonic 1")
    assert (fmt.name, source) == ("ambix1", "codec layout 'ambisonic 1'")
    fmt, source, _ = sound.format_for(4, None, "fuma1", layout_name="quad")
    assert (fmt.name, source) == ("fuma1", "manifest")
    assert sound.format_for(4, None, None, layout_name="quad")[:2] == (sound.parse_format_name("quad"), "channel layout 'quad'")
    fmt, source, warning = sound.format_for(6, None, None)
    assert (fmt.name, source, warning) == ("5.1", "channel count", None)
    assert sound.format_for(2, None, None)[0].name == "stereo"
    assert sound.format_for(1, None, None)[0].name == "mono"


def test_sources_that_do_not_fit_are_skipped_with_a_warning():
    fmt, source, warning = sound.format_for(4, FakeSa3d(sound.parse_format_name("ambix1+stereo")), None, override="ambix2")
    assert (fmt.name, source) == ("stereo", "fallback")
    assert "--audio-format ambix2" in warning and "SA3D" in warning and "4 audio channels" in warning
    fmt, source, warning = sound.format_for(9, FakeSa3d(None, ["SA3D version 3 is not known"]), "bogus")
    assert fmt.name == "stereo" and fmt.channels == 9 and source == "fallback"
    assert "SA3D box unusable (SA3D version 3 is not known)" in warning and "'bogus'" in warning
    fmt, source, warning = sound.format_for(6, None, None, override="nonsense")
    assert (fmt.name, source) == ("5.1", "channel count") and "nonsense" in warning


def test_fallback_is_the_first_two_channels():
    fmt, source, warning = sound.format_for(3, None, None)
    assert (fmt.name, fmt.channels, source) == ("stereo", 3, "fallback")
    assert warning.count("\n") == 0 and "3 audio channels" in warning
    to_sh, bus = A.format_matrices(fmt)
    frames = RNG.normal(size=(5, 3))
    assert to_sh is None and np.allclose(frames @ bus.T, frames[:, :2])
