"""Ambisonics in numpy: real spherical harmonics, the rotation of a sound field by the listener's head, and the
conversion to AmbiX of the formats a 360 film's sound comes in (described in `vrplayer.formats.sound`).

Conventions (everything here, and in `hrtf` and `binaural`, uses them):

* Ambisonic axes: x FRONT, y LEFT, z UP (right-handed). Azimuth is counter-clockwise seen from above, 0 ahead,
  +90° to the LEFT; elevation is up-positive. A direction is (cos el·cos az, cos el·sin az, sin el).
* Signals are AmbiX: ACN channel order (index n·(n+1)+m for degree n, order m), SN3D normalisation
  (sqrt((2−δm0)·(n−|m|)!/(n+|m|)!)), no Condon–Shortley phase. A plane wave s from direction d encodes to
  Y(d)·s, so W = s, Y = s·dy, Z = s·dz, X = s·dx at first order.
* Our view axes (`vrplayer.render.projection`): x RIGHT, y DOWN, z FORWARD; camera → world = Ry(yaw)·Rx(pitch)·
  Rz(roll), yaw turns right, pitch looks up, roll tips the right side down (degrees). Ambisonic = `OURS_TO_AMBI`
  · ours: ambi x = our z, ambi y = −our x, ambi z = −our y. So a source the viewer sees at our yaw θ (turning
  right by θ faces it) lies at ambisonic azimuth −θ: ambisonic azimuth +90 (left) is our yaw −90.
* OpenXR axes: +X right, +Y up, −Z forward. Ambisonic = `XR_TO_AMBI` · OpenXR: ambi x = −xr z, ambi y = −xr x,
  ambi z = xr y. Both maps are proper rotations (det +1).
* A head orientation H (head → world, in ambisonic axes) turns a world-fixed sound field into the head's frame by
  the *field rotation* Hᵀ: a source at world direction d is heard at head direction Hᵀ·d. `field_rotation_from_view`
  and `field_rotation_from_quaternion` give that 3×3 matrix; `sh_rotation(order, R)` gives the matrix M with
  M·Y(d) = Y(R·d), so `sh_rotation(order, field_rotation)` applied to the film's channels keeps every source put
  in the world while the head turns. (This is spaudiopy's "listener" rotation: with yaw only, it maps
  encode(az) to encode(az − yaw), where a listener yaw is left-positive, i.e. minus ours.)

SH rotation matrices: Ivanic & Ruedenberg, "Rotation matrices for real spherical harmonics. Direct determination by
recursion", J. Phys. Chem. 100 (1996) 6342, with the 1998 erratum (J. Phys. Chem. A 102, 9099). The recursion is
bilinear in (R¹, Rˡ⁻¹), so it is run once per degree on symbolic coefficients and stored as a small matrix;
evaluating a rotation is then two tiny matmuls per degree (tens of µs for third order, cheap enough for every audio
block). The matrices are the same for SN3D, N3D and orthonormal SH (those differ per degree only).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from vrplayer.formats.sound import SPEAKER_LAYOUTS, AudioFormat, channels_for_order
from vrplayer.geometry import view_rotation

MAX_ORDER = 3  # the highest order rendered; higher-order AmbiX is truncated to it (dropping channels ≥ 16)

# ---------------------------------------------------------------------------------------------------------------
# Axes

# ambisonic (x front, y left, z up) = OURS_TO_AMBI @ ours (x right, y down, z forward)
OURS_TO_AMBI = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
# ambisonic = XR_TO_AMBI @ OpenXR (x right, y up, z back)
XR_TO_AMBI = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def direction(azimuth_deg, elevation_deg=0.0) -> np.ndarray:
    """Unit vector(s) (..., 3) in ambisonic axes of azimuth (left-positive) and elevation (up-positive), degrees."""
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    az, el = np.broadcast_arrays(az, el)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)


def sh_sn3d(order: int, directions) -> np.ndarray:
    """Real SH, SN3D, ACN, no Condon–Shortley phase, of unit vectors (..., 3) in ambisonic axes → (..., (order+1)²).

    Written in Cartesian form, Y_n^m = N_nm · Q_n^|m|(z) · {Re, Im}((x + iy)^|m|), where P_n^m(z) =
    (1 − z²)^(m/2) · Q_n^m(z), so nothing is singular at the poles.
    """
    d = np.asarray(directions, dtype=np.float64)
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    out = np.empty(d.shape[:-1] + (channels_for_order(order),))
    xy = x + 1j * y
    power = np.ones_like(xy)  # (x + iy)^m
    for m in range(order + 1):
        # Q_m^m = (2m − 1)!!, Q_{m+1}^m = (2m + 1)·z·Q_m^m, then the three-term recurrence.
        q_prev = np.zeros_like(z)
        q = np.full_like(z, float(np.prod(np.arange(1, 2 * m, 2))) if m else 1.0)
        for n in range(m, order + 1):
            if n > m:
                q, q_prev = ((2 * n - 1) * z * q - (n + m - 1) * q_prev) / (n - m), q
            norm = math.sqrt((1.0 if m == 0 else 2.0) * math.factorial(n - m) / math.factorial(n + m))
            out[..., n * (n + 1) + m] = norm * q * power.real
            if m:
                out[..., n * (n + 1) - m] = norm * q * power.imag
        power = power * xy
    return out


def encode(order: int, azimuth_deg: float, elevation_deg: float = 0.0) -> np.ndarray:
    """AmbiX gains ((order+1)²,) of a plane wave from (azimuth, elevation) in degrees (ambisonic convention)."""
    return sh_sn3d(order, direction(azimuth_deg, elevation_deg))


# ---------------------------------------------------------------------------------------------------------------
# Rotations


def rotation_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def head_rotation_from_view(yaw_deg: float, pitch_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """The head orientation (head → world) in ambisonic axes for a view in our conventions (degrees)."""
    return OURS_TO_AMBI @ view_rotation(yaw_deg, pitch_deg, roll_deg) @ OURS_TO_AMBI.T


def field_rotation_from_view(yaw_deg: float, pitch_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """The 3×3 rotation (ambisonic axes) to apply to the film's sound field for a head looking at (yaw, pitch,
    roll) in our conventions: the inverse of the head rotation, so sources stay put in the world.

    Example: a source at ambisonic azimuth +90 (left) is our yaw −90; `field_rotation_from_view(-90)` maps it to
    the front (1, 0, 0).
    """
    return head_rotation_from_view(yaw_deg, pitch_deg, roll_deg).T


def field_rotation_from_matrix(head: np.ndarray) -> np.ndarray:
    """The field rotation for a head orientation given as a camera → world matrix in OUR axes (what the renderer
    draws with, e.g. an XR view composed with a recenter rotation: `world @ head`)."""
    return (OURS_TO_AMBI @ np.asarray(head, dtype=np.float64) @ OURS_TO_AMBI.T).T


def field_rotation_from_quaternion(x: float, y: float, z: float, w: float) -> np.ndarray:
    """The field rotation (ambisonic axes) for an OpenXR view orientation quaternion (x, y, z, w): the pose of the
    head in its reference space (+Y up, −Z forward, +X right). Same meaning as `field_rotation_from_view`."""
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if n < 1e-12:
        return np.eye(3)
    x, y, z, w = x / n, y / n, z / n, w / n
    rotation = np.array([  # the quaternion's rotation in OpenXR's axes (tests check it against vrplayer.xr_pose)
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    return (XR_TO_AMBI @ rotation @ XR_TO_AMBI.T).T


@lru_cache(maxsize=None)
def _ivanic_ruedenberg_tensor(l: int) -> np.ndarray:
    """Coefficients T (shape ((2l+1)², 9·(2l−1)²)) with vec(Rˡ) = T · vec(R¹ ⊗ Rˡ⁻¹), from the Ivanic–Ruedenberg
    recursion (their Table 2, with the erratum). R¹ is indexed [m+1, n+1] with rows/columns in SH order (y, z, x),
    Rˡ⁻¹ is indexed [a+l−1, b+l−1]."""
    p_size = 2 * l - 1

    def term(i: int, j: int, a: int, b: int) -> np.ndarray:
        # One product R¹[i, j] · Rˡ⁻¹[a, b] (indices are offsets −1..1 and −(l−1)..l−1) as a one-hot row.
        row = np.zeros((3, 3, p_size, p_size))
        row[i + 1, j + 1, a + l - 1, b + l - 1] = 1.0
        return row

    def p(i: int, a: int, b: int) -> np.ndarray:
        if b == l:
            return term(i, 1, a, l - 1) - term(i, -1, a, -l + 1)
        if b == -l:
            return term(i, 1, a, -l + 1) + term(i, -1, a, l - 1)
        return term(i, 0, a, b)

    rows = []
    for m in range(-l, l + 1):
        for n in range(-l, l + 1):
            d = 1.0 if m == 0 else 0.0
            denominator = (2 * l) * (2 * l - 1) if abs(n) == l else (l * l - n * n)
            u = math.sqrt((l * l - m * m) / denominator)
            v = 0.5 * math.sqrt((1 + d) * (l + abs(m) - 1) * (l + abs(m)) / denominator) * (1 - 2 * d)
            w = -0.5 * math.sqrt((l - abs(m) - 1) * (l - abs(m)) / denominator) * (1 - d)
            total = np.zeros((3, 3, p_size, p_size))
            if u:
                total += u * p(0, m, n)
            if v:
                if m == 0:
                    vv = p(1, 1, n) + p(-1, -1, n)
                elif m > 0:
                    vv = p(1, m - 1, n) * math.sqrt(1 + (m == 1)) - (0 if m == 1 else p(-1, -m + 1, n))
                else:
                    vv = p(-1, -m - 1, n) * math.sqrt(1 + (m == -1)) + (0 if m == -1 else p(1, m + 1, n))
                total += v * vv
            if w:
                if m > 0:
                    ww = p(1, m + 1, n) + p(-1, -m - 1, n)
                else:
                    ww = p(1, m - 1, n) - p(-1, -m + 1, n)
                total += w * ww
            rows.append(total.reshape(-1))
    return np.array(rows)


_YZX = [1, 2, 0]  # first-order SH (ACN 1, 2, 3) are the y, z, x components


def sh_rotation_blocks(order: int, rotation: np.ndarray) -> list[np.ndarray]:
    """The per-degree blocks [R⁰ (1×1), R¹ (3×3), …] of `sh_rotation`."""
    r = np.asarray(rotation, dtype=np.float64)
    r1 = r[np.ix_(_YZX, _YZX)]
    blocks = [np.ones((1, 1)), r1]
    flat1 = r1.reshape(-1)
    for l in range(2, order + 1):
        outer = np.multiply.outer(flat1, blocks[-1].reshape(-1)).reshape(-1)
        blocks.append((_ivanic_ruedenberg_tensor(l) @ outer).reshape(2 * l + 1, 2 * l + 1))
    return blocks[: order + 1]


def sh_rotation(order: int, rotation: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The ((order+1)², (order+1)²) real-SH rotation matrix M of a 3×3 rotation R (ambisonic axes, acting on
    directions): M · Y(d) = Y(R·d) for every direction d, any of SN3D / N3D / orthonormal SH, ACN order. Block
    diagonal, orthogonal, det +1. `out`, when given, receives it (zeros outside the blocks are written too)."""
    size = channels_for_order(order)
    if out is None:
        out = np.zeros((size, size))
    else:
        out.fill(0.0)
    for l, block in enumerate(sh_rotation_blocks(order, rotation)):
        s = l * l
        out[s : s + 2 * l + 1, s : s + 2 * l + 1] = block
    return out


