"""The binaural block renderer: a film's decoded audio block (frames × channels, float32, in its `AudioFormat`) and
the listener's head orientation in, two ear signals (frames × 2, float32) out.

Per block:

1. the track's channels become AmbiX at the render order (`ambisonics.format_matrices`: channel map, FuMa/TBE
   conversion, virtual loudspeakers for 5.1/7.1/quad) and are rotated by the SH rotation of the newest head pose
   (`sh_rotation(order, field_rotation)`, see `vrplayer.audio.ambisonics` for axes and signs); both matrices are
   folded into one (SH × channels). When the pose changed since the last block, the block is rendered with the
   previous matrix and the new one and the two are cross-faded sample by sample across the block (a linear
   interpolation of the matrix: no step, no zipper noise); the block's last sample uses the new pose fully;
2. FFT overlap-add convolution with the SH-domain decoding filters (`vrplayer.audio.hrtf.decoder_filters`: LS +
   MagLS, ≤ 512 taps at 48 kHz): one real FFT per SH channel, a multiply-add per ear, two inverse FFTs, for up to
   FFT size − taps + 1 = 513 frames at a time (longer blocks go in pieces; any block size works, and the output
   does not depend on how the stream is cut into blocks while the head is still);
3. the head-locked stereo (and a speaker layout's LFE) is added, unrotated and unfiltered;
4. a soft limiter (below): nothing ever leaves above 0 dBFS.

Plain sound (mono, stereo, or the stereo fallback of an unknown layout) passes through unchanged: no HRTF, no
limiter. Latency: none added by the block processing (overlap-add works on the block it is given); the filters'
own delay is `delay_frames` (about 0.7 ms with KEMAR).

Real-time use: `render` allocates no arrays of its own except a few small ones (≈ 10 KB, freed at once) when the
head pose changed (the SH rotation matrix); every signal buffer is preallocated and numpy works in place (`out=`),
so memory never grows (tests/test_binaural.py checks this with tracemalloc). Cost at third order: about 0.2–0.3 ms
per 512-frame block on one core (bench/audio_bench.py). `set_rotation` (any thread) hands over the newest pose by
one reference assignment; `render` picks it up at its next block, so the sound follows the head with at most one
block (10.7 ms at 512 / 48 kHz) plus the device's output latency.

Limiter: look-ahead-free, so no delay. A block's gain target is threshold / block peak (threshold −1 dBFS); the
gain falls linearly to it over 1 ms and recovers exponentially (100 ms time constant), then a soft clipper
(tanh above the threshold, asymptote 1.0) catches what the 1 ms attack lets through. Below −1 dBFS with the gain
recovered it does nothing at all (bit-exact identity).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import numpy as np

from vrplayer.audio.ambisonics import (
    LFE_GAIN,
    SPEAKER_ORDER,
    field_rotation_from_matrix,
    field_rotation_from_quaternion,
    field_rotation_from_view,
    format_matrices,
    render_order,
    sh_rotation,
)
from vrplayer.audio.hrtf import Hrtf, _onsets, decoder_filters, load_sofa
from vrplayer.formats.sound import AudioFormat, channels_for_order

LIMIT_THRESHOLD = 10 ** (-1.0 / 20)  # −1 dBFS
LIMIT_ATTACK_S = 0.001
LIMIT_RELEASE_S = 0.1


@lru_cache(maxsize=8)
def _cached_filters(sofa_path: str | None, rate: int, order: int) -> tuple[np.ndarray, int]:
    hrtf = load_sofa(sofa_path, rate)
    return decoder_filters(hrtf, order), int(np.median(_onsets(hrtf.irs)))


class SoftLimiter:
    """The limiter described in the module docstring, on (2, frames) float64 C-contiguous blocks, in place."""

    def __init__(self, rate: int, max_frames: int, threshold: float = LIMIT_THRESHOLD):
        self.threshold = threshold
        self.gain = 1.0
        steps = np.arange(1, max_frames + 1, dtype=np.float64)
        self._release = np.exp(-steps / (LIMIT_RELEASE_S * rate))  # decay^(i+1)
        self._attack = np.minimum(1.0, steps / max(1.0, LIMIT_ATTACK_S * rate))
        self._g = np.empty(max_frames)
        self._a = np.empty(max_frames)
        self._work = np.empty(2 * max_frames)
        self._work2 = np.empty(2 * max_frames)

    def reset(self) -> None:
        self.gain = 1.0

    def process(self, block: np.ndarray) -> None:
        """Limit `block` ((2, m) float64, C-contiguous, m ≤ max_frames) in place."""
        m = block.shape[1]
        t = self.threshold
        flat = block.reshape(-1)
        mag = self._work[: 2 * m]
        peak = float(np.max(np.abs(flat, out=mag)))
        if self.gain >= 1.0 and peak <= t:
            return
        target = min(1.0, t / peak)
        g0 = self.gain
        g, a = self._g[:m], self._a[:m]
        # release: 1 − (1 − g0)·decay^(i+1)
        np.multiply(self._release[:m], g0 - 1.0, out=g)
        g += 1.0
        if target < g0:  # attack: g0 → target linearly over the attack time, then held
            np.multiply(self._attack[:m], target - g0, out=a)
            a += g0
        else:
            a.fill(target)
        np.minimum(g, a, out=g)
        self.gain = float(g[-1])
        block[0] *= g  # row by row: numpy buffers broadcast operations, and this runs in the audio callback
        block[1] *= g
        # soft clip: |y| → min(|y|, t + (1 − t)·tanh((|y| − t)/(1 − t))), sign kept
        knee = self._work2[: 2 * m]
        np.abs(flat, out=mag)
        np.subtract(mag, t, out=knee)
        np.maximum(knee, 0.0, out=knee)
        knee *= 1.0 / (1.0 - t)
        np.tanh(knee, out=knee)
        knee *= 1.0 - t
        knee += t
        np.minimum(mag, knee, out=mag)
        np.copysign(mag, flat, out=flat)


class BinauralRenderer:
    """Renders blocks of one film's audio in `fmt` at `rate` for headphones, following the head.

    `hrtf`: a loaded `Hrtf` at `rate` (default: `sofa_path` read with `load_sofa`, which defaults to Debian's
    KEMAR set; filters are cached per file, rate and order). `order`: cap on the SH order (CPU); `speaker_order`:
    the order virtual loudspeakers are encoded at; `lfe_gain`: the LFE's gain to both ears.
    """

    def __init__(self, fmt: AudioFormat, rate: int, hrtf: Hrtf | None = None, sofa_path: str | None = None,
                 order: int | None = None, speaker_order: int = SPEAKER_ORDER, lfe_gain: float = LFE_GAIN,
                 limiter: bool = True):
        self.format = fmt
        self.rate = int(rate)
        self.channels = fmt.channels
        to_sh, bus = format_matrices(fmt, speaker_order, lfe_gain)
        self._bus = bus
        self.passthrough = to_sh is None
        self.order = 0
        self.delay_frames = 0
        self._pending = np.eye(3)
        self._pending_time = 0.0
        self.turned_at = 0.0  # monotonic time the newest pose that changed the sound was set (for latency figures)
        self._applied = None
        if self.passthrough:
            self._mono = fmt.channels == 1
            return
        order = render_order(fmt, speaker_order) if order is None else min(order, render_order(fmt, speaker_order))
        to_sh = to_sh[: channels_for_order(order)]
        self.order = order
        if hrtf is not None:
            if hrtf.rate != self.rate:
                raise ValueError(f"HRTF at {hrtf.rate} Hz for output at {self.rate} Hz")
            filters, self.delay_frames = decoder_filters(hrtf, order), int(np.median(_onsets(hrtf.irs)))
        else:
            filters, self.delay_frames = _cached_filters(sofa_path, self.rate, order)
        nsh = channels_for_order(order)
        taps = filters.shape[-1]
        self.fft_size = n = 1 << int(math.ceil(math.log2(2 * taps)))
        self.chunk = n - taps + 1  # frames one FFT can take without circular wrap
        self._filters = np.fft.rfft(filters, n, axis=-1)  # (2, nsh, K) complex128
        self._to_sh = np.ascontiguousarray(to_sh, dtype=np.float64)  # (nsh, C)
        self._has_bus = bool(np.any(bus))
        c, k = fmt.channels, n // 2 + 1
        # Every buffer an operation writes is C-contiguous (chunk-sized views are cut from flat storage): numpy
        # allocates an internal buffer for any operation on strided or broadcast operands.
        self._x = np.zeros((self.chunk, c))  # input frames as float64
        self._time = np.zeros(nsh * self.chunk)  # rotated SH signals (nsh, m)
        self._delta = np.zeros(nsh * self.chunk)
        self._ramp = np.zeros(nsh * self.chunk)  # cross-fade weights tiled over the SH channels (nsh, m)
        self._ramp_key = None
        self._padded = np.zeros((nsh, n))  # (columns ≥ m are zero)
        self._padded_used = 0
        self._spectrum = np.zeros((nsh, k), dtype=complex)
        self._product = np.zeros((2, nsh, k), dtype=complex)
        self._ears_spectrum = np.zeros((2, k), dtype=complex)
        self._ears = np.zeros((2, n))
        self._acc = np.zeros((2, n))  # overlap-add accumulator, circular
        self._pos = 0
        self._stage = np.zeros(2 * self.chunk)  # (2, m)
        self._bus_out = np.zeros(2 * self.chunk)
        self._rot = np.zeros((nsh, nsh))
        self._matrix = self._to_sh.copy()  # rotation · conversion in use (identity rotation)
        self._matrix_new = np.zeros_like(self._matrix)
        self._matrix_diff = np.zeros_like(self._matrix)
        self._limiter = SoftLimiter(self.rate, self.chunk) if limiter else None

    # -- head pose (any thread) ----------------------------------------------------------------------------------

    def set_rotation(self, field_rotation: np.ndarray) -> None:
        """The newest field rotation (3×3, ambisonic axes; see `ambisonics.field_rotation_from_view`). The same
        rotation again is no news: the callback then keeps its matrices instead of making them anew."""
        rotation = np.array(field_rotation, dtype=np.float64)
        if np.array_equal(rotation, self._pending):
            return
        self._pending_time = time.monotonic()
        self._pending = rotation

    def set_view(self, yaw_deg: float, pitch_deg: float = 0.0, roll_deg: float = 0.0) -> None:
        """The head looks at (yaw, pitch, roll), our view conventions in degrees."""
        self.set_rotation(field_rotation_from_view(yaw_deg, pitch_deg, roll_deg))

    def set_quaternion(self, x: float, y: float, z: float, w: float) -> None:
        """The head's OpenXR orientation quaternion."""
        self.set_rotation(field_rotation_from_quaternion(x, y, z, w))

    def set_head_matrix(self, head: np.ndarray) -> None:
        """The head as a camera → world matrix in our axes (the one the picture is drawn with, recentering
        included), so sound and picture turn together."""
        self.set_rotation(field_rotation_from_matrix(head))

    def reset(self) -> None:
        """Forget the sound in flight (after a seek): overlap tails and limiter gain. The pose is kept and applied
        at once (no cross-fade) on the next block. Call it on the thread that renders (e.g. from the audio callback
        when the mixer starts a new generation), or while the stream is stopped."""
        if self.passthrough:
            return
        self._acc.fill(0.0)
        self._pos = 0
        if self._limiter is not None:
            self._limiter.reset()
        self._applied = None

    # -- audio (one thread) ----------------------------------------------------------------------------------------

    def render(self, block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Render `block` (frames × channels) into `out` (frames × 2 or more; extra columns get silence) and
        return it; `out` None allocates one (not for the audio callback)."""
        frames = len(block)
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise ValueError(f"block of shape {block.shape}, expected (frames, {self.channels})")
        if out is None:
            out = np.zeros((frames, 2), dtype=np.float32)
        if out.shape[1] > 2:
            out[:, 2:] = 0.0
        if self.passthrough:
            if self._mono:
                out[:, 0] = block[:, 0]
                out[:, 1] = block[:, 0]
            else:
                out[:, :2] = block[:, :2]
            return out
        crossfade = self._update_rotation()
        for start in range(0, frames, self.chunk):
            m = min(self.chunk, frames - start)
            self._render_chunk(block[start : start + m], out[start : start + m], crossfade, start, frames)
        if crossfade:
            self._matrix, self._matrix_new = self._matrix_new, self._matrix
        return out

    def _update_rotation(self) -> bool:
        """Take the newest pose; True when it differs from the one in use (the block then cross-fades)."""
        pending = self._pending
        if pending is self._applied:
            return False
        sh_rotation(self.order, pending, out=self._rot)
        first = self._applied is None
        self._applied = pending
        if first:
            np.matmul(self._rot, self._to_sh, out=self._matrix)
            return False
        np.matmul(self._rot, self._to_sh, out=self._matrix_new)
        if np.array_equal(self._matrix_new, self._matrix):
            return False
        np.subtract(self._matrix_new, self._matrix, out=self._matrix_diff)
        self.turned_at = self._pending_time  # when the head pose that turns the sound now was handed over
        return True

    def _ramp_for(self, m: int, start: int, total: int) -> np.ndarray:
        """Cross-fade weights (frame start+i+1)/total for frames start..start+m−1, tiled over the SH channels; made
        again only when the block geometry changes (in steady playback: once)."""
        nsh = self._to_sh.shape[0]
        ramp = self._ramp[: nsh * m].reshape(nsh, m)
        if self._ramp_key != (m, start, total):
            ramp[:] = (np.arange(start + 1, start + m + 1, dtype=np.float64) / total)[None, :]
            self._ramp_key = (m, start, total)
        return ramp

    def _render_chunk(self, block: np.ndarray, out: np.ndarray, crossfade: bool, start: int, total: int) -> None:
        m = len(block)
        n = self.fft_size
        nsh = self._to_sh.shape[0]
        x = self._x[:m]
        np.copyto(x, block)
        time = self._time[: nsh * m].reshape(nsh, m)
        np.matmul(self._matrix, x.T, out=time)
        if crossfade:
            delta = self._delta[: nsh * m].reshape(nsh, m)
            np.matmul(self._matrix_diff, x.T, out=delta)
            delta *= self._ramp_for(m, start, total)
            time += delta
        if m < self._padded_used:
            self._padded[:, m : self._padded_used] = 0.0
        self._padded_used = m
        np.copyto(self._padded[:, :m], time)  # columns from m on stay zero
        np.fft.rfft(self._padded, axis=1, out=self._spectrum)
        np.multiply(self._spectrum, self._filters, out=self._product)
        np.sum(self._product, axis=1, out=self._ears_spectrum)
        np.fft.irfft(self._ears_spectrum, n, axis=1, out=self._ears)
        # Overlap-add into the circular accumulator at the current position, ear by ear (1-D slices).
        stage = self._stage[: 2 * m].reshape(2, m)
        p = self._pos
        first = min(m, n - p)
        for ear in range(2):
            acc, ears, row = self._acc[ear], self._ears[ear], stage[ear]
            acc[p:] += ears[: n - p]
            if p:
                acc[:p] += ears[n - p :]
            row[:first] = acc[p : p + first]
            acc[p : p + first] = 0.0
            if m > first:
                row[first:] = acc[: m - first]
                acc[: m - first] = 0.0
        self._pos = (p + m) % n
        if self._has_bus:
            bus = self._bus_out[: 2 * m].reshape(2, m)
            np.matmul(self._bus, x.T, out=bus)
            stage += bus
        if self._limiter is not None:
            self._limiter.process(stage)
        np.copyto(out[:, :2].T, stage, casting="same_kind")
