#!/usr/bin/env python3
"""Camera-file speed: a 5.6K GoPro MAX-like `.360` (two 4096×1344 HEVC tracks with camera-like grain, 30 fps)
played through `vrplayer bench` at 640×360 — both tracks decoded in lockstep, put together as one 4032×2688 EAC
picture, uploaded and drawn — against FFmpeg decoding both tracks (decode only) in the same round. The ratio is
pairs of pictures per second over ffmpeg's pairs per second; whole runs, start-up included. Nothing is asserted.

    .venv/bin/python bench/camera_bench.py [--seconds 5] [--repeat 3] [--size 640x360]

Each round first waits (up to --quiet-wait) for other processes to leave the CPU, as run_bench.py does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "sample_media"))

from run_bench import CACHE, vrplayer_bench, wait_quiet  # noqa: E402

FACE, STRIP = 1344, 32  # the MAX's 5.6K tracks: 4096 × 1344


def log(text: str) -> None:
    print(f"camera_bench: {text}", file=sys.stderr, flush=True)


def gopro_film(seconds: float) -> str:
    """The 5.6K GoPro-like film, made once into the bench cache (a textured canvas, grain new every frame)."""
    import numpy as np

    from camera_films import gopro_max

    path = os.path.join(CACHE, f"gopro_max_5.6k_{seconds:g}s.360")
    if os.path.exists(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    y, x = np.mgrid[0:2 * FACE, 0:3 * FACE]
    canvas = np.stack([(x * 255 // (3 * FACE)), (y * 255 // (2 * FACE)), ((x // 48 + y // 48) % 2) * 120 + 60], -1)
    frames, started = int(seconds * 30), time.perf_counter()
    log(f"making a 5.6K GoPro-like film, {seconds:g} s ({frames} pairs of HEVC pictures) -> {path}")

    def progress(done: int) -> None:
        if done % 30 == 0 or done == frames:
            log(f"  {done}/{frames} pairs written, {time.perf_counter() - started:.0f} s")

    tmp = path + ".part.360"
    gopro_max(tmp, canvas.astype(np.uint8), seconds=seconds, fps=30, strip=STRIP, grain=6, progress=progress)
    os.replace(tmp, path)
    return path


def ffmpeg_both_tracks(path: str) -> dict:
    """ffmpeg decoding both video tracks, nothing else: pairs (the first track's frames) per wall second."""
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-benchmark", "-i", path, "-map", "0:v:0", "-map", "0:v:1",
               "-f", "null", "-"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    frames = [int(n) for n in re.findall(r"frame=\s*(\d+)", result.stderr)]
    count = frames[-1] if frames else 0
    return {"pairs": count, "seconds": round(wall, 3), "fps": round(count / wall, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="film length (default 5)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--size", default="640x360", help="render size (default 640x360)")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait for a quiet machine per round")
    args = parser.parse_args()
    film = gopro_film(args.seconds)
    rounds = []
    for number in range(1, args.repeat + 1):
        busy = wait_quiet(args.quiet_wait)
        ffmpeg = ffmpeg_both_tracks(film)
        started = time.perf_counter()
        ours = vrplayer_bench(film, args.size, seeks=0)
        ours["fps_whole_run"] = round(ours.get("frames", 0) / (time.perf_counter() - started), 2)
        ratio = ours["fps_whole_run"] / ffmpeg["fps"] if ffmpeg["fps"] else None
        rounds.append({"round": number, "busy_cores_before": round(busy, 2), "ffmpeg_both_tracks": ffmpeg,
                       "vrplayer": {k: ours.get(k) for k in ("frames", "fps", "fps_whole_run", "first_frame_ms",
                                                             "wait_decode_ms", "draw_ms", "peak_rss_mb")},
                       "ratio": round(ratio, 3) if ratio else None})
        log(f"round {number}: ffmpeg both tracks {ffmpeg['fps']} pairs/s, vrplayer {args.size} "
            f"{ours['fps_whole_run']} pictures/s (whole run) -> {rounds[-1]['ratio']} x ffmpeg")
    ratios = [r["ratio"] for r in rounds if r["ratio"]]
    summary = {"film": os.path.basename(film), "size": args.size, "rounds": rounds,
               "ratio_median": round(statistics.median(ratios), 3) if ratios else None}
    print(json.dumps(summary, indent=2))
    log(f"median ratio {summary['ratio_median']} x ffmpeg decoding both tracks ({len(ratios)} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
