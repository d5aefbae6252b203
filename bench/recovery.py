#!/usr/bin/env python3
"""Recovery: how long the kiosk's show is gone when an item cannot be opened or the worker freezes.

Three runs of the real kiosk (offscreen, supervised, its session log read back), each timed from the log's own
event times, against the baseline of the same run: an ordinary change from one film to the next.

  - FIFO: a programme of [film, a FIFO named like a film, film]: the gap from the first film's end to the third's
    start (the FIFO is refused as not a regular file, so no open ever waits on it);
  - freeze: the worker stopped for real (SIGSTOP: its loop stops turning, as in a read from a hung share), with
    --watchdog W for each W given: from the freeze to the next film on screen (the supervisor sees the silence, kills
    the worker, starts a new one that resumes after the item that hung).

    .venv/bin/python bench/recovery.py                 # watchdog 3 s and the default 15 s
    .venv/bin/python bench/recovery.py --watchdog 5
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "sample_media"))

import make_sample  # noqa: E402

from vrplayer.kiosk.sessionlog import read_events  # noqa: E402


def say(text: str) -> None:
    print(f"recovery: {text}", file=sys.stderr, flush=True)


def when(event: dict) -> float:
    return datetime.fromisoformat(event["t"].replace("Z", "+00:00")).timestamp()


def events(log: Path, name: str) -> list[dict]:
    return [e for e in (read_events(log) if log.exists() else []) if e["event"] == name]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"recovery: timed out waiting for {what}")


def kiosk(items: list[Path], folder: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    prog = folder / "prog.m3u"
    prog.write_text("\n".join(str(item) for item in items) + "\n")
    log = folder / "log"
    command = [sys.executable, "-m", "vrplayer", "kiosk", str(prog), "--display", "offscreen", "--size", "320x180",
               "--no-audio", "--start-trigger", "auto", "--log-dir", str(log), "--duration", "300", *extra]
    stderr = open(folder / "stderr.txt", "w")  # a pipe nobody reads would fill and stop the kiosk
    return subprocess.Popen(command, cwd=ROOT, stderr=stderr), log


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def changes(log: Path) -> list[float]:
    """Every film-to-film gap in the log: one film's end to the next one's start."""
    ended, started = events(log, "film_ended"), events(log, "film_started")
    return [when(b) - when(a) for a, b in zip(ended, started[1:])]


def fifo_run(films: list[Path], folder: Path) -> tuple[float, float]:
    fifo = folder / "stuck.mp4"
    os.mkfifo(fifo)
    proc, log = kiosk([films[0], fifo, films[1], films[0]], folder)
    try:
        wait_for(lambda: len(events(log, "film_started")) >= 3, 90, "three films")
    finally:
        stop(proc)
    gaps = changes(log)
    return gaps[0], gaps[1]  # across the FIFO, then an ordinary change


def freeze_run(films: list[Path], folder: Path, watchdog: float) -> tuple[float, float]:
    proc, log = kiosk([films[0], films[1], films[0], films[1]], folder, "--watchdog", f"{watchdog:g}")
    try:
        wait_for(lambda: len(events(log, "film_started")) >= 2, 90, "two films")  # an ordinary change first
        worker = events(log, "kiosk_started")[0]["pid"]
        frozen_at = time.time()
        os.kill(worker, signal.SIGSTOP)
        wait_for(lambda: len(events(log, "film_started")) >= 3, watchdog + 120, "the film after the freeze")
    finally:
        stop(proc)
    return when(events(log, "film_started")[2]) - frozen_at, changes(log)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watchdog", type=float, action="append", help="watchdog seconds to time (default: 3 and 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vrplayer-recovery-") as tmp:
        tmp = Path(tmp)
        films = []
        for name in ("recovery_a.mp4", "recovery_b.mp4"):
            films.append(tmp / name)
            make_sample.make_film(str(films[-1]), width=640, height=320, seconds=2.0, audio=False)
        say("FIFO in the programme")
        (tmp / "fifo").mkdir()
        across, ordinary = fifo_run(films, tmp / "fifo")
        print(f"FIFO item: {across * 1000:.0f} ms from the film before it to the film after it; an ordinary change "
              f"{ordinary * 1000:.0f} ms ({across / ordinary:.2f}×)")
        for watchdog in args.watchdog or [3.0, 15.0]:
            say(f"frozen worker, watchdog {watchdog:g} s")
            (tmp / f"freeze{watchdog:g}").mkdir()
            gone, ordinary = freeze_run(films, tmp / f"freeze{watchdog:g}", watchdog)
            print(f"frozen worker, watchdog {watchdog:g} s: {gone:.1f} s from the freeze to the next film on screen "
                  f"(the watchdog's {watchdog:g} s + {gone - watchdog:.1f} s to kill, restart and resume); an "
                  f"ordinary change {ordinary * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
