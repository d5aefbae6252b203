#!/usr/bin/env python3
"""Heat-map speed: an audience of 100 viewers × 10 minutes of film at 10 Hz (written as our own trace files), read
back and turned into a 1024×512 head-direction map and figures for every 2 s window of the film; then the sliding
window of a heat-map video at 10 pictures a second. Figures are ratios against the film's duration (goal: the
maps ≥ 10× faster than the film), whole runs with reading the traces included; RSS is sampled every 10 % (memory
must stay flat).

    .venv/bin/python bench/heatmap_bench.py [--viewers 100] [--minutes 10] [--rate 10] [--size 1024x512]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vrplayer.analytics import maps  # noqa: E402
from vrplayer.analytics.importers import load_all  # noqa: E402
from vrplayer.analytics.trace import TraceWriter, header  # noqa: E402


def log(text: str) -> None:
    print(f"heatmap_bench: {text}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_audience(folder: str, viewers: int, seconds: float, rate: float, seed: int = 7) -> None:
    """Viewers who look around the way people do: a slow random walk of the head, mostly near the front."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    film = {"name": "bench.mp4", "width": 3840, "height": 1920, "duration": seconds, "sha256_first_mib": None}
    for v in range(viewers):
        yaw = np.cumsum(rng.normal(0, 2.0, n)) * 0.98 + rng.normal(0, 30)
        pitch = np.clip(np.cumsum(rng.normal(0, 0.8, n)) * 0.9, -60, 60)
        writer = TraceWriter(os.path.join(folder, f"viewer{v:03d}.jsonl"), header(film, {"kind": "bench", "fov": [90, 90]}, rate, "bench", "bench"))
        for i in range(n):
            writer.sample(i / rate, (yaw[i] + 180) % 360 - 180, pitch[i], 0.0)
        writer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0, help="samples per second (default 10)")
    parser.add_argument("--size", default="1024x512")
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--video-rate", type=float, default=10.0, help="pictures a second of the sliding-window run (default 10)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="heatmap-bench-") as folder:
        log(f"writing {args.viewers} traces of {seconds:.0f} s at {args.rate:g} Hz")
        write_audience(folder, args.viewers, seconds, args.rate)
        started = time.perf_counter()
        traces = load_all([folder])
        read_s = time.perf_counter() - started
        windows = int(np.ceil(seconds / args.window))
        rss = [round(rss_mb(), 1)]
        peak = 0.0
        for k in range(windows):
            start, end = k * args.window, (k + 1) * args.window
            heat = maps.normalise(maps.window_map(traces, start, end, width, height, maps.SIGMA_DEG))
            maps.figures([maps.in_window(t.samples, start, end)[:, 1:3] for t in traces])
            peak = max(peak, float(heat.max()))
            if (k + 1) % max(1, windows // 10) == 0:
                rss.append(round(rss_mb(), 1))
                log(f"windows {k + 1}/{windows}, {time.perf_counter() - started:.1f} s, RSS {rss[-1]} MB")
        maps_s = time.perf_counter() - started
        # The video's sliding window: samples added as they enter and taken away as they leave.
        started_video = time.perf_counter()
        step, half = 1.0 / args.video_rate, args.window / 2
        heat = maps.window_map(traces, -half, half, width, height, maps.SIGMA_DEG)
        pictures = int(seconds * args.video_rate)
        for i in range(1, pictures):
            t = i * step
            heat += maps.window_map(traces, t - step + half, t + half, width, height, maps.SIGMA_DEG)
            heat -= maps.window_map(traces, t - step - half, t - half, width, height, maps.SIGMA_DEG)
            maps.normalise(np.clip(heat, 0, None))
            if i % max(1, pictures // 10) == 0:
                log(f"sliding window: {i}/{pictures} pictures, {time.perf_counter() - started_video:.1f} s")
        video_s = time.perf_counter() - started_video
    samples = sum(len(t.samples) for t in traces)
    figures = {
        "viewers": args.viewers, "film_s": seconds, "samples": samples, "size": f"{width}x{height}", "windows": windows,
        "read_s": round(read_s, 2), "maps_s_incl_read": round(maps_s, 2), "maps_speed_x_film": round(seconds / maps_s, 1),
        "sliding_pictures": pictures, "sliding_s": round(video_s, 2), "sliding_speed_x_film": round(seconds / video_s, 1),
        "rss_mb_every_10pct": rss, "rss_growth_mb": round(rss[-1] - rss[1], 1) if len(rss) > 2 else None,
    }
    print(f"{args.viewers} viewers × {seconds:.0f} s at {args.rate:g} Hz ({samples} samples), maps {width}x{height}, {args.window:g} s windows:")
    print(f"  reading the traces {read_s:.1f} s; {windows} maps and figures in {maps_s:.1f} s with reading: "
          f"{seconds / maps_s:.1f}× faster than the film (goal ≥ 10×: {'met' if seconds / maps_s >= 10 else 'NOT met'})")
    print(f"  sliding window, {pictures} maps at {args.video_rate:g} a second: {video_s:.1f} s, {seconds / video_s:.1f}× faster than the film")
    print(f"  RSS every 10 % of the windows: {rss} MB")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
