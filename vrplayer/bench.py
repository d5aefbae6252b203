"""`vrplayer bench`: push a film through the real pipeline as fast as it goes, and measure it.

The pipeline is the player's, minus the pacing: VideoDecoder (worker thread, bounded queue) → SphereRenderer.upload
→ draw into an OffscreenDisplay → present (glFinish), every frame, no clock, no vsync, nothing dropped. The sound is
decoded by an AudioDecoder (48 kHz stereo) and mixed by a Mixer in 512-frame blocks up to the current picture's time,
as the audio callback would, but not played. Afterwards, exact seeks to seeded random times on a fresh VideoDecoder.

Nothing here asserts a timing: the figures are returned (and printed as JSON by the CLI) for people and scripts to
judge. See bench/README.md for what each one means.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import sys
import time

import numpy as np

from vrplayer.errors import MediaError
from vrplayer.view import ViewState

AUDIO_RATE = 48000
AUDIO_CHANNELS = 2
MIX_BLOCK = 512  # frames per mixer.fill call, like a typical audio callback
GET_TIMEOUT = 30.0  # seconds to wait for one decoded frame before calling the film broken
SEEK_SEED = 20240501
SEEK_SETTLE = 0.2  # seconds between seeks, so each starts from a decoder in its steady state (queue full)
_PTS_EPSILON = 1e-4  # pts are rounded to the stream's time base


def run(path: str, size: tuple[int, int] = (640, 360), frames: int | None = None, seeks: int = 5, overlays=()) -> dict:
    """Bench `path` rendered at `size` (width, height); stop after `frames` frames if given; then `seeks` exact seeks.
    `overlays`: each has cards_at(film, t) → cards drawn over every picture, as the player draws them (subtitles)."""
    from OpenGL import GL

    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.render.renderer import SphereRenderer

    width, height = size
    started = time.perf_counter()
    display = OffscreenDisplay((width, height))
    renderer = SphereRenderer()
    context_ms = (time.perf_counter() - started) * 1000
    try:
        result = {
            "file": path,
            "size": f"{width}x{height}",
            "gl_renderer": _gl_string(GL, GL.GL_RENDERER),
            "cpus": os.cpu_count(),
            "context_ms": round(context_ms, 1),
        }
        result.update(_play_through(path, display, renderer, (0, 0, width, height), frames, overlays))
        result.update(_seeks(path, display, renderer, (0, 0, width, height), seeks))
        result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        result["ru_maxrss_mb"] = round(_ru_maxrss_mb(), 1)  # may include a parent's peak (see _peak_rss_mb)
        return result
    finally:
        renderer.close()
        display.close()


# -- the play-through -------------------------------------------------------------------------------------------


def _play_through(path, display, renderer, viewport, max_frames, overlays=()) -> dict:
    from vrplayer.audio.mixer import Mixer
    from vrplayer.media.audio import AudioDecoder
    from vrplayer.media.video import EndOfStream, VideoDecoder
    from vrplayer.render.overlay import OverlayRenderer

    view = ViewState()
    overlay = OverlayRenderer() if overlays else None
    perf = time.perf_counter
    opened = perf()
    video = VideoDecoder(path)
    audio = mixer = None
    try:
        try:
            audio = AudioDecoder(path, AUDIO_RATE, AUDIO_CHANNELS)
        except LookupError:
            audio = None  # no sound: nothing to mix
        expected = _expected_frames(video, max_frames)
        step = max(1, round(expected / 10))

        # Start as the player does (Playback.goto): ask both decoders for time 0, wait for the picture, then for the
        # sound, open the mixer's gate for that generation, show the picture.
        video.seek(0.0)
        generation = audio.seek(0.0) if audio is not None else None
        first = video.get(timeout=GET_TIMEOUT)
        if first is None:
            raise MediaError(f"{path}: no picture decoded within {GET_TIMEOUT:.0f} s")
        if isinstance(first, EndOfStream):
            raise MediaError(f"{path}: no pictures in the video stream")
        if audio is not None:
            deadline = time.monotonic() + 2.0
            while not audio.ready(generation) and time.monotonic() < deadline:
                time.sleep(0.001)
            mixer = Mixer(audio.ring, 1.0)
            mixer.restart(generation)
            mixer.paused = False
        block = np.zeros((MIX_BLOCK, AUDIO_CHANNELS), np.float32)  # preallocated once: fill never allocates it

        wait_s = upload_s = draw_s = mix_s = audio_wait_s = upload_cpu_s = 0.0
        cpu_start, cpu_wall_start = time.process_time(), perf()
        mixed_blocks = 0
        rss_samples: list[float] = [round(_rss_mb(), 1)]
        count = 0
        first_frame_ms = None
        t_first = t_last = None
        item = first
        while True:
            t0 = perf()
            c0 = time.thread_time()
            renderer.upload(item)
            upload_cpu_s += time.thread_time() - c0
            t1 = perf()
            renderer.draw(view, viewport)
            if overlay is not None:
                overlay.draw_window([card for o in overlays for card in o.cards_at(path, item.pts)], view, viewport)
            display.present()
            t2 = perf()
            upload_s += t1 - t0
            draw_s += t2 - t1
            count += 1
            t_last = t2
            if t_first is None:
                t_first = t2
                first_frame_ms = (t2 - opened) * 1000
            if mixer is not None:
                m, w, b = _mix_until(mixer, audio.ring, block, item.pts)
                mix_s += m
                audio_wait_s += w
                mixed_blocks += b
            if count % step == 0:
                rss_samples.append(round(_rss_mb(), 1))
                elapsed = t_last - t_first
                fps = (count - 1) / elapsed if elapsed > 0 else 0.0
                print(f"bench: {count}/{expected} frames, {fps:.1f} fps, RSS {rss_samples[-1]:.0f} MB", file=sys.stderr, flush=True)
            if max_frames is not None and count >= max_frames:
                break
            t0 = perf()
            item = video.get(timeout=GET_TIMEOUT)
            wait_s += perf() - t0
            if item is None:
                raise MediaError(f"{path}: the decoder stalled (no frame within {GET_TIMEOUT:.0f} s)")
            if isinstance(item, EndOfStream):
                break
        cpu_s, cpu_wall = time.process_time() - cpu_start, perf() - cpu_wall_start
        if count % step != 0:
            rss_samples.append(round(_rss_mb(), 1))
        elapsed = (t_last - t_first) if count > 1 else 0.0
        return {
            "frames": count,
            "seconds": round(elapsed, 3),
            # Frames presented after the first, over the time from the first presented to the last.
            "fps": round((count - 1) / elapsed, 2) if elapsed > 0 else None,
            # The same counting the start-up too: all frames over open → last presented.
            "fps_incl_start": round(count / (t_last - opened), 2),
            "first_frame_ms": round(first_frame_ms, 1),
            "wait_decode_ms": _per_frame(wait_s, count - 1),
            "upload_ms": _per_frame(upload_s, count),
            "upload_cpu_ms": _per_frame(upload_cpu_s, count),  # the player thread's own CPU time in upload
            "draw_ms": _per_frame(draw_s, count),
            "audio_mix_ms": _per_frame(mix_s, count) if mixer is not None else 0.0,
            "audio_wait_ms": _per_frame(audio_wait_s, count) if mixer is not None else 0.0,
            "audio_blocks": mixed_blocks,
            "audio_underruns": mixer.underruns if mixer is not None else 0,
            "has_audio": mixer is not None,
            # CPU seconds of the whole process (decoder threads, llvmpipe's threads, Python) per wall second, first
            # frame presented to the last: about os.cpu_count() means every core was busy.
            "cpu_per_wall": round(cpu_s / cpu_wall, 2) if cpu_wall > 0 else None,
            "pixel_format": first.frame.format.name,
            "video_size": f"{first.width}x{first.height}",
            "frame_rate": round(video.frame_rate, 3),
            "converted_from": video.converted_from,
            "rss_mb": rss_samples,
            "dropped": 0,
        }
    finally:
        first = item = None  # frames are released before their decoder is freed
        video.close()
        if audio is not None:
            audio.close()
        if overlay is not None:
            overlay.close()


def _mix_until(mixer, ring, block, pts: float) -> tuple[float, float, int]:
    """Mix 512-frame blocks until the mixed sound reaches `pts`. Returns (seconds mixing, seconds waiting, blocks)."""
    perf = time.perf_counter
    mix_s = wait_s = 0.0
    blocks = 0
    while ring.pts_at(ring.read_position) < pts:
        if ring.available() < len(block) and not ring.finished:
            # The sound decoder is behind (it never should be for long): wait for it, as a real device would not.
            t0 = perf()
            deadline = t0 + GET_TIMEOUT
            while ring.available() < len(block) and not ring.finished and perf() < deadline:
                time.sleep(0.0005)
            wait_s += perf() - t0
            if ring.available() < len(block) and not ring.finished:
                break
        if ring.available() == 0 and ring.finished:
            break
        t0 = perf()
        mixer.fill(block, 0.0, time.monotonic())
        mix_s += perf() - t0
        blocks += 1
    return mix_s, wait_s, blocks


# -- exact seeks ------------------------------------------------------------------------------------------------


def _seeks(path, display, renderer, viewport, count) -> dict:
    from vrplayer.media.video import EndOfStream, VideoDecoder

    if count <= 0:
        return {"seeks": 0, "seek_ms_median": None, "seek_ms_max": None, "seek_exact": None, "seek_results": []}
    view = ViewState()
    decoder = VideoDecoder(path)
    try:
        duration = _duration(decoder)
        frame_pts = _packet_pts(path)
        if not duration:
            duration = (frame_pts[-1] + decoder.frame_duration) if frame_pts else 0.0
        targets = seek_targets(duration, decoder.frame_duration, count)
        results = []
        for target in targets:
            t0 = time.perf_counter()
            decoder.seek(target)
            item = decoder.get(timeout=GET_TIMEOUT)
            if item is None or isinstance(item, EndOfStream):
                results.append({"target": target, "ms": None, "pts": None, "exact": False})
                continue
            renderer.upload(item)
            renderer.draw(view, viewport)  # which sends the planes' tiles the view needs
            display.present()
            ms = (time.perf_counter() - t0) * 1000
            exact = item.pts <= target + _PTS_EPSILON and target < item.pts + item.duration + _PTS_EPSILON
            if frame_pts:  # and it is the frame the file says is on screen then
                expected = max((p for p in frame_pts if p <= target + _PTS_EPSILON), default=frame_pts[0])
                exact = exact and abs(expected - item.pts) < _PTS_EPSILON
            results.append({"target": target, "ms": round(ms, 1), "pts": round(item.pts, 4), "exact": exact})
            time.sleep(SEEK_SETTLE)
        times = [r["ms"] for r in results if r["ms"] is not None]
        return {
            "seeks": len(results),
            "seek_ms_median": round(statistics.median(times), 1) if times else None,
            "seek_ms_max": round(max(times), 1) if times else None,
            "seek_exact": all(r["exact"] for r in results),
            "seek_results": results,
        }
    finally:
        item = None  # frames are released before their decoder is freed
        decoder.close()


def seek_targets(duration: float, frame_duration: float, count: int) -> list[float]:
    """The seeded (so every run, and the decode-only baseline, uses the same) random seek times within the film."""
    rng = random.Random(SEEK_SEED)
    top = max(0.0, duration - frame_duration)
    return [round(rng.uniform(0.0, top), 4) for _ in range(count)]


def _packet_pts(path: str) -> list[float]:
    """Every video frame's start time (media seconds, sorted), from the packets: no decoding."""
    from vrplayer.media.container import open_container, origin_seconds, video_stream

    container = open_container(path)
    try:
        stream = video_stream(container, path)
        origin = origin_seconds(container)
        pts = [float(p.pts * p.time_base) - origin for p in container.demux(stream) if p.pts is not None]
    finally:
        container.close()
    return sorted(pts)


# -- helpers ----------------------------------------------------------------------------------------------------


def _duration(decoder) -> float | None:
    stream = decoder.stream
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    container = stream.container
    return container.duration / 1_000_000 if container.duration else None


def _expected_frames(decoder, max_frames: int | None) -> int:
    total = decoder.stream.frames or 0
    if not total:
        duration = _duration(decoder)
        total = int(round(duration * decoder.frame_rate)) if duration else 0
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    return max(1, total)


def _per_frame(seconds: float, count: int) -> float:
    return round(seconds * 1000 / count, 3) if count > 0 else 0.0


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            resident = int(handle.read().split()[1])
        return resident * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return _peak_rss_mb()


def _peak_rss_mb() -> float:
    """Peak resident memory of this process.

    Linux's getrusage ru_maxrss survives exec: a `vrplayer bench` started by a big parent (one that has just encoded
    a 4K film, say) reports the parent's peak. /proc/self/status VmHWM is this program's own, so it comes first.
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return _ru_maxrss_mb()


def _ru_maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _gl_string(GL, name) -> str | None:
    try:
        value = GL.glGetString(name)
        return value.decode() if isinstance(value, bytes) else value
    except Exception:
        return None
