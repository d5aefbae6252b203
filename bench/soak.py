#!/usr/bin/env python3
"""Soak: the kiosk looping short films (a 4K one among them) for hours, its process sampled every minute, between
films — resident memory, threads, open file descriptors, live GL objects (textures, buffers, vertex arrays,
framebuffers, programs: the names the context still knows), Python objects — and the verdict: flat after the
warm-up (memory's floor up by at most 10 MB from the first third of the samples after it to the last third;
threads, descriptors and GL objects back to the first sample's counts between films). The peak thread count seen
during films is shown beside.

The kiosk is the real one (programme, session log, staff API on a free port that each sample asks for its status,
head traces), run in this process on an offscreen display, with sound into a private PulseAudio null sink when
`pulseaudio` is installed (--sound none: without). The films are made once, with sample_media/make_sample.py, into
--films (kept for the next run).

    .venv/bin/python bench/soak.py                  # the full run: 2 hours
    .venv/bin/python bench/soak.py --minutes 15     # a shorter one
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "sample_media"))

import make_sample  # noqa: E402

FILMS = (  # name, width, height, seconds, sound
    ("soak_a.mp4", 1280, 640, 3.0, True),
    ("soak_b.mp4", 1920, 960, 3.0, False),
    ("soak_4k.mp4", 3840, 1920, 3.0, True),
)
RSS_ALLOWED_MB = 10.0
GL_KINDS = ("textures", "buffers", "vertex_arrays", "framebuffers", "programs")


def say(text: str) -> None:
    print(f"soak: {text}", file=sys.stderr, flush=True)


def make_films(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, width, height, seconds, sound in FILMS:
        path = folder / name
        if not path.exists():
            say(f"making {name} ({width}x{height}, {seconds:g} s)")
            partial = folder / f"partial-{name}"
            make_sample.make_film(str(partial), width=width, height=height, seconds=seconds, fps=30, audio=sound,
                                  extra_options={"preset": "veryfast"})
            partial.rename(path)
        paths.append(path)
    return paths


def proc_status() -> dict[str, int]:
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                fields[key] = int(value.split()[0])
    return {"rss_kb": fields["VmRSS"], "threads": fields["Threads"], "fds": len(os.listdir("/proc/self/fd"))}


def gl_objects() -> dict[str, int]:
    """Live GL names of each kind: every name up to the next one the context would hand out, asked whether it is
    one (call with the player's context current, on its thread)."""
    from OpenGL import GL

    kinds = {
        "textures": (GL.glGenTextures, GL.glDeleteTextures, GL.glIsTexture),
        "buffers": (GL.glGenBuffers, GL.glDeleteBuffers, GL.glIsBuffer),
        "vertex_arrays": (GL.glGenVertexArrays, GL.glDeleteVertexArrays, GL.glIsVertexArray),
        "framebuffers": (GL.glGenFramebuffers, GL.glDeleteFramebuffers, GL.glIsFramebuffer),
    }
    counts = {}
    for kind, (generate, delete, is_one) in kinds.items():
        probe = int(generate(1))
        delete(1, [probe])
        counts[kind] = sum(1 for name in range(1, probe + 64) if is_one(name))
    counts["programs"] = sum(1 for name in range(1, 4096) if GL.glIsProgram(name))
    return counts


class NullSink:
    """A private PulseAudio server with one null sink, for the kiosk's sound; stopped by its pid."""

    def __init__(self):
        self.runtime = Path(tempfile.mkdtemp(prefix="vrplayer-soak-pulse-"))
        self.runtime.chmod(0o700)
        env = dict(os.environ, HOME=str(self.runtime), XDG_RUNTIME_DIR=str(self.runtime))
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
             "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.runtime}/native",
             "-L", "module-null-sink sink_name=soak format=float32le rate=48000 channels=2", "-L", "module-always-sink"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not (self.runtime / "native").exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("PulseAudio did not start")
            time.sleep(0.1)
        os.environ.update(PULSE_SERVER=f"unix:{self.runtime}/native", PULSE_SINK="soak")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.runtime, ignore_errors=True)


