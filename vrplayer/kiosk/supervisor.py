"""Keeps the kiosk running: runs it as a child process and starts it again when it crashes, resuming the programme.

The child is `vrplayer kiosk --worker …` with the same arguments. It ending with status 0 (the window was closed,
--duration was up, a non-looping programme ended) ends the supervisor too; ending with CONFIG_ERROR (the programme
cannot be read at all, a bad option) is not retried either — starting again would fail the same way. Anything else
(a crash, a signal, status 1, DISPLAY_GONE: no display or headset yet, or the headset's runtime went away) is
restarted after a pause that grows with quick successive crashes (1 s, doubling to
30 s; back to 1 s once a run lasts a minute), with --resume so the programme goes on after the film that was playing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from vrplayer import log
from vrplayer.kiosk.sessionlog import SessionLog

_log = log.get("kiosk.supervisor")

CONFIG_ERROR = 3  # the worker's exit status when starting again cannot help
DISPLAY_GONE = 4  # no display or headset (yet, or any more): start again after a pause, until it is there
FIRST_PAUSE, LONGEST_PAUSE, STEADY_RUN = 1.0, 30.0, 60.0


def supervise(global_args: list[str], kiosk_args: list[str], log_dir: str) -> int:
    """Run `vrplayer GLOBAL_ARGS kiosk --worker KIOSK_ARGS` until it ends cleanly; the exit status to return."""
    session = SessionLog(log_dir)
    pause, resume = FIRST_PAUSE, False
    child: subprocess.Popen | None = None

    def forward(signum, frame):  # stopping the supervisor stops the kiosk, cleanly
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            command = [sys.executable, "-m", "vrplayer", *global_args, "kiosk", "--worker", *kiosk_args]
            command += ["--resume"] if resume else []
            started = time.monotonic()
            child = subprocess.Popen(command)
            status = child.wait()
            ran = time.monotonic() - started
            if status in (0, CONFIG_ERROR) or status in (-signal.SIGTERM, -signal.SIGINT, 130):
                return 0 if status in (-signal.SIGTERM, -signal.SIGINT, 130) else status
            pause = FIRST_PAUSE if ran >= STEADY_RUN else min(LONGEST_PAUSE, pause * 2 if resume else pause)
            why = f"signal {-status}" if status < 0 else ("no display or headset" if status == DISPLAY_GONE else f"status {status}")
            _log.error("the kiosk stopped (%s) after %.0f s; starting it again in %.0f s", why, ran, pause)
            session.event("kiosk_restarting", exit=why, ran_s=round(ran, 1), pause_s=pause)
            time.sleep(pause)
            resume = True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        session.close()
