"""Head-related transfer functions: read a SOFA file, bring it to the output rate, and design the SH-domain binaural
decoding filters that turn AmbiX signals into the two ear signals.

SOFA (AES69) is HDF5; `h5py` reads it. We take the SimpleFreeFieldHRIR convention (any SOFA file of DataType
"FIR" with two receivers works): Data.IR [M, 2, N], Data.SamplingRate, SourcePosition [M, 3] either "spherical"
(azimuth counter-clockwise from the front, elevation up, distance; units named in its Units attribute, degrees or
radians) or "cartesian" (x front, y left, z up: the same axes as ambisonics), ReceiverPosition (the left ear has
y > 0), ListenerView (where the listener faces, +x when absent), Data.Delay (whole samples added before each IR).

Default: Debian's libmysofa1 ships the MIT KEMAR set (`DEFAULT_SOFA`: 710 directions from −40° to +90° elevation,
512 taps at 44.1 kHz; MIT Media Lab, Gardner & Martin 1994, free to use with citation).

Decoding filters (`decoder_filters`): for SH order N, per ear, FIRs h_nm with ear(t) = Σ_nm h_nm * a_nm(t) where
a_nm are the AmbiX (SN3D) signals. Below a cutoff they are the weighted least-squares fit of the HRTFs over the
measured directions, Σ_nm Y_nm(d)·H_nm(f) ≈ HRTF(d, f); above it magnitude least squares (MagLS: Schörkhuber,
Zaunschirm & Höldrich, "Binaural rendering of Ambisonic signals via magnitude least squares", DAGA 2018): the
target keeps the HRTF magnitudes and takes its phase from the previous frequency bin's fit, which restores the
high-frequency level (ILD, timbre) that a low-order fit loses. Before fitting, the set is diffuse-field
equalised (its direction-averaged power spectrum, 1/3-octave smoothed, is made flat with a minimum-phase filter),
which takes out the dummy head's ear-canal resonance and the measurement chain, as headphone playback needs, and
sets the level: a diffuse sound field comes out at the level it went in.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vrplayer.audio.ambisonics import direction, sh_sn3d
from vrplayer.errors import PlayerError

DEFAULT_SOFA = "/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa"
# Decoding filter length at 48 kHz (scaled with the rate): 10.7 ms, more than a HRIR's significant part.
FILTER_TAPS_48K = 512
# A HRIR's onset is where it first reaches −20 dB of its peak; the common delay before the earliest onset is
# removed, keeping this much margin (seconds) for the filters' slight pre-ringing.
ONSET_MARGIN_S = 0.0005


class HrtfError(PlayerError):
    """The HRTF file is missing or cannot be used (one line saying why)."""


@dataclass
class Hrtf:
    rate: int
    irs: np.ndarray  # (M, 2, N) float64: ear 0 left, ear 1 right
    directions: np.ndarray  # (M, 3) unit vectors, ambisonic axes (x front, y left, z up)
    source: str  # the file it came from
    trimmed: int = 0  # leading samples removed (common delay)

    @property
    def azimuth(self) -> np.ndarray:
        return np.degrees(np.arctan2(self.directions[:, 1], self.directions[:, 0]))

    @property
    def elevation(self) -> np.ndarray:
        return np.degrees(np.arcsin(np.clip(self.directions[:, 2], -1.0, 1.0)))

    def nearest(self, azimuth_deg: float, elevation_deg: float = 0.0) -> int:
        """Index of the measured direction closest to (azimuth, elevation) in degrees (ambisonic convention)."""
        return int(np.argmax(self.directions @ direction(azimuth_deg, elevation_deg)))


# ---------------------------------------------------------------------------------------------------------------
# Reading SOFA


def load_sofa(path: str | None = None, rate: int | None = None) -> Hrtf:
    """The HRIR set in the SOFA file at `path` (default `DEFAULT_SOFA`), resampled to `rate` when given, with the
    common delay before the earliest onset removed. Raises HrtfError (one line) for a missing or unusable file."""
    default = path is None
    path = DEFAULT_SOFA if default else os.fspath(path)
    hrtf = _cached_sofa(path, os.path.getmtime(path) if os.path.isfile(path) else None, default)
    irs = hrtf.irs
    if rate is not None and int(rate) != hrtf.rate:
        irs = resample(irs, hrtf.rate, int(rate))
    irs, trimmed = _trim_common_delay(irs, int(rate or hrtf.rate))
    return Hrtf(int(rate or hrtf.rate), irs, hrtf.directions, path, trimmed)


@lru_cache(maxsize=4)
def _cached_sofa(path: str, mtime: float | None, default: bool) -> Hrtf:
    if mtime is None:
        hint = " (install Debian's libmysofa1, or give another with --hrtf FILE.sofa)" if default else ""
        raise HrtfError(f"HRTF file {path} not found{hint}")
    try:
        import h5py
    except ImportError:
        raise HrtfError("reading a SOFA HRTF file needs the h5py package (pip install h5py)") from None
    try:
        file = h5py.File(path, "r")
    except OSError:
        raise HrtfError(f"{path} is not a SOFA HRTF file (it is not HDF5)") from None
    try:
        with file:
            return _read_sofa(file, path)
    except HrtfError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OSError) as exc:
        raise HrtfError(f"{path} is not a usable SOFA HRTF file ({_first_line(exc)})") from None


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(-1)[0])
    return "" if value is None else str(value)


def _attr(obj, name: str) -> str:
    try:
        return _text(obj.attrs.get(name)).strip()
    except (TypeError, OSError):  # h5py's Empty attributes
        return ""


def _read_sofa(file, path: str) -> Hrtf:
    conventions = _attr(file, "SOFAConventions")
    data_type = _attr(file, "DataType")
    if _attr(file, "Conventions") != "SOFA" and not conventions:
        raise HrtfError(f"{path} is HDF5 but not a SOFA file (no SOFAConventions attribute)")
    if data_type and data_type != "FIR":
        raise HrtfError(f"{path} stores {conventions or 'SOFA'} data of type {data_type}; only impulse responses "
                        f"(FIR, e.g. SimpleFreeFieldHRIR) can be used")
    if "Data.IR" not in file:
        raise HrtfError(f"{path} ({conventions or 'SOFA'}) holds no Data.IR impulse responses")
    irs = np.asarray(file["Data.IR"][()], dtype=np.float64)
    if irs.ndim != 3 or irs.shape[1] != 2 or irs.shape[0] < 1 or irs.shape[2] < 8:
        raise HrtfError(f"{path}: Data.IR has shape {irs.shape}, expected [directions, 2 ears, taps]")
    if not np.all(np.isfinite(irs)) or not np.any(irs):
        raise HrtfError(f"{path}: Data.IR holds non-finite values or only zeros")
    count = irs.shape[0]
    rates = np.asarray(file["Data.SamplingRate"][()], dtype=np.float64).reshape(-1) if "Data.SamplingRate" in file else np.array([])
    if rates.size == 0 or not np.all(rates == rates[0]) or not 8000 <= rates[0] <= 384000:
        raise HrtfError(f"{path}: Data.SamplingRate is missing, varies or is out of range ({rates[:3]})")
    rate = float(rates[0])
    if rate != round(rate):
        raise HrtfError(f"{path}: sampling rate {rate} Hz is not a whole number")
    if "SourcePosition" not in file:
        raise HrtfError(f"{path} has no SourcePosition: the HRIRs' directions are unknown")
    dataset = file["SourcePosition"]
    positions = np.asarray(dataset[()], dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3 or positions.shape[0] not in (1, count) or count < 4:
        raise HrtfError(f"{path}: SourcePosition has shape {positions.shape}, expected [{count}, 3]")
    if positions.shape[0] != count:
        raise HrtfError(f"{path}: all {count} HRIRs share one source position")
    directions = _to_unit_vectors(positions, _attr(dataset, "Type") or "spherical", _attr(dataset, "Units"), path)
    directions = directions @ _listener_frame(file, path).T
    # Ears: receiver 0 is the left one unless ReceiverPosition says it is on the right (y < 0).
    if "ReceiverPosition" in file:
        receivers = np.asarray(file["ReceiverPosition"][()], dtype=np.float64).reshape(2, 3, -1)[:, :, 0]
        if receivers[0, 1] < 0 < receivers[1, 1]:
            irs = irs[:, ::-1, :]
    if "Data.Delay" in file:
        delay = np.rint(np.asarray(file["Data.Delay"][()], dtype=np.float64)).astype(int)
        delay = np.broadcast_to(delay.reshape(-1, delay.shape[-1]) if delay.ndim else delay, (count, 2))
        if np.any(delay < 0) or np.any(delay > 10 * irs.shape[2]):
            raise HrtfError(f"{path}: Data.Delay out of range")
        if np.any(delay):
            padded = np.zeros((count, 2, irs.shape[2] + int(delay.max())))
            for m in range(count):
                for e in range(2):
                    padded[m, e, delay[m, e] : delay[m, e] + irs.shape[2]] = irs[m, e]
            irs = padded
    return Hrtf(int(rate), irs, directions, path)


def _to_unit_vectors(positions: np.ndarray, kind: str, units: str, path: str) -> np.ndarray:
    kind = kind.lower()
    if kind == "cartesian":
        norms = np.linalg.norm(positions, axis=1, keepdims=True)
        if np.any(norms <= 0):
            raise HrtfError(f"{path}: a SourcePosition is at the listener's centre")
        return positions / norms
    if kind != "spherical":
        raise HrtfError(f"{path}: SourcePosition Type {kind!r} is neither spherical nor cartesian")
    angle_units = units.lower().split(",")[0].strip()
    if angle_units.startswith("rad"):
        az, el = np.degrees(positions[:, 0]), np.degrees(positions[:, 1])
    elif angle_units in ("", "degree", "degrees", "deg"):
        az, el = positions[:, 0], positions[:, 1]
    else:
        raise HrtfError(f"{path}: SourcePosition units {units!r} are not degrees or radians")
    if np.any(np.abs(el) > 90.0 + 1e-6):
        raise HrtfError(f"{path}: SourcePosition elevations beyond ±90°")
    return direction(az, el)


def _listener_frame(file, path: str) -> np.ndarray:
    """Rotation taking the file's listener frame (ListenerView ahead, ListenerUp up) to x front, z up."""
    view = _vector(file, "ListenerView", path)
    up = _vector(file, "ListenerUp", path)
    if view is None:
        return np.eye(3)
    if up is None or abs(float(np.dot(up, view))) > 0.99:
        up = np.array([0.0, 0.0, 1.0]) if abs(view[2]) < 0.99 else np.array([-1.0, 0.0, 0.0])
    front = view
    left = np.cross(up, front)
    left /= np.linalg.norm(left)
    top = np.cross(front, left)
    return np.stack([front, left, top])  # rows: new axes in the file's coordinates