class Sampler:
    """Samples on the player's thread, once the programme's first film is over and its playback closed
    (film_ended), every `every` seconds: always at the same point of the loop, so that samples compare like with
    like (just after the 4K film, memory the allocator has not given back yet would look like growth). The threads
    during films are watched on every turn of the loop; their peak goes beside the sample."""

    def __init__(self, kiosk, every: float, phase: Path):
        self.kiosk = kiosk
        self.every = every
        self.phase = str(phase)
        self.started = time.monotonic()
        self.next_at = self.started  # the first film's end gives the first sample
        self.samples: list[dict] = []
        self.films = 0
        self.peak_threads = 0
        self._tick = kiosk.player.on_tick
        self._threads_at = 0.0
        self.audio_losses = 0  # times the audio device was let go of (lost: a starved sound server, on a busy machine)
        self._audio_was_open = kiosk.player.output is not None
        kiosk.player.on_tick = self.tick
        kiosk.player.events.listen(self.heard)

    def tick(self, playback):
        now = time.monotonic()
        audio_open = self.kiosk.player.output is not None
        self.audio_losses += self._audio_was_open and not audio_open
        self._audio_was_open = audio_open
        if playback is not None and now - self._threads_at >= 0.5:
            self._threads_at = now
            self.peak_threads = max(self.peak_threads, threading.active_count(), proc_status()["threads"])
        return self._tick(playback)

    def heard(self, event) -> None:
        if event.name != "film_ended":
            return
        self.films += 1
        if event.film != self.phase or time.monotonic() < self.next_at:
            return
        self.next_at = max(self.next_at + self.every, time.monotonic())
        gc.collect()  # what a collection would free is not a leak; what stays is
        sample = {"minute": (time.monotonic() - self.started) / 60, "films": self.films, **proc_status(),
                  "audio_open": self.kiosk.player.output is not None,
                  "peak_threads": self.peak_threads, **gl_objects(), "py_objects": len(gc.get_objects()),
                  "status": self._status()}
        self.peak_threads = 0
        self.samples.append(sample)
        print(row(sample), flush=True)

    def _status(self) -> str:
        """The staff API's answer (it listens once the kiosk runs, on the port picked then)."""
        if self.kiosk.control is None:
            return "-"
        try:
            with urllib.request.urlopen(self.kiosk.control.url + "api/status", timeout=5) as answer:
                return json.loads(answer.read()).get("state", "?")
        except OSError as exc:
            return f"error: {exc}"


HEADER = (f"{'min':>6} {'films':>6} {'RSS MB':>8} {'threads':>7} {'(peak)':>6} {'fds':>4} "
          + " ".join(f"{kind[:8]:>8}" for kind in GL_KINDS) + f" {'py objs':>8}  status")


def row(sample: dict) -> str:
    return (f"{sample['minute']:6.1f} {sample['films']:6d} {sample['rss_kb'] / 1024:8.1f} {sample['threads']:7d} "
            f"{sample['peak_threads']:6d} {sample['fds']:4d} " + " ".join(f"{sample[kind]:8d}" for kind in GL_KINDS)
            + f" {sample['py_objects']:8d}  {sample['status']}")


