"""Keeps the kiosk running: runs it as a child process and starts it again when it crashes or hangs, resuming the
programme after the item that was on.

The child is `vrplayer kiosk --worker …` with the same arguments. It ending with status 0 (the window was closed,
--duration was up, a non-looping programme ended, it was asked to stop) ends the supervisor too; ending with
CONFIG_ERROR (the programme cannot be read at all, a bad option, the control port taken) is not retried either —
starting again would fail the same way. Anything else (a crash, a signal, status 1, DISPLAY_GONE: no display or
headset yet, or the headset's runtime went away) is restarted after a pause that grows with quick successive crashes
(1 s, doubling to 30 s; back to 1 s once a run lasts a minute), with --resume so the programme goes on after the film
that was playing.

A hang counts as a crash: the worker writes a heartbeat to a pipe on every turn of its loop (see lifeline.py); when
none has come for `watchdog` seconds (a read from a hung share, a frozen driver, SIGSTOP), the worker is killed and
started again, resuming after the item it was on (the state file names it). The first beat may take longer: the
worker has to import, open its display and read the programme first.

The supervisor holds the log folder's lock (folderlock.py) and hands it to each worker, so a second kiosk on the
same folder is refused while either runs; the worker dies with its supervisor (lifeline.py). SIGTERM and SIGINT are
passed on to the worker, which closes the session log's story; one that has not ended STOP_GRACE seconds later is
killed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from vrplayer import log
from vrplayer.kiosk.folderlock import FolderLock
from vrplayer.kiosk.sessionlog import SessionLog

_log = log.get("kiosk.supervisor")

CONFIG_ERROR = 3  # the worker's exit status when starting again cannot help
DISPLAY_GONE = 4  # no display or headset (yet, or any more): start again after a pause, until it is there
FIRST_PAUSE, LONGEST_PAUSE, STEADY_RUN = 1.0, 30.0, 60.0
WATCHDOG_SECONDS = 15.0  # default: a worker whose loop has not turned for this long is killed and restarted
FIRST_BEAT_SECONDS = 60.0  # the first beat's allowance (imports, display, programme), if the watchdog is shorter
STOP_GRACE = 15.0  # a worker asked to stop that has not ended after this is killed
STATE_FILE = "state.json"  # in the log folder: the programme position (written by the worker, read on --resume)
_POLL = 0.25
# A worker that ended because it was asked to (a signal's death, or its own exit after one): not a crash.
_ASKED_TO_STOP = (-signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGINT)


def supervise(global_args: list[str], kiosk_args: list[str], log_dir: str, watchdog: float = WATCHDOG_SECONDS,
              token: str | None = None) -> int:
    """Run `vrplayer GLOBAL_ARGS kiosk --worker KIOSK_ARGS` until it ends cleanly; the exit status to return. The
    staff API's token goes to the worker in its environment, never on its command line (which `ps` shows everyone).
    Raises FolderBusy when another kiosk runs on LOG_DIR, LogFolderError when it cannot be used."""
    from vrplayer.kiosk.control import TOKEN_ENV

    env = {**os.environ, TOKEN_ENV: token} if token else None
    lock = FolderLock(log_dir).take()
    session = SessionLog(log_dir)
    pause, resume = FIRST_PAUSE, False
    child: subprocess.Popen | None = None
    stopping: list[float] = []  # when a stop was asked for (the list is set from the signal handler)

    def forward(signum, frame):  # stopping the supervisor stops the kiosk, cleanly
        stopping.append(time.monotonic())
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            beats, beats_out = os.pipe()
            command = [sys.executable, "-m", "vrplayer", *global_args, "kiosk", "--worker", *kiosk_args,
                       "--heartbeat-fd", str(beats_out), *(["--resume"] if resume else [])]
            started = time.monotonic()
            try:
                child = subprocess.Popen(command, pass_fds=(beats_out, lock.fd), env=env)
            finally:
                os.close(beats_out)  # the worker's copy is the only writer: its end is the pipe's end
            try:
                status, silent = _watch(child, beats, watchdog, stopping)
            finally:
                os.close(beats)
            ran = time.monotonic() - started
            if stopping:
                return 0
            if silent is None and (status in (0, CONFIG_ERROR) or status in _ASKED_TO_STOP):
                return 0 if status in _ASKED_TO_STOP else status
            pause = FIRST_PAUSE if ran >= STEADY_RUN else min(LONGEST_PAUSE, pause * 2 if resume else pause)
            if silent is not None:
                item = _item_on(log_dir)
                why = f"hung: its loop stopped for {silent:.0f} s"
                _log.error("the kiosk's loop has not turned for %.0f s (item %s); killing it, to start again after that item",
                           silent, item if item is not None else "?")
                session.event("kiosk_hung", item=item, silent_s=round(silent, 1), pid=child.pid)
            else:
                why = f"signal {-status}" if status < 0 else ("no display or headset" if status == DISPLAY_GONE else f"status {status}")
            _log.error("the kiosk stopped (%s) after %.0f s; starting it again in %.0f s", why, ran, pause)
            session.event("kiosk_restarting", exit=why, ran_s=round(ran, 1), pause_s=pause)
            _sleep_unless(stopping, pause)
            resume = True
        return 0
    finally:
        if child is not None and child.poll() is None:  # an error of our own: the worker must not outlive us
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        session.close()
        lock.release()


def _watch(child: subprocess.Popen, beats: int, watchdog: float, stopping: list[float]) -> tuple[int, float | None]:
    """Wait for the worker to end, killing it when its heartbeat stops for `watchdog` seconds (0: never) or it has not
    ended STOP_GRACE seconds after a stop. (exit status, how long it had been silent when killed for it, or None)."""
    last = time.monotonic()
    allowance = max(watchdog, FIRST_BEAT_SECONDS)
    open_ = True
    while True:
        if open_:
            ready, _, _ = select.select([beats], [], [], _POLL)
            if ready:
                if os.read(beats, 4096):
                    last, allowance = time.monotonic(), watchdog
                else:
                    open_ = False  # the worker let go of its end: it is ending
        status = child.poll() if open_ else _wait(child, _POLL)
        if status is not None:
            return status, None
        now = time.monotonic()
        if stopping and now - stopping[0] > STOP_GRACE:
            _log.error("the kiosk has not stopped %.0f s after being asked to; killing it", STOP_GRACE)
            child.kill()
            return child.wait(), None
        if watchdog > 0 and not stopping and now - last > allowance:
            child.kill()
            return child.wait(), now - last


def _wait(child: subprocess.Popen, seconds: float) -> int | None:
    try:
        return child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def _sleep_unless(stopping: list[float], seconds: float) -> None:
    until = time.monotonic() + seconds
    while not stopping and time.monotonic() < until:
        time.sleep(min(_POLL, max(0.0, until - time.monotonic())))


def _item_on(log_dir: str) -> int | None:
    """The item number the worker last recorded in its state file (the one it was on)."""
    try:
        return int(json.loads((Path(log_dir) / STATE_FILE).read_text())["item"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
