#!/usr/bin/env python3
"""Compare-mode speed: two 1920×960 cuts (H.264 with camera-like grain, so they decode like real footage) compared
at 640×360 as fast as it goes — both decoded in lockstep (`CutPair`: every frame of A, B's frame due at the same
moment), each drawn by its own sphere renderer (a wipe or a split straight into its columns of the picture, the
difference through a texture per cut and a composite pass), presented (glFinish) — against FFmpeg's decode-only
frame rate of one of the films, measured in the same run. Two decodes share the machine's cores, so the goal is
≥ 0.45 × one film's decode-only rate (about half: a little more is possible where, as on 2 cores, ffmpeg alone
leaves part of the machine idle; the difference samples both films at every pixel, twice a wipe's rasterising).

Figures are ratios to ffmpeg decode-only of the same round, whole runs: opening both films, the EGL context and the
first pictures included. Nothing is asserted.

    .venv/bin/python bench/compare_bench.py [--seconds 10] [--repeat 3] [--modes wipe,split,toggle,difference] [--size 640x360]

Like run_bench.py, each round first waits (up to --quiet-wait) for other processes to leave the CPU: on a shared
2-core machine anything else running takes its share from the two decodes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from run_bench import CACHE, busy_cores, ensure_clip, ffmpeg_decode, wait_quiet  # noqa: E402

GOAL = 0.45


def log(text: str) -> None:
    print(f"compare_bench: {text}", file=sys.stderr, flush=True)


def film_pair(seconds: float) -> tuple[str, str]:
    """A and B: the same scene, encoded at two qualities (their pictures differ a little, as two cuts' do)."""
    paths = []
    for name, crf in (("a", 21), ("b", 23)):
        spec = dict(label=f"1920x960 H.264 cut {name.upper()}", path=os.path.join(CACHE, f"compare_{name}_1920x960_{seconds:g}s.mp4"),
                    width=1920, height=960, seconds=seconds, codec="libx264", pix_fmt="yuv420p", grain=6, crf=crf)
        paths.append(ensure_clip(spec))
    return paths[0], paths[1]


def compare_through(path_a: str, path_b: str, size: tuple[int, int], mode: str) -> dict:
    """Every frame of A with B's frame at the same moment, composed in `mode` and presented; timed from opening."""
    from vrplayer.creator.compare_view import CompareDrawing
    from vrplayer.creator.cut_pair import CutPair
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.render.compare_pass import Composition
    from vrplayer.view import ViewState

    started = time.perf_counter()
    cpu_started = time.process_time()
    display = OffscreenDisplay(size)
    pair = CutPair(path_a, path_b, 0.0)
    drawing = CompareDrawing([cut.playback.layout.layout for cut in pair.cuts], ("A", "B"))
    composition, view = Composition(mode), ViewState()
    frames = both = 0
    first_ms = None
    try:
        pair.goto(0.0, paused=True)
        while True:
            drawing.draw([cut.shown for cut in pair.cuts], view, composition, size, labels=["A 0:00.0", "B 0:00.0"])
            display.present()
            frames += 1
            both += all(cut.shown is not None for cut in pair.cuts)
            if first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000
            before = pair.a.shown
            pair.step(1, pair.a)  # A's next frame, and B's at the same moment (waiting for both decoders)
            if pair.a.shown is before:
                break  # A's last frame was on show
        wall = time.perf_counter() - started
        return {"mode": mode, "frames": frames, "seconds": round(wall, 3), "fps": round(frames / wall, 2),
                "first_picture_ms": round(first_ms, 1), "cpu_per_wall": round((time.process_time() - cpu_started) / wall, 2),
                "pictures_with_both": both}
    finally:
        drawing.close()
        pair.close()
        display.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the films (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each measuring every route once; medians reported (default 3)")
    parser.add_argument("--modes", default="wipe,split,toggle,difference", help="comparison modes to time (default wipe,split,toggle,difference)")
    parser.add_argument("--size", default="640x360", help="the comparison's size (default 640x360)")
    parser.add_argument("--quiet-wait", type=float, default=60.0, metavar="S", help="before each round, wait up to S seconds for other processes to leave the CPU (default 60; 0: don't)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON to OUT")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    modes = args.modes.split(",")
    path_a, path_b = film_pair(args.seconds)
    ffmpeg_runs, runs, busy = [], {mode: [] for mode in modes}, []
    for round_ in range(1, args.repeat + 1):
        busy.append(wait_quiet(args.quiet_wait) if args.quiet_wait > 0 else busy_cores())
        log(f"round {round_}/{args.repeat} (other processes used {busy[-1]:.2f} cores just before)")
        ffmpeg_runs.append(ffmpeg_decode(path_a))
        log(f"  ffmpeg decode-only, one film: {ffmpeg_runs[-1]['fps']:.1f} fps")
        for mode in modes:
            runs[mode].append(compare_through(path_a, path_b, size, mode))
            ratio = runs[mode][-1]["fps"] / ffmpeg_runs[-1]["fps"]
            log(f"  compare {mode} {args.size}: {runs[mode][-1]['fps']:.1f} fps = {ratio:.3f} × ffmpeg")
    results = {"films": [os.path.relpath(p, ROOT) for p in (path_a, path_b)], "size": args.size, "rounds": args.repeat,
               "ffmpeg_decode_fps": [r["fps"] for r in ffmpeg_runs], "goal_ratio": GOAL, "busy_cores_before_rounds": busy, "modes": {}}
    print(f"\n{'route':<28} {'fps (median)':>12} {'÷ffmpeg (median of rounds)':>28}  rounds")
    base = statistics.median(r["fps"] for r in ffmpeg_runs)
    print(f"{'ffmpeg decode-only, A':<28} {base:>12.1f} {1.0:>28.3f}")
    for mode in modes:
        ratios = [run["fps"] / ff["fps"] for run, ff in zip(runs[mode], ffmpeg_runs)]
        median = statistics.median(ratios)
        results["modes"][mode] = {"fps": [r["fps"] for r in runs[mode]], "ratio": [round(r, 3) for r in ratios],
                                  "ratio_median": round(median, 3), "first_picture_ms": [r["first_picture_ms"] for r in runs[mode]],
                                  "cpu_per_wall": [r["cpu_per_wall"] for r in runs[mode]], "frames": runs[mode][0]["frames"]}
        verdict = "meets" if median >= GOAL else "below"
        print(f"{'compare ' + mode + ' ' + args.size:<28} {statistics.median(r['fps'] for r in runs[mode]):>12.1f} "
              f"{median:>28.3f}  {', '.join(f'{r:.3f}' for r in ratios)}  ({verdict} the goal {GOAL})")
    text = json.dumps(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
