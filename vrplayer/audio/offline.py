"""A film's sound rendered offline for a fixed head or a scripted head path: `vrplayer render-audio`, so a creator
can check a spatial mix without a headset (and the tests can compare playback with it).

A head path is a text file, one pose per line: `TIME YAW [PITCH [ROLL]]` (seconds of film time, degrees in the
view conventions: yaw right-positive, pitch up-positive), separated by spaces or commas; `#` starts a comment.
Between lines the pose is interpolated linearly (yaw the short way round); before the first and after the last
it holds. Each block of sound takes the pose at its first sample's film time, as playback does with --head-path.
"""

from __future__ import annotations

import bisect
import math
import time
from dataclasses import dataclass

import av
import numpy as np

from vrplayer import log
from vrplayer.audio.soundfield import make_renderer
from vrplayer.errors import MediaError, PlayerError
from vrplayer.media.audio import sound_stream
from vrplayer.media.container import decoded_frames, open_container, origin_seconds
from vrplayer.media.soundtrack import decide_sound

_log = log.get("render-audio")

BLOCK = 512  # frames per rendered block, as the audio callback renders them


@dataclass
class HeadPath:
    times: list[float]
    poses: list[tuple[float, float, float]]

    @classmethod
    def fixed(cls, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> "HeadPath":
        return cls([0.0], [(yaw, pitch, roll)])

    def __call__(self, t: float) -> tuple[float, float, float]:
        i = bisect.bisect_right(self.times, t)
        if i == 0:
            return self.poses[0]
        if i == len(self.times):
            return self.poses[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        a, b = self.poses[i - 1], self.poses[i]
        k = (t - t0) / (t1 - t0)
        turn = (b[0] - a[0] + 180.0) % 360.0 - 180.0  # the short way round
        return (a[0] + k * turn, a[1] + k * (b[1] - a[1]), a[2] + k * (b[2] - a[2]))


def load_head_path(path: str) -> HeadPath:
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise PlayerError(f"cannot read the head path {path} ({exc.strerror}); check the file") from None
    times, poses = [], []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].replace(",", " ").split()
        if not text:
            continue
        try:
            values = [float(v) for v in text]
        except ValueError:
            values = []
        if not 2 <= len(values) <= 4 or not all(math.isfinite(v) for v in values):
            raise PlayerError(f"{path}, line {number}: expected TIME YAW [PITCH [ROLL]] in seconds and degrees, got {line.strip()!r}")
        if times and values[0] <= times[-1]:
            raise PlayerError(f"{path}, line {number}: times must increase ({values[0]:g} after {times[-1]:g})")
        times.append(values[0])
        poses.append(tuple(values[1:] + [0.0] * (4 - len(values))))
    if not times:
        raise PlayerError(f"{path}: no poses in the head path (lines of TIME YAW [PITCH [ROLL]])")
    return HeadPath(times, poses)


def render_file(path: str, output: str, head: HeadPath, rate: int = 48000, audio_format: str | None = None,
                hrtf: str | None = None, manifest_audio: str | None = None, progress=None) -> dict:
    """Render `path`'s sound for headphones with the head following `head`, to a 32-bit float stereo WAV file.
    `progress(done_seconds, total_seconds)` is called now and then. Returns a summary."""
    container = open_container(path)
    try:
        stream = sound_stream(path, container)
        if stream is None:
            raise MediaError(f"{path}: the film has no sound to render")
        cc = stream.codec_context
        sound = decide_sound(path, stream.index, cc.channels, cc.layout.name if cc.layout else None, manifest_audio, audio_format)
        if sound.warning:
            _log.warning("%s: %s", path, sound.warning)
        renderer = make_renderer(sound, rate, hrtf)
        channels = cc.channels if renderer is not None else 2
        resampler = av.AudioResampler(format="flt", layout=cc.layout if renderer is not None else "stereo", rate=rate)
        total = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / av.time_base
        origin = origin_seconds(container)
        written = _render_stream(container, stream, resampler, renderer, channels, rate, head, output, total, origin, progress)
    finally:
        container.close()
    summary = {"file": path, "output": output, "seconds": round(written / rate, 3), "rate": rate,
               "format": sound.format.name, "format_source": sound.source, "binaural": renderer is not None}
    _log.info("wrote %s: %.1f s of %s sound (%s), %s", output, written / rate, sound.format.name, sound.source,
              "rendered for the head" if renderer is not None else "as it is")
    return summary


def _render_stream(container, stream, resampler, renderer, channels, rate, head, output, total, origin, progress) -> int:
    try:
        out = av.open(output, "w", format="wav")
    except (av.error.FFmpegError, OSError) as exc:
        raise PlayerError(f"cannot write {output} ({exc}); check the folder exists and is writable") from None
    with out:
        wav = out.add_stream("pcm_f32le", rate=rate, layout="stereo")
        pending = np.zeros((0, channels), np.float32)
        block_out = np.zeros((BLOCK, 2), np.float32)
        written, next_report = 0, time.monotonic() + 1.0

        def emit(samples: np.ndarray) -> None:
            nonlocal written
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.reshape(1, -1)), format="flt", layout="stereo")
            frame.sample_rate, frame.pts = rate, written
            out.mux(wav.encode(frame))
            written += len(samples)

        def render(block: np.ndarray) -> np.ndarray:
            if renderer is None:
                return block[:, :2]
            renderer.set_view(*head(written / rate))  # the pose at this block's first sample
            return renderer.render(block, block_out[: len(block)])

        frames = decoded_frames(container, stream, lambda: True, lambda packet, exc: None, _log)
        placed = False  # the first samples are put where their timestamp says, as playback does: sample 0 = 0 s
        for decoded in [*frames, None]:
            for chunk in resampler.resample(decoded):
                samples = chunk.to_ndarray().reshape(-1, channels)
                if not placed and chunk.pts is not None:
                    placed = True
                    lead = round((float(chunk.pts * chunk.time_base) - origin) * rate)
                    samples = samples[-lead:] if lead < 0 else np.concatenate([np.zeros((lead, channels), np.float32), samples])
                pending = np.concatenate([pending, samples])
            while len(pending) >= BLOCK or (decoded is None and len(pending)):
                block, pending = pending[:BLOCK], pending[BLOCK:]
                emit(render(block))
            if progress is not None and time.monotonic() >= next_report:
                next_report = time.monotonic() + 1.0
                progress(written / rate, total)
        out.mux(wav.encode(None))
    if progress is not None:
        progress(written / rate, total)
    return written
