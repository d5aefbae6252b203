#!/usr/bin/env python3
"""Spatial-audio cost: CPU per 512-frame block at 48 kHz of the binaural renderer (vrplayer/audio/binaural.py), per
format and order, with the head still and with a new head pose every block (the cross-fade path: two matrices,
one new SH rotation matrix per block), against a baseline measured in the same run: the player's current mixer
work on the same block (the ring's float32 stereo frames times the volume into the output buffer).

Each figure is the median over --blocks blocks of the calling thread's CPU time (time.thread_time_ns), in ms
and as % of one core (a 512-frame block lasts 10.67 ms at 48 kHz), and as a ratio to the baseline; wall-clock
medians are kept in the JSON too. Prints a table, then the figures as JSON (last line of stdout, or --json OUT).
Nothing is asserted: the goal (third order ≤ 5 % of one core) is printed next to the figures.

Then, when there is an audio device, head-to-ear latency through it: the real mixer and output play a third-order
sound field while this thread hands the renderer a new head pose every 11 ms (a 90 Hz headset); for each pose the
mixer notes when the first block it turns is heard (the callback's DAC time) — against the goal, one block plus
the device's own latency, measured in the same run.

    .venv/bin/python bench/audio_bench.py [--blocks 2000] [--hrtf FILE.sofa] [--json out.json] [--latency-seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from vrplayer.audio import hrtf as H  # noqa: E402
from vrplayer.audio.binaural import BinauralRenderer  # noqa: E402
from vrplayer.formats import sound  # noqa: E402

RATE = 48000
BLOCK = 512
BLOCK_MS = BLOCK / RATE * 1000.0
GOAL_PERCENT_THIRD_ORDER = 5.0
FORMATS = ("ambix1", "ambix1+stereo", "ambix2", "ambix2+stereo", "ambix3", "ambix3+stereo", "5.1", "7.1", "tbe+stereo")


def measure(step, blocks: int) -> tuple[float, float]:
    """Median CPU and wall milliseconds of `step(i)` over `blocks` calls (after 50 warm-up calls)."""
    for i in range(50):
        step(i)
    cpu, wall = [], []
    for i in range(blocks):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        step(i)
        c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
        cpu.append((c1 - c0) / 1e6)
        wall.append((w1 - w0) / 1e6)
    return statistics.median(cpu), statistics.median(wall)


def hrtf_for(path: str | None) -> tuple[H.Hrtf, str]:
    try:
        return H.load_sofa(path, RATE), path or H.DEFAULT_SOFA
    except H.HrtfError as exc:
        # The cost does not depend on what the filters hold, only on their size: random ones do.
        print(f"({exc}: timing with random HRIRs instead)", file=sys.stderr)
        rng = np.random.default_rng(0)
        d = rng.normal(size=(500, 3))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        return H.Hrtf(RATE, rng.normal(size=(500, 2, 256)) * np.hanning(256), d, "random"), "random"


def head_to_ear(seconds: float, sofa: str | None) -> dict | None:
    """Latency from handing the renderer a head pose to hearing the first block it turns, through the device."""
    from vrplayer.audio.mixer import Mixer
    from vrplayer.audio.output import open_output
    from vrplayer.media.ring import SampleRing
    from vrplayer.errors import AudioUnavailable

    try:
        output = open_output()
    except AudioUnavailable as exc:
        print(f"head-to-ear latency: skipped ({exc})")
        return None
    fmt = sound.parse_format_name("ambix3")
    renderer = BinauralRenderer(fmt, output.rate, sofa_path=sofa)
    ring = SampleRing(output.rate * 2, fmt.channels)
    ring.reset(0.0, output.rate, 0)
    noise = (np.random.default_rng(2).standard_normal((output.rate, fmt.channels)) * 0.02).astype(np.float32)
    mixer = Mixer(ring, 1.0, renderer, output.blocksize)
    stop = threading.Event()
    mixer.restart(0)
    mixer.paused = False
    output.start(mixer.fill)
    try:
        end, i = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            while ring.available() < output.rate // 2:  # keep sound flowing (the writer's side of the ring)
                ring.write(noise, stop)
            renderer.set_view((i * 2.0) % 360 - 180, 10 * np.sin(i * 0.05))
            i += 1
            time.sleep(0.011)
    finally:
        output.close()
    block_ms = 1000 * output.blocksize / output.rate
    figures = {"turns": mixer.turns, "mean_ms": 1000 * mixer.turn_latency_sum / max(1, mixer.turns),
               "max_ms": 1000 * mixer.turn_latency_max, "block_ms": block_ms, "device_latency_ms": 1000 * output.latency,
               "underruns": mixer.underruns}
    goal = block_ms + figures["device_latency_ms"]
    print(f"head to ear through {output.device_name} ({output.rate} Hz): {mixer.turns} poses, mean {figures['mean_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms; goal ≤ one block + the device's latency = {block_ms:.1f} + "
          f"{figures['device_latency_ms']:.1f} = {goal:.1f} ms: {'met' if figures['max_ms'] <= goal + 0.5 else 'NOT met'}")
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=2000, help="blocks timed per figure (default 2000)")
    parser.add_argument("--hrtf", help="SOFA file (default: Debian's KEMAR)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--latency-seconds", type=float, default=5.0, help="how long to measure head-to-ear latency (0: skip)")
    args = parser.parse_args(argv)

    hrtf, hrtf_name = hrtf_for(args.hrtf)
    rng = np.random.default_rng(1)

    # Baseline: what Mixer.fill does per block today (SampleRing.read_into): ring frames × gain → output.
    ring = rng.standard_normal((RATE, 2)).astype(np.float32) * 0.1
    out = np.zeros((BLOCK, 2), np.float32)

    def baseline(i):
        start = (i * BLOCK) % (len(ring) - BLOCK)
        np.multiply(ring[start : start + BLOCK], 0.8, out=out)

    base_cpu, base_wall = measure(baseline, args.blocks)
    rows = [{"format": "stereo mix (baseline)", "order": 0, "head": "-", "cpu_ms": base_cpu, "wall_ms": base_wall}]

    for name in FORMATS:
        fmt = sound.parse_format_name(name)
        renderer = BinauralRenderer(fmt, RATE, hrtf=hrtf)
        frames = rng.standard_normal((RATE, fmt.channels)).astype(np.float32) * 0.02

        def still(i, renderer=renderer, frames=frames):
            start = (i * BLOCK) % (len(frames) - BLOCK)
            renderer.render(frames[start : start + BLOCK], out)

        def moving(i, renderer=renderer, frames=frames):
            renderer.set_view((i * 1.3) % 360 - 180, 20 * np.sin(i * 0.05), 5 * np.sin(i * 0.11))
            still(i)

        for head, step in (("still", still), ("moving", moving)):
            cpu, wall = measure(step, args.blocks)
            rows.append({"format": name, "order": renderer.order, "head": head, "cpu_ms": cpu, "wall_ms": wall})

    print(f"binaural renderer, {BLOCK}-frame blocks at {RATE} Hz ({BLOCK_MS:.2f} ms each), HRTF {hrtf_name}, "
          f"median of {args.blocks} blocks, numpy {np.__version__}")
    print(f"{'format':24} {'order':>5} {'head':>7} {'CPU ms':>8} {'% core':>7} {'× mix':>7} {'wall ms':>8}")
    for row in rows:
        row["core_percent"] = 100.0 * row["cpu_ms"] / BLOCK_MS
        row["ratio_to_mix"] = row["cpu_ms"] / base_cpu if base_cpu > 0 else None
        ratio = f"{row['ratio_to_mix']:7.1f}" if row["ratio_to_mix"] is not None else "      -"
        print(f"{row['format']:24} {row['order']:>5} {row['head']:>7} {row['cpu_ms']:8.3f} "
              f"{row['core_percent']:6.2f}% {ratio} {row['wall_ms']:8.3f}")
    third = max(r["core_percent"] for r in rows if r["order"] == 3)
    verdict = "met" if third <= GOAL_PERCENT_THIRD_ORDER else "NOT met"
    print(f"goal: third order ≤ {GOAL_PERCENT_THIRD_ORDER:.0f} % of one core — worst third-order case "
          f"{third:.2f} %: {verdict}")
    result = {"rate": RATE, "block": BLOCK, "block_ms": BLOCK_MS, "blocks": args.blocks, "hrtf": hrtf_name,
              "goal_core_percent_third_order": GOAL_PERCENT_THIRD_ORDER, "third_order_worst_core_percent": third,
              "rows": rows}
    if args.latency_seconds > 0:
        result["head_to_ear"] = head_to_ear(args.latency_seconds, args.hrtf)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
