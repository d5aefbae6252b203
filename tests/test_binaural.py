"""Binaural rendering, measured: interaural level and time differences of sources around the head, before and after
the head turns; head-locked sound; the pose cross-fade; the limiter; block-size independence; memory; the SOFA
reader and its errors.

Conventions: ambisonic azimuth is left-positive (+90 = left); our view yaw is RIGHT-positive, so the head turns
toward a source on the left with yaw −90. ILD = left − right level in dB; ITD > 0 when the LEFT ear hears first.
Every physical test runs on a synthetic spherical-head HRTF written here as a SOFA file (always available), and
on the KEMAR set from Debian's libmysofa1 when it is installed.
"""

from __future__ import annotations

import math
import os
import tracemalloc

import numpy as np
import pytest

from vrplayer.audio import ambisonics as A
from vrplayer.audio import hrtf as H
from vrplayer.audio.binaural import BinauralRenderer
from vrplayer.formats import sound

h5py = pytest.importorskip("h5py")

RATE = 48000
BLOCK = 512
SAMPLE = 1.0 / RATE


# ---------------------------------------------------------------------------------------------------------------
# A synthetic HRTF: a sphere of radius 8.75 cm, ears at ±y. Each ear hears a source at direction d with a delay
# t0 − (a/c)·(d·ear) (so the interaural time difference is 2a/c·d_y, 510 µs at the side) and a gain
# (1 + 0.6·(d·ear))·(1 + 0.25·d_x): 12 dB interaural level difference at the side, and sources ahead 4.4 dB louder
# than behind (a crude pinna), so front and back can be told apart.


def fibonacci_directions(count: int) -> np.ndarray:
    i = np.arange(count) + 0.5
    z = 1 - 2 * i / count
    az = np.pi * (1 + 5 ** 0.5) * i
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(az), r * np.sin(az), z], axis=1)


def fractional_delay(delay: float, taps: int) -> np.ndarray:
    n = np.arange(taps)
    half = 16
    h = np.sinc(n - delay) * np.where(np.abs(n - delay) < half, 0.5 * (1 + np.cos(np.pi * (n - delay) / half)), 0.0)
    return h


def write_sofa(path, directions=None, rate=RATE, taps=256, swap_receivers=False, view=(1.0, 0.0, 0.0), **overrides):
    d = fibonacci_directions(600) if directions is None else directions
    radius, c, t0 = 0.0875, 343.0, 0.001
    irs = np.zeros((len(d), 2, taps))
    for ear, side in enumerate((1.0, -1.0)):  # left ear at +y
        facing = d[:, 1] * side
        for m in range(len(d)):
            delay = (t0 - radius / c * facing[m]) * rate
            irs[m, ear] = (1 + 0.6 * facing[m]) * (1 + 0.25 * d[m, 0]) * fractional_delay(delay, taps)
    receivers = np.array([[[0.0], [0.09], [0.0]], [[0.0], [-0.09], [0.0]]])
    if swap_receivers:
        irs, receivers = irs[:, ::-1], receivers[::-1]
    # The file's frame: the listener faces `view`; rotate the directions into it.
    v = np.asarray(view, dtype=float)
    left = np.cross([0.0, 0.0, 1.0], v)
    frame = np.stack([v, left, np.cross(v, left)])  # rows: front, left, up in file coordinates
    file_dirs = d @ frame
    az = np.degrees(np.arctan2(file_dirs[:, 1], file_dirs[:, 0])) % 360
    el = np.degrees(np.arcsin(np.clip(file_dirs[:, 2], -1, 1)))
    positions = np.stack([az, el, np.full(len(d), 1.2)], axis=1)
    with h5py.File(path, "w") as f:
        f.attrs["Conventions"] = overrides.get("Conventions", "SOFA")
        f.attrs["SOFAConventions"] = overrides.get("SOFAConventions", "SimpleFreeFieldHRIR")
        f.attrs["DataType"] = overrides.get("DataType", "FIR")
        f.create_dataset("Data.IR", data=overrides.get("ir", irs))
        f.create_dataset("Data.SamplingRate", data=np.array([float(rate)]))
        sp = f.create_dataset("SourcePosition", data=positions)
        sp.attrs["Type"] = "spherical"
        sp.attrs["Units"] = "degree, degree, metre"
        f.create_dataset("ReceiverPosition", data=receivers)
        lv = f.create_dataset("ListenerView", data=v[None, :])
        lv.attrs["Type"] = "cartesian"
        f.create_dataset("ListenerUp", data=np.array([[0.0, 0.0, 1.0]]))
    return str(path)


