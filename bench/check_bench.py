#!/usr/bin/env python3
"""How fast `vrplayer check` reads a 4K film: the whole run (start-up included) against the film's duration and
against FFmpeg's own loudness pass over the same file, measured in the same run.

    .venv/bin/python bench/check_bench.py              # 3840×1920 60 s H.264 + stereo AAC, 3 rounds
    .venv/bin/python bench/check_bench.py --seconds 10 --rounds 1   # a smoke run

The film is made once with `sample_media/make_sample.py`'s `make_film` (x264 preset ultrafast, a key frame a
second) and kept in bench/.cache/. Each round runs both commands, interleaved; the median of each is printed.
Nothing asserts a time: the goal (faster than real time) is printed next to the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
sys.path.insert(0, str(ROOT / "sample_media"))


def film(seconds: float) -> Path:
    import make_sample

    path = CACHE / f"check_3840x1920_{seconds:g}s.mp4"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.mp4")
        started = time.perf_counter()
        print(f"making {path.name} (once) …", file=sys.stderr)
        make_sample.make_film(str(partial), width=3840, height=1920, seconds=seconds, fps=30,
                              extra_options={"preset": "ultrafast"})
        partial.rename(path)
        print(f"made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - started, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="the film's length (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each timing both commands (default 3)")
    args = parser.parse_args()
    path = film(args.seconds)
    check = [sys.executable, "-m", "vrplayer", "-q", "check", str(path), "--json"]
    ffmpeg = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null", "-"]
    ours, theirs, facts = [], [], None
    for _ in range(args.rounds):
        seconds, done = timed(check)
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return 1
        ours.append(seconds)
        facts = json.loads(done.stdout)["facts"]
        seconds, done = timed(ffmpeg)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        theirs.append(seconds)
    duration = facts["duration"]
    check_s, ffmpeg_s = statistics.median(ours), statistics.median(theirs)
    figures = {
        "film": path.name, "duration_s": round(duration, 3), "size_mb": round(facts["size_bytes"] / 1e6, 1),
        "check_s": round(check_s, 2), "ffmpeg_ebur128_s": round(ffmpeg_s, 2),
        "check_per_duration": round(check_s / duration, 3), "check_per_ffmpeg": round(check_s / ffmpeg_s, 2),
        "rounds": args.rounds, "check_runs_s": [round(s, 2) for s in ours], "ffmpeg_runs_s": [round(s, 2) for s in theirs],
    }
    print(f"vrplayer check: {check_s:.2f} s for {duration:.0f} s of film = {check_s / duration:.3f} × real time "
          f"(goal: below 1); ffmpeg ebur128 pass: {ffmpeg_s:.2f} s; check ÷ ffmpeg = {check_s / ffmpeg_s:.2f}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