# ---------------------------------------------------------------------------------------------------------------
# Formats (`vrplayer.formats.sound`): their channels as AmbiX

SPEAKER_ORDER = 3  # virtual loudspeakers are encoded at this order
# The LFE is not put into the sound field (it has no direction, and W's HRTF filter is least accurate at the
# lowest frequencies): it goes to both ears equally, unrotated, with the head-locked bus, at this gain (0 dB: the
# cinema's +10 dB in-band LFE gain is meant for a room's subwoofer; in headphones it would swamp the mix).
LFE_GAIN = 1.0

# FuMa → AmbiX, per FuMa channel (W X Y Z R S T U V K L M N O P Q): its ACN index and the factor that takes
# FuMa's maxN weighting (every component peaks at 1 over the sphere, W at 1/√2) to SN3D. The factors are SN3D's
# own peak values: √2 for W; 1 for X Y Z, R, K; √3/2 for S T U V; √(32/45) for L M; √5/3 for N O; √(5/8) for P Q
# (the "FuMa to SN3D" table of Malham's FuMa definition, e.g. in Nachbar et al., "AmbiX – a suggested ambisonics
# format", Ambisonics Symposium 2011, and Wikipedia's "Ambisonic data exchange formats"; tests/test_ambisonics
# re-derives each factor as the peak of our SN3D functions).
_FUMA_ACN = (0, 3, 1, 2, 6, 7, 5, 8, 4, 12, 13, 11, 14, 10, 15, 9)
_FUMA_FACTOR = (
    math.sqrt(2.0), 1.0, 1.0, 1.0,
    1.0, math.sqrt(3.0) / 2, math.sqrt(3.0) / 2, math.sqrt(3.0) / 2, math.sqrt(3.0) / 2,
    1.0, math.sqrt(32.0 / 45.0), math.sqrt(32.0 / 45.0), math.sqrt(5.0) / 3, math.sqrt(5.0) / 3,
    math.sqrt(5.0 / 8.0), math.sqrt(5.0 / 8.0),
)

