#!/usr/bin/env python3
"""The headset's frame loop, measured against a real OpenXR runtime (Monado's simulated headset, window compositor
on a private Xvfb): each eye drawn (projection layer) against the film handed over as an equirect layer.

Run it where Monado runs (Debian 13, or the root scripts/xr-root.sh builds):

    scripts/xr-root.sh run python bench/xr_bench.py [--seconds 8] [FILM …]

For each film and mode it plays `vrplayer play --display xr` for the given time and reads the player's own
per-film line: headset frames, and per frame the time waiting for the runtime, drawing, submitting, and the CPU of
the frame loop. The baseline, measured in the same run, is the runtime's pacing itself: the same loop submitting
empty frames (drawing nothing), so the figures read as "what drawing the film adds".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

LINE = re.compile(r"headset, (?P<mode>[^:]+): (?P<frames>\d+) frames; per frame: waiting for the runtime (?P<wait>[\d.]+) ms, "
                  r"drawing (?P<draw>[\d.]+) ms, submitting (?P<submit>[\d.]+) ms; CPU of the frame loop (?P<cpu>[\d.]+) ms")


def log(text: str) -> None:
    print(f"xr_bench: {text}", file=sys.stderr, flush=True)


def play(film: str, layer: str, seconds: float, env: dict) -> dict:
    command = [sys.executable, "-m", "vrplayer", "play", film, "--display", "xr", "--xr-layer", layer, "--no-audio",
               "--duration", str(seconds)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 60)
    match = LINE.search(result.stderr)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-400:]}")
    figures = {k: float(v) for k, v in match.groupdict().items() if k != "mode"}
    figures["fps"] = round(figures["frames"] / seconds, 1)
    figures["mode"] = match["mode"]
    return figures


def empty_frames(seconds: float) -> dict:
    """The runtime's own pacing: the frame loop with nothing drawn."""
    from vrplayer.display.xr import XrDisplay
    import time

    headset = XrDisplay()
    try:
        end = time.monotonic() + seconds
        headset.reset_frame_times()
        while time.monotonic() < end:
            headset.poll_events()
            if headset.wait_frame() is None:
                time.sleep(0.01)
                continue
            headset.render_views(None)
        t = headset.frame_times
        return {"frames": t.frames, "fps": round(t.frames / seconds, 1), "wait": round(t.wait_ms, 2),
                "draw": round(t.render_ms, 2), "submit": round(t.end_ms, 2), "cpu": round(t.cpu_ms, 2)}
    finally:
        headset.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("films", nargs="*", metavar="FILM", help="films to play (default: the bundled sample film)")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long each run plays (default 8)")
    args = parser.parse_args(argv)
    films = args.films or [os.path.join(ROOT, "sample_media", "sample_360.mp4")]

    import xr_runtime

    why = xr_runtime.available()
    if why:
        log(f"no OpenXR runtime here: {why}; run: scripts/xr-root.sh run python bench/xr_bench.py")
        return 1
    results = {}
    with xr_runtime.MonadoRuntime() as runtime:
        env = dict(os.environ, **runtime.env, OXR_NO_PRINTING="1")
        os.environ.update(runtime.env, OXR_NO_PRINTING="1")
        log(f"baseline: empty frames for {args.seconds:g} s")
        results["empty"] = empty_frames(args.seconds)
        for film in films:
            for layer in ("projection", "equirect"):
                log(f"{os.path.basename(film)}: {layer}, {args.seconds:g} s")
                results[f"{os.path.basename(film)} {layer}"] = play(film, layer, args.seconds, env)
    base = results["empty"]
    print(f"\n{'run':<36} {'fps':>6} {'wait ms':>8} {'draw ms':>8} {'submit ms':>9} {'loop CPU ms':>11} {'CPU ÷ empty':>11}")
    for name, r in results.items():
        ratio = r["cpu"] / base["cpu"] if base["cpu"] else float("nan")
        print(f"{name:<36} {r['fps']:>6.1f} {r['wait']:>8.2f} {r['draw']:>8.2f} {r['submit']:>9.2f} {r['cpu']:>11.2f} {ratio:>11.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
