#!/usr/bin/env python3
"""Subtitles' cost: the 640×360 pipeline (`vrplayer bench`: decode, upload, draw, present, every frame) of the 4K
H.264 test film with a cue on screen for the whole film against the same without, rounds interleaved in one run;
the goal is within 3 % (the cue is rasterised once, then drawn as one textured quad a frame).

    .venv/bin/python bench/subtitle_bench.py [--seconds 10] [--repeat 3] [--size 640x360]

Figures are whole runs' frames per second (start-up included: `fps_incl_start`) and their ratio; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run_bench import clip_specs, ensure_clip, vrplayer_bench  # noqa: E402

GOAL = 0.97


def log(text: str) -> None:
    print(f"subtitle_bench: {text}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 4K test film (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each with and without the cue (default 3)")
    parser.add_argument("--size", default="640x360", help="render size (default 640x360)")
    args = parser.parse_args()
    clip = ensure_clip(next(spec for spec in clip_specs(args.seconds, 20.0) if spec["key"] == "h264"))
    with tempfile.TemporaryDirectory(prefix="subtitle-bench-") as folder:
        cue = os.path.join(folder, "cue.srt")
        with open(cue, "w", encoding="utf-8") as handle:
            handle.write(f"1\n00:00:00,000 --> 00:{int(args.seconds // 60):02d}:{int(args.seconds % 60) + 1:02d},000\n"
                         "欢迎来到电影节 — Welcome to the festival\nمرحبا بكم في المهرجان\n")
        rounds = []
        for k in range(args.repeat):
            plain = vrplayer_bench(clip, args.size, 0)
            with_cue = vrplayer_bench(clip, args.size, 0, extra=("--subtitles", cue))
            rounds.append((plain["fps_incl_start"], with_cue["fps_incl_start"]))
            log(f"round {k + 1}/{args.repeat}: {plain['fps_incl_start']:.1f} fps without, {with_cue['fps_incl_start']:.1f} with the cue")
    ratios = [b / a for a, b in rounds]
    ratio = statistics.median(ratios)
    print(f"without subtitles {statistics.median(a for a, _ in rounds):.1f} fps, with a cue on screen "
          f"{statistics.median(b for _, b in rounds):.1f} fps: {ratio:.3f} of it (rounds {', '.join(f'{r:.3f}' for r in ratios)}); "
          f"goal ≥ {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")
    print(json.dumps({"rounds": rounds, "ratio": ratio, "goal": GOAL}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
