#!/usr/bin/env python3
"""vrplayer's performance benchmark: the player's pipeline against decode-only baselines, measured in one run.

Makes (once, cached in bench/.cache/) 3840×1920 test films with sample_media/make_film — H.264 8-bit and HEVC 10-bit,
30 fps, a key frame every second, with sound — and a long 1280×640 film for memory flatness. Then, for each 4K film:

  * ffmpeg decode-only:  ffmpeg -benchmark -i CLIP -map 0:v -f null -   (frames / wall time)
  * PyAV decode-only:    thread_type AUTO, iterate the frames, no conversion
  * vrplayer bench at 160x90 (the player's own overhead: rasterising is negligible), 640x360 and 1280x720
  * mpv at 640x360 and 1280x720 (when installed): the v360 filter to a flat view, drawn by its GPU output on the
    same llvmpipe (--vo=gpu --gpu-sw), untimed, on a private Xvfb: another 360 player doing the same work

and prints a table (fps and the ratio to ffmpeg decode-only of the same run, first frame, exact seeks, peak RSS),
the RSS samples of the long film, and the figures as JSON (last line of stdout, or --json OUT).
With --against REV, the vrplayer of that git revision (checked out beside, in bench/.cache/) runs in every round
too, interleaved with this one: a change's cost measured side by side, in one run, on the same films.
Nothing is asserted: the goals are reported next to the figures. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
sys.path.insert(0, os.path.join(ROOT, "sample_media"))

GOALS = {
    "pipeline_ratio_640x360": 0.85,  # vrplayer at 640x360 ≥ 85 % of decode-only
    "first_frame_ms": 1000.0,  # first picture within 1 s
    "seek_ms": 300.0,  # exact seek at 4K with 1 s key-frame spacing
}
SIZES = ("160x90", "640x360", "1280x720")
MPV_SIZES = ("640x360", "1280x720")


def log(text: str) -> None:
    print(f"run_bench: {text}", file=sys.stderr, flush=True)


# -- test films -------------------------------------------------------------------------------------------------


def clip_specs(seconds: float, long_seconds: float) -> list[dict]:
    def tag(s: float) -> str:
        return f"{s:g}s"

    return [
        # The 4K clips carry camera-like grain (new every frame) so they cost a decoder what real footage does:
        # ~60 Mb/s, decoding at ~45 fps here like the notes' noisy test clips; the clean scene alone decodes 3×
        # faster and would make every fixed per-frame cost look three times bigger.
        dict(key="h264", label="3840x1920 H.264 8-bit", path=os.path.join(CACHE, f"h264_grain_3840x1920_{tag(seconds)}.mp4"),
             width=3840, height=1920, seconds=seconds, codec="libx264", pix_fmt="yuv420p", grain=6, crf=21),
        dict(key="hevc10", label="3840x1920 HEVC 10-bit", path=os.path.join(CACHE, f"hevc10_grain_3840x1920_{tag(seconds)}.mp4"),
             width=3840, height=1920, seconds=seconds, codec="libx265", pix_fmt="yuv420p10le", grain=6, crf=24),
        dict(key="long", label="1280x640 H.264 (long)", path=os.path.join(CACHE, f"long_1280x640_{tag(long_seconds)}.mp4"),
             width=1280, height=640, seconds=long_seconds, codec="libx264", pix_fmt="yuv420p", grain=0, crf=None),
    ]


def ensure_clip(spec: dict) -> str:
    """Make the film unless the cache already holds it (written to a temporary name, renamed when complete)."""
    path = spec["path"]
    if os.path.exists(path):
        return path
    from make_sample import make_film

    os.makedirs(CACHE, exist_ok=True)
    tmp = path + ".part" + os.path.splitext(path)[1]
    started = time.perf_counter()
    log(f"making {spec['label']}, {spec['seconds']:g} s -> {path} (slow for 4K HEVC: ~10 s per film second)")

    def progress(done: float) -> None:
        tenth = max(1, round(spec["seconds"] / 10))
        if round(done) % tenth == 0 or done >= spec["seconds"]:
            log(f"  {os.path.basename(path)}: {done:.0f}/{spec['seconds']:g} s written, {time.perf_counter() - started:.0f} s")

    make_film(tmp, spec["width"], spec["height"], spec["seconds"], 30, spec["codec"], spec["pix_fmt"], audio=True,
              gop=30, progress=progress, grain=spec["grain"], crf=spec["crf"],
              extra_options={"preset": "veryfast"} if spec["grain"] else None)
    os.replace(tmp, path)
    log(f"  made in {time.perf_counter() - started:.0f} s")
    return path


# -- decode-only baselines --------------------------------------------------------------------------------------


def ffmpeg_decode(path: str, skip_frame: str = "default") -> dict:
    """ffmpeg CLI decode-only: frames / wall time of the subprocess (ffmpeg's own `bench: rtime` reported too).
    `skip_frame` "noref" decodes only the frames others refer to."""
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-benchmark", "-skip_frame", skip_frame, "-i", path,
               "-map", "0:v", "-f", "null", "-"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    text = result.stderr
    frames = [int(n) for n in re.findall(r"frame=\s*(\d+)", text)]
    rtime = re.search(r"bench:.*?rtime=([\d.]+)s", text)
    utime = re.search(r"bench: utime=([\d.]+)s", text)
    frame_count = frames[-1] if frames else 0
    out = {"frames": frame_count, "seconds": round(wall, 3), "fps": round(frame_count / wall, 2)}
    if rtime:
        out["rtime_s"] = float(rtime.group(1))
        out["fps_rtime"] = round(frame_count / float(rtime.group(1)), 2)
    if utime:
        out["cpu_per_wall"] = round(float(utime.group(1)) / float(rtime.group(1)), 2) if rtime else None
    return out


def reference_frames_floor(path: str) -> dict:
    """The floor of the worst exact seek: an exact seek to the last frame before a key frame must decode every
    reference frame since the previous key frame. ffmpeg decoding only the reference frames of the whole film, per
    key-frame interval (its start-up included, spread over them)."""
    import av

    with av.open(path) as container:
        intervals = sum(1 for packet in container.demux(video=0) if packet.is_keyframe)
    run = ffmpeg_decode(path, "noref")
    return {"key_frame_intervals": intervals, "reference_frames": run["frames"],
            "ms_per_interval": round(run["seconds"] * 1000 / max(1, intervals), 1)}


def ffmpeg_version() -> str | None:
    try:
        return subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        return None


def pyav_decode(path: str) -> dict:
    """PyAV decode-only, thread_type AUTO, no conversion; timed from open to the last frame."""
    import av

    started = time.perf_counter()
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = 0
        for _ in container.decode(stream):
            frames += 1
    wall = time.perf_counter() - started
    return {"frames": frames, "seconds": round(wall, 3), "fps": round(frames / wall, 2)}


def pyav_seek(path: str, count: int) -> dict:
    """Decode-only floor for the exact seeks: the same seeded targets, one container, seek to the key frame before,
    decode (thread_type AUTO) until the frame on screen at the target is known (the next frame's pts passes it)."""
    import av

    from vrplayer.bench import seek_targets

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = float(stream.duration * stream.time_base) if stream.duration else container.duration / 1e6
        frame_duration = 1.0 / float(stream.average_rate or 30)
        origin = container.start_time / av.time_base if container.start_time is not None else 0.0
        times = []
        for target in seek_targets(duration, frame_duration, count):
            started = time.perf_counter()
            container.seek(int((target + origin) / stream.time_base), stream=stream, backward=True, any_frame=False)
            stream.codec_context.flush_buffers()
            for frame in container.decode(stream):
                if float(frame.pts * frame.time_base) - origin > target + 1e-4:
                    break
            times.append((time.perf_counter() - started) * 1000)
    return {"seek_ms_median": round(statistics.median(times), 1), "seek_ms_max": round(max(times), 1), "seek_ms": [round(t, 1) for t in times]}


class PrivateX:
    """A private Xvfb for mpv's window, stopped by PID."""

    def __init__(self):
        self.proc = None
        self.display = None

    def start(self) -> "PrivateX":
        if not shutil.which("Xvfb"):
            return self
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as handle:
            number = handle.readline().strip()
        self.display = f":{number}" if number else None
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def mpv_render(path: str, size: str, frames: int, display: str) -> dict:
    """mpv drawing the film's 360 view at `size` as fast as it goes: v360 to a flat 90° view, its GPU output on
    llvmpipe. Its start-up is taken out by timing a short run too: fps = (frames − 30) / (t_all − t_30)."""
    width, height = (int(v) for v in size.split("x"))
    from vrplayer.render.projection import vertical_fov

    vf = f"v360=input=e:output=flat:h_fov=90:v_fov={vertical_fov(90, width, height):.4f}:w={width}:h={height}:interp=linear"
    command = ["mpv", "--no-config", "--really-quiet", "--vo=gpu", "--gpu-sw", "--gpu-context=x11egl", "--hwdec=no",
               "--no-audio", "--untimed", "--no-osc", f"--geometry={width}x{height}", f"--vf={vf}"]
    env = dict(os.environ, DISPLAY=display)
    times = {}
    for count in (30, frames):
        started = time.perf_counter()
        subprocess.run(command + [f"--frames={count}", path], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[count] = time.perf_counter() - started
    fps = (frames - 30) / (times[frames] - times[30])
    return {"frames": frames, "seconds": round(times[frames], 3), "fps": round(fps, 2)}


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores something (anything: this script is idle meanwhile) kept busy over `seconds`, from /proc/stat."""
    def sample():
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError):
        return -1.0
    span = total1 - total0
    return round((1 - (idle1 - idle0) / span) * (os.cpu_count() or 1), 2) if span else 0.0


def wait_quiet(limit: float) -> float:
    """Wait (up to `limit` seconds) until the machine is quiet; returns the busy cores last seen."""
    deadline = time.monotonic() + limit
    busy = busy_cores()
    while busy > 0.25 and time.monotonic() < deadline:
        log(f"  the machine is busy ({busy:.2f} cores in use by other processes): waiting")
        busy = busy_cores(2.0)
    return busy


def load_average() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def median_run(runs: list[dict]) -> dict:
    """The run with the median fps (its other figures kept together), with every run's fps beside it."""
    ordered = sorted(runs, key=lambda r: r["fps"] or 0.0)
    chosen = dict(ordered[len(ordered) // 2])
    chosen["fps_runs"] = [r["fps"] for r in runs]
    return chosen


# -- the player -------------------------------------------------------------------------------------------------


def vrplayer_bench(path: str, size: str, seeks: int, frames: int | None = None, tree: str | None = None,
                   extra: tuple = ()) -> dict:
    """`vrplayer bench` of this checkout, or of the source tree `tree` (another revision's, see --against);
    `extra`: more of its options (--subtitles FILE)."""
    exe = os.path.join(os.path.dirname(sys.executable), "vrplayer")
    command = [exe] if os.path.exists(exe) and tree is None else [sys.executable, "-m", "vrplayer"]
    command += ["-q", "bench", path, "--size", size, "--seeks", str(seeks)]
    if frames:
        command += ["--frames", str(frames)]
    command += list(extra)
    env = None if tree is None else dict(os.environ, PYTHONPATH=tree)  # its package before the installed one
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=None, text=True, cwd=tree, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with status {result.returncode}")
    lines = [line for line in result.stdout.splitlines() if line.strip().startswith("{")]
    return json.loads(lines[-1])


def revision_tree(revision: str) -> str:
    """A checkout of `revision` in bench/.cache/ (a git worktree, made once per revision)."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=ROOT, capture_output=True, text=True)
    if commit.returncode != 0:
        raise SystemExit(f"run_bench: --against {revision}: not a revision of this repository")
    tree = os.path.join(CACHE, f"tree-{commit.stdout.strip()[:12]}")
    if not os.path.isdir(tree):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", tree, commit.stdout.strip()], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return tree


# -- report -----------------------------------------------------------------------------------------------------


def ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None


def round_ratio(figures: dict, clip: dict) -> float | None:
    """Median over the rounds of fps / ffmpeg decode-only fps of the same round (robust to a busy round)."""
    runs, bases = figures.get("fps_runs"), clip["ffmpeg"].get("fps_runs")
    if not runs or not bases or len(runs) != len(bases):
        return ratio(figures["fps"], clip["ffmpeg"]["fps"])
    return round(statistics.median(r / b for r, b in zip(runs, bases) if b), 3)


def fmt(value, spec: str = ".1f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def print_table(results: dict) -> None:
    out = sys.stdout
    runs = results.get("repeat", 1)
    print(f"\nmedian of {runs} run(s) by fps; ÷ffmpeg = median over the rounds of fps / ffmpeg decode-only fps of the same round", file=out)
    header = (f"{'clip':<22} {'route':<20} {'fps':>6} {'÷ffmpeg':>7} {'1st ms':>6} {'ctx ms':>6} "
              f"{'seek med':>8} {'seek max':>8} {'exact':>5} {'peak RSS':>8}")
    print(header, file=out)
    print("-" * len(header), file=out)
    for clip in results["clips"].values():
        floor = clip.get("pyav_seek", {})
        rows = [("ffmpeg decode-only", clip["ffmpeg"], {}), ("PyAV decode-only", clip["pyav"], {"seek_ms_median": floor.get("seek_ms_median"), "seek_ms_max": floor.get("seek_ms_max")})]
        rows += [(f"vrplayer {size}", figures, figures) for size, figures in clip["vrplayer"].items()]
        rows += [(f"  {route}", figures, figures) for route, figures in clip.get("vrplayer_against", {}).items()]
        rows += [(f"mpv {size}", figures, {}) for size, figures in clip.get("mpv", {}).items()]
        for name, figures, p in rows:
            exact = p.get("seek_exact")
            print(
                f"{clip['label']:<22} {name:<20} {figures['fps']:>6.1f} {fmt(round_ratio(figures, clip), '.2f'):>7} "
                f"{fmt(p.get('first_frame_ms'), '.0f'):>6} {fmt(p.get('context_ms'), '.0f'):>6} "
                f"{fmt(p.get('seek_ms_median'), '.0f'):>8} {fmt(p.get('seek_ms_max'), '.0f'):>8} "
                f"{'-' if exact is None else ('yes' if exact else 'NO'):>5} {fmt(p.get('peak_rss_mb'), '.0f'):>8}",
                file=out,
            )
        for size, f in clip["vrplayer"].items():
            print(
                f"{'':<22}   {size} per frame: wait_decode {f['wait_decode_ms']:.1f}, upload {f['upload_ms']:.1f} "
                f"(cpu {f.get('upload_cpu_ms', 0):.1f}), draw+present {f['draw_ms']:.1f}, audio mix {f['audio_mix_ms']:.2f} ms; "
                f"CPU {fmt(f.get('cpu_per_wall'), '.2f')}× wall; fps of the runs {f.get('fps_runs')}",
                file=out,
            )
        print(f"{'':<22}   decode-only fps of the runs: ffmpeg {clip['ffmpeg'].get('fps_runs')}, PyAV {clip['pyav'].get('fps_runs')}; "
              f"load average before/after {clip.get('load_average')}, cores busy with other work before each round {clip.get('busy_cores_before_rounds')}", file=out)
    if "long" in results:
        long = results["long"]
        samples = long["rss_mb"]
        print(
            f"\nlong film {long['label']} ({long['frames']} frames at {long['size']}, {long['fps']:.1f} fps): "
            f"RSS every 10 % {samples} MB; first {samples[0]:.0f} MB, last {samples[-1]:.0f} MB, peak {long['peak_rss_mb']:.0f} MB",
            file=out,
        )
    print("\ngoals (reported, not asserted):", file=out)
    for line in results["goals"]:
        print(f"  {line}", file=out)


def goal_lines(results: dict) -> list[str]:
    lines = []
    for key, clip in results["clips"].items():
        mid = clip["vrplayer"].get("640x360")
        small = clip["vrplayer"].get("160x90")
        if mid:
            r = round_ratio(mid, clip)
            lines.append(f"{clip['label']}: pipeline at 640x360 = {r:.2f} × decode-only (goal ≥ {GOALS['pipeline_ratio_640x360']:.2f}): {'met' if r >= GOALS['pipeline_ratio_640x360'] else 'NOT met'}")
        for size, theirs in clip.get("mpv", {}).items():
            ours = clip["vrplayer"].get(size)
            if ours:
                lead = round_ratio(ours, clip) / round_ratio(theirs, clip)
                lines.append(f"{clip['label']}: at {size} vrplayer {round_ratio(ours, clip):.2f} vs mpv {round_ratio(theirs, clip):.2f} × decode-only ({lead:.2f}× mpv's speed)")
        for route, theirs in clip.get("vrplayer_against", {}).items():
            size = route.split()[0]
            ours = clip["vrplayer"].get(size)
            if ours:
                change = statistics.median(a / b for a, b in zip(ours["fps_runs"], theirs["fps_runs"]) if b)
                lines.append(f"{clip['label']}: at {size} this tree {round_ratio(ours, clip):.2f} vs {route.split(' ', 1)[1]} "
                             f"{round_ratio(theirs, clip):.2f} × decode-only; fps this/that, median over the rounds {change:.3f}")
        if small:
            r = round_ratio(small, clip)
            lines.append(f"{clip['label']}: player overhead, pipeline at 160x90 = {r:.2f} × decode-only (goal ≥ {GOALS['pipeline_ratio_640x360']:.2f}): {'met' if r >= GOALS['pipeline_ratio_640x360'] else 'NOT met'}")
        worst_first = max(v["first_frame_ms"] for v in clip["vrplayer"].values())
        lines.append(f"{clip['label']}: first frame ≤ {worst_first:.0f} ms (goal ≤ {GOALS['first_frame_ms']:.0f}): {'met' if worst_first <= GOALS['first_frame_ms'] else 'NOT met'}")
        worst_seek = max(v["seek_ms_max"] for v in clip["vrplayer"].values() if v.get("seek_ms_max") is not None)
        exact = all(v.get("seek_exact") for v in clip["vrplayer"].values())
        lines.append(f"{clip['label']}: exact seek max {worst_seek:.0f} ms (goal ≤ {GOALS['seek_ms']:.0f}): {'met' if worst_seek <= GOALS['seek_ms'] else 'NOT met'}; all seeks exact: {exact}")
        floor = clip.get("pyav_seek", {}).get("reference_frames")
        if floor:
            lines.append(f"{clip['label']}: decoding only the reference frames of one key-frame interval takes ffmpeg {floor['ms_per_interval']:.0f} ms here: the floor of a seek to an interval's last frame")
    if "long" in results:
        samples = results["long"]["rss_mb"]
        warm = samples[1] if len(samples) > 2 else samples[0]  # after the first 10 %: queues and textures are full
        growth = samples[-1] - warm
        lines.append(f"long film: RSS after warm-up {warm:.0f} MB → at the end {samples[-1]:.0f} MB ({growth:+.1f} MB over {results['long']['frames']} frames): {'flat' if abs(growth) < 10 else 'NOT flat'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Figures and their meaning: bench/README.md.")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 4K test films (default 10; HEVC 4K encodes at ~10 s per film second)")
    parser.add_argument("--long-seconds", type=float, default=60.0, help="length of the 1280x640 film for memory flatness (default 60)")
    parser.add_argument("--quick", action="store_true", help="3 s 4K films, a 20 s long film, 2 seeks, only 640x360 for HEVC: a smoke run")
    parser.add_argument("--seeks", type=int, default=5, help="exact seeks per vrplayer bench run (default 5)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median (by fps) is reported (default 3, --quick 1)")
    parser.add_argument("--quiet-wait", type=float, default=60.0, metavar="S", help="before each round, wait up to S seconds for other processes to leave the CPU (default 60; 0: don't)")
    parser.add_argument("--only", choices=("h264", "hevc10"), action="append", help="bench only this 4K clip (repeatable)")
    parser.add_argument("--no-long", action="store_true", help="skip the long film")
    parser.add_argument("--make-only", action="store_true", help="make (cache) the test films and stop")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON to OUT")
    parser.add_argument("--sizes", help=f"comma-separated vrplayer view sizes (default {','.join(SIZES)})")
    parser.add_argument("--against", metavar="REV", help="also bench the vrplayer of git revision REV in every round, interleaved")
    args = parser.parse_args(argv)
    sizes = tuple(args.sizes.split(",")) if args.sizes else SIZES
    against = revision_tree(args.against) if args.against else None
    if args.quick:
        args.seconds = min(args.seconds, 3.0)
        args.long_seconds = min(args.long_seconds, 20.0)
        args.seeks = min(args.seeks, 2)
        args.repeat = 1

    specs = clip_specs(args.seconds, args.long_seconds)
    wanted = [s for s in specs if s["key"] != "long" and (not args.only or s["key"] in args.only)]
    long_spec = None if args.no_long else specs[-1]
    for spec in wanted + ([long_spec] if long_spec else []):
        ensure_clip(spec)
    if args.make_only:
        return 0

    results: dict = {"machine": {"cpus": os.cpu_count(), "ffmpeg": ffmpeg_version()}, "repeat": args.repeat, "clips": {}}
    xserver = PrivateX().start() if shutil.which("mpv") else None
    if xserver is None:
        log("mpv is not installed: no mpv comparison (apt-get install mpv to add it)")
    for spec in wanted:
        path = spec["path"]
        load = load_average()
        ff_runs, pv_runs, players, busy = [], [], {size: [] for size in sizes}, []
        theirs = {f"{size} @{args.against}": [] for size in sizes} if against else {}
        mpv_runs = {size: [] for size in MPV_SIZES}
        # Interleave the routes, so that anything else busy on the machine meanwhile spreads over all of them.
        for round_ in range(1, args.repeat + 1):
            busy.append(wait_quiet(args.quiet_wait) if args.quiet_wait > 0 else busy_cores())
            log(f"{spec['label']}: round {round_}/{args.repeat} (other processes used {busy[-1]:.2f} cores just before)")
            ff_runs.append(ffmpeg_decode(path))
            pv_runs.append(pyav_decode(path))
            log(f"  ffmpeg decode-only {ff_runs[-1]['fps']:.1f} fps, PyAV decode-only {pv_runs[-1]['fps']:.1f} fps")
            for size in sizes:
                routes = [(players[size], None, size)]
                if against:
                    routes.append((theirs[f"{size} @{args.against}"], against, f"{size} @{args.against}"))
                    routes = routes[::-1] if round_ % 2 == 0 else routes  # take turns at going first
                for runs, tree, name in routes:
                    runs.append(vrplayer_bench(path, size, args.seeks, tree=tree))
                    log(f"  vrplayer {name}: {runs[-1]['fps']:.1f} fps")
            if xserver is not None and xserver.display:
                for size in MPV_SIZES:
                    mpv_runs[size].append(mpv_render(path, size, ff_runs[-1]["frames"], xserver.display))
                    log(f"  mpv {size}: {mpv_runs[size][-1]['fps']:.1f} fps")
        seek_floor = pyav_seek(path, args.seeks)
        log(f"  PyAV exact-seek floor: median {seek_floor['seek_ms_median']:.0f} ms, max {seek_floor['seek_ms_max']:.0f} ms")
        seek_floor["reference_frames"] = reference_frames_floor(path)
        log(f"  ffmpeg, reference frames only: {seek_floor['reference_frames']['ms_per_interval']:.0f} ms per key-frame interval")
        results["clips"][spec["key"]] = {
            "label": spec["label"], "path": os.path.relpath(path, ROOT),
            "ffmpeg": median_run(ff_runs), "pyav": median_run(pv_runs), "pyav_seek": seek_floor,
            "vrplayer": {size: median_run(runs) for size, runs in players.items()},
            "vrplayer_against": {route: median_run(runs) for route, runs in theirs.items()},
            "mpv": {size: median_run(runs) for size, runs in mpv_runs.items() if runs},
            "load_average": [load, load_average()],
            "busy_cores_before_rounds": busy,
        }
    if xserver is not None:
        xserver.stop()
    if long_spec:
        log(f"{long_spec['label']}: vrplayer bench --size 640x360 (memory)")
        figures = vrplayer_bench(long_spec["path"], "640x360", min(args.seeks, 2))
        results["long"] = {"label": long_spec["label"], "size": "640x360", **figures}
    for clip in results["clips"].values():
        for figures in [clip["pyav"], *clip["vrplayer"].values(), *clip["vrplayer_against"].values(), *clip["mpv"].values()]:
            figures["ratio_to_ffmpeg"] = round_ratio(figures, clip)
    results["goals"] = goal_lines(results)
    print_table(results)
    text = json.dumps(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
        log(f"wrote {args.json}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