def verdict(samples: list[dict], warmup_minutes: float) -> tuple[bool, list[str]]:
    after = [s for s in samples if s["minute"] >= warmup_minutes]
    if len(after) < 2:
        return False, [f"too few samples after the {warmup_minutes:g}-minute warm-up to judge ({len(after)}); run longer"]
    base, last = after[0], after[-1]
    lines, flat = [], True
    # Memory is judged by its floor: the least of the first third of the samples after the warm-up against the
    # least of the last third. A leak lifts the floor; the allocator's swings (freed 4K frames it keeps a while)
    # do not, and are shown beside.
    third = max(1, len(after) // 3)
    first_floor = min(s["rss_kb"] for s in after[:third]) / 1024
    last_floor = min(s["rss_kb"] for s in after[-third:]) / 1024
    growth = last_floor - first_floor
    ok = growth <= RSS_ALLOWED_MB
    flat &= ok
    lines.append(f"memory: floor {first_floor:.1f} MB in the first third after the warm-up, {last_floor:.1f} MB in the "
                 f"last: {growth:+.1f} MB ({'within' if ok else 'over'} +{RSS_ALLOWED_MB:g} MB); samples "
                 f"{min(s['rss_kb'] for s in after) / 1024:.1f}–{max(s['rss_kb'] for s in after) / 1024:.1f} MB")
    # The audio device's connection to its server is two threads and a few descriptors, there while it is open: a
    # device lost (a starved sound server) and found again between samples is not a leak, so threads and
    # descriptors are judged against the first sample with the device in the same state.
    for key in ("threads", "fds", *GL_KINDS):
        for audio_open in (True, False):
            same = [s for s in after if s.get("audio_open", True) == audio_open]
            if not same:
                continue
            values = [s[key] for s in same]
            ok = max(values) <= same[0][key]
            flat &= ok
            state = "" if key in GL_KINDS else " (audio device open)" if audio_open else " (audio device lost)"
            lines.append(f"{key}{state}: {same[0][key]} after the warm-up, {min(values)}–{max(values)} since"
                         f"{'' if ok else ' (MORE than after the warm-up)'}")
    lines.append(f"threads during films: at most {max(s['peak_threads'] for s in after)}")
    lines.append(f"python objects: {base['py_objects']} → {last['py_objects']}")
    return flat, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="The full soak is the default: 120 minutes. Exit status 0 when the figures are flat.")
    parser.add_argument("--minutes", type=float, default=120.0, help="how long to run (default 120)")
    parser.add_argument("--warmup", type=float, metavar="MIN", help="minutes not judged (default: 5, or a fifth of a shorter run)")
    parser.add_argument("--every", type=float, default=60.0, metavar="S", help="seconds between samples (default 60)")
    parser.add_argument("--films", type=Path, default=ROOT / "bench" / ".cache" / "soak", metavar="DIR",
                        help="where the films are made, once (default bench/.cache/soak)")
    parser.add_argument("--sound", choices=("null-sink", "device", "none"), default="null-sink",
                        help="sound into a private PulseAudio null sink (default), the default device, or none")
    parser.add_argument("--size", default="640x360", help="offscreen picture size (default 640x360)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the samples and the verdict here")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else min(5.0, args.minutes / 5)

    from vrplayer import log, memory
    from vrplayer.display import open_display
    from vrplayer.kiosk.runner import Kiosk, KioskOptions
    from vrplayer.player import Player, PlayOptions

    memory.limit_arenas()  # as the command line does, before any thread
    log.setup(-1)  # warnings and errors only: the samples are the output
    films = make_films(args.films)
    sink = NullSink() if args.sound == "null-sink" and shutil.which("pulseaudio") else None
    if args.sound == "null-sink" and sink is None:
        say("pulseaudio is not installed: running without sound")
    work = Path(tempfile.mkdtemp(prefix="vrplayer-soak-"))
    try:
        programme = work / "soak.toml"
        programme.write_text('start_trigger = "auto"\nloop = true\n'
                             + "".join(f'[[items]]\nfile = "{film}"\n' for film in films))
        width, height = (int(v) for v in args.size.split("x"))
        display = open_display("offscreen", size=(width, height))
        try:
            player = Player(display, PlayOptions(duration=args.minutes * 60), audio=args.sound != "none")
            try:
                kiosk = Kiosk(str(programme), player, KioskOptions(log_dir=str(work / "log"), control="127.0.0.1:0"))
                sampler = Sampler(kiosk, args.every, films[0])
                say(f"{args.minutes:g} minutes of {', '.join(f.name for f in films)} on a loop, sampled every "
                    f"{args.every:g} s between films (warm-up: {warmup:g} min); Ctrl-C ends it early")
                print(HEADER, flush=True)
                kiosk.run()
            finally:
                player.close()
        finally:
            display.close()
    finally:
        if sink is not None:
            sink.stop()
        shutil.rmtree(work, ignore_errors=True)
    flat, lines = verdict(sampler.samples, warmup)
    for line in lines:
        print(line)
    print(f"audio device lost and reopened: {sampler.audio_losses} times")
    print(f"verdict: {'flat' if flat else 'NOT flat'} after the warm-up ({sampler.films} films in "
          f"{(time.monotonic() - sampler.started) / 60:.1f} min)")
    if args.json:
        args.json.write_text(json.dumps({"samples": sampler.samples, "verdict": lines, "flat": flat}, indent=1))
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