def _vector(file, name: str, path: str) -> np.ndarray | None:
    if name not in file:
        return None
    dataset = file[name]
    value = np.asarray(dataset[()], dtype=np.float64).reshape(-1)
    if value.size != 3:
        return None  # one per measurement: not supported, taken as the default
    if (_attr(dataset, "Type") or "cartesian").lower() == "spherical":
        value = direction(value[0], value[1])
    norm = float(np.linalg.norm(value))
    return value / norm if norm > 0 else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---------------------------------------------------------------------------------------------------------------
# Resampling and onset trimming


def resample(x: np.ndarray, src_rate: int, dst_rate: int, axis: int = -1) -> np.ndarray:
    """Band-limited resampling of short signals (impulse responses) along `axis` through the FFT: the signal is
    zero-padded to a length whose bins fall on the same frequencies at both rates, the spectrum is cut (with a
    raised-cosine taper over the top 8 % of the narrower band) and transformed back at the new length. Output
    length ceil(N·dst/src)."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    n = x.shape[-1]
    g = math.gcd(int(src_rate), int(dst_rate))
    p, q = int(src_rate) // g, int(dst_rate) // g
    pad = max(64, n // 4)  # room for the filter's ringing, so it does not wrap round onto the start
    blocks = -(-(n + pad) // p)
    la, lb = p * blocks, q * blocks
    spectrum = np.fft.rfft(x, la, axis=-1)
    bins = min(la, lb) // 2 + 1
    out_spectrum = np.zeros(x.shape[:-1] + (lb // 2 + 1,), dtype=complex)
    out_spectrum[..., :bins] = spectrum[..., :bins]
    taper_start = int(bins * 0.92)
    ramp = 0.5 * (1 + np.cos(np.pi * (np.arange(taper_start, bins) - taper_start) / max(1, bins - 1 - taper_start)))
    out_spectrum[..., taper_start:bins] *= ramp
    y = np.fft.irfft(out_spectrum, lb, axis=-1) * (lb / la)
    return np.moveaxis(y[..., : -(-n * q // p)], -1, axis)


def _onsets(irs: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(irs), axis=-1, keepdims=True)
    return np.argmax(np.abs(irs) >= 0.1 * peak, axis=-1)


def _trim_common_delay(irs: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    trim = max(0, int(_onsets(irs).min()) - int(round(ONSET_MARGIN_S * rate)))
    return irs[..., trim:], trim


# ---------------------------------------------------------------------------------------------------------------
# Decoding filters


def quadrature_weights(directions: np.ndarray, neighbours: int = 6) -> np.ndarray:
    """Approximate solid-angle weights (sum 1) of scattered directions: each point's share is the square of its
    mean angular distance to its nearest neighbours (a Voronoi cell's area, up to a constant, on a locally regular
    grid). Good enough for a least-squares fit over any measured HRTF grid."""
    d = np.asarray(directions, dtype=np.float64)
    cos = np.clip(d @ d.T, -1.0, 1.0)
    np.fill_diagonal(cos, -2.0)
    k = min(neighbours, len(d) - 1)
    nearest = -np.sort(-cos, axis=1)[:, :k]
    spacing = np.arccos(np.clip(nearest, -1.0, 1.0)).mean(axis=1)
    w = spacing ** 2
    return w / w.sum()


def _smooth_fractional_octave(power: np.ndarray, freqs: np.ndarray, fraction: float = 3.0) -> np.ndarray:
    out = np.empty_like(power)
    half = 2.0 ** (0.5 / fraction)
    cumulative = np.concatenate([[0.0], np.cumsum(power)])
    for k, f in enumerate(freqs):
        lo = np.searchsorted(freqs, f / half, "left")
        hi = max(lo + 1, np.searchsorted(freqs, f * half, "right"))
        out[k] = (cumulative[hi] - cumulative[lo]) / (hi - lo)
    return out


def _minimum_phase(magnitude: np.ndarray, nfft: int) -> np.ndarray:
    """The minimum-phase spectrum (rfft bins of an nfft-point grid) with the given magnitude (real cepstrum)."""
    cepstrum = np.fft.irfft(np.log(np.maximum(magnitude, 1e-9)), nfft)
    folded = np.zeros(nfft)
    folded[0] = cepstrum[0]
    folded[1 : nfft // 2] = 2.0 * cepstrum[1 : nfft // 2]
    folded[nfft // 2] = cepstrum[nfft // 2]
    return np.exp(np.fft.rfft(folded))


def diffuse_field_eq(spectra: np.ndarray, weights: np.ndarray, rate: int, nfft: int,
                     band: tuple[float, float] = (200.0, 16000.0)) -> np.ndarray:
    """Minimum-phase equaliser (rfft bins) that flattens the diffuse-field power of `spectra` (M, 2, K): the
    direction-weighted mean power over both ears, 1/3-octave smoothed, held constant outside `band` (where a
    measurement's loudspeaker and microphone say little), limited to ±18 dB."""
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
    power = np.einsum("m,mek->k", weights, np.abs(spectra) ** 2) / 2.0
    smooth = _smooth_fractional_octave(power, freqs)
    lo, hi = np.searchsorted(freqs, band[0]), min(np.searchsorted(freqs, band[1]), len(freqs) - 1)
    smooth[:lo] = smooth[lo]
    smooth[hi:] = smooth[hi]
    gain = 1.0 / np.sqrt(smooth)
    reference = np.exp(np.mean(np.log(gain[lo:hi])))
    gain = np.clip(gain, reference * 10 ** (-18 / 20), reference * 10 ** (18 / 20))
    return _minimum_phase(gain, nfft)


def default_magls_cutoff(order: int) -> float:
    """Where least squares hands over to magnitude least squares: 500·(N+1) Hz, i.e. 1, 1.5 and 2 kHz for orders
    1–3 — a little above where an order-N fit stops being accurate for a head of radius 8.75 cm
    (N·c / (2π·r) ≈ N·620 Hz), and below 1.5–2 kHz, where fine-structure time differences stop being heard."""
    return float(min(2000.0, max(1000.0, 500.0 * (order + 1))))


def decoder_filters(hrtf: Hrtf, order: int, taps: int | None = None, magls_cutoff: float | None = None,
                    equalise: bool = True, regularisation: float = 1e-3) -> np.ndarray:
    """SH-domain binaural decoding FIRs (2 ears, (order+1)² AmbiX SN3D/ACN channels, taps) at `hrtf.rate`.

    Least squares below `magls_cutoff` (default `default_magls_cutoff(order)`), MagLS above, each frequency solved
    with Tikhonov regularisation `regularisation`·mean eigenvalue (directions are missing below some elevation in
    most sets, e.g. KEMAR's −40°); the result is windowed to `taps` (default 512 at 48 kHz, scaled) with a
    half-Hann fade over its last eighth.
    """
    rate = hrtf.rate
    taps = taps or int(round(FILTER_TAPS_48K * rate / 48000))
    cutoff = default_magls_cutoff(order) if magls_cutoff is None else float(magls_cutoff)
    nfft = 1 << max(10, int(math.ceil(math.log2(2 * max(taps, hrtf.irs.shape[-1])))))
    spectra = np.fft.rfft(hrtf.irs, nfft, axis=-1)  # (M, 2, K)
    weights = quadrature_weights(hrtf.directions)
    if equalise:
        spectra = spectra * diffuse_field_eq(spectra, weights, rate, nfft)
    # Fit around the set's bulk delay (its median onset), put back afterwards: MagLS continues each bin's phase
    # from the last, so without this the high band would come out with no delay, ahead of the low band.
    bulk = float(np.median(_onsets(hrtf.irs)))
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
    spectra = spectra * np.exp(2j * np.pi * freqs * bulk / rate)
    y = sh_sn3d(order, hrtf.directions)  # (M, nsh)
    gram = y.T @ (weights[:, None] * y)
    gram += regularisation * np.trace(gram) / len(gram) * np.eye(len(gram))
    solver = np.linalg.solve(gram, y.T * weights)  # (nsh, M): coefficients = solver @ values over directions
    split = max(1, int(np.searchsorted(freqs, cutoff)))
    coefficients = np.empty((2, y.shape[1], len(freqs)), dtype=complex)
    # Least squares, all bins below the cutoff at once.
    coefficients[:, :, :split] = np.einsum("nm,mek->enk", solver, spectra[:, :, :split])
    # MagLS, bin by bin: magnitude of the HRTF, phase of the previous bin's fit.
    magnitude = np.abs(spectra)
    previous = y @ coefficients[:, :, split - 1].T  # (M, 2)
    for k in range(split, len(freqs)):
        target = magnitude[:, :, k] * np.exp(1j * np.angle(previous))
        solved = solver @ target  # (nsh, 2)
        coefficients[:, :, k] = solved.T
        previous = y @ solved
    coefficients *= np.exp(-2j * np.pi * freqs * bulk / rate)
    filters = np.fft.irfft(coefficients, nfft, axis=-1)[..., :taps]
    fade = max(1, taps // 8)
    filters[..., taps - fade :] *= 0.5 * (1 + np.cos(np.pi * (np.arange(fade) + 1) / fade))
    return filters