@pytest.fixture(scope="module")
def synthetic_sofa(tmp_path_factory):
    return write_sofa(tmp_path_factory.mktemp("hrtf") / "sphere.sofa")


@pytest.fixture(scope="module", params=["synthetic", "kemar"])
def sofa(request, synthetic_sofa):
    if request.param == "kemar":
        if not os.path.exists(H.DEFAULT_SOFA):
            pytest.skip("Debian's libmysofa1 (the KEMAR HRTF) is not installed")
        return H.DEFAULT_SOFA
    return synthetic_sofa


# ---------------------------------------------------------------------------------------------------------------
# Measuring


NOISE = np.random.default_rng(7).standard_normal(RATE // 2).astype(np.float32) * 0.05


def render(renderer: BinauralRenderer, frames: np.ndarray, block: int = BLOCK, poses=None) -> np.ndarray:
    out = np.zeros((len(frames), 2), np.float32)
    for i, start in enumerate(range(0, len(frames), block)):
        if poses is not None:
            renderer.set_view(*poses(i))
        renderer.render(frames[start : start + block], out[start : start + block])
    return out


def lowpass(x: np.ndarray, cutoff: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    spectrum[np.fft.rfftfreq(len(x), SAMPLE) > cutoff] = 0.0
    return np.fft.irfft(spectrum, len(x))


def ild_itd(out: np.ndarray) -> tuple[float, float]:
    """(ILD dB, ITD seconds): broadband level ratio; the lag of the interaural cross-correlation below 1.5 kHz,
    where the fine-structure time difference is heard and where the decoder is least squares (above it MagLS gives
    up the phase for the magnitude), with parabolic interpolation. ITD > 0: the left ear is earlier."""
    skip = 2048  # the filters' start-up
    left, right = out[skip:, 0].astype(np.float64), out[skip:, 1].astype(np.float64)
    ild = 10 * math.log10(np.sum(left ** 2) / np.sum(right ** 2))
    left, right = lowpass(left, 1500.0), lowpass(right, 1500.0)
    n = len(left)
    corr = np.fft.irfft(np.fft.rfft(left, 2 * n) * np.conj(np.fft.rfft(right, 2 * n)), 2 * n)
    max_lag = 96
    corr = np.concatenate([corr[-max_lag:], corr[: max_lag + 1]])
    k = int(np.argmax(corr))
    offset = 0.0
    if 0 < k < len(corr) - 1:
        offset = 0.5 * (corr[k - 1] - corr[k + 1]) / (corr[k - 1] - 2 * corr[k] + corr[k + 1])
    return ild, -(k - max_lag + offset) * SAMPLE


def level(out: np.ndarray) -> float:
    return 10 * math.log10(np.mean(out[2048:].astype(np.float64) ** 2))


def plane_wave(order: int, azimuth: float, elevation: float = 0.0, signal=NOISE) -> np.ndarray:
    return (signal[:, None] * A.encode(order, azimuth, elevation)[None, :]).astype(np.float32)


def renderer_for(name: str, sofa: str, **kwargs) -> BinauralRenderer:
    return BinauralRenderer(sound.parse_format_name(name), RATE, sofa_path=sofa, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Sources around the head


@pytest.mark.parametrize("order", [1, 2, 3])
def test_source_on_the_left_then_turning_toward_it(sofa, order):
    renderer = renderer_for(f"ambix{order}", sofa)
    source = plane_wave(order, 90)  # ambisonic azimuth +90: on the left
    ild, itd = ild_itd(render(renderer, source))
    assert ild > 3.0 and itd > 200e-6, (ild, itd)
    renderer.reset()
    renderer.set_view(-90)  # our yaw −90: the head turns left, toward it
    turned = render(renderer, source)
    ild, itd = ild_itd(turned)
    assert abs(ild) < 0.5 and abs(itd) < SAMPLE, (ild, itd)
    # Ahead, not behind (where ILD and ITD would be near zero too): it sounds as a source ahead sounds.
    ahead = render(renderer_for(f"ambix{order}", sofa), plane_wave(order, 0))
    behind = render(renderer_for(f"ambix{order}", sofa), plane_wave(order, 180))
    assert np.allclose(turned, ahead, atol=1e-5)
    assert np.abs(ahead - behind).max() > 0.1 * np.abs(ahead).max()


@pytest.mark.parametrize("order", [1, 3])
def test_mirror_source_on_the_right(sofa, order):
    renderer = renderer_for(f"ambix{order}", sofa)
    source = plane_wave(order, -90)
    ild, itd = ild_itd(render(renderer, source))
    assert ild < -3.0 and itd < -200e-6, (ild, itd)
    renderer.reset()
    renderer.set_view(90)
    ild, itd = ild_itd(render(renderer, source))
    assert abs(ild) < 0.5 and abs(itd) < SAMPLE, (ild, itd)


def test_turning_away_puts_a_frontal_source_on_the_other_side(sofa):
    renderer = renderer_for("ambix3", sofa)
    renderer.set_view(30)  # head turns right: a source straight ahead is now on the left
    ild, itd = ild_itd(render(renderer, plane_wave(3, 0)))
    assert ild > 1.0 and itd > 50e-6, (ild, itd)


def test_surround_front_left_speaker(sofa):
    renderer = renderer_for("5.1", sofa)
    frames = np.zeros((len(NOISE), 6), np.float32)
    frames[:, 0] = NOISE  # FL, 30° to the left
    ild, itd = ild_itd(render(renderer, frames))
    assert ild > 2.0 and itd > 100e-6, (ild, itd)
    renderer.reset()
    renderer.set_view(-30)  # face it
    ild, itd = ild_itd(render(renderer, frames))
    assert abs(ild) < 0.5 and abs(itd) < SAMPLE, (ild, itd)


def test_fuma_and_tbe_place_a_left_source_on_the_left(sofa):
    w, y, z, x = A.encode(1, 90)
    fuma = (NOISE[:, None] * np.array([w / math.sqrt(2), x, y, z])[None, :]).astype(np.float32)
    ild, itd = ild_itd(render(renderer_for("fuma1", sofa), fuma))
    assert ild > 3.0 and itd > 200e-6
    ambix = A.encode(2, 90)
    forward = [(0, 0.488603), (1, -0.488603), (3, 0.488603), (2, 0.488603), (8, -0.630783), (4, -0.630783),
               (5, -0.630783), (7, 0.630783)]
    tbe = np.zeros((len(NOISE), 8), np.float32)
    for k, (acn, gain) in enumerate(forward):
        tbe[:, k] = NOISE * gain * ambix[acn]
    ild, itd = ild_itd(render(renderer_for("tbe", sofa), tbe))
    assert ild > 3.0 and itd > 200e-6


# ---------------------------------------------------------------------------------------------------------------
# Head-locked sound, cross-fade, limiter, blocks


def test_head_locked_stereo_ignores_the_head(synthetic_sofa):
    renderer = renderer_for("ambix1+stereo", synthetic_sofa)
    frames = np.zeros((len(NOISE), 6), np.float32)
    frames[:, 4] = NOISE
    frames[:, 5] = -0.5 * NOISE
    rng = np.random.default_rng(1)
    out = render(renderer, frames, poses=lambda i: rng.uniform(-180, 180, 3))
    assert np.array_equal(out, frames[:, 4:])
    # With a sound field as well, the head-locked part is still added untouched.
    frames[:, :4] = plane_wave(1, 45)
    field_only = frames.copy()
    field_only[:, 4:] = 0.0
    poses = [rng.uniform(-180, 180, 3) for _ in range(len(NOISE) // BLOCK + 1)]
    a = render(renderer_for("ambix1+stereo", synthetic_sofa), frames, poses=lambda i: poses[i])
    b = render(renderer_for("ambix1+stereo", synthetic_sofa), field_only, poses=lambda i: poses[i])
    assert np.allclose(a - b, frames[:, 4:], atol=1e-6)


def test_fast_head_turn_has_no_step(synthetic_sofa):
    """A 400 Hz tone on the left while the head turns 90° within one block: the output's first difference stays
    within what the tone itself produces; switching the pose between blocks without the cross-fade would step."""
    t = np.arange(RATE // 4) * SAMPLE
    tone = (0.3 * np.sin(2 * np.pi * 400 * t)).astype(np.float32)
    source = plane_wave(1, 90, signal=tone)
    turn = 20  # the block during which the head turns
    renderer = renderer_for("ambix1", synthetic_sofa)
    out = render(renderer, source, poses=lambda i: (0.0 if i < turn else -90.0, 0.0, 0.0))
    diff = np.abs(np.diff(out, axis=0))
    steady = max(diff[2048 : turn * BLOCK - 64].max(), diff[(turn + 2) * BLOCK :].max())
    around = diff[turn * BLOCK - 64 : (turn + 1) * BLOCK + 64].max()
    assert around <= 1.05 * steady, (around, steady)
    # The same turn as a hard switch at the block boundary (two fixed renders spliced) does step.
    before = render(renderer_for("ambix1", synthetic_sofa), source)
    after_renderer = renderer_for("ambix1", synthetic_sofa)
    after_renderer.set_view(-90)
    after = render(after_renderer, source)
    spliced = np.concatenate([before[: turn * BLOCK], after[turn * BLOCK :]])
    jump = np.abs(np.diff(spliced, axis=0))[turn * BLOCK - 1].max()
    assert jump > 2.0 * steady, (jump, steady)


def test_limiter(synthetic_sofa):
    t = np.arange(RATE // 2) * SAMPLE
    loud = plane_wave(1, 0, signal=(4.0 * np.sin(2 * np.pi * 300 * t)).astype(np.float32))  # +12 dBFS
    unlimited = render(renderer_for("ambix1", synthetic_sofa, limiter=False), loud)
    assert np.abs(unlimited).max() > 2.0  # the renderer alone would clip
    out = render(renderer_for("ambix1", synthetic_sofa), loud)
    assert np.abs(out).max() <= 1.0
    assert np.abs(out[RATE // 10 :]).max() > 0.85  # limited, not muted
    quiet = plane_wave(1, 0, signal=(0.1 * np.sin(2 * np.pi * 300 * t)).astype(np.float32))  # −20 dBFS
    assert np.array_equal(render(renderer_for("ambix1", synthetic_sofa), quiet),
                          render(renderer_for("ambix1", synthetic_sofa, limiter=False), quiet))


def test_limiter_recovers_and_is_smooth(synthetic_sofa):
    t = np.arange(RATE) * SAMPLE
    signal = 0.2 * np.sin(2 * np.pi * 300 * t)
    signal[RATE // 4 : RATE // 4 + 2400] *= 20.0  # a 50 ms burst at +12 dB
    out = render(renderer_for("ambix1", synthetic_sofa), plane_wave(1, 0, signal=signal.astype(np.float32)))
    reference = render(renderer_for("ambix1", synthetic_sofa, limiter=False), plane_wave(1, 0, signal=signal.astype(np.float32)))
    assert np.abs(out).max() <= 1.0
    tail = slice(RATE * 3 // 4, None)  # 0.45 s after the burst: gain back to 1 within 1e-2
    assert np.allclose(out[tail], reference[tail], atol=1e-2 * np.abs(reference[tail]).max())
    gain_steps = np.abs(np.diff(np.abs(out[:, 0]), n=2)).max()
    assert gain_steps < 0.1  # no clicks: the waveform's curvature stays that of a 300 Hz tone (≈ 0.03)


def test_block_size_does_not_matter(synthetic_sofa):
    source = (plane_wave(3, 40, 20) + plane_wave(3, -100, -10)[::-1]).astype(np.float32)
    renderer = lambda: renderer_for("ambix3", synthetic_sofa)  # noqa: E731
    reference = render(renderer(), source, block=512)
    assert np.abs(reference).max() < 0.8  # below the limiter's threshold
    for block in (256, 100, 700, 1500):  # 700 and 1500 are longer than one FFT takes: done in pieces
        r = renderer()
        r.set_view(0.0)
        assert np.allclose(render(r, source, block=block), reference, atol=1e-6), block


def test_plain_sound_passes_through_unchanged(synthetic_sofa):
    stereo = np.random.default_rng(3).standard_normal((1000, 2)).astype(np.float32)
    renderer = BinauralRenderer(sound.parse_format_name("stereo"), RATE)
    renderer.set_view(90, 10, 5)
    assert renderer.passthrough and np.array_equal(renderer.render(stereo), stereo)
    mono = stereo[:, :1]
    assert np.array_equal(BinauralRenderer(sound.parse_format_name("mono"), RATE).render(mono), np.repeat(mono, 2, axis=1))
    three, _, _ = sound.format_for(3, None, None)
    wide = np.random.default_rng(4).standard_normal((100, 3)).astype(np.float32)
    assert np.array_equal(BinauralRenderer(three, RATE).render(wide), wide[:, :2])


def test_reset_forgets_the_sound_in_flight(synthetic_sofa):
    renderer = renderer_for("ambix1", synthetic_sofa)
    render(renderer, plane_wave(1, 30))
    renderer.reset()
    silence = np.zeros((BLOCK, 4), np.float32)
    assert not np.any(renderer.render(silence))


def test_memory_does_not_grow(synthetic_sofa):
    renderer = renderer_for("ambix3+stereo", synthetic_sofa)
    block = np.random.default_rng(5).standard_normal((BLOCK, 18)).astype(np.float32) * 0.1
    out = np.zeros((BLOCK, 2), np.float32)
    for i in range(10):
        renderer.set_view(i, 0, 0)
        renderer.render(block, out)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(300):
            renderer.set_view(i * 0.7, math.sin(i) * 20, 0)  # a new pose every block: the costly path
            renderer.render(block, out)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 2048
    assert peak - before < 32 * 1024  # a new rotation matrix's few small arrays, nothing block-sized


# ---------------------------------------------------------------------------------------------------------------
# HRTF files


def test_kemar_raw_figures():
    if not os.path.exists(H.DEFAULT_SOFA):
        pytest.skip("Debian's libmysofa1 (the KEMAR HRTF) is not installed")
    hrtf = H.load_sofa()
    assert hrtf.rate == 44100 and hrtf.irs.shape[:2] == (710, 2)
    i = hrtf.nearest(90)
    assert (hrtf.azimuth[i], hrtf.elevation[i]) == pytest.approx((90, 0))
    left, right = hrtf.irs[i]
    ild = 10 * math.log10(np.sum(left ** 2) / np.sum(right ** 2))
    corr = np.correlate(left, right, "full")
    itd = -(np.argmax(corr) - (len(right) - 1)) / hrtf.rate
    assert ild == pytest.approx(11.9, abs=0.3) and itd == pytest.approx(726e-6, abs=30e-6)


def test_sofa_reader_follows_receivers_and_listener_view(tmp_path, synthetic_sofa):
    reference = H.load_sofa(synthetic_sofa)
    swapped = H.load_sofa(write_sofa(tmp_path / "swapped.sofa", swap_receivers=True))
    assert np.allclose(swapped.irs, reference.irs) and np.allclose(swapped.directions, reference.directions)
    turned = H.load_sofa(write_sofa(tmp_path / "turned.sofa", view=(0.0, 1.0, 0.0)))
    assert np.allclose(turned.directions, reference.directions, atol=1e-9)
    left = reference.nearest(90)
    assert reference.irs[left, 0].max() > 2 * reference.irs[left, 1].max()  # ear 0 is the left one


def test_resampling_is_band_limited():
    t = np.arange(2048)
    tone = np.sin(2 * np.pi * 1000 * t / 44100) * np.hanning(2048)
    up = H.resample(tone, 44100, 48000)
    t48 = np.arange(len(up))
    expected = np.sin(2 * np.pi * 1000 * t48 / 48000) * np.interp(t48 * 44100 / 48000, t, np.hanning(2048))
    assert len(up) == math.ceil(2048 * 48000 / 44100)
    assert np.max(np.abs(up - expected)) < 2e-3
    high = np.sin(2 * np.pi * 30000 * np.arange(4096) / 96000) * np.hanning(4096)
    assert np.max(np.abs(H.resample(high, 96000, 48000))) < 1e-3  # above the new Nyquist: removed


def test_filters_fit_the_length_budget(synthetic_sofa):
    hrtf = H.load_sofa(synthetic_sofa, rate=RATE)
    filters = H.decoder_filters(hrtf, 3)
    assert filters.shape == (2, 16, 512)
    assert np.all(np.isfinite(filters))


@pytest.mark.parametrize("make, words", [
    (lambda p: None, "not found"),
    (lambda p: p.write_bytes(b"not hdf5 at all"), "not HDF5"),
    (lambda p: write_sofa(p, Conventions="", SOFAConventions=""), "not a SOFA file"),
    (lambda p: write_sofa(p, DataType="TF"), "type TF"),
    (lambda p: write_sofa(p, ir=np.zeros((600, 3, 64))), "Data.IR has shape"),
])
def test_sofa_errors_are_one_line(tmp_path, make, words):
    path = tmp_path / "bad.sofa"
    make(path)
    with pytest.raises(H.HrtfError) as error:
        H.load_sofa(str(path))
    message = str(error.value)
    assert words in message and "\n" not in message and str(path) in message


def test_a_films_decoded_ambix_through_the_renderer(tmp_path, synthetic_sofa):
    """The whole chain as the player will run it: an MP4 whose AAC track holds first-order AmbiX + head-locked
    stereo (SA3D "ambisonic 1+stereo", coded as a 6-channel layout without LFE) with a source on the left; decode
    and resample with PyAV keeping the track's own layout (no remix), decide the format, render."""
    import av

    from vrplayer.media.sa3d import read_sa3d

    path = str(tmp_path / "left.mp4")
    frames = np.zeros((len(NOISE), 6), np.float32)
    frames[:, :4] = plane_wave(1, 90)
    with av.open(path, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=RATE, layout="hexagonal")
        stream.metadata["SA3D"] = "ambisonic 1+stereo"
        for start in range(0, len(frames), 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(frames[start : start + 1024].T), format="fltp",
                                               layout="hexagonal")
            frame.sample_rate, frame.pts = RATE, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with av.open(path) as container:
        stream = container.streams.audio[0]
        fmt, source, warning = sound.format_for(stream.codec_context.channels, read_sa3d(path), None, None,
                                                layout_name=stream.layout.name)
        assert (fmt.name, source, warning) == ("ambix1+stereo", "SA3D box", None)
        resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=RATE)
        decoded = np.concatenate([out.to_ndarray().reshape(-1, fmt.channels)
                                  for frame in container.decode(stream) for out in resampler.resample(frame)])
    renderer = BinauralRenderer(fmt, RATE, sofa_path=synthetic_sofa)
    ild, itd = ild_itd(render(renderer, decoded))
    assert ild > 3.0 and itd > 200e-6, (ild, itd)
