"""The thread a decoder decodes on, and how it ends: stopped and joined when the film ends, so that the decoder (and
FFmpeg's own threads inside it) is freed then, not whenever the garbage collector gets to it.

A worker stuck inside FFmpeg (a read from a drive or share that stopped answering) cannot be joined: it is left
behind as a daemon thread, and whatever it holds is freed by the worker itself if it ever comes back; freeing it
under a thread still using it would crash. `stalled_for` tells how long the worker has been gone into FFmpeg.
"""

from __future__ import annotations

import threading
import time

from vrplayer import log

_log = log.get("media")

JOIN_TIMEOUT = 2.0  # seconds to wait for a worker to stop: a frame of any size decodes well within it


class DecodeWorker:
    def __init__(self, name: str, run, release):
        """run(): the decoding loop, which returns soon after `stop` is set; release(): frees what the decoder holds
        (its container, and with it the codec), called once the loop has returned."""
        self._run = run
        self._release = release
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._done = False
        self._orphaned = False
        self._released = False
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.started = False
        self._progress_at = time.monotonic()

    def start(self) -> None:
        if not self.started:
            self.started = True
            self.beat()
            self._thread.start()

    def beat(self) -> None:
        """The worker is turning (between packets, waiting for room, idle): it is not stuck in a read."""
        self._progress_at = time.monotonic()

    def stalled_for(self) -> float:
        """Seconds since the worker last turned, while it is running; 0 when it is not."""
        if not self.started or self._done:
            return 0.0
        return time.monotonic() - self._progress_at

    def close(self, what: str) -> None:
        """Stop the worker and free the decoder; `what` names it in the warning when the worker is stuck."""
        self.stop.set()
        if self.started:
            self._thread.join(JOIN_TIMEOUT)
        with self._lock:
            stuck = self.started and not self._done
            self._orphaned = stuck
        if stuck:
            _log.warning("%s is stuck in a read (after %.0f s without progress); left behind, it is freed if the read "
                         "ever returns", what, self.stalled_for())
        else:
            self._free()

    def _main(self) -> None:
        try:
            self._run()
        finally:
            with self._lock:
                self._done = True
                orphaned = self._orphaned
            if orphaned:
                self._free()

    def _free(self) -> None:
        if not self._released:
            self._released = True
            self._release()
