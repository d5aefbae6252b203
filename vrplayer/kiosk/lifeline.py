"""The kiosk's end of its supervision, and how it is asked to stop.

Stopping: SIGTERM (what systemd sends), SIGINT (Ctrl-C) and the supervisor's going away all become one request,
`stop_reason` ("SIGTERM", "SIGINT", "supervisor gone"), which the kiosk's loop sees on its next turn: the film ends
through the normal path, so its film_ended and the kiosk_stopped after it are logged like any other end. A loop that
does not get there within GRACE_SECONDS (stuck in a read from a hung share) is not waited for: `on_give_up` closes
the story in the log and the process exits. A signal is seen even then: the handler's wake-up byte reaches a watch
thread whether or not the main thread runs Python.

Heartbeat (under a supervisor, which passes --heartbeat-fd): every turn of the loop calls beat(), which writes one
byte to the supervisor's pipe at most every BEAT_EVERY seconds and never blocks. The supervisor kills and restarts a
worker silent for too long (see supervisor.py).

The worker dies with its supervisor: on Linux the kernel sends it SIGTERM when the supervisor ends, SIGKILL included
(PR_SET_PDEATHSIG); and everywhere the watch thread sees its parent change, and a beat that nobody reads any more
(the pipe closed) says the same. Which SIGTERM is which: the kernel sends the parent-death signal when the *thread*
that started us exits, which can be before the supervisor's other threads (its libraries') are gone, so our parent
has not changed yet. A supervised worker's SIGTERM is therefore named only once the supervisor is seen gone (parent
changed, or its main thread a zombie) or seen alive for TERM_SETTLE seconds (then it forwarded a stop to us).
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time
from typing import Callable

from vrplayer import log

_log = log.get("kiosk")

BEAT_EVERY = 0.5  # seconds between beats; the supervisor waits many of them before it acts
GRACE_SECONDS = 10.0  # after a stop was asked for, how long the loop has to end by itself
TERM_SETTLE = 1.0  # a supervised worker's SIGTERM: how long to look for its supervisor's end before naming it
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SUPERVISOR_GONE = "supervisor gone"
_PR_SET_PDEATHSIG = 1


class Lifeline:
    def __init__(self, heartbeat_fd: int | None = None):
        self.stop_reason: str | None = None  # set once, by a signal or the watch; read by the loop every turn
        self.on_give_up: Callable[[str], None] | None = None  # called on the watch thread just before exiting
        self._beats = heartbeat_fd
        self._parent = os.getppid() if heartbeat_fd is not None else None
        self._last_beat = 0.0
        self._asked_at: float | None = None
        self._term_at: float | None = None  # a supervised SIGTERM not yet named (see TERM_SETTLE)
        self._handlers: dict = {}
        self._wake: tuple[int, int] | None = None
        self._old_wakeup = -1
        self._closed = threading.Event()

    def start(self) -> Lifeline:
        """Take the stop signals (from the main thread only), ask to die with the supervisor, start the watch."""
        if self._beats is not None:
            os.set_blocking(self._beats, False)
            _die_with_parent()
            self.beat()  # the supervisor may have gone while we started: a first beat finds out
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._handlers[signum] = signal.signal(signum, self._signalled)
            read, write = os.pipe()
            os.set_blocking(read, False)
            os.set_blocking(write, False)
            self._wake = (read, write)
            self._old_wakeup = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="kiosk-lifeline", daemon=True).start()
        return self

    def close(self) -> None:
        """Give the signals back. The watch ends too, unless a stop was asked for: then it still ends the process
        should it not be gone within the grace (its last steps, closing the display, may hang as well)."""
        if self._handlers:
            for signum, handler in self._handlers.items():
                signal.signal(signum, handler)
            self._handlers = {}
            signal.set_wakeup_fd(self._old_wakeup)
        self._closed.set()

    def beat(self) -> None:
        """The loop turned: tell the supervisor (at most every BEAT_EVERY seconds)."""
        if self._beats is None:
            return
        now = time.monotonic()
        if now - self._last_beat < BEAT_EVERY:
            return
        self._last_beat = now
        try:
            os.write(self._beats, b".")
        except BlockingIOError:
            pass  # the supervisor is not reading just now (stopped?): the pipe holds hours of beats, and it can wait
        except OSError:  # nobody at the other end
            os.close(self._beats)
            self._beats = None
            self.ask(SUPERVISOR_GONE)

    def ask(self, reason: str) -> None:
        """Ask the kiosk to stop (the first reason given is the one kept)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self._asked_at = time.monotonic()
            _log.info("stopping: %s", reason)

    def _orphaned(self) -> bool:
        return self._parent is not None and os.getppid() != self._parent

    def _supervisor_gone(self) -> bool:
        """Our parent changed, or the supervisor's main thread has ended (its process is on its way out)."""
        if self._orphaned():
            return True
        try:
            state = open(f"/proc/{self._parent}/stat", encoding="ascii").read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return False  # no /proc here: the parent's change will tell
        return state in ("Z", "X")

    def _signalled(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self._parent is None or signum != signal.SIGTERM:
            self.ask(SUPERVISOR_GONE if self._orphaned() else name)
        elif self._supervisor_gone():
            self.ask(SUPERVISOR_GONE)
        elif self._term_at is None:
            self._term_at = time.monotonic()  # the watch names it (see TERM_SETTLE)

    def _settle_term(self) -> None:
        if self._term_at is None or self.stop_reason is not None:
            return
        if self._supervisor_gone():
            self.ask(SUPERVISOR_GONE)
        elif time.monotonic() - self._term_at >= TERM_SETTLE:
            self.ask("SIGTERM")

    def _watch(self) -> None:
        while not (self._closed.is_set() and self._asked_at is None):
            pause = 0.05 if self._term_at is not None and self.stop_reason is None else 0.5
            if self._wake is not None:
                ready, _, _ = select.select([self._wake[0]], [], [], pause)
                if ready:
                    try:
                        for signum in os.read(self._wake[0], 64):
                            if signum in STOP_SIGNALS:
                                self._signalled(signum, None)
                    except BlockingIOError:
                        pass
            else:
                time.sleep(pause)
            self._settle_term()
            if self._orphaned():
                self.ask(SUPERVISOR_GONE)
            if self._asked_at is not None and time.monotonic() - self._asked_at > GRACE_SECONDS:
                self._give_up()
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)

    def _give_up(self) -> None:
        reason = self.stop_reason or "stop"
        _log.error("the kiosk did not stop within %.0f s of being asked (%s); ending it now", GRACE_SECONDS, reason)
        try:
            if self.on_give_up is not None:
                self.on_give_up(reason)
        finally:
            signum = getattr(signal, reason, None)
            os._exit(128 + signum if isinstance(signum, int) else 1)


def _die_with_parent() -> None:
    """Linux: have the kernel send us SIGTERM when our parent (the supervisor) ends, however it ends."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            _log.debug("prctl(PR_SET_PDEATHSIG): %s", os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as exc:
        _log.debug("no parent-death signal (%s); the watch thread looks after it", exc)