# FB360 "TBE" (hybrid 2nd order, 8 channels) from AmbiX (Farina): TBE_k = gain · ACN[index]. Inverted below;
# TBE lacks ACN 6 (R), which stays zero.
_TBE_FROM_AMBIX = (
    (0, 0.488603), (1, -0.488603), (3, 0.488603), (2, 0.488603),
    (8, -0.630783), (4, -0.630783), (5, -0.630783), (7, 0.630783),
)


def render_order(fmt: AudioFormat, speaker_order: int = SPEAKER_ORDER) -> int:
    """The SH order the renderer works at for this format (0 for plain sound)."""
    if fmt.kind == "speakers":
        return speaker_order
    if fmt.kind == "tbe":
        return 2
    return min(fmt.order, MAX_ORDER)


def format_matrices(fmt: AudioFormat, speaker_order: int = SPEAKER_ORDER,
                    lfe_gain: float = LFE_GAIN) -> tuple[np.ndarray | None, np.ndarray]:
    """(to_sh, to_bus) of a format: `to_sh` ((order+1)², channels) maps a frame of the track to AmbiX (ACN/SN3D)
    at `render_order`, None for plain sound; `to_bus` (2, channels) maps it to the unrotated stereo bus that is
    added after binaural decoding (head-locked stereo, a speaker layout's LFE; plain sound: the sound itself — mono
    to both ears, or the first two channels)."""
    c = fmt.channels
    bus = np.zeros((2, c))
    if fmt.kind == "plain":
        if c == 1:
            bus[:, 0] = 1.0
        else:
            bus[0, 0] = bus[1, 1] = 1.0
        return None, bus
    order = render_order(fmt, speaker_order)
    to_sh = np.zeros((channels_for_order(order), c))
    if fmt.kind == "ambix":
        stored = channels_for_order(fmt.order)
        mapping = fmt.channel_map or tuple(range(stored + fmt.head_locked))
        for acn in range(channels_for_order(order)):
            to_sh[acn, mapping[acn]] = 1.0
        if fmt.head_locked:
            bus[0, mapping[stored]] = bus[1, mapping[stored + 1]] = 1.0
    elif fmt.kind == "fuma":
        for i in range(channels_for_order(fmt.order)):
            to_sh[_FUMA_ACN[i], i] = _FUMA_FACTOR[i]
    elif fmt.kind == "tbe":
        for i, (acn, gain) in enumerate(_TBE_FROM_AMBIX):
            to_sh[acn, i] = 1.0 / gain
        if fmt.head_locked:
            bus[0, 8] = bus[1, 9] = 1.0
    elif fmt.kind == "speakers":
        for i, azimuth in enumerate(SPEAKER_LAYOUTS[fmt.name]):
            if azimuth is None:
                bus[:, i] = lfe_gain
            else:
                to_sh[:, i] = encode(order, azimuth)
    return to_sh, bus
