#!/usr/bin/env python3
"""Films from a web server: time to first frame from a local server, and underruns on a link at 1.5 × the film's
bit rate.

- **Time to first frame** (goal ≤ 1 s): `vrplayer play URL` (offscreen, 640×360, no sound), from starting the
  process to its first picture presented (the timing log's monotonic time): a whole run, Python's start-up, the EGL
  context and the download's start included. Beside it, in the same round: the same film from the local file, and
  `ffmpeg -i URL -frames:v 1 -f null -` (FFmpeg's own start-up, HTTP open and first decoded frame) as the baseline.
- **Underruns on a slow link** (goal 0 after the start): the whole film played behind a link shaped to 1.5 × its
  average bit rate (tc's token bucket on a veth pair into a network namespace, as the tests do; needs root): the
  underruns after it started and the time spent buffering, start included, from the player's closing line.

The film: 1920×960 H.264 with camera-like grain (bench/.cache, made once). Nothing is asserted.

    sudo .venv/bin/python bench/network_bench.py [--seconds 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import shaped_link  # noqa: E402
from film_server import FilmServer  # noqa: E402
from run_bench import CACHE, ensure_clip, wait_quiet  # noqa: E402

VRPLAYER = [sys.executable, "-m", "vrplayer"]
GOAL_FIRST_FRAME = 1.0
LINK_FACTOR = 1.5


def log(text: str) -> None:
    print(f"network_bench: {text}", file=sys.stderr, flush=True)


def first_frame(source: str, wrap=lambda command: command) -> float:
    """Seconds from starting `vrplayer play source` to its first picture on screen."""
    with tempfile.TemporaryDirectory() as folder:
        timing = Path(folder) / "timing.jsonl"
        started = time.monotonic()
        result = subprocess.run(wrap([*VRPLAYER, "play", source, "--display", "offscreen", "--size", "640x360",
                                      "--no-audio", "--duration", "1.5", "--timing-log", str(timing)]),
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise SystemExit(f"network_bench: vrplayer failed: {result.stderr.strip()[-400:]}")
        shown = [json.loads(line)["shown"] for line in timing.read_text().splitlines() if '"pts"' in line]
        return shown[0] - started


def ffmpeg_first_frame(url: str) -> float:
    started = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", url, "-map", "0:v", "-frames:v", "1", "-f", "null", "-"],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def slow_link_play(film: Path, seconds: float) -> dict:
    """The whole film behind a link at LINK_FACTOR × its bit rate: its closing figures."""
    bit_rate = film.stat().st_size * 8 / seconds
    with shaped_link.ShapedLink(LINK_FACTOR * bit_rate) as link, FilmServer(film.parent, host=link.host_address) as server:
        started = time.monotonic()
        result = subprocess.run(link.wrap([*VRPLAYER, "play", server.url(film.name), "--display", "offscreen",
                                           "--size", "640x360", "--no-audio"]),
                                cwd=ROOT, capture_output=True, text=True, timeout=seconds * 4 + 60)
        wall = time.monotonic() - started
    closing = re.search(r"(\d+) frames shown, (\d+) dropped.*?(\d+) buffer underruns, ([\d.]+) s buffering", result.stderr)
    if result.returncode != 0 or closing is None:
        raise SystemExit(f"network_bench: the slow-link play failed: {result.stderr.strip()[-600:]}")
    return {"link_mbit_s": round(LINK_FACTOR * bit_rate / 1e6, 2), "film_mbit_s": round(bit_rate / 1e6, 2),
            "frames_shown": int(closing.group(1)), "frames_dropped": int(closing.group(2)),
            "underruns_after_start": int(closing.group(3)), "buffering_s": float(closing.group(4)),
            "started_buffering": "buffering before the film starts" in result.stderr, "wall_s": round(wall, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="the film's length (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3); the median is kept")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait for a quiet machine per round")
    args = parser.parse_args()
    spec = dict(label="1920x960 H.264 (grain)", path=os.path.join(CACHE, f"network_1920x960_{args.seconds:g}s.mp4"),
                width=1920, height=960, seconds=args.seconds, codec="libx264", pix_fmt="yuv420p", grain=6, crf=23)
    film = Path(ensure_clip(spec))
    rounds = []
    for round_number in range(1, args.repeat + 1):
        busy = wait_quiet(args.quiet_wait)
        with FilmServer(film.parent) as server:
            url = server.url(film.name)
            figures = {"busy_cores": round(busy, 2), "http_s": first_frame(url), "file_s": first_frame(str(film)),
                       "ffmpeg_http_s": ffmpeg_first_frame(url)}
        figures = {key: round(value, 3) for key, value in figures.items()}
        figures["http_over_ffmpeg"] = round(figures["http_s"] / figures["ffmpeg_http_s"], 2)
        figures["http_over_file"] = round(figures["http_s"] / figures["file_s"], 2)
        log(f"round {round_number}: first frame from the server {figures['http_s']:.3f} s (the file "
            f"{figures['file_s']:.3f} s, ffmpeg {figures['ffmpeg_http_s']:.3f} s)")
        rounds.append(figures)
    median = sorted(rounds, key=lambda r: r["http_s"])[len(rounds) // 2]
    out = {"film": {"path": str(film), "bytes": film.stat().st_size, "seconds": args.seconds},
           "first_frame": {**median, "goal_s": GOAL_FIRST_FRAME, "all_http_s": [r["http_s"] for r in rounds],
                           "median_http_s": statistics.median(r["http_s"] for r in rounds)}}
    why = shaped_link.available()
    if why is None:
        log(f"playing the whole film behind a link at {LINK_FACTOR} × its bit rate")
        out["slow_link"] = {**slow_link_play(film, args.seconds), "goal_underruns_after_start": 0}
    else:
        out["slow_link"] = {"skipped": why}
        log(f"slow link skipped: {why}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
